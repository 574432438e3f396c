/* Bump allocator: a list of chunks from the suite allocator. */
#include "conformance/arena.h"

#include <stdint.h>
#include <string.h>

#include "conformance/alloc.h"

#define MQS_ARENA_CHUNK 8192u

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
} chunk;

struct mqs_arena {
    chunk *head;
};

mqs_arena *mqs_arena_new(void)
{
    return mqs_calloc(1, sizeof(mqs_arena));
}

void *mqs_arena_alloc(mqs_arena *a, size_t n)
{
    if (n > SIZE_MAX / 2)
        return NULL;
    n = (n + 15u) & ~(size_t)15u;
    if (!a->head || a->head->cap - a->head->used < n) {
        size_t cap = n > MQS_ARENA_CHUNK ? n : MQS_ARENA_CHUNK;
        chunk *c = mqs_malloc(sizeof(chunk) + cap);
        if (!c)
            return NULL;
        c->next = a->head;
        c->used = 0;
        c->cap = cap;
        a->head = c;
    }
    void *p = a->head->data + a->head->used;
    a->head->used += n;
    memset(p, 0, n);
    return p;
}

char *mqs_arena_strndup(mqs_arena *a, const char *s, size_t n)
{
    char *d = mqs_arena_alloc(a, n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

void mqs_arena_free(mqs_arena *a)
{
    if (!a)
        return;
    chunk *c = a->head;
    while (c) {
        chunk *next = c->next;
        mqs_free(c);
        c = next;
    }
    mqs_free(a);
}
