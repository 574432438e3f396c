/* Suite `report`: statement catalogue, coverage, report writers (json, junit, md, html),
 * the strict report.json reader, report directories and the compare matrix. */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conformance/alloc.h"
#include "conformance/catalogue.h"
#include "conformance/compare.h"
#include "conformance/coverage.h"
#include "conformance/report.h"
#include "conformance/report_internal.h"

/* ---- a run with every verdict, hostile text and a secret ---------------------------- */

#define SECRET "hunter2"
#define SECRET_HEX "68756e74657232"

/* A reason with markup, quotes, control characters, invalid UTF-8 (a lone 0xff, an
 * encoded surrogate) and a tag pointing outside. */
static const char hostile[] = "got CONNACK rc=0 <&\"'> \x01\x1b[31m \xff\xfe \xed\xa0\x80 "
                              "<img src=\"http://evil.example/x.png\"> \xc3\xa9t\xc3\xa9";

static char **strings(size_t n, const char *const *v)
{
    char **a = mqs_calloc(n, sizeof *a);
    for (size_t i = 0; i < n; i++)
        a[i] = mqs_strdup(v[i]);
    return a;
}

static void trace_entry(mqs_trace_entry *e, int64_t t, int dir, const char *hex, const char *text)
{
    e->t_ms = t;
    e->client = mqs_strdup("a");
    e->dir = dir;
    e->text = mqs_strdup(text);
    if (!hex)
        return;
    e->len = strlen(hex) / 2;
    e->bytes = mqs_malloc(e->len);
    for (size_t i = 0; i < e->len; i++) {
        unsigned x;
        sscanf(hex + 2 * i, "%2x", &x);
        e->bytes[i] = (uint8_t)x;
    }
}

/* CONNECT 3.1.1, user "bob", password SECRET (flags 0xc2). */
#define CONNECT_HEX "101b00044d51545404c2003c000161" "0003626f62" "0007" SECRET_HEX

static void sample(mqs_report *r)
{
    static const char *const opts[] = {"jobs=4", "password=" SECRET, "tls-passphrase=x", "timeout=1"};
    static const char *const protos[] = {"3.1", "3.1.1"};
    static const char *const transports[] = {"tcp"};
    static const char *const ids[] = {"connect.basic", "connect.reserved-flag", "qos.qos2",
                                      "subscribe.overlap", "auth.bad-password", "keepalive.expiry"};
    static const char *const areas[] = {"connect", "connect", "qos", "subscribe", "auth", "keepalive"};
    static const char *const st[][2] = {{"MQTT-3.1.4-4", "MQTT-3.2.0-1"}, {"MQTT-3.1.2-3", "MQTT-3.2.0-1"},
                                        {"MQTT-4.3.3-2", "MQS-qos2-dup"}, {"MQTT-3.3.5-1", NULL},
                                        {"MQTT-3.1.4-5", NULL}, {"MQTT-3.1.2-24", NULL}};
    static const char *const reasons[] = {NULL, hostile, "PUBLISH re-sent before PUBREL delivered twice",
                                          "delivered twice", "no credentials given", "connection refused"};
    memset(r, 0, sizeof *r);
    r->tool_version = mqs_strdup("0.1.0");
    r->target = mqs_strdup("tcp://bob:" SECRET "@127.0.0.1:1883");
    r->broker = mqs_strdup("mosquitto <2.0.11>");
    r->started_at = mqs_strdup("2024-05-01T10:00:00Z");
    r->duration_ms = 1234.4;
    r->options = strings(4, opts);
    r->n_options = 4;
    r->protocols = strings(2, protos);
    r->n_protocols = 2;
    r->transports = strings(1, transports);
    r->n_transports = 1;
    r->n_cases = 6;
    r->cases = mqs_calloc(6, sizeof *r->cases);
    for (size_t i = 0; i < 6; i++) {
        mqs_case_result *c = &r->cases[i];
        c->id = mqs_strdup(ids[i]);
        c->title = mqs_strdup("Title with <b>markup</b> & `code` | pipe");
        c->area = mqs_strdup(areas[i]);
        c->level = mqs_strdup("MUST");
        c->protocol = mqs_strdup(i % 2 ? "3.1.1" : "3.1");
        c->transport = mqs_strdup("tcp");
        c->n_statements = st[i][1] ? 2 : 1;
        c->statements = strings(c->n_statements, st[i]);
        c->verdict = (mqs_verdict)(i == 0 ? MQS_VERDICT_PASS : i == 1 ? MQS_VERDICT_FAIL
                                   : i == 2 ? MQS_VERDICT_WARN : i == 3 ? MQS_VERDICT_INFO
                                   : i == 4 ? MQS_VERDICT_SKIP : MQS_VERDICT_ERROR);
        c->reason = reasons[i] ? mqs_strdup(reasons[i]) : NULL;
        c->duration_ms = 12.6 * (double)i;
    }
    mqs_case_result *c = &r->cases[1];
    c->failed_rule = mqs_strdup("MQTT-3.1.2-3");
    c->n_trace = 4;
    c->trace = mqs_calloc(4, sizeof *c->trace);
    trace_entry(&c->trace[0], 0, 2, NULL, "connected");
    trace_entry(&c->trace[1], 1, 0, CONNECT_HEX, "CONNECT(user=\"bob\", password=***)");
    trace_entry(&c->trace[2], 5, 1, "20020000", "CONNACK(rc=0) ``` \x02 <script>alert(1)</script>");
    trace_entry(&c->trace[3], 3005, 2, NULL, hostile);
}

typedef int (*writer_fn)(const mqs_report *r, FILE *out);

