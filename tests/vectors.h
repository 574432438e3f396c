/* Test helper: loads the shared vector tables of tests/vectors/ (TSV:
 * hex, version, dir, status, rule, offset, comment; '#' starts a comment line).
 * Header-only so each Check file that needs it stays self-contained. */
#ifndef MQS_TEST_VECTORS_H
#define MQS_TEST_VECTORS_H

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/mqtt.h"

#define MQS_VEC_MAX 512
#define MQS_VEC_POOL (256 * 1024)

typedef struct mqs_vec {
    const uint8_t *bytes;
    size_t len;
    mqs_version version;
    mqs_dir dir;
    int status;
    char rule[40];
    size_t offset;
    char comment[160];
    int line;
} mqs_vec;

typedef struct mqs_vec_table {
    mqs_vec v[MQS_VEC_MAX];
    size_t n;
    uint8_t pool[MQS_VEC_POOL];
    size_t pool_used;
    int errors; /* lines that did not parse */
} mqs_vec_table;

static inline int mqs_vec_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Parses hex into out; returns the byte count or -1. */
static inline long mqs_vec_unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0, len = strlen(s);
    if (len % 2 != 0 || len / 2 > cap)
        return -1;
    for (size_t i = 0; i < len; i += 2) {
        int hi = mqs_vec_hexval((unsigned char)s[i]), lo = mqs_vec_hexval((unsigned char)s[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[n++] = (uint8_t)(hi << 4 | lo);
    }
    return (long)n;
}

static inline const char *mqs_vec_dir(void)
{
    const char *d = getenv("MQS_VECTORS_DIR");
    return d ? d : "tests/vectors";
}

static inline int mqs_vec_parse_line(mqs_vec_table *t, char *line, int lineno)
{
    char *f[7];
    char *save = NULL;
    int n = 0;
    for (char *tok = strtok_r(line, "\t\n", &save); tok && n < 7; tok = strtok_r(NULL, "\t\n", &save))
        f[n++] = tok;
    if (n < 6 || t->n >= MQS_VEC_MAX)
        return -1;
    mqs_vec *v = &t->v[t->n];
    long len = mqs_vec_unhex(f[0], t->pool + t->pool_used, MQS_VEC_POOL - t->pool_used);
    v->status = mqs_status_from_name(f[3]);
    if (len < 0 || v->status < 0)
        return -1;
    v->bytes = t->pool + t->pool_used;
    v->len = (size_t)len;
    t->pool_used += (size_t)len;
    v->version = strcmp(f[1], "3.1") == 0 ? MQS_V31 : MQS_V311;
    v->dir = strcmp(f[2], "to-server") == 0   ? MQS_DIR_TO_SERVER
             : strcmp(f[2], "to-client") == 0 ? MQS_DIR_TO_CLIENT
                                              : MQS_DIR_ANY;
    snprintf(v->rule, sizeof v->rule, "%s", f[4]);
    v->offset = (size_t)strtoul(f[5], NULL, 10);
    snprintf(v->comment, sizeof v->comment, "%s", n > 6 ? f[6] : "");
    v->line = lineno;
    t->n++;
    return 0;
}

/** Appends the rows of tests/vectors/<name> to t. */
static inline void mqs_vec_load(mqs_vec_table *t, const char *name)
{
    char path[512], line[65536];
    snprintf(path, sizeof path, "%s/%s", mqs_vec_dir(), name);
    FILE *fp = fopen(path, "r");
    if (fp == NULL) {
        t->errors++;
        return;
    }
    for (int lineno = 1; fgets(line, sizeof line, fp); lineno++) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (mqs_vec_parse_line(t, line, lineno) != 0)
            t->errors++;
    }
    fclose(fp);
}

#endif /* MQS_TEST_VECTORS_H */
