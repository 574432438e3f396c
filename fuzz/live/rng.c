/* mqttspec live fuzzer: xoshiro256** seeded by splitmix64 (see rng.h). */
#include "fuzz/live/rng.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void mqs_lf_rng_seed(mqs_lf_rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ splitmix64(&(uint64_t){stream ^ 0x6a09e667f3bcc909ull});
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
    if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0) /* the one state xoshiro cannot leave */
        r->s[0] = 1;
}

uint64_t mqs_lf_rng_next(mqs_lf_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint32_t mqs_lf_rng_below(mqs_lf_rng *r, uint32_t n)
{
    if (n == 0)
        return 0;
    /* Lemire's multiply-shift with rejection of the biased low range. */
    uint64_t m = (uint64_t)(uint32_t)(mqs_lf_rng_next(r) >> 32) * n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t threshold = (uint32_t)(-n) % n;
        while (low < threshold) {
            m = (uint64_t)(uint32_t)(mqs_lf_rng_next(r) >> 32) * n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

bool mqs_lf_rng_chance(mqs_lf_rng *r, unsigned percent)
{
    return mqs_lf_rng_below(r, 100) < percent;
}
