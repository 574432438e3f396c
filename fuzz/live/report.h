/* mqttspec live fuzzer: a finding written out, as a replayable scenario file
 * (conformance/SCENARIOS.md) and as a readable trace.
 *
 * The scenario is built from the events of the last (minimised) execution up to the
 * point where the oracle fired; at that point it asks for what a conforming broker
 * must do instead (the answer that was due, the close, silence on the watcher,
 * a live broker), so `mqttspec run --scenario FILE` fails on the broker that was
 * fuzzed and passes on one that behaves.
 */
#ifndef MQS_LF_REPORT_H
#define MQS_LF_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "fuzz/live/case.h"
#include "fuzz/live/exec.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What the writers need besides the case and its execution. */
typedef struct mqs_lf_report_info {
    const char *username, *password; /* the run's credentials: written as ${username}/${password} */
    const char *target;              /* "host:port" */
    uint64_t folded;                 /* executions with the same signature so far */
} mqs_lf_report_info;

/** The file name stem of a finding: "<oracle>-<rule>-<type>", lower case, [a-z0-9.-]. */
void mqs_lf_finding_stem(const mqs_lf_finding *f, char *out, size_t cap);

/** Writes the scenario JSON for finding f of the execution res of case c (steps with
 *  skip[i] left out). @return 0, or -1 on a write error. */
int mqs_lf_write_scenario(FILE *out, const mqs_lf_case *c, const bool *skip, const mqs_lf_result *res,
                          const mqs_lf_finding *f, const mqs_lf_report_info *info);

/** Writes the trace: the case, what was sent and received, the finding. */
int mqs_lf_write_trace(FILE *out, const mqs_lf_case *c, const bool *skip, const mqs_lf_result *res,
                       const mqs_lf_finding *f, const mqs_lf_report_info *info);

/** Appends a JSON string value for bytes s[0..n): printable ASCII as is, '$' as "$$",
 *  other bytes as ${hex:..}, long runs as ${repeat:N:c}; the case's names become
 *  ${topic} / ${cid:NAME} (names: client names per identity, NULL to keep bytes). */
void mqs_lf_json_template(FILE *out, const uint8_t *s, size_t n, const mqs_lf_case *c,
                          const char *const *names, const mqs_lf_report_info *info);

#ifdef __cplusplus
}
#endif

#endif /* MQS_LF_REPORT_H */
