/* mqttspec: one scenario file, one run (replay.h). */
#include "conformance/replay.h"

#include <stdio.h>
#include <string.h>

#include "conformance/interp.h"
#include "conformance/result.h"
#include "conformance/scenario.h"

int mqs_replay_file(const char *path, const mqs_endpoint *ep, const char *username,
                    const char *password, double timeout_factor, char *why, size_t whylen)
{
    mqs_scenario *sc = NULL;
    if (mqs_scenario_load_file(path, &sc, why, whylen) != 0)
        return -1;
    mqs_case_opts o;
    memset(&o, 0, sizeof o);
    char token[9];
    mqs_make_token(token);
    o.ep = ep;
    o.proto = (sc->protocols & MQS_PROTO_311) ? MQS_PROTO_311 : MQS_PROTO_31;
    o.timeout_factor = timeout_factor;
    o.username = username;
    o.password = password;
    o.token = token;
    o.skip_reason = mqs_case_requirement_missing(sc, &o, ep->tls.certfile != NULL);
    mqs_case_result res;
    memset(&res, 0, sizeof res);
    int v = MQS_VERDICT_ERROR;
    if (mqs_case_run(sc, &o, &res) == 0)
        v = (int)res.verdict;
    snprintf(why, whylen, "%s", res.reason ? res.reason : "");
    mqs_case_result_free(&res);
    mqs_scenario_free(sc);
    return v;
}