/* Runs a writer into memory. @return the text (free()), or NULL when the writer failed. */
static char *render(writer_fn w, const mqs_report *r)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *m = open_memstream(&buf, &size);
    ck_assert_ptr_nonnull(m);
    int rc = w(r, m);
    fclose(m);
    if (rc == 0)
        return buf;
    free(buf);
    return NULL;
}

static const writer_fn writers[] = {mqs_report_write_json, mqs_report_write_junit,
                                    mqs_report_write_md, mqs_report_write_html};

/* Every output is valid UTF-8 with no control byte but tab, LF (and CR). */
static void assert_clean_text(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        size_t n = mqs_utf8_seq_len(p + i, len - i);
        ck_assert_msg(n > 0, "invalid UTF-8 at byte %zu", i);
        ck_assert_msg(p[i] >= 0x20 || p[i] == '\n' || p[i] == '\t' || p[i] == '\r',
                      "control byte 0x%02x at %zu", p[i], i);
        i += n;
    }
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* The next allocation budget to try when injecting failures: every one of the first 64,
 * then about 5% apart, so a writer making thousands of allocations is still tested fast. */
static long next_budget(long n)
{
    return n < 64 ? n + 1 : n + n / 20;
}

START_TEST(writers_hide_secrets)
{
    mqs_report r;
    sample(&r);
    char *text = render(writers[_i], &r);
    ck_assert_ptr_nonnull(text);
    ck_assert_ptr_null(strstr(text, SECRET));
    ck_assert_ptr_null(strstr(text, SECRET_HEX));
    ck_assert_ptr_null(strstr(text, "68 75 6e 74 65 72 32"));
    ck_assert_ptr_null(strstr(text, "bob:"));
    ck_assert_ptr_nonnull(strstr(text, "tcp://127.0.0.1:1883"));
    ck_assert_ptr_nonnull(strstr(text, "***"));
    assert_clean_text(text);
    free(text);
    mqs_report_free(&r);
}
END_TEST

START_TEST(writers_survive_allocation_failures)
{
    mqs_report r;
    sample(&r);
    char *text = NULL;
    long n = 0;
    for (; n < 10000000 && !text; n = next_budget(n)) {
        mqs_alloc_fail_after(n);
        text = render(writers[_i], &r);
    }
    mqs_alloc_fail_after(-1);
    ck_assert_ptr_nonnull(text);
    char *plain = render(writers[_i], &r);
    ck_assert_str_eq(text, plain); /* the run that finally succeeded wrote everything */
    free(text);
    free(plain);
    mqs_report_free(&r);
}
END_TEST

START_TEST(json_fields)
{
    mqs_report r;
    sample(&r);
    char *text = render(mqs_report_write_json, &r);
    cJSON *root = cJSON_Parse(text);
    ck_assert_ptr_nonnull(root);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(root, "format")->valuestring,
                     "mqttspec-report/1");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(root, "target")->valuestring,
                     "tcp://127.0.0.1:1883");
    ck_assert_int_eq((int)cJSON_GetObjectItemCaseSensitive(root, "duration_ms")->valuedouble, 1234);
    const cJSON *opts = cJSON_GetObjectItemCaseSensitive(root, "options");
    ck_assert_str_eq(cJSON_GetArrayItem(opts, 1)->valuestring, "password=***");
    ck_assert_str_eq(cJSON_GetArrayItem(opts, 2)->valuestring, "tls-passphrase=***");
    ck_assert_str_eq(cJSON_GetArrayItem(opts, 3)->valuestring, "timeout=1");
    const cJSON *sum = cJSON_GetObjectItemCaseSensitive(root, "summary");
    ck_assert_double_eq(cJSON_GetObjectItemCaseSensitive(sum, "total")->valuedouble, 6);
    for (int v = 0; v < MQS_VERDICT_COUNT; v++)
        ck_assert_double_eq(cJSON_GetObjectItemCaseSensitive(sum, mqs_verdict_name(v))->valuedouble, 1);
    const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "cases"), 1);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(c, "verdict")->valuestring, "FAIL");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(c, "failed_rule")->valuestring, "MQTT-3.1.2-3");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(c, "reason")->valuestring,
                     "got CONNACK rc=0 <&\"'> \\x01\\x1b[31m \\xff\\xfe \\xed\\xa0\\x80 "
                     "<img src=\"http://evil.example/x.png\"> \xc3\xa9t\xc3\xa9");
    ck_assert_double_eq(cJSON_GetObjectItemCaseSensitive(c, "duration_ms")->valuedouble, 13);
    const cJSON *t = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(c, "trace"), 1);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(t, "dir")->valuestring, "sent");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(t, "hex")->valuestring,
                     "101b00044d51545404c2003c0001610003626f6200072a2a2a2a2a2a2a");
    ck_assert_double_eq(cJSON_GetObjectItemCaseSensitive(t, "len")->valuedouble, 29);
    t = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(c, "trace"), 0);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(t, "hex")));
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(t, "dir")->valuestring, "event");
    c = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "cases"), 0);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(c, "reason")));
    cJSON_Delete(root);
    free(text);
    mqs_report_free(&r);
}
END_TEST

