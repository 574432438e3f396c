/* mqttspec live fuzzer: ddmin-style step removal (minimise.h). */
#include "fuzz/live/minimise.h"

#include <string.h>

#define MAX_STEPS 256

typedef struct ctx {
    bool *skip;
    size_t n;
    mqs_lf_fires_fn fires;
    void *ud;
    bool (*out_of_time)(void *ud);
    size_t tries;
} ctx;

/* Tries to drop [from, to) at once; keeps the drop when the finding still fires. */
static bool try_drop(ctx *x, size_t from, size_t to)
{
    bool saved[MAX_STEPS], any = false;
    memcpy(saved, x->skip, x->n * sizeof *saved);
    for (size_t i = from; i < to; i++) {
        any |= !x->skip[i];
        x->skip[i] = true;
    }
    if (!any)
        return false;
    x->tries++;
    if (x->fires(x->ud, x->skip))
        return true;
    memcpy(x->skip, saved, x->n * sizeof *saved);
    return false;
}

static bool stop(const ctx *x)
{
    return x->out_of_time && x->out_of_time(x->ud);
}

size_t mqs_lf_minimise(bool *skip, size_t n, size_t last, mqs_lf_fires_fn fires, void *ud,
                       bool (*out_of_time)(void *ud))
{
    ctx x = {skip, n > MAX_STEPS ? MAX_STEPS : n, fires, ud, out_of_time, 0};
    if (last + 1 < x.n && !stop(&x))
        (void)try_drop(&x, last + 1, x.n);
    for (size_t chunk = x.n / 2 ? x.n / 2 : 1; chunk >= 1; chunk /= 2) {
        bool changed = true;
        while (changed) { /* single steps: repeat until nothing more goes */
            changed = false;
            for (size_t to = x.n; to > 0;) {
                size_t from = to > chunk ? to - chunk : 0;
                if (stop(&x))
                    return x.tries;
                changed |= try_drop(&x, from, to);
                to = from;
            }
            if (chunk > 1)
                break;
        }
        if (chunk == 1)
            break;
    }
    return x.tries;
}
