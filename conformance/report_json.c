/* report.json: the canonical report (schema: docs/report-schema.json, docs/REPORTS.md). */
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "conformance/alloc.h"
#include "conformance/report.h"
#include "conformance/report_internal.h"

#define MQS_REPORT_FORMAT "mqttspec-report/1"

/* A duration or time in whole milliseconds: NaN, infinities and negatives become 0. */
static double whole_ms(double ms)
{
    return isfinite(ms) && ms > 0 ? floor(ms + 0.5) : 0;
}

/* Adds s (cleaned to valid UTF-8) under key; NULL adds null when nullable, else "". */
static int add_text(cJSON *obj, const char *key, const char *s, int nullable)
{
    if (!s)
        return nullable ? cJSON_AddNullToObject(obj, key) != NULL
                        : cJSON_AddStringToObject(obj, key, "") != NULL;
    char *clean = mqs_text_clean(s);
    if (!clean)
        return 0;
    int ok = cJSON_AddStringToObject(obj, key, clean) != NULL;
    mqs_free(clean);
    return ok;
}

/* Adds an array of strings, each passed through map (a redaction) when given. */
static int add_strings(cJSON *obj, const char *key, char *const *s, size_t n,
                       char *(*map)(const char *))
{
    cJSON *arr = cJSON_AddArrayToObject(obj, key);
    for (size_t i = 0; arr && i < n; i++) {
        char *m = map ? map(mqs_str(s[i])) : NULL;
        char *clean = mqs_text_clean(map ? m : mqs_str(s[i]));
        cJSON *item = clean ? cJSON_CreateString(clean) : NULL;
        mqs_free(clean);
        mqs_free(m);
        if (!item || !cJSON_AddItemToArray(arr, item)) {
            cJSON_Delete(item);
            return 0;
        }
    }
    return arr != NULL;
}

/* Adds the hex form of e's bytes (password masked, capped) as "hex" and "len". */
static int add_trace_hex(cJSON *obj, const mqs_trace_entry *e)
{
    uint8_t *copy;
    const uint8_t *b = mqs_trace_bytes(e, &copy);
    if (!b) {
        if (e->bytes && e->len)
            return 0;
        return cJSON_AddNullToObject(obj, "hex") && cJSON_AddNumberToObject(obj, "len", 0);
    }
    size_t n = e->len < MQS_JSON_HEX_MAX ? e->len : MQS_JSON_HEX_MAX;
    char *hex = mqs_malloc(2 * n + 1);
    int ok = hex != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        static const char digits[] = "0123456789abcdef";
        hex[2 * i] = digits[b[i] >> 4];
        hex[2 * i + 1] = digits[b[i] & 15];
    }
    if (ok) {
        hex[2 * n] = '\0';
        ok = cJSON_AddStringToObject(obj, "hex", hex) &&
             cJSON_AddNumberToObject(obj, "len", (double)e->len);
    }
    mqs_free(hex);
    mqs_free(copy);
    return ok;
}

static cJSON *trace_entry_json(const mqs_trace_entry *e)
{
    cJSON *o = cJSON_CreateObject();
    if (o && cJSON_AddNumberToObject(o, "t_ms", (double)(e->t_ms > 0 ? e->t_ms : 0)) &&
        add_text(o, "client", e->client, 1) &&
        cJSON_AddStringToObject(o, "dir", mqs_trace_dir_name(e->dir)) && add_trace_hex(o, e) &&
        add_text(o, "text", e->text, 1))
        return o;
    cJSON_Delete(o);
    return NULL;
}

static int add_case_fields(cJSON *o, const mqs_case_result *c)
{
    return add_text(o, "id", c->id, 0) && add_text(o, "title", c->title, 0) &&
           add_text(o, "area", c->area, 0) && add_text(o, "level", c->level, 0) &&
           add_text(o, "protocol", c->protocol, 0) && add_text(o, "transport", c->transport, 0) &&
           cJSON_AddStringToObject(o, "verdict", mqs_verdict_name((int)c->verdict)) &&
           add_strings(o, "statements", c->statements, c->n_statements, NULL) &&
           cJSON_AddNumberToObject(o, "duration_ms", whole_ms(c->duration_ms)) &&
           add_text(o, "reason", c->reason, 1) && add_text(o, "failed_rule", c->failed_rule, 1);
}

static cJSON *case_json(const mqs_case_result *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *trace = o && add_case_fields(o, c) ? cJSON_AddArrayToObject(o, "trace") : NULL;
    for (size_t i = 0; trace && i < c->n_trace; i++) {
        cJSON *e = trace_entry_json(&c->trace[i]);
        if (!e || !cJSON_AddItemToArray(trace, e)) {
            cJSON_Delete(e);
            trace = NULL;
        }
    }
    if (trace)
        return o;
    cJSON_Delete(o);
    return NULL;
}

static int add_summary(cJSON *root, const mqs_report *r)
{
    size_t counts[MQS_VERDICT_COUNT];
    mqs_report_count(r, counts);
    cJSON *s = cJSON_AddObjectToObject(root, "summary");
    if (!s || !cJSON_AddNumberToObject(s, "total", (double)r->n_cases))
        return 0;
    for (int v = 0; v < MQS_VERDICT_COUNT; v++)
        if (!cJSON_AddNumberToObject(s, mqs_verdict_name(v), (double)counts[v]))
            return 0;
    return 1;
}

static int add_header(cJSON *root, const mqs_report *r)
{
    char *target = mqs_redact_target(mqs_str(r->target));
    int ok = target && cJSON_AddStringToObject(root, "format", MQS_REPORT_FORMAT) &&
             add_text(root, "tool_version", r->tool_version, 0) &&
             add_text(root, "target", target, 0) && add_text(root, "broker", r->broker, 1) &&
             add_text(root, "started_at", r->started_at, 0) &&
             cJSON_AddNumberToObject(root, "duration_ms", whole_ms(r->duration_ms)) &&
             add_strings(root, "options", r->options, r->n_options, mqs_redact_option) &&
             add_strings(root, "protocols", r->protocols, r->n_protocols, NULL) &&
             add_strings(root, "transports", r->transports, r->n_transports, NULL) &&
             (!r->interrupted || cJSON_AddTrueToObject(root, "interrupted")) &&
             add_summary(root, r);
    mqs_free(target);
    return ok;
}

int mqs_report_write_json(const mqs_report *r, FILE *out)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *cases = root && add_header(root, r) ? cJSON_AddArrayToObject(root, "cases") : NULL;
    for (size_t i = 0; cases && i < r->n_cases; i++) {
        cJSON *c = case_json(&r->cases[i]);
        if (!c || !cJSON_AddItemToArray(cases, c)) {
            cJSON_Delete(c);
            cases = NULL;
        }
    }
    char *text = cases ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!text)
        return -1;
    int ok = fputs(text, out) >= 0 && fputc('\n', out) != EOF;
    cJSON_free(text);
    return ok && !ferror(out) ? 0 : -1;
}
