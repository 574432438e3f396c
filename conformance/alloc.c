/* The suite allocator (see conformance/alloc.h). */
#include "conformance/alloc.h"

#include <cjson/cJSON.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Allocations left before injected failures start; negative: injection is off. */
static atomic_long budget = -1;

/* @return 1 when this allocation must fail. */
static int injected_failure(void)
{
    long left = atomic_load(&budget);
    while (left >= 0) {
        if (left == 0)
            return 1;
        if (atomic_compare_exchange_weak(&budget, &left, left - 1))
            return 0;
    }
    return 0;
}

void mqs_alloc_fail_after(long n)
{
    atomic_store(&budget, n < 0 ? -1 : n);
}

void *mqs_malloc(size_t n)
{
    return injected_failure() ? NULL : malloc(n ? n : 1);
}

void *mqs_calloc(size_t count, size_t size)
{
    if (injected_failure())
        return NULL;
    return calloc(count ? count : 1, size ? size : 1);
}

void *mqs_realloc(void *p, size_t n)
{
    return injected_failure() ? NULL : realloc(p, n ? n : 1);
}

void mqs_free(void *p)
{
    free(p);
}

char *mqs_strndup(const char *s, size_t n)
{
    char *d = mqs_malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *mqs_strdup(const char *s)
{
    return s ? mqs_strndup(s, strlen(s)) : NULL;
}

void mqs_alloc_use_for_cjson(void)
{
    cJSON_Hooks hooks = {mqs_malloc, mqs_free};
    cJSON_InitHooks(&hooks);
}
