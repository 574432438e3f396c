/* The parallel runner: cases = scenarios x protocol versions x endpoints, run on a pool
 * of threads, each isolated by its own client ids and topics; fills an mqs_report. */
#ifndef MQS_RUNNER_H
#define MQS_RUNNER_H

#include <stdbool.h>
#include <stddef.h>

#include "conformance/interp.h"
#include "conformance/result.h"
#include "conformance/scenario.h"
#include "net/net.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Called (serialised under a lock) after each case: done of total finished. */
typedef void (*mqs_progress_fn)(void *ud, const mqs_case_result *r, size_t done, size_t total);

typedef struct mqs_run_opts {
    const mqs_endpoint *endpoints; /* one per transport to run over */
    size_t n_endpoints;
    unsigned protocols;    /* MQS_PROTO_* selected */
    unsigned jobs;         /* parallel cases (>= 1) */
    double timeout_factor; /* > 0 */
    const char *username, *password;
    bool no_anonymous;
    bool client_cert;
    const char *const *filters; /* --filter patterns (any matches), none: all */
    size_t n_filters;
    const char *const *excludes; /* --exclude patterns: a scenario any matches is left out */
    size_t n_excludes;
    const char *tool_version;
    mqs_progress_fn progress;
    void (*notice)(void *ud, const char *text); /* one-line notes about the target, may be NULL */
    void *progress_ud;                          /* passed to progress and notice */
    /* NULL, or asked before each case and while cases wait (thread-safe, see
     * mqs_cancel_fn): once it returns true no new case starts, running cases end as
     * ERROR "interrupted" after their cleanup, and mqs_run returns what ran. */
    mqs_cancel_fn cancelled;
    void *cancel_ud;
} mqs_run_opts;

#define MQS_RUN_OK 0
#define MQS_RUN_NOMEM (-1)
#define MQS_RUN_UNREACHABLE (-3)

/** Number of cases the options select from set (for "nothing matches" checks). */
size_t mqs_run_count(const mqs_scenario_set *set, const mqs_run_opts *o);

/** Probes each endpoint, then runs every selected case and fills rep (zeroed by the
 *  caller; free with mqs_report_free, also after an error). When o->cancelled stops the
 *  run, rep holds only the cases that started (in report order; the interrupted ones
 *  ERROR), rep->interrupted is set, and the return is still MQS_RUN_OK.
 *  @return MQS_RUN_OK; MQS_RUN_UNREACHABLE (err: one line naming the target) when an
 *          endpoint cannot be reached at the start; MQS_RUN_NOMEM. */
int mqs_run(const mqs_scenario_set *set, const mqs_run_opts *o, mqs_report *rep, char *err,
            size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