/* write → read → write gives the same text; the reader keeps every field. */
START_TEST(json_roundtrip)
{
    mqs_report r, back;
    char err[256];
    sample(&r);
    char *text = render(mqs_report_write_json, &r);
    ck_assert_msg(mqs_report_parse_json(text, strlen(text), &back, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(back.n_cases, 6);
    ck_assert_uint_eq(back.counts[MQS_VERDICT_FAIL], 1);
    ck_assert_int_eq(back.cases[1].verdict, MQS_VERDICT_FAIL);
    ck_assert_uint_eq(back.cases[1].n_trace, 4);
    ck_assert_uint_eq(back.cases[1].trace[2].len, 4);
    ck_assert_int_eq(back.cases[1].trace[2].dir, 1);
    ck_assert_ptr_null(back.broker ? NULL : back.broker);
    char *again = render(mqs_report_write_json, &back);
    ck_assert_str_eq(text, again);
    free(text);
    free(again);
    mqs_report_free(&back);
    mqs_report_free(&r);
}
END_TEST

static const char minimal[] =
    "{\"format\": \"mqttspec-report/1\", \"tool_version\": \"0.1.0\", \"target\": \"tcp://h:1\", "
    "\"broker\": null, \"started_at\": \"2024-01-01T00:00:00Z\", \"duration_ms\": 5, "
    "\"options\": [], \"protocols\": [\"3.1.1\"], \"transports\": [\"tcp\"], "
    "\"summary\": {\"total\": 1, \"PASS\": 0, \"INFO\": 0, \"SKIP\": 0, \"WARN\": 0, \"FAIL\": 1, "
    "\"ERROR\": 0}, \"cases\": [{\"id\": \"x.y\", \"title\": \"t\", \"area\": \"x\", \"level\": "
    "\"MUST\", \"protocol\": \"3.1.1\", \"transport\": \"tcp\", \"verdict\": \"FAIL\", "
    "\"statements\": [\"MQTT-3.1.2-3\"], \"duration_ms\": 2, \"reason\": \"r\", \"failed_rule\": "
    "null, \"trace\": [{\"t_ms\": 1, \"client\": \"a\", \"dir\": \"sent\", \"hex\": \"e000\", "
    "\"len\": 2, \"text\": \"DISCONNECT\"}]}]}";

/* One mutation of the minimal report: replace `from` by `to`; the reader must say `err`. */
static const struct {
    const char *from, *to, *err;
} bad_reports[] = {
    {"\"tool_version\"", "\"tool_versio\"", "top level: unknown key \"tool_versio\""},
    {"\"broker\": null,", "\"broker\": null, \"broker\": \"x\",", "duplicate key \"broker\""},
    {"\"broker\": null,", "", "missing key \"broker\""},
    {"\"duration_ms\": 5", "\"duration_ms\": 5.5", "duration_ms: expected a non-negative integer"},
    {"\"duration_ms\": 5", "\"duration_ms\": -1", "duration_ms: expected a non-negative integer"},
    {"\"duration_ms\": 5", "\"duration_ms\": 1e300", "duration_ms: expected a non-negative integer"},
    {"\"duration_ms\": 5", "\"duration_ms\": \"5\"", "duration_ms: expected an integer"},
    {"\"FAIL\": 1", "\"FAIL\": 2", "summary.FAIL: 2, but 1 cases have that verdict"},
    {"\"total\": 1", "\"total\": 3", "summary.total: 3, but there are 1 cases"},
    {"\"verdict\": \"FAIL\"", "\"verdict\": \"fail\"", "cases[0].verdict: expected PASS"},
    {"\"dir\": \"sent\"", "\"dir\": \"up\"", "cases[0].trace[0].dir: expected \"sent\""},
    {"\"hex\": \"e000\"", "\"hex\": \"e00\"", "cases[0].trace[0].hex: 3 hex digits do not fit len 2"},
    {"\"hex\": \"e000\"", "\"hex\": \"E000\"", "cases[0].trace[0].hex: not a lowercase hex digit"},
    {"\"hex\": \"e000\"", "\"hex\": null", "cases[0].trace[0].hex: null, but len is 2"},
    {"[\"MQTT-3.1.2-3\"]", "[\"MQTT-3.1.2-3\", 7]", "cases[0].statements: item 1 is not a string"},
    {"\"title\": \"t\"", "\"title\": null", "cases[0].title: expected a string"},
    {"\"format\": \"mqttspec-report/1\"", "\"format\": \"mqttspec-report/2\"", "format: not"},
    {"\"cases\": [", "\"cases\": {", "line 1, column"},
    {"{\"format\"", "[{\"format\"", "top level: expected an object"},
    {"\"reason\": \"r\"", "\"reason\": \"r\\u0000s\"", "\\u0000 (NUL) in a string"},
    {"\"transports\": [\"tcp\"], ", "\"transports\": [\"tcp\"], \"interrupted\": false, ",
     "interrupted: expected true"},
    {"\"transports\": [\"tcp\"], ", "\"transports\": [\"tcp\"], \"interrupted\": 1, ",
     "interrupted: expected true"},
    {"\"transports\": [\"tcp\"], ",
     "\"transports\": [\"tcp\"], \"interrupted\": true, \"interrupted\": true, ",
     "duplicate key \"interrupted\""},
};

static char *replace(const char *s, const char *from, const char *to)
{
    const char *at = strstr(s, from);
    ck_assert_ptr_nonnull(at);
    size_t pre = (size_t)(at - s), fl = strlen(from), tl = strlen(to);
    char *out = malloc(strlen(s) - fl + tl + 1);
    memcpy(out, s, pre);
    memcpy(out + pre, to, tl);
    strcpy(out + pre + tl, at + fl);
    return out;
}

START_TEST(json_reader_rejects)
{
    mqs_report r;
    char err[256];
    ck_assert_msg(mqs_report_parse_json(minimal, strlen(minimal), &r, err, sizeof err) == 0, "%s", err);
    mqs_report_free(&r);
    char *text = replace(minimal, bad_reports[_i].from, bad_reports[_i].to);
    if (!strcmp(bad_reports[_i].to, "[{\"format\""))
        strcat(text = realloc(text, strlen(text) + 2), "]");
    ck_assert_int_eq(mqs_report_parse_json(text, strlen(text), &r, err, sizeof err), -1);
    ck_assert_msg(strstr(err, bad_reports[_i].err), "got \"%s\", want \"%s\"", err,
                  bad_reports[_i].err);
    ck_assert_uint_eq(r.n_cases, 0); /* zeroed on failure */
    free(text);
}
END_TEST

START_TEST(json_reader_odd_input)
{
    mqs_report r;
    char err[256];
    ck_assert_int_eq(mqs_report_parse_json("", 0, &r, err, sizeof err), -1);
    ck_assert_int_eq(mqs_report_parse_json("{} x", 4, &r, err, sizeof err), -1);
    ck_assert_int_eq(mqs_report_parse_json("{\"a\"\0}", 6, &r, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "NUL byte"));
    char *text = replace(minimal, "\"reason\": \"r\"", "\"reason\": \"r\\\\u0000s\"");
    ck_assert_msg(mqs_report_parse_json(text, strlen(text), &r, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(r.cases[0].reason, "r\\u0000s"); /* an escaped backslash, not a NUL */
    mqs_report_free(&r);
    free(text);
    ck_assert_int_eq(mqs_report_load_json("/nonexistent/report.json", &r, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/report.json: No such file"));
    for (long n = 0;; n = next_budget(n)) { /* allocation failures anywhere in the reader */
        mqs_alloc_fail_after(n);
        int rc = mqs_report_parse_json(minimal, strlen(minimal), &r, err, sizeof err);
        mqs_alloc_fail_after(-1);
        if (rc == 0)
            break;
        ck_assert_uint_eq(r.n_cases, 0);
    }
    mqs_report_free(&r);
}
END_TEST

START_TEST(junit_shape)
{
    mqs_report r;
    sample(&r);
    char *x = render(mqs_report_write_junit, &r);
    ck_assert_ptr_nonnull(strstr(x, "<testsuites name=\"mqttspec\" tests=\"6\" failures=\"1\" "
                                    "errors=\"1\" skipped=\"1\""));
    ck_assert_uint_eq(count(x, "<testsuite "), 5); /* connect, qos, subscribe, auth, keepalive */
    ck_assert_uint_eq(count(x, "<testcase "), 6);
    ck_assert_ptr_nonnull(strstr(x, "<testcase name=\"connect.reserved-flag [3.1.1/tcp]\" "
                                    "classname=\"connect\" time=\"0.013\">"));
    ck_assert_uint_eq(count(x, "<failure message="), 1);
    ck_assert_uint_eq(count(x, "<error message="), 1);
    ck_assert_uint_eq(count(x, "<skipped message="), 1);
    ck_assert_uint_eq(count(x, "<system-out>"), 2); /* WARN, INFO */
    ck_assert_ptr_nonnull(strstr(x, "&lt;&amp;&quot;&#39;&gt; \\x01\\x1b[31m \\xff\\xfe"));
    ck_assert_ptr_null(strstr(x, "<script>"));
    ck_assert_ptr_null(strstr(x, "<img"));
    free(x);
    mqs_report_free(&r);
}
END_TEST

START_TEST(md_shape)
{
    mqs_report r;
    sample(&r);
    char *m = render(mqs_report_write_md, &r);
    ck_assert_ptr_nonnull(strstr(m, "| FAIL | 1 |"));
    ck_assert_ptr_nonnull(strstr(m, "| **Total** | **6** |"));
    ck_assert_ptr_nonnull(strstr(m, "### connect (2 cases)"));
    ck_assert_ptr_nonnull(strstr(m, "[**FAIL**](#case-2)"));
    ck_assert_ptr_nonnull(strstr(m, "<a id=\"case-2\"></a>FAIL: connect.reserved-flag [3.1.1/tcp]"));
    ck_assert_ptr_nonnull(strstr(m, "| MQTT-3.1.2-3 | yes | FAIL | 1 |"));
    ck_assert_ptr_nonnull(strstr(m, "| MQTT-3.2.0-1 | yes | FAIL | 2 |")); /* worst of PASS, FAIL */
    ck_assert_ptr_nonnull(strstr(m, "| MQS-qos2-dup | - | WARN | 1 |"));
    ck_assert_ptr_nonnull(strstr(m, "\n````\n")); /* the trace holds ```: a longer fence */
    ck_assert_ptr_nonnull(strstr(m, "\\<img src=\"http://evil.example/x.png\"\\>"));
    ck_assert_ptr_nonnull(strstr(m, "Title with \\<b\\>markup\\</b\\> \\& \\`code\\` \\| pipe"));
    ck_assert_uint_eq(count(m, "<a id=\"case-"), 5); /* every non-PASS case has details */
    free(m);
    mqs_report_free(&r);
}
END_TEST

START_TEST(html_self_contained)
{
    mqs_report r;
    sample(&r);
    char *h = render(mqs_report_write_html, &r);
    ck_assert_ptr_nonnull(strstr(h, "<!DOCTYPE html>"));
    ck_assert_ptr_nonnull(strstr(h, "<style>"));
    ck_assert_ptr_null(strstr(h, "<script"));
    ck_assert_ptr_null(strstr(h, "<img"));
    ck_assert_ptr_null(strstr(h, "<link"));
    ck_assert_ptr_null(strstr(h, "@import"));
    ck_assert_ptr_null(strstr(h, "url("));
    ck_assert_ptr_null(strstr(h, "https://"));
    /* the one http:// is the broker's text, escaped */
    ck_assert_uint_eq(count(h, "http://"), 2); /* in the case details and in the trace */
    ck_assert_uint_eq(count(h, "&lt;img src=&quot;http://evil.example/x.png&quot;&gt;"), 2);
    ck_assert_uint_eq(count(h, "href=\""), count(h, "href=\"#"));
    ck_assert_ptr_nonnull(strstr(h, "<label for=\"show-fail\" class=\"count fail\""));
    ck_assert_ptr_nonnull(strstr(h, "<b>1</b> FAIL"));
    ck_assert_ptr_nonnull(strstr(h, "id=\"case-2\""));
    ck_assert_ptr_nonnull(strstr(h, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    ck_assert_ptr_nonnull(strstr(h, "mosquitto &lt;2.0.11&gt;"));
    free(h);
    mqs_report_free(&r);
}
END_TEST

START_TEST(run_statements)
{
    mqs_report r;
    mqs_run_statement *rows;
    size_t n;
    sample(&r);
    ck_assert_int_eq(mqs_run_statements(&r, &rows, &n), 0);
    ck_assert_uint_eq(n, 8);
    ck_assert_str_eq(rows[n - 1].id, "MQS-qos2-dup"); /* ids outside the catalogue last */
    ck_assert_ptr_null(rows[n - 1].st);
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(rows[i].id, "MQTT-3.2.0-1")) {
            ck_assert_int_eq(rows[i].verdict, MQS_VERDICT_FAIL);
            ck_assert_uint_eq(rows[i].counts[MQS_VERDICT_PASS], 1);
        }
        if (i + 1 < n && rows[i + 1].st)
            ck_assert(rows[i].st < rows[i + 1].st); /* catalogue order */
    }
    mqs_free(rows);
    mqs_report_free(&r);
}
END_TEST

/* ---- formats, directories, text helpers ----------------------------------------------- */

START_TEST(formats)
{
    unsigned f;
    char err[128];
    ck_assert_int_eq(mqs_report_parse_formats("json,md", &f, err, sizeof err), 0);
    ck_assert_uint_eq(f, MQS_FMT_JSON | MQS_FMT_MD);
    ck_assert_int_eq(mqs_report_parse_formats("all", &f, err, sizeof err), 0);
    ck_assert_uint_eq(f, MQS_FMT_ALL);
    ck_assert_int_eq(mqs_report_parse_formats("junit,html", &f, err, sizeof err), 0);
    ck_assert_uint_eq(f, MQS_FMT_JUNIT | MQS_FMT_HTML);
    ck_assert_int_eq(mqs_report_parse_formats("json,pdf", &f, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "'pdf'"));
    ck_assert_int_eq(mqs_report_parse_formats("json,", &f, err, sizeof err), -1);
    ck_assert_int_eq(mqs_report_parse_formats("", &f, err, sizeof err), -1);
    ck_assert_int_eq(mqs_report_parse_formats(NULL, &f, err, sizeof err), -1);
}
END_TEST

START_TEST(write_dir)
{
    char base[] = "/tmp/mqs-report-XXXXXX", dir[256], path[300], err[512];
    ck_assert_ptr_nonnull(mkdtemp(base));
    snprintf(dir, sizeof dir, "%s/a/b", base);
    mqs_report r;
    sample(&r);
    ck_assert_msg(mqs_report_write_dir(&r, dir, MQS_FMT_ALL, err, sizeof err) == 0, "%s", err);
    static const char *const files[] = {"report.json", "junit.xml", "report.md", "report.html"};
    struct stat st;
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_int_gt((int)st.st_size, 100);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/report.json", dir); /* a file where a directory should be */
    ck_assert_int_eq(mqs_report_write_dir(&r, path, MQS_FMT_JSON, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/report.json/report.json", dir);
    ck_assert_int_eq(mqs_report_write_dir(&r, path, MQS_FMT_JSON, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "cannot create directory"));
    snprintf(path, sizeof path, "%s/report.json/report.json", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/report.json", dir);
    rmdir(path);
    rmdir(dir);
    snprintf(path, sizeof path, "%s/a", base);
    rmdir(path);
    rmdir(base);
    mqs_report_free(&r);
}
END_TEST

START_TEST(text_helpers)
{
    ck_assert_uint_eq(mqs_utf8_seq_len((const unsigned char *)"\xc0\x80", 2), 0); /* overlong */
    ck_assert_uint_eq(mqs_utf8_seq_len((const unsigned char *)"\xe0\x80\x80", 3), 0);
    ck_assert_uint_eq(mqs_utf8_seq_len((const unsigned char *)"\xed\xa0\x80", 3), 0); /* surrogate */
    ck_assert_uint_eq(mqs_utf8_seq_len((const unsigned char *)"\xf4\x90\x80\x80", 4), 0);
    ck_assert_uint_eq(mqs_utf8_seq_len((const unsigned char *)"\xf0\x9f\x98\x80", 4), 4);
    ck_assert_uint_eq(mqs_utf8_seq_len((const unsigned char *)"\xf0\x9f\x98", 3), 0); /* cut */
    ck_assert_uint_eq(mqs_utf8_seq_len((const unsigned char *)"\xc3\xa9", 2), 2);
    char *s = mqs_redact_target("tcp://u:p@h:1/x@y");
    ck_assert_str_eq(s, "tcp://h:1/x@y");
    mqs_free(s);
    s = mqs_redact_target("ws://h:1/p@x");
    ck_assert_str_eq(s, "ws://h:1/p@x");
    mqs_free(s);
    s = mqs_redact_target("u@h");
    ck_assert_str_eq(s, "h");
    mqs_free(s);
    s = mqs_redact_option("PassWord=x");
    ck_assert_str_eq(s, "PassWord=***");
    mqs_free(s);
    s = mqs_redact_option("username=bob");
    ck_assert_str_eq(s, "username=bob");
    mqs_free(s);
    s = mqs_text_clean("a\x7f\xc2\x85\xef\xbf\xbe\tb\n");
    ck_assert_str_eq(s, "a\\x7f\\xc2\\x85\\xef\\xbf\\xbe\tb\n");
    mqs_free(s);
}
END_TEST

/* A CONNECT cut short, or with a password longer than the packet: never read past it. */
START_TEST(password_mask_bounds)
{
    static const char *const hex[] = {"10", "101b0004", "101b00044d51545404c2003c00", CONNECT_HEX,
                                      "101b00044d51545404c2003c000161" "0003626f62" "00ff6869"};
    for (size_t i = 0; i < sizeof hex / sizeof hex[0]; i++) {
        mqs_trace_entry e;
        memset(&e, 0, sizeof e);
        trace_entry(&e, 0, 0, hex[i], "x");
        uint8_t *copy;
        const uint8_t *b = mqs_trace_bytes(&e, &copy);
        ck_assert_ptr_nonnull(b);
        if (i >= 3)
            ck_assert_uint_eq(b[e.len - 1], '*');
        mqs_free(copy);
        mqs_free(e.client);
        mqs_free(e.text);
        mqs_free(e.bytes);
    }
}
END_TEST

/* ---- coverage -------------------------------------------------------------------------- */

static const char *const sc_a[] = {"MQTT-3.1.2-3", "MQTT-3.1.2-3", "MQTT31-connect-idlen"};
static const char *const sc_b[] = {"MQTT-3.1.0-1", "MQTT-2.3.1-2", "MQTT-9.9.9-9"};
static const char *const sc_c[] = {"MQTT-3.1.2-3", "MQTT-4.8.0-2"};
static const mqs_scenario_ref scenarios[] = {
    {"connect.reserved-flag", sc_a, 3}, {"connect.first-packet", sc_b, 3}, {"malformed.x", sc_c, 2}};

START_TEST(coverage_totals)
{
    mqs_coverage cov;
    ck_assert_int_eq(mqs_coverage_compute(scenarios, 3, &cov), 0);
    ck_assert_uint_eq(cov.total[MQS_OBS_YES], 84);
    ck_assert_uint_eq(cov.total[MQS_OBS_PARTLY], 47); /* 44 + MQTT-6.0.0-1, -2, -4 over WebSocket */
    ck_assert_uint_eq(cov.total[MQS_OBS_NO], 10);
    ck_assert_uint_eq(cov.covered[MQS_OBS_YES], 1);
    ck_assert_uint_eq(cov.covered[MQS_OBS_PARTLY], 2); /* MQTT-3.1.0-1, MQTT-4.8.0-2 */
    ck_assert_uint_eq(cov.covered[MQS_OBS_NO], 1);
    ck_assert_uint_eq(cov.n_unknown, 1);
    ck_assert_uint_eq(cov.n_stale_reasons, 1); /* MQTT-4.8.0-2 is in uncovered.tsv */
    ck_assert_uint_eq(cov.n_rows, cov.n_catalogue + 2);
    ck_assert_str_eq(cov.rows[cov.n_catalogue].id, "MQTT-9.9.9-9"); /* sorted by id */
    ck_assert_int_eq(cov.rows[cov.n_catalogue].kind, MQS_STID_UNKNOWN);
    ck_assert_int_eq(cov.rows[cov.n_catalogue + 1].kind, MQS_STID_OWN);
    const mqs_coverage_row *row = &cov.rows[mqs_catalogue_index("MQTT-3.1.2-3")];
    ck_assert_uint_eq(row->n_scenarios, 2); /* cited twice by the first: counted once */
    ck_assert_uint_eq(row->scenarios[0], 0);
    ck_assert_uint_eq(row->scenarios[1], 2);
    ck_assert_ptr_null(row->reason);
    row = &cov.rows[mqs_catalogue_index("MQTT-7.0.0-2")];
    ck_assert(mqs_coverage_row_missing(row));
    ck_assert_ptr_nonnull(row->reason);
    ck_assert(!mqs_coverage_row_missing(&cov.rows[mqs_catalogue_index("MQTT-2.3.1-3")])); /* "no" */
    mqs_coverage_free(&cov);
}
END_TEST

START_TEST(coverage_output)
{
    mqs_coverage cov;
    char *buf = NULL;
    size_t size = 0;
    ck_assert_int_eq(mqs_coverage_compute(scenarios, 3, &cov), 0);
    FILE *m = open_memstream(&buf, &size);
    ck_assert_int_eq(mqs_coverage_write_text(&cov, m), 0);
    fclose(m);
    ck_assert_ptr_nonnull(strstr(buf, "MQTT-3.1.2-3    yes     connect.reserved-flag, malformed.x\n"));
    ck_assert_ptr_nonnull(strstr(buf, "MQTT-9.9.9-9    UNKNOWN connect.first-packet   <- not a statement"));
    ck_assert_ptr_nonnull(strstr(buf, "server-observable (yes + partly): 3 of 131 covered"));
    ck_assert_ptr_nonnull(strstr(buf, "observable statements without a scenario: 128\n"));
    ck_assert_ptr_nonnull(strstr(buf, "MQTT-7.0.0-2    partly  Needing no extension"));
    ck_assert_ptr_nonnull(strstr(buf, "still gives a reason for MQTT-4.8.0-2"));
    free(buf);
    m = open_memstream(&buf, &size);
    ck_assert_int_eq(mqs_coverage_write_json(&cov, m), 0);
    fclose(m);
    cJSON *root = cJSON_Parse(buf);
    ck_assert_ptr_nonnull(root);
    const cJSON *obs = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(root, "totals"), "observable");
    ck_assert_double_eq(cJSON_GetObjectItemCaseSensitive(obs, "covered")->valuedouble, 3);
    ck_assert_double_eq(cJSON_GetObjectItemCaseSensitive(obs, "total")->valuedouble, 131);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, "statements")), 141);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, "uncovered")), 128);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, "other_ids")), 2);
    cJSON_Delete(root);
    free(buf);
    for (long n = 0;; n = next_budget(n)) { /* failures in compute and in the JSON writer */
        mqs_coverage c2;
        mqs_alloc_fail_after(n);
        int rc = mqs_coverage_compute(scenarios, 3, &c2);
        if (rc == 0) {
            m = open_memstream(&buf, &size);
            rc = mqs_coverage_write_json(&c2, m);
            fclose(m);
            free(buf);
            mqs_coverage_free(&c2);
        }
        mqs_alloc_fail_after(-1);
        if (rc == 0)
            break;
    }
    mqs_coverage_free(&cov);
}
END_TEST

