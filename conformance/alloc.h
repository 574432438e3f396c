/* The suite allocator: every allocation of conformance/ (scenario loader, runner, report
 * writers, and cJSON through its hooks) goes through these functions, so tests can make
 * the Nth allocation fail and check that each caller fails cleanly (no crash, no leak).
 *
 * Thread-safe: the runner allocates from several threads.
 */
#ifndef MQS_ALLOC_H
#define MQS_ALLOC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** malloc/calloc/realloc/free with failure injection. mqs_malloc(0) returns a unique
 *  pointer (never NULL on success); mqs_free(NULL) does nothing. */
void *mqs_malloc(size_t n);
void *mqs_calloc(size_t count, size_t size);
void *mqs_realloc(void *p, size_t n);
void mqs_free(void *p);

/** @return a copy of s (NULL when s is NULL or on allocation failure). Free with mqs_free. */
char *mqs_strdup(const char *s);
/** @return a NUL-terminated copy of the first n bytes of s, or NULL on failure. */
char *mqs_strndup(const char *s, size_t n);

/** Tests only: the next n allocations succeed and every later one fails (returns NULL),
 *  until mqs_alloc_fail_after(-1) switches failure injection off again. */
void mqs_alloc_fail_after(long n);

/** Points cJSON's allocation hooks at mqs_malloc/mqs_free (idempotent). Call before
 *  using cJSON, so its allocations see failure injection too. */
void mqs_alloc_use_for_cjson(void);

#ifdef __cplusplus
}
#endif

#endif /* MQS_ALLOC_H */
