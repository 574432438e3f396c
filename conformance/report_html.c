/* report.html: one self-contained page (inline CSS, no script, no external reference of
 * any kind): summary with coloured verdict counts, a verdict filter (pure CSS: checkboxes
 * before <main> hide rows of unchecked verdicts), per-area tables, statement coverage,
 * and the reason and trace (decoded and hex) of every case that did not pass.
 * Everything that comes from the broker or a scenario is HTML-escaped. */
#include <string.h>

#include "conformance/alloc.h"
#include "conformance/report.h"
#include "conformance/report_internal.h"

static void h(FILE *out, const char *s)
{
    mqs_put_text(out, s, MQS_ESC_XML);
}

static void badge(FILE *out, int v, size_t case_number)
{
    if (case_number)
        fprintf(out, "<a class=\"badge %s\" href=\"#case-%zu\">%s</a>", mqs_verdict_css(v),
                case_number, mqs_verdict_name(v));
    else
        fprintf(out, "<span class=\"badge %s\">%s</span>", mqs_verdict_css(v),
                mqs_verdict_name(v));
}

static void put_duration(FILE *out, double ms)
{
    if (!(ms > 0))
        fputs("0 ms", out);
    else if (ms < 1000)
        fprintf(out, "%.0f ms", ms);
    else
        fprintf(out, "%.1f s", ms / 1000);
}

static void put_list(FILE *out, char *const *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fputs(i ? ", " : "", out);
        h(out, items[i]);
    }
    if (n == 0)
        fputs("&ndash;", out);
}

static void fact(FILE *out, const char *name, const char *value)
{
    fprintf(out, "<tr><th>%s</th><td>", name);
    h(out, value);
    fputs("</td></tr>\n", out);
}

static int facts(FILE *out, const mqs_report *r, const char *target)
{
    fputs("<table class=\"facts\">\n", out);
    fact(out, "Target", target);
    fact(out, "Broker", r->broker ? r->broker : "unknown");
    fact(out, "Started (UTC)", r->started_at);
    fputs("<tr><th>Duration</th><td>", out);
    put_duration(out, r->duration_ms);
    fputs("</td></tr>\n", out);
    fact(out, "mqttspec", r->tool_version);
    fputs("<tr><th>Protocols</th><td>", out);
    put_list(out, r->protocols, r->n_protocols);
    fputs("</td></tr>\n<tr><th>Transports</th><td>", out);
    put_list(out, r->transports, r->n_transports);
    fputs("</td></tr>\n<tr><th>Options</th><td>", out);
    for (size_t i = 0; i < r->n_options; i++) {
        char *opt = mqs_redact_option(mqs_str(r->options[i]));
        if (!opt)
            return -1;
        fputs(i ? " " : "", out);
        fputs("<code>", out);
        h(out, opt);
        fputs("</code>", out);
        mqs_free(opt);
    }
    fputs(r->n_options ? "</td></tr>\n</table>\n" : "&ndash;</td></tr>\n</table>\n", out);
    return 0;
}

/* The verdict counts, each a checkbox label that filters the page (see the style). */
static void summary(FILE *out, const mqs_report *r)
{
    size_t counts[MQS_VERDICT_COUNT];
    mqs_report_count(r, counts);
    for (int v = MQS_VERDICT_COUNT - 1; v >= 0; v--)
        fprintf(out, "<input type=\"checkbox\" id=\"show-%s\" checked>\n", mqs_verdict_css(v));
    fputs("<section id=\"summary\"><h2>Summary</h2>\n<p class=\"counts\">", out);
    for (int v = MQS_VERDICT_COUNT - 1; v >= 0; v--)
        fprintf(out,
                "<label for=\"show-%s\" class=\"count %s\" title=\"show or hide %s cases\">"
                "<b>%zu</b> %s</label>\n",
                mqs_verdict_css(v), mqs_verdict_css(v), mqs_verdict_name(v), counts[v],
                mqs_verdict_name(v));
    fprintf(out, "<span class=\"count total\"><b>%zu</b> cases</span></p>\n", r->n_cases);
    if (counts[MQS_VERDICT_FAIL] || counts[MQS_VERDICT_ERROR])
        fprintf(out, "<p class=\"verdict bad\">Not conformant: %zu case(s) broke a MUST, %zu "
                     "could not run.</p>\n",
                counts[MQS_VERDICT_FAIL], counts[MQS_VERDICT_ERROR]);
    else
        fputs("<p class=\"verdict good\">No FAIL and no ERROR.</p>\n", out);
    fputs("<p class=\"help\">Click a count to show or hide its cases. PASS: the broker did "
          "what the statement demands. FAIL: it broke a MUST. WARN: it broke a SHOULD, or was "
          "lenient. INFO: an allowed behaviour, noted. SKIP: a precondition was not given. "
          "ERROR: the case could not run.</p>\n</section>\n",
          out);
}