/* ---- compare ------------------------------------------------------------------------- */

static void load_fixtures(mqs_report r[2], mqs_compare_input in[2])
{
    static const char *const paths[] = {"tests/fixtures/report-mosquitto.json",
                                        "tests/fixtures/report-rabbitmq.json"};
    char err[512];
    for (int i = 0; i < 2; i++) {
        ck_assert_msg(mqs_report_load_json(paths[i], &r[i], err, sizeof err) == 0, "%s", err);
        in[i].report = &r[i];
        in[i].source = paths[i];
    }
}

static char *compare_text(int html, const mqs_compare_input *in, size_t n)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *m = open_memstream(&buf, &size);
    int rc = html ? mqs_compare_write_html(in, n, m) : mqs_compare_write_md(in, n, m);
    fclose(m);
    if (rc == 0)
        return buf;
    free(buf);
    return NULL;
}

START_TEST(compare_md)
{
    mqs_report r[2];
    mqs_compare_input in[2];
    load_fixtures(r, in);
    char *m = compare_text(0, in, 2);
    ck_assert_ptr_nonnull(m);
    ck_assert_ptr_nonnull(strstr(m, "| mosquitto 2.0.11 \xc2\xb7 tcp | 0 | 0 | 0 | 0 | 1 | 4 | 5 |"));
    ck_assert_ptr_nonnull(strstr(m, "| tcp://127.0.0.1:21903 \xc2\xb7 tcp | 0 | 2 | 1 | 0 | 0 | 2 | 5 |"));
    ck_assert_ptr_nonnull(strstr(m, "| tcp://127.0.0.1:21903 \xc2\xb7 ws | 1 | 0 | 0 | 0 | 0 | 0 | 1 |"));
    ck_assert_ptr_nonnull(strstr(m, "| connect.bad-level | 3.1.1 | MQTT-3.1.2-2 | PASS | **FAIL**[^1] | - |"));
    ck_assert_ptr_nonnull(strstr(m, "| qos.qos2-exactly-once | 3.1.1 | MQTT-4.3.3-2 | PASS | **FAIL**[^2] | **ERROR**[^3] |"));
    ck_assert_uint_eq(count(m, "\n[^"), 5);
    ck_assert_ptr_nonnull(strstr(m, "[^1]: FAIL, tcp://127.0.0.1:21903 \xc2\xb7 tcp, connect.bad-level 3.1.1: expected CONNACK rc=1"));
    ck_assert_ptr_nonnull(strstr(m, "### mosquitto 2.0.11 \xc2\xb7 tcp\n\nNone: no FAIL.")); /* one column: its label */
    ck_assert_ptr_nonnull(strstr(m, "- MQTT-3.1.2-2 (Unsupported protocol level"));
    ck_assert_ptr_nonnull(strstr(m, "- MQTT-3.3.4-1 ("));
    ck_assert_uint_eq(count(m, "\n### "), 5); /* 3 areas, 2 brokers */
    free(m);
    mqs_report_free(&r[0]);
    mqs_report_free(&r[1]);
}
END_TEST

