/* Template expansion and checking: one walker, two modes (check: sizes only; expand: bytes). */
#include "conformance/expand.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "conformance/alloc.h"

/* Sizes assumed by the check for values only known at run time. */
#define MQS_CID_MAX 23u
#define MQS_TOPIC_EST 40u
#define MQS_TOKEN_EST 8u
#define MQS_NEST_MAX 8

int mqs_buf_append(mqs_buf *b, const void *data, size_t n)
{
    if (n == 0)
        return 0;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        uint8_t *p = mqs_realloc(b->p, cap);
        if (!p)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = 0;
    return 0;
}

int mqs_buf_puts(mqs_buf *b, const char *s)
{
    return mqs_buf_append(b, s, strlen(s));
}

int mqs_buf_printf(mqs_buf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    size_t len = (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1;
    return mqs_buf_append(b, tmp, len);
}

int mqs_buf_terminate(mqs_buf *b)
{
    if (b->p)
        return 0;
    b->p = mqs_malloc(1);
    if (!b->p)
        return -1;
    b->p[0] = 0;
    b->cap = 1;
    return 0;
}

void mqs_buf_free(mqs_buf *b)
{
    mqs_free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* ---- walker ---- */

typedef struct walk {
    const mqs_vars *v;          /* NULL in check mode */
    const char *const *clients; /* check mode */
    size_t n_clients;
    mqs_buf *out; /* NULL in check mode */
    unsigned uses;
    char *err;
    size_t errlen;
} walk;

static int fail(walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(walk *w, const char *fmt, ...)
{
    if (w->err && w->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w->err, w->errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Adds bytes (expand mode) or their count (check mode) to the walk. */
static int emit(walk *w, const void *data, size_t n, uint64_t *size)
{
    *size += n;
    if (*size > MQS_EXPAND_MAX)
        return fail(w, "expansion larger than %u bytes", MQS_EXPAND_MAX);
    if (w->out && mqs_buf_append(w->out, data, n) < 0)
        return fail(w, "out of memory");
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int walk_hex(walk *w, const char *s, size_t n, uint64_t *size)
{
    size_t i = 0;
    while (i < n) {
        if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n') {
            i++;
            continue;
        }
        int hi = hexval(s[i]);
        int lo = i + 1 < n ? hexval(s[i + 1]) : -1;
        if (hi < 0 || lo < 0)
            return fail(w, "${hex:...}: '%.*s' is not a pair of hex digits",
                        (int)(i + 1 < n ? 2 : 1), s + i);
        uint8_t byte = (uint8_t)(hi << 4 | lo);
        if (emit(w, &byte, 1, size) < 0)
            return -1;
        i += 2;
    }
    return 0;
}

static bool is_name(const char *s, size_t n)
{
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

static int walk_range(walk *w, const char *s, size_t n, int depth, uint64_t *size);

static int walk_cid(walk *w, const char *name, size_t n, uint64_t *size)
{
    const char *const *names = w->v ? w->v->clients : w->clients;
    size_t count = w->v ? w->v->n_clients : w->n_clients;
    for (size_t i = 0; i < count; i++) {
        if (strlen(names[i]) == n && !memcmp(names[i], name, n)) {
            if (!w->v) {
                *size += MQS_CID_MAX;
                return 0;
            }
            return emit(w, w->v->cids[i], strlen(w->v->cids[i]), size);
        }
    }
    return fail(w, "${cid:%.*s}: no client named '%.*s' in \"clients\"", (int)n, name, (int)n,
                name);
}

static int walk_var(walk *w, const char *name, size_t n, uint64_t *size)
{
    if (!is_name(name, n))
        return fail(w, "${var:%.*s}: a variable name is [A-Za-z0-9_-]{1,64}", (int)n, name);
    if (!w->v)
        return 0;
    for (size_t i = 0; i < w->v->n_saved; i++) {
        const mqs_var *x = &w->v->saved[i];
        if (strlen(x->name) == n && !memcmp(x->name, name, n))
            return emit(w, x->val, x->len, size);
    }
    return fail(w, "${var:%.*s} is not defined (no earlier expect saved it)", (int)n, name);
}

static int walk_secret(walk *w, const char *value, unsigned use, const char *name, uint64_t *size)
{
    w->uses |= use;
    if (!w->v)
        return 0;
    if (!value)
        return fail(w, "${%s} used but no credentials were given (--username/--password)", name);
    return emit(w, value, strlen(value), size);
}

static int walk_repeat(walk *w, const char *arg, size_t n, int depth, uint64_t *size)
{
    size_t i = 0;
    uint64_t count = 0;
    while (i < n && arg[i] >= '0' && arg[i] <= '9' && count <= MQS_REPEAT_MAX)
        count = count * 10 + (uint64_t)(arg[i++] - '0');
    if (i == 0 || i >= n || arg[i] != ':' || count > MQS_REPEAT_MAX)
        return fail(w, "${repeat:N:TEXT}: N must be an integer 0..%u followed by ':'",
                    MQS_REPEAT_MAX);
    const char *text = arg + i + 1;
    size_t tlen = n - i - 1;
    /* Expand (or measure) one copy, then emit it count times. */
    walk sub = *w;
    sub.uses = 0;
    mqs_buf tmp = {0};
    sub.out = w->out ? &tmp : NULL;
    uint64_t one = 0;
    int rc = walk_range(&sub, text, tlen, depth + 1, &one);
    w->uses |= sub.uses;
    if (rc == 0 && one * count + *size > MQS_EXPAND_MAX)
        rc = fail(w, "expansion larger than %u bytes", MQS_EXPAND_MAX);
    for (uint64_t k = 0; rc == 0 && w->out && k < count; k++)
        rc = emit(w, tmp.p, tmp.len, size);
    if (rc == 0 && !w->out)
        *size += one * count;
    mqs_buf_free(&tmp);
    return rc;
}

/* One ${NAME[:ARG]} whose body (between "${" and the matching "}") is s[0..n). */
static int walk_var_ref(walk *w, const char *s, size_t n, int depth, uint64_t *size)
{
    const char *colon = memchr(s, ':', n);
    size_t klen = colon ? (size_t)(colon - s) : n;
    const char *arg = colon ? colon + 1 : NULL;
    size_t alen = colon ? n - klen - 1 : 0;
#define KEY_IS(lit) (klen == sizeof lit - 1 && !memcmp(s, lit, klen))
    if (!colon && KEY_IS("topic"))
        return w->v ? emit(w, w->v->topic, strlen(w->v->topic), size) : (*size += MQS_TOPIC_EST, 0);
    if (!colon && KEY_IS("token"))
        return w->v ? emit(w, w->v->token, strlen(w->v->token), size) : (*size += MQS_TOKEN_EST, 0);
    if (!colon && KEY_IS("username"))
        return walk_secret(w, w->v ? w->v->username : NULL, MQS_USES_USERNAME, "username", size);
    if (!colon && KEY_IS("password"))
        return walk_secret(w, w->v ? w->v->password : NULL, MQS_USES_PASSWORD, "password", size);
    if (!colon && KEY_IS("bad_password"))
        return walk_secret(w, w->v ? w->v->bad_password : NULL, MQS_USES_BAD_PASSWORD,
                           "bad_password", size);
    if (colon && KEY_IS("cid"))
        return walk_cid(w, arg, alen, size);
    if (colon && KEY_IS("var"))
        return walk_var(w, arg, alen, size);
    if (colon && KEY_IS("hex"))
        return walk_hex(w, arg, alen, size);
    if (colon && KEY_IS("repeat"))
        return walk_repeat(w, arg, alen, depth, size);
#undef KEY_IS
    return fail(w, "unknown variable ${%.*s}", (int)(n > 40 ? 40 : n), s);
}

/* Length of the body of a ${...} starting at s (just after "${"), or -1 if unterminated. */
static long body_len(const char *s, size_t n)
{
    int depth = 1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '$' && i + 1 < n && s[i + 1] == '$') {
            i++;
        } else if (s[i] == '$' && i + 1 < n && s[i + 1] == '{') {
            depth++;
            i++;
        } else if (s[i] == '}' && --depth == 0) {
            return (long)i;
        }
    }
    return -1;
}

static int walk_range(walk *w, const char *s, size_t n, int depth, uint64_t *size)
{
    if (depth > MQS_NEST_MAX)
        return fail(w, "variables nested deeper than %d", MQS_NEST_MAX);
    size_t i = 0;
    while (i < n) {
        size_t lit = i;
        while (i < n && !(s[i] == '$' && i + 1 < n && (s[i + 1] == '$' || s[i + 1] == '{')))
            i++;
        if (i > lit && emit(w, s + lit, i - lit, size) < 0)
            return -1;
        if (i >= n)
            break;
        if (s[i + 1] == '$') { /* "$$" is a literal '$' */
            if (emit(w, "$", 1, size) < 0)
                return -1;
            i += 2;
            continue;
        }
        long blen = body_len(s + i + 2, n - i - 2);
        if (blen < 0)
            return fail(w, "unterminated '${' (write $$ for a literal '$')");
        if (walk_var_ref(w, s + i + 2, (size_t)blen, depth, size) < 0)
            return -1;
        i += 2 + (size_t)blen + 1;
    }
    return 0;
}

int mqs_template_check(const char *tmpl, const char *const *clients, size_t n_clients,
                       unsigned *uses, char *err, size_t errlen)
{
    walk w = {NULL, clients, n_clients, NULL, 0, err, errlen};
    uint64_t size = 0;
    int rc = walk_range(&w, tmpl, strlen(tmpl), 0, &size);
    if (uses)
        *uses |= w.uses;
    return rc;
}

int mqs_expand(const char *tmpl, const mqs_vars *v, mqs_buf *out, char *err, size_t errlen)
{
    walk w = {v, NULL, 0, out, 0, err, errlen};
    uint64_t size = 0;
    if (walk_range(&w, tmpl, strlen(tmpl), 0, &size) < 0)
        return -1;
    if (mqs_buf_terminate(out) < 0)
        return fail(&w, "out of memory");
    return 0;
}

int mqs_expand_int(const char *tmpl, const mqs_vars *v, int64_t min, int64_t max, int64_t *val,
                   char *err, size_t errlen)
{
    mqs_buf b = {0};
    if (mqs_expand(tmpl, v, &b, err, errlen) < 0) {
        mqs_buf_free(&b);
        return -1;
    }
    int64_t x = 0;
    bool ok = b.len > 0 && b.len <= 18;
    for (size_t i = 0; ok && i < b.len; i++) {
        ok = b.p[i] >= '0' && b.p[i] <= '9';
        x = x * 10 + (b.p[i] - '0');
    }
    if (!ok || x < min || x > max) {
        snprintf(err, errlen, "'%s' gives '%.*s', not an integer %lld..%lld", tmpl,
                 (int)(b.len > 32 ? 32 : b.len), b.p ? (const char *)b.p : "", (long long)min,
                 (long long)max);
        mqs_buf_free(&b);
        return -1;
    }
    mqs_buf_free(&b);
    *val = x;
    return 0;
}

int mqs_vars_set(mqs_vars *v, const char *name, const uint8_t *val, size_t len)
{
    uint8_t *copy = mqs_malloc(len + 1);
    if (!copy)
        return -1;
    if (len)
        memcpy(copy, val, len);
    copy[len] = 0;
    for (size_t i = 0; i < v->n_saved; i++) {
        if (!strcmp(v->saved[i].name, name)) {
            mqs_free(v->saved[i].val);
            v->saved[i].val = copy;
            v->saved[i].len = len;
            return 0;
        }
    }
    char *n = mqs_strdup(name);
    mqs_var *arr = n ? mqs_realloc(v->saved, (v->n_saved + 1) * sizeof *arr) : NULL;
    if (!arr) {
        mqs_free(n);
        mqs_free(copy);
        return -1;
    }
    v->saved = arr;
    v->saved[v->n_saved++] = (mqs_var){n, copy, len};
    return 0;
}

void mqs_vars_free(mqs_vars *v)
{
    for (size_t i = 0; i < v->n_saved; i++) {
        mqs_free(v->saved[i].name);
        mqs_free(v->saved[i].val);
    }
    mqs_free(v->saved);
    v->saved = NULL;
    v->n_saved = 0;
}
