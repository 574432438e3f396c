/* mqttspec suite allocator: every allocation of the scenario engine, the report
 * structures and cJSON goes through these hooks, so tests can inject failures
 * (nghttp2 nghttp2_mem, cJSON_InitHooks).
 *
 * The codec never allocates; only conformance/ (and the CLI around it) does.
 */
#ifndef MQS_ALLOC_H
#define MQS_ALLOC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Allocator hooks. All three are called with ud; realloc(ud, NULL, n) must act as malloc. */
typedef struct mqs_allocator {
    void *(*malloc_fn)(void *ud, size_t n);
    void *(*realloc_fn)(void *ud, void *p, size_t n);
    void (*free_fn)(void *ud, void *p);
    void *ud;
} mqs_allocator;

/** Installs hooks (NULL restores libc) and points cJSON at them. Not thread-safe:
 *  call before any thread allocates, and only when nothing allocated with the old
 *  hooks is still alive. */
void mqs_alloc_set(const mqs_allocator *a);

/** Test helper: the next n allocations succeed, every later one fails (returns NULL)
 *  until mqs_alloc_fail_after(-1) switches failure injection off. Thread-safe counter.
 *  Composes with mqs_alloc_set. */
void mqs_alloc_fail_after(long n);

/** Number of allocations that failed by injection since the last mqs_alloc_fail_after. */
long mqs_alloc_injected_failures(void);

/** malloc / realloc / free through the hooks. n == 0 is treated as 1. NULL on failure.
 *  mqs_free(NULL) is a no-op. */
void *mqs_malloc(size_t n);
void *mqs_calloc(size_t count, size_t size); /* zeroed; NULL on overflow or failure */
void *mqs_realloc(void *p, size_t n);
void mqs_free(void *p);

/** Copies a NUL-terminated string (NULL in, NULL out). NULL on failure. */
char *mqs_strdup(const char *s);
/** Copies n bytes and appends a NUL. NULL on failure. */
char *mqs_strndup(const char *s, size_t n);
/** printf into a new string. NULL on failure. */
char *mqs_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#ifdef __cplusplus
}
#endif

#endif /* MQS_ALLOC_H */