START_TEST(compare_html)
{
    mqs_report r[2];
    mqs_compare_input in[2];
    load_fixtures(r, in);
    char *h = compare_text(1, in, 2);
    ck_assert_ptr_nonnull(h);
    ck_assert_ptr_null(strstr(h, "<script"));
    ck_assert_ptr_null(strstr(h, "http"));
    ck_assert_ptr_null(strstr(h, "url("));
    ck_assert_uint_eq(count(h, "href=\""), count(h, "href=\"#note-"));
    ck_assert_uint_eq(count(h, "id=\"note-"), 5);
    ck_assert_ptr_nonnull(strstr(h, "<a class=\"badge fail\" href=\"#note-1\" title=\"expected CONNACK "
                                    "rc=1, the broker closed the connection without CONNACK &lt;&amp;&gt;\">"));
    ck_assert_uint_eq(count(h, "<tr class=\"allpass\">"), 2); /* connect.basic 3.1 and 3.1.1 */
    ck_assert_ptr_nonnull(strstr(h, "<table class=\"trace\">"));
    free(h);
    for (int html = 0; html < 2; html++)
        for (long n = 0;; n = next_budget(n)) {
            mqs_alloc_fail_after(n);
            h = compare_text(html, in, 2);
            mqs_alloc_fail_after(-1);
            free(h);
            if (h)
                break;
        }
    mqs_report_free(&r[0]);
    mqs_report_free(&r[1]);
}
END_TEST


