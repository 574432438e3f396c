/* mqttspec live fuzzer (`mqttspec fuzz`): the run.
 *
 * Jobs (threads) take case numbers from one counter, generate each case from (seed,
 * case number), play it against the broker and judge it (exec.h). A finding is
 * folded by its signature (oracle + statement + packet type); the first of each
 * signature is confirmed by playing the case again alone (all other jobs paused),
 * minimised by dropping steps while it still fires, and saved under the report
 * directory as a scenario file that `mqttspec run --scenario FILE` replays, with a
 * trace next to it.
 */
#ifndef MQS_LIVEFUZZ_H
#define MQS_LIVEFUZZ_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "fuzz/live/case.h"
#include "net/net.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mqs_lf_opts {
    const mqs_endpoint *ep;
    const char *username, *password;
    uint64_t seed;          /* the run seed (the CLI picks a random one when not given) */
    uint64_t first_case;    /* case numbers start here (--case N replays one case) */
    uint64_t max_cases;     /* 0: no limit */
    double seconds;         /* 0: no limit */
    unsigned jobs;          /* parallel connections sets, 1..64 */
    mqs_lf_gen_opts gen;
    int64_t timeout_ms;     /* how long an answer that is due may take */
    int64_t minimise_ms;    /* time budget to minimise one finding */
    int pid;                /* broker process to watch, 0: none */
    const char *restart;    /* shell command that restarts the broker after a crash, or NULL */
    int64_t restart_wait_ms; /* how long the command and the broker's return may take */
    const char *report_dir; /* where findings go */
    const char *target;     /* "host:port" for texts */
    char token[9];          /* the run's token, [a-z0-9]{8}: names every client id and topic */
    const char *const *ignore; /* signatures not reported ("oracle:rule:TYPE", fnmatch globs) */
    /* Optional: replays a saved scenario file with the conformance runner; returns
     * 1 when it fails there (the finding reproduces), 0 when it passes, -1 when it
     * cannot say (why holds one line). The fuzzer notes the answer with the finding. */
    int (*replay)(void *ud, const char *path, char *why, size_t whylen);
    void *replay_ud;
    size_t n_ignore;
    bool progress;          /* live progress line on stderr */
    FILE *out;              /* summary (stdout) */
} mqs_lf_opts;

typedef struct mqs_lf_summary {
    uint64_t cases;       /* cases played */
    uint64_t packets;     /* frames sent */
    uint64_t findings;    /* findings of every execution (before folding) */
    unsigned unique;      /* signatures saved */
    unsigned unconfirmed; /* signatures that did not fire again when replayed alone */
    uint64_t ignored;     /* findings matching --ignore */
    double seconds;
    bool unreachable;     /* the broker could not be reached at the start */
    bool crashed;         /* the broker went away during the run (restarted or not) */
    bool down;            /* ... and it was down at the end (no --restart, or it failed) */
    bool restart_failed;  /* --restart did not bring it back within restart_wait_ms */
    unsigned restarts;    /* --restart runs */
    bool interrupted;     /* mqs_lf_stop() was called */
    uint64_t cut;         /* cases cut short by mqs_lf_stop (their findings so far kept) */
} mqs_lf_summary;

/** Runs the fuzzer until the case or time budget is spent, a crash without
 *  --restart (or one the restart command cannot repair), or mqs_lf_stop(). With
 *  --restart a crash pauses every job, runs the command (sh -c, its own process group,
 *  its output on stderr), waits until the broker answers a probe, and goes on.
 *  @return 0 ran (see sum), -1 could not start (message on stderr: out of memory,
 *  report directory). */
int mqs_lf_run(const mqs_lf_opts *o, mqs_lf_summary *sum);

/** Asks a running mqs_lf_run to stop (async-signal-safe): no new case starts, the
 *  cases in flight stop at their next step (after the wait they are in, bounded by the
 *  timeout) and clean up, a new finding is confirmed once and saved without
 *  minimising, and the summary is written. */
void mqs_lf_stop(void);

#ifdef __cplusplus
}
#endif

#endif /* MQS_LIVEFUZZ_H */
