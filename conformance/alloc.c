/* The suite allocator: libc by default, hooks for tests, cJSON routed through it. */
#include "conformance/alloc.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *libc_malloc(void *ud, size_t n)
{
    (void)ud;
    return malloc(n);
}

static void *libc_realloc(void *ud, void *p, size_t n)
{
    (void)ud;
    return realloc(p, n);
}

static void libc_free(void *ud, void *p)
{
    (void)ud;
    free(p);
}

static const mqs_allocator libc_allocator = {libc_malloc, libc_realloc, libc_free, NULL};
static mqs_allocator current = {libc_malloc, libc_realloc, libc_free, NULL};

/* Failure injection: budget < 0 means off. */
static atomic_long fail_budget = -1;
static atomic_long injected = 0;

static int injected_failure(void)
{
    long b = atomic_load(&fail_budget);
    while (b >= 0) {
        if (b == 0) {
            atomic_fetch_add(&injected, 1);
            return 1;
        }
        if (atomic_compare_exchange_weak(&fail_budget, &b, b - 1))
            return 0;
    }
    return 0;
}

static void *cjson_malloc(size_t n)
{
    return mqs_malloc(n);
}

static void cjson_free(void *p)
{
    mqs_free(p);
}

void mqs_alloc_set(const mqs_allocator *a)
{
    current = a ? *a : libc_allocator;
    cJSON_Hooks hooks = {cjson_malloc, cjson_free};
    cJSON_InitHooks(&hooks);
}

void mqs_alloc_fail_after(long n)
{
    atomic_store(&injected, 0);
    atomic_store(&fail_budget, n < 0 ? -1 : n);
    /* Make sure cJSON allocates through us even if mqs_alloc_set was never called. */
    cJSON_Hooks hooks = {cjson_malloc, cjson_free};
    cJSON_InitHooks(&hooks);
}

long mqs_alloc_injected_failures(void)
{
    return atomic_load(&injected);
}

void *mqs_malloc(size_t n)
{
    if (injected_failure())
        return NULL;
    return current.malloc_fn(current.ud, n ? n : 1);
}

void *mqs_calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    void *p = mqs_malloc(count * size);
    if (p)
        memset(p, 0, count * size != 0 ? count * size : 1);
    return p;
}

void *mqs_realloc(void *p, size_t n)
{
    if (injected_failure())
        return NULL;
    return current.realloc_fn(current.ud, p, n ? n : 1);
}

void mqs_free(void *p)
{
    if (p)
        current.free_fn(current.ud, p);
}

char *mqs_strndup(const char *s, size_t n)
{
    if (!s)
        return NULL;
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

char *mqs_asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *s = mqs_malloc((size_t)n + 1);
    if (!s)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}