START_TEST(catalogue_lookup)
{
    ck_assert_uint_eq(mqs_catalogue_count(), 141);
    const mqs_statement *s = mqs_catalogue_find("MQTT-3.1.2-3");
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s->section, "3.1.2.3");
    ck_assert_int_eq(s->observable, MQS_OBS_YES);
    ck_assert_str_eq(s->binds, "server");
    ck_assert_ptr_eq(mqs_catalogue_at(mqs_catalogue_index("MQTT-3.1.2-3")), s);
    ck_assert_str_eq(mqs_catalogue_at(0)->id, "MQTT-1.5.3-1");
    ck_assert_ptr_null(mqs_catalogue_at(mqs_catalogue_count()));
    ck_assert_ptr_null(mqs_catalogue_find("MQTT-9.9.9-9"));
    ck_assert_ptr_null(mqs_catalogue_find(NULL));
    ck_assert_ptr_null(mqs_catalogue_find("mqtt-3.1.2-3"));
    ck_assert_int_eq(mqs_catalogue_find("MQTT-2.3.1-2")->observable, MQS_OBS_NO);
    ck_assert_int_eq(mqs_catalogue_find("MQTT-3.1.0-1")->observable, MQS_OBS_PARTLY);
}
END_TEST

START_TEST(catalogue_counts)
{
    size_t n[MQS_OBS_COUNT] = {0};
    for (size_t i = 0; i < mqs_catalogue_count(); i++) {
        const mqs_statement *s = mqs_catalogue_at(i);
        ck_assert(s->observable >= MQS_OBS_NO && s->observable <= MQS_OBS_YES);
        ck_assert_int_gt((int)strlen(s->paraphrase), 0);
        n[s->observable]++;
    }
    ck_assert_uint_eq(n[MQS_OBS_YES], 84);
    ck_assert_uint_eq(n[MQS_OBS_PARTLY], 47); /* MQTT-6.0.0-1, -2, -4: over WebSocket */
    ck_assert_uint_eq(n[MQS_OBS_NO], 10);
}
END_TEST