static void area_table(FILE *out, const mqs_report *r, const char *area)
{
    fputs("<h3>", out);
    h(out, area);
    fputs("</h3>\n<table class=\"cases\">\n<thead><tr><th>Scenario</th><th>Version</th>"
          "<th>Verdict</th><th>Statements</th></tr></thead>\n<tbody>\n",
          out);
    for (size_t i = 0; i < r->n_cases; i++) {
        const mqs_case_result *c = &r->cases[i];
        if (strcmp(mqs_str(c->area), area))
            continue;
        fprintf(out, "<tr class=\"%s\"><td><code>", mqs_verdict_css((int)c->verdict));
        h(out, c->id);
        fputs("</code><br><span class=\"title\">", out);
        h(out, c->title);
        fputs("</span></td><td>", out);
        h(out, c->protocol);
        fputc('/', out);
        h(out, c->transport);
        fputs("</td><td>", out);
        badge(out, (int)c->verdict, c->verdict == MQS_VERDICT_PASS ? 0 : i + 1);
        fputs("</td><td>", out);
        put_list(out, c->statements, c->n_statements);
        fputs("</td></tr>\n", out);
    }
    fputs("</tbody></table>\n", out);
}

static void coverage_row(FILE *out, const mqs_run_statement *row)
{
    size_t cases = 0;
    for (int v = 0; v < MQS_VERDICT_COUNT; v++)
        cases += row->counts[v];
    fprintf(out, "<tr class=\"%s\"><td><code>", mqs_verdict_css((int)row->verdict));
    h(out, row->id);
    fprintf(out, "</code></td><td>%s</td><td>",
            row->st ? mqs_observability_name(row->st->observable) : "&ndash;");
    badge(out, (int)row->verdict, 0);
    fprintf(out, "</td><td class=\"num\">%zu</td><td>", cases);
    h(out, row->st ? row->st->paraphrase : "(not in the MQTT 3.1.1 catalogue)");
    fputs("</td></tr>\n", out);
}

static int coverage(FILE *out, const mqs_report *r)
{
    mqs_run_statement *rows;
    size_t n, per_obs[MQS_OBS_COUNT] = {0}, outside = 0;
    if (mqs_run_statements(r, &rows, &n))
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (rows[i].st)
            per_obs[rows[i].st->observable]++;
        else
            outside++;
    }
    fprintf(out, "<section id=\"coverage\"><h2>Statement coverage</h2>\n<p>This run checked "
                 "%zu statements: %zu of the %zu fully observable and %zu of the %zu partly "
                 "observable statements of MQTT 3.1.1, %zu not observable, and %zu ids outside "
                 "the 3.1.1 catalogue (MQTT 3.1 or mqttspec's own). A statement's verdict is "
                 "the worst verdict of the cases that check it.</p>\n",
            n, per_obs[MQS_OBS_YES], mqs_catalogue_count_obs(MQS_OBS_YES), per_obs[MQS_OBS_PARTLY],
            mqs_catalogue_count_obs(MQS_OBS_PARTLY), per_obs[MQS_OBS_NO], outside);
    fputs("<table class=\"coverage\">\n<thead><tr><th>Statement</th><th>Observable</th>"
          "<th>Verdict</th><th>Cases</th><th>What it says</th></tr></thead>\n<tbody>\n",
          out);
    for (size_t i = 0; i < n; i++)
        coverage_row(out, &rows[i]);
    fputs("</tbody></table>\n</section>\n", out);
    mqs_free(rows);
    return 0;
}

