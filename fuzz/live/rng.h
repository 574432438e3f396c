/* mqttspec live fuzzer: the seeded pseudo-random generator.
 *
 * xoshiro256** seeded through splitmix64: small, fast, and the same on every
 * platform, so `mqttspec fuzz --seed S` draws the same numbers everywhere. Each
 * case seeds its own generator from (seed, case number), so a case can be
 * regenerated alone, in any order, by any job. No global state.
 */
#ifndef MQS_LF_RNG_H
#define MQS_LF_RNG_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mqs_lf_rng {
    uint64_t s[4];
} mqs_lf_rng;

/** Seeds r from a run seed and a stream number (the case number): different
 *  streams of the same seed are independent; the same pair gives the same draws. */
void mqs_lf_rng_seed(mqs_lf_rng *r, uint64_t seed, uint64_t stream);

/** The next 64 random bits. */
uint64_t mqs_lf_rng_next(mqs_lf_rng *r);

/** A uniform number in [0, n) without modulo bias; 0 when n is 0. */
uint32_t mqs_lf_rng_below(mqs_lf_rng *r, uint32_t n);

/** True with probability percent/100 (0 never, 100 always). */
bool mqs_lf_rng_chance(mqs_lf_rng *r, unsigned percent);

/** One of the n values of a table, uniformly (n > 0). */
#define MQS_LF_PICK(r, table) ((table)[mqs_lf_rng_below((r), (uint32_t)(sizeof(table) / sizeof((table)[0])))])

#ifdef __cplusplus
}
#endif

#endif /* MQS_LF_RNG_H */
