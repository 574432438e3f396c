/* Reading report.json back (for `mqttspec compare`): strict, every error names the JSON
 * path and the reason. The format is the one report_json.c writes. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "conformance/alloc.h"
#include "conformance/report.h"
#include "conformance/report_internal.h"

#define MQS_MAX_SAFE_INT 9007199254740992.0 /* 2^53: larger integers lose precision */
#define MQS_REPORT_MAX_FILE (512u << 20)

typedef struct rd {
    char *err;
    size_t errlen;
} rd;

static int fail(rd *c, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(c->err, c->errlen, "%s: ", path[0] ? path : "top level");
    if (n >= 0 && (size_t)n < c->errlen)
        vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return 0;
}

/* Paths are short (at most "cases[N].trace[M].text"); a longer one is cut, never overrun. */
static void join(char *dst, size_t cap, const char *path, const char *key)
{
    int n = snprintf(dst, cap, "%s%s%s", path, path[0] ? "." : "", key);
    if (n < 0)
        dst[0] = '\0';
}

static void join_index(char *dst, size_t cap, const char *path, const char *key, size_t i)
{
    int n = snprintf(dst, cap, "%s%s%s[%zu]", path, path[0] ? "." : "", key, i);
    if (n < 0)
        dst[0] = '\0';
}

/* o must be an object holding exactly the keys listed (NULL-terminated), each once. */
static int check_object(rd *c, const cJSON *o, const char *path, const char *const *keys)
{
    if (!cJSON_IsObject(o))
        return fail(c, path, "expected an object");
    for (const cJSON *it = o->child; it; it = it->next) {
        size_t k = 0;
        while (keys[k] && strcmp(keys[k], it->string))
            k++;
        if (!keys[k])
            return fail(c, path, "unknown key \"%s\"", it->string);
        for (const cJSON *prev = o->child; prev != it; prev = prev->next)
            if (!strcmp(prev->string, it->string))
                return fail(c, path, "duplicate key \"%s\"", it->string);
    }
    for (size_t k = 0; keys[k]; k++)
        if (!cJSON_GetObjectItemCaseSensitive(o, keys[k]))
            return fail(c, path, "missing key \"%s\"", keys[k]);
    return 1;
}

static int get_string(rd *c, const cJSON *o, const char *key, const char *path, int nullable,
                      char **out)
{
    char p[256];
    join(p, sizeof p, path, key);
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    if (nullable && cJSON_IsNull(it))
        return 1;
    if (!cJSON_IsString(it))
        return fail(c, p, nullable ? "expected a string or null" : "expected a string");
    *out = mqs_strdup(it->valuestring);
    return *out ? 1 : fail(c, p, "out of memory");
}

/* A non-negative integer up to 2^53, checked before any cast (valueint saturates). */
static int get_count(rd *c, const cJSON *o, const char *key, const char *path, double *out)
{
    char p[256];
    join(p, sizeof p, path, key);
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(it))
        return fail(c, p, "expected an integer");
    double d = it->valuedouble;
    if (!(d >= 0 && d <= MQS_MAX_SAFE_INT) || d != (double)(int64_t)d)
        return fail(c, p, "expected a non-negative integer up to 2^53, got %g", d);
    *out = d;
    return 1;
}

static int get_strings(rd *c, const cJSON *o, const char *key, const char *path, char ***out,
                       size_t *n)
{
    char p[256];
    join(p, sizeof p, path, key);
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsArray(arr))
        return fail(c, p, "expected an array of strings");
    size_t count = (size_t)cJSON_GetArraySize(arr);
    *out = mqs_calloc(count ? count : 1, sizeof **out);
    if (!*out)
        return fail(c, p, "out of memory");
    for (const cJSON *it = arr->child; it; it = it->next, (*n)++) {
        if (!cJSON_IsString(it))
            return fail(c, p, "item %zu is not a string", *n);
        (*out)[*n] = mqs_strdup(it->valuestring);
        if (!(*out)[*n])
            return fail(c, p, "out of memory");
    }
    return 1;
}

static int hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

