/* The scenario interpreter and oracle: runs one case (one scenario on one protocol
 * version over one transport) against a broker and judges everything it sends. */
#ifndef MQS_INTERP_H
#define MQS_INTERP_H

#include <stdbool.h>
#include <stddef.h>

#include "conformance/result.h"
#include "conformance/scenario.h"
#include "net/net.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Asked while a case waits (at least every MQS_CANCEL_POLL_MS) and before each step
 *  and each case: true stops the run (Ctrl-C). Called from worker threads, so it must
 *  be thread-safe (read an atomic flag). */
typedef bool (*mqs_cancel_fn)(void *ud);

#define MQS_CANCEL_POLL_MS 50

/** Everything a case needs from the run. Borrowed for the duration of the call. */
typedef struct mqs_case_opts {
    const mqs_endpoint *ep;
    unsigned proto;        /* MQS_PROTO_31 or MQS_PROTO_311 */
    double timeout_factor; /* scales every step timeout, wait and the case deadline */
    const char *username;  /* --username / --password, NULL when not given */
    const char *password;
    bool no_anonymous;
    const char *token;       /* the run's unique token: [a-z0-9]{8} */
    size_t case_index;       /* unique per case within the run */
    const char *skip_reason; /* non-NULL: the case is SKIP with this reason (not run) */
    /* NULL, or when it returns true the case stops waiting and ends as ERROR
     * "interrupted"; its cleanup still runs (bounded by its own deadline). */
    mqs_cancel_fn cancelled;
    void *cancel_ud;
} mqs_case_opts;

/** Fills res (zeroed by the caller) with the whole case result: identity, verdict, reason,
 *  failed rule, duration and trace. Runs the cleanup whatever the outcome, also when
 *  o->cancelled stopped the case (verdict ERROR, reason starting "interrupted"). Strings in res
 *  are allocated with the suite allocator (freed by mqs_report_free).
 *  @return 0, or -1 when out of memory (res then holds what could be filled, verdict ERROR). */
int mqs_case_run(const mqs_scenario *sc, const mqs_case_opts *o, mqs_case_result *res);

/** Why a case cannot run with these options (requires not met), or NULL. Static text. */
const char *mqs_case_requirement_missing(const mqs_scenario *sc, const mqs_case_opts *o,
                                         bool client_cert);

/** What a probe connection found out. */
typedef struct mqs_probe {
    int connack; /* CONNACK return code; -1 no CONNACK (closed / timeout); -2 unreachable, or
                    the connection failed below MQTT (TLS error, WebSocket violation) */
    char broker[128]; /* $SYS/broker/version when asked and published, else "" */
    char err[256];    /* why, when connack != 0 */
    char conn[320];   /* mqs_conn_describe of the connection (transport, TLS parameters), or "" */
    int qos2_granted; /* the SUBACK code for a QoS 2 subscription (0, 1, 2 or 0x80); -1 when
                         no SUBACK came (or no CONNACK 0) */
} mqs_probe;

/** Connects once (clean session, client_id) with the given version and credentials,
 *  within 3 s (scaled); subscribes at QoS 2 to the topic mqs/CLIENT_ID and records the
 *  granted QoS (1 s); with want_version also reads $SYS/broker/version (1 s). */
void mqs_probe_run(const mqs_endpoint *ep, unsigned proto, const char *username,
                   const char *password, double timeout_factor, const char *client_id,
                   bool want_version, mqs_probe *out);

/** Builds a run token: 8 random [a-z0-9] characters plus NUL. */
void mqs_make_token(char out[9]);

/** The client id of client i in case case_index: "mqs" + token + case + client,
 *  at most 23 alphanumerics. out holds at least 24 bytes. */
void mqs_make_client_id(const char *token, size_t case_index, size_t client, char out[24]);

#ifdef __cplusplus
}
#endif

#endif