int mqs_html_trace(FILE *out, const mqs_case_result *c)
{
    fputs("<table class=\"trace\">\n<thead><tr><th>ms</th><th>client</th><th></th>"
          "<th>packet (decoded, then hex)</th></tr></thead>\n<tbody>\n",
          out);
    for (size_t i = 0; i < c->n_trace; i++) {
        const mqs_trace_entry *e = &c->trace[i];
        uint8_t *copy;
        const uint8_t *b = mqs_trace_bytes(e, &copy);
        if (!b && e->bytes && e->len)
            return -1;
        fprintf(out, "<tr class=\"%s\"><td class=\"num\">%lld</td><td>",
                mqs_trace_dir_name(e->dir), (long long)e->t_ms);
        h(out, e->client ? e->client : "-");
        fprintf(out, "</td><td title=\"%s\">%s</td><td>", mqs_trace_dir_name(e->dir),
                e->dir == 0 ? "&rarr;" : e->dir == 1 ? "&larr;" : "&bull;");
        h(out, e->text);
        if (b) {
            fputs("<div class=\"hex\">", out);
            mqs_put_hex(out, b, e->len, MQS_TEXT_HEX_MAX, 1);
            fputs("</div>", out);
        }
        fputs("</td></tr>\n", out);
        mqs_free(copy);
    }
    fputs("</tbody></table>\n", out);
    return 0;
}

static int details(FILE *out, const mqs_case_result *c, size_t number)
{
    fprintf(out, "<article class=\"case %s\" id=\"case-%zu\">\n<h3>",
            mqs_verdict_css((int)c->verdict), number);
    badge(out, (int)c->verdict, 0);
    fputs(" <code>", out);
    h(out, c->id);
    fputs("</code> ", out);
    h(out, c->protocol);
    fputc('/', out);
    h(out, c->transport);
    fputs("</h3>\n<p class=\"title\">", out);
    h(out, c->title);
    fputs("</p>\n<dl>\n<dt>Reason</dt><dd class=\"reason\">", out);
    h(out, c->reason ? c->reason : "(none given)");
    fputs("</dd>\n", out);
    if (c->failed_rule) {
        const mqs_statement *st = mqs_catalogue_find(c->failed_rule);
        fputs("<dt>Rule broken</dt><dd><code>", out);
        h(out, c->failed_rule);
        fputs("</code>", out);
        if (st) {
            fputs(" (section ", out);
            h(out, st->section);
            fputs("): ", out);
            h(out, st->paraphrase);
        }
        fputs("</dd>\n", out);
    }
    fputs("<dt>Statements</dt><dd>", out);
    put_list(out, c->statements, c->n_statements);
    fputs("</dd>\n<dt>Level, duration</dt><dd>", out);
    h(out, c->level);
    fputs(", ", out);
    put_duration(out, c->duration_ms);
    fputs("</dd>\n</dl>\n", out);
    int rc = c->n_trace ? mqs_html_trace(out, c) : 0;
    fputs("</article>\n", out);
    return rc;
}

static int body(FILE *out, const mqs_report *r)
{
    const char **areas;
    size_t n_areas;
    summary(out, r);
    if (mqs_report_areas(r, &areas, &n_areas))
        return -1;
    fputs("<main>\n<section id=\"areas\"><h2>Results by area</h2>\n", out);
    for (size_t i = 0; i < n_areas; i++)
        area_table(out, r, areas[i]);
    fputs("</section>\n", out);
    mqs_free(areas);
    if (coverage(out, r))
        return -1;
    fputs("<section id=\"details\"><h2>Cases that did not pass</h2>\n", out);
    size_t shown = 0;
    for (size_t i = 0; i < r->n_cases; i++)
        if (r->cases[i].verdict != MQS_VERDICT_PASS && ++shown && details(out, &r->cases[i], i + 1))
            return -1;
    if (!shown)
        fputs("<p>None: every case passed.</p>\n", out);
    fputs("</section>\n</main>\n", out);
    return 0;
}

int mqs_report_write_html(const mqs_report *r, FILE *out)
{
    char *target = mqs_redact_target(mqs_str(r->target));
    if (!target)
        return -1;
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>mqttspec report: ",
          out);
    h(out, target);
    fprintf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<header>\n"
                 "<h1>mqttspec report</h1>\n",
            mqs_report_html_style);
    int rc = facts(out, r, target);
    mqs_free(target);
    fputs("</header>\n", out);
    if (rc == 0)
        rc = body(out, r);
    fputs("</body>\n</html>\n", out);
    return rc == 0 && !ferror(out) ? 0 : -1;
}