/* "hex" (string or null) and "len" of a trace entry. */
static int read_trace_bytes(rd *c, const cJSON *o, const char *path, mqs_trace_entry *e)
{
    char p[256];
    double len;
    if (!get_count(c, o, "len", path, &len))
        return 0;
    const cJSON *hex = cJSON_GetObjectItemCaseSensitive(o, "hex");
    join(p, sizeof p, path, "hex");
    if (cJSON_IsNull(hex))
        return len == 0 ? 1 : fail(c, p, "null, but len is %.0f", len);
    if (!cJSON_IsString(hex))
        return fail(c, p, "expected a string of lowercase hex digits or null");
    size_t hl = strlen(hex->valuestring);
    size_t n = hl / 2;
    if (hl % 2 || (double)n > len || ((double)n < len && n != MQS_JSON_HEX_MAX) ||
        (n == 0 && len == 0))
        return fail(c, p, "%zu hex digits do not fit len %.0f", hl, len);
    e->bytes = mqs_malloc(n);
    if (!e->bytes)
        return fail(c, p, "out of memory");
    e->len = n;
    for (size_t i = 0; i < n; i++) {
        int hi = hex_digit(hex->valuestring[2 * i]), lo = hex_digit(hex->valuestring[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return fail(c, p, "not a lowercase hex digit at %zu", 2 * i + (hi < 0 ? 0 : 1));
        e->bytes[i] = (uint8_t)(hi << 4 | lo);
    }
    return 1;
}

static int read_trace_entry(rd *c, const cJSON *o, const char *path, mqs_trace_entry *e)
{
    static const char *const keys[] = {"t_ms", "client", "dir", "hex", "len", "text", NULL};
    char *dir = NULL;
    double t;
    if (!check_object(c, o, path, keys) || !get_count(c, o, "t_ms", path, &t) ||
        !get_string(c, o, "client", path, 1, &e->client) ||
        !get_string(c, o, "dir", path, 0, &dir) || !read_trace_bytes(c, o, path, e) ||
        !get_string(c, o, "text", path, 1, &e->text)) {
        mqs_free(dir);
        return 0;
    }
    e->t_ms = (int64_t)t;
    e->dir = !strcmp(dir, "sent") ? 0 : !strcmp(dir, "received") ? 1 : !strcmp(dir, "event") ? 2 : -1;
    mqs_free(dir);
    if (e->dir < 0) {
        char p[256];
        join(p, sizeof p, path, "dir");
        return fail(c, p, "expected \"sent\", \"received\" or \"event\"");
    }
    return 1;
}

static int read_trace(rd *c, const cJSON *o, const char *path, mqs_case_result *cr)
{
    char p[256];
    join(p, sizeof p, path, "trace");
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, "trace");
    if (!cJSON_IsArray(arr))
        return fail(c, p, "expected an array");
    size_t n = (size_t)cJSON_GetArraySize(arr);
    cr->trace = mqs_calloc(n ? n : 1, sizeof *cr->trace);
    if (!cr->trace)
        return fail(c, p, "out of memory");
    for (const cJSON *it = arr->child; it; it = it->next) {
        join_index(p, sizeof p, path, "trace", cr->n_trace);
        if (!read_trace_entry(c, it, p, &cr->trace[cr->n_trace++]))
            return 0;
    }
    return 1;
}

static int read_verdict(rd *c, const cJSON *o, const char *path, mqs_verdict *v)
{
    char *name = NULL;
    if (!get_string(c, o, "verdict", path, 0, &name))
        return 0;
    int val = mqs_verdict_from_name(name);
    mqs_free(name);
    if (val < 0) {
        char p[256];
        join(p, sizeof p, path, "verdict");
        return fail(c, p, "expected PASS, INFO, SKIP, WARN, FAIL or ERROR");
    }
    *v = (mqs_verdict)val;
    return 1;
}

static int read_case(rd *c, const cJSON *o, const char *path, mqs_case_result *cr)
{
    static const char *const keys[] = {"id", "title", "area", "level", "protocol", "transport",
                                       "verdict", "statements", "duration_ms", "reason",
                                       "failed_rule", "trace", NULL};
    return check_object(c, o, path, keys) && get_string(c, o, "id", path, 0, &cr->id) &&
           get_string(c, o, "title", path, 0, &cr->title) &&
           get_string(c, o, "area", path, 0, &cr->area) &&
           get_string(c, o, "level", path, 0, &cr->level) &&
           get_string(c, o, "protocol", path, 0, &cr->protocol) &&
           get_string(c, o, "transport", path, 0, &cr->transport) &&
           read_verdict(c, o, path, &cr->verdict) &&
           get_strings(c, o, "statements", path, &cr->statements, &cr->n_statements) &&
           get_count(c, o, "duration_ms", path, &cr->duration_ms) &&
           get_string(c, o, "reason", path, 1, &cr->reason) &&
           get_string(c, o, "failed_rule", path, 1, &cr->failed_rule) &&
           read_trace(c, o, path, cr);
}

static int read_cases(rd *c, const cJSON *root, mqs_report *r)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "cases");
    if (!cJSON_IsArray(arr))
        return fail(c, "cases", "expected an array");
    size_t n = (size_t)cJSON_GetArraySize(arr);
    r->cases = mqs_calloc(n ? n : 1, sizeof *r->cases);
    if (!r->cases)
        return fail(c, "cases", "out of memory");
    char p[64];
    for (const cJSON *it = arr->child; it; it = it->next) {
        join_index(p, sizeof p, "", "cases", r->n_cases);
        if (!read_case(c, it, p, &r->cases[r->n_cases++]))
            return 0;
    }
    return 1;
}

/* The summary must agree with the cases. */
static int check_summary(rd *c, const cJSON *root, mqs_report *r)
{
    static const char *const keys[] = {"total", "PASS", "INFO", "SKIP", "WARN", "FAIL", "ERROR",
                                       NULL};
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(root, "summary");
    double v;
    if (!check_object(c, s, "summary", keys) || !get_count(c, s, "total", "summary", &v))
        return 0;
    if (v != (double)r->n_cases)
        return fail(c, "summary.total", "%.0f, but there are %zu cases", v, r->n_cases);
    mqs_report_count(r, r->counts);
    for (int k = 0; k < MQS_VERDICT_COUNT; k++) {
        char p[32];
        join(p, sizeof p, "summary", mqs_verdict_name(k));
        if (!get_count(c, s, mqs_verdict_name(k), "summary", &v))
            return 0;
        if (v != (double)r->counts[k])
            return fail(c, p, "%.0f, but %zu cases have that verdict", v, r->counts[k]);
    }
    return 1;
}

