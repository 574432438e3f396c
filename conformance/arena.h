/* A bump allocator over the suite allocator: everything a loaded scenario holds is
 * freed at once (no partial-free paths in the loader). Internal to conformance/. */
#ifndef MQS_ARENA_H
#define MQS_ARENA_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mqs_arena mqs_arena;

/** @return a new arena, or NULL when out of memory. */
mqs_arena *mqs_arena_new(void);
/** Zeroed memory, 16-byte aligned, alive until mqs_arena_free. NULL when out of memory. */
void *mqs_arena_alloc(mqs_arena *a, size_t n);
/** Copies n bytes plus a NUL. NULL when out of memory. */
char *mqs_arena_strndup(mqs_arena *a, const char *s, size_t n);
void mqs_arena_free(mqs_arena *a);

#ifdef __cplusplus
}
#endif

#endif