START_TEST(catalogue_classify)
{
    ck_assert_int_eq(mqs_statement_id_classify("MQTT-4.7.1-1"), MQS_STID_CATALOGUE);
    ck_assert_int_eq(mqs_statement_id_classify("MQTT31-connect-idlen"), MQS_STID_OWN);
    ck_assert_int_eq(mqs_statement_id_classify("MQS-payload-16M"), MQS_STID_OWN);
    ck_assert_int_eq(mqs_statement_id_classify("MQS-"), MQS_STID_UNKNOWN);
    ck_assert_int_eq(mqs_statement_id_classify("MQS-a b"), MQS_STID_UNKNOWN);
    ck_assert_int_eq(mqs_statement_id_classify("MQTT-3.1.2-99"), MQS_STID_UNKNOWN);
    ck_assert_int_eq(mqs_statement_id_classify(""), MQS_STID_UNKNOWN);
    ck_assert_int_eq(mqs_statement_id_classify(NULL), MQS_STID_UNKNOWN);
    ck_assert_str_eq(mqs_observability_name(MQS_OBS_PARTLY), "partly");
    ck_assert_str_eq(mqs_observability_name(7), "unknown");
}
END_TEST

START_TEST(catalogue_uncovered)
{
    const char *id, *reason;
    size_t n = 0;
    while (mqs_catalogue_uncovered_at(n, &id, &reason)) {
        const mqs_statement *s = mqs_catalogue_find(id);
        ck_assert_ptr_nonnull(s);
        ck_assert_int_ne(s->observable, MQS_OBS_NO);
        ck_assert_str_eq(mqs_catalogue_uncovered_reason(id), reason);
        n++;
    }
    ck_assert_uint_gt(n, 0);
    ck_assert_ptr_null(mqs_catalogue_uncovered_reason("MQTT-3.1.2-3"));
    ck_assert_ptr_null(mqs_catalogue_uncovered_reason(NULL));
}
END_TEST

