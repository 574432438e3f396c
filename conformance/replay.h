/* mqttspec: play one scenario file once and return its verdict — how `mqttspec fuzz`
 * checks that a finding it saved really reproduces with the runner. */
#ifndef MQS_REPLAY_H
#define MQS_REPLAY_H

#include <stddef.h>

#include "net/net.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Loads path and runs it once (its first protocol version) against ep.
 * @param timeout_factor  scales every wait of the scenario, as `mqttspec run --timeout`
 *                        (1.0: the scenario's own timeouts)
 * @param[out] why  one line: the failure reason, or why it could not run
 * @return an mqs_verdict (MQS_VERDICT_FAIL: the scenario failed, i.e. a finding
 *         reproduced), or -1 when the file does not load. */
int mqs_replay_file(const char *path, const mqs_endpoint *ep, const char *username,
                    const char *password, double timeout_factor, char *why, size_t whylen);

#ifdef __cplusplus
}
#endif

#endif /* MQS_REPLAY_H */
