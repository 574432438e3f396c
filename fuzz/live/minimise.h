/* mqttspec live fuzzer: shrinking a case while its finding still fires.
 *
 * Pure: the caller says whether a candidate (the steps not marked in skip) still
 * shows the finding; this module only decides which candidates to try. */
#ifndef MQS_LF_MINIMISE_H
#define MQS_LF_MINIMISE_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Does the case without the skipped steps still show the finding? Return false
 *  also to stop (time budget spent): the minimiser then stops trying. */
typedef bool (*mqs_lf_fires_fn)(void *ud, const bool *skip);

/** Marks in skip[0..n) steps that can go, keeping the finding: first every step after
 *  `last` (the step the finding belongs to; n to skip that), then chunks of halving
 *  size, last chunk first, single steps at the end (until nothing more goes).
 *  skip holds the starting point (usually all false) and the result.
 *  @param[in] out_of_time  may be NULL; polled before each try.
 *  @return the number of tries made. */
size_t mqs_lf_minimise(bool *skip, size_t n, size_t last, mqs_lf_fires_fn fires, void *ud,
                       bool (*out_of_time)(void *ud));

#ifdef __cplusplus
}
#endif

#endif /* MQS_LF_MINIMISE_H */