Suite *report_suite(void)
{
    Suite *s = suite_create("report");
    TCase *tc = tcase_create("catalogue");
    tcase_add_test(tc, catalogue_lookup);
    tcase_add_test(tc, catalogue_counts);
    tcase_add_test(tc, catalogue_classify);
    tcase_add_test(tc, catalogue_uncovered);
    suite_add_tcase(s, tc);

    tc = tcase_create("writers");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, writers_hide_secrets, 0, 4);
    tcase_add_loop_test(tc, writers_survive_allocation_failures, 0, 4);
    tcase_add_test(tc, json_fields);
    tcase_add_test(tc, junit_shape);
    tcase_add_test(tc, md_shape);
    tcase_add_test(tc, html_self_contained);
    tcase_add_test(tc, run_statements);
    tcase_add_test(tc, formats);
    tcase_add_test(tc, write_dir);
    tcase_add_test(tc, text_helpers);
    tcase_add_test(tc, password_mask_bounds);
    suite_add_tcase(s, tc);

    tc = tcase_create("reader");
    tcase_add_test(tc, json_roundtrip);
    tcase_add_loop_test(tc, json_reader_rejects, 0, (int)(sizeof bad_reports / sizeof bad_reports[0]));
    tcase_add_test(tc, json_reader_odd_input);
    suite_add_tcase(s, tc);

    tc = tcase_create("coverage");
    tcase_add_test(tc, coverage_totals);
    tcase_add_test(tc, coverage_output);
    suite_add_tcase(s, tc);

    tc = tcase_create("compare");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, compare_md);
    tcase_add_test(tc, compare_html);
    suite_add_tcase(s, tc);
    return s;
}