static int read_root(rd *c, const cJSON *root, mqs_report *r)
{
    /* "interrupted" is there (true) only when the run was stopped early. */
    const char *keys[] = {"format",      "tool_version", "target",    "broker",     "started_at",
                          "duration_ms", "options",      "protocols", "transports", "summary",
                          "cases",       NULL,           NULL};
    const cJSON *stopped =
        cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "interrupted") : NULL;
    if (stopped)
        keys[11] = "interrupted";
    char *format = NULL;
    if (!check_object(c, root, "", keys) || !get_string(c, root, "format", "", 0, &format))
        return 0;
    if (stopped && !cJSON_IsTrue(stopped)) {
        mqs_free(format);
        return fail(c, "interrupted", "expected true (the key is left out otherwise)");
    }
    r->interrupted = stopped != NULL;
    int known = !strcmp(format, "mqttspec-report/1");
    mqs_free(format);
    if (!known)
        return fail(c, "format", "not \"mqttspec-report/1\": not a report.json of this version");
    return get_string(c, root, "tool_version", "", 0, &r->tool_version) &&
           get_string(c, root, "target", "", 0, &r->target) &&
           get_string(c, root, "broker", "", 1, &r->broker) &&
           get_string(c, root, "started_at", "", 0, &r->started_at) &&
           get_count(c, root, "duration_ms", "", &r->duration_ms) &&
           get_strings(c, root, "options", "", &r->options, &r->n_options) &&
           get_strings(c, root, "protocols", "", &r->protocols, &r->n_protocols) &&
           get_strings(c, root, "transports", "", &r->transports, &r->n_transports) &&
           read_cases(c, root, r) && check_summary(c, root, r);
}

/* "line L, column C" of offset in buf. */
static void where(const char *buf, size_t offset, size_t *line, size_t *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < offset; i++, (*col)++)
        if (buf[i] == '\n') {
            (*line)++;
            *col = 0;
        }
}

/* @return the offset of a \u0000 escape in a JSON string (cJSON would silently cut the
 * string there), or (size_t)-1. A backslash escaped by another one does not count. */
static size_t find_nul_escape(const char *text, size_t len)
{
    for (size_t i = 0; i + 6 <= len; i++) {
        if (text[i] != '\\')
            continue;
        if (text[i + 1] == 'u' && !strncmp(text + i + 2, "0000", 4))
            return i;
        i++; /* skip the escaped character */
    }
    return (size_t)-1;
}

int mqs_report_parse_json(const char *buf, size_t len, mqs_report *out, char *err, size_t errlen)
{
    rd c = {err, errlen};
    memset(out, 0, sizeof *out);
    char *text = mqs_strndup(buf, len); /* cJSON wants the terminating NUL inside the length */
    if (!text) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    const char *end = NULL;
    size_t nul = find_nul_escape(text, len);
    cJSON *root = strlen(text) == len && nul == (size_t)-1
                      ? cJSON_ParseWithLengthOpts(text, len + 1, &end, 1)
                      : NULL;
    int ok = root && read_root(&c, root, out);
    if (!root && nul != (size_t)-1) {
        size_t line, col;
        where(text, nul, &line, &col);
        snprintf(err, errlen, "line %zu, column %zu: \\u0000 (NUL) in a string", line, col);
    } else if (!root) {
        size_t line, col, at = end ? (size_t)(end - text) : strlen(text);
        where(text, at, &line, &col);
        snprintf(err, errlen, "line %zu, column %zu: %s", line, col,
                 at < len && !text[at] ? "NUL byte in the text" : "not valid JSON");
    }
    cJSON_Delete(root);
    mqs_free(text);
    if (!ok)
        mqs_report_free(out);
    return ok ? 0 : -1;
}

int mqs_report_load_json(const char *path, mqs_report *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (len == cap) {
            char *nb = cap < MQS_REPORT_MAX_FILE ? mqs_realloc(buf, cap ? 2 * cap : 65536) : NULL;
            if (!nb) {
                rc = -1;
                snprintf(err, errlen, "%s: %s", path,
                         cap < MQS_REPORT_MAX_FILE ? "out of memory" : "file too large");
                break;
            }
            buf = nb;
            cap = cap ? 2 * cap : 65536;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (rc == 0 && ferror(f)) {
        rc = -1;
        snprintf(err, errlen, "%s: read error", path);
    }
    fclose(f);
    if (rc == 0) {
        char inner[512];
        rc = mqs_report_parse_json(buf, len, out, inner, sizeof inner);
        if (rc)
            snprintf(err, errlen, "%s: %s", path, inner);
    }
    mqs_free(buf);
    return rc;
}
