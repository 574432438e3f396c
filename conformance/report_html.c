/* report.html: one self-contained page (inline CSS, no script, no external reference of
 * any kind): summary with coloured verdict counts, a verdict filter (pure CSS: checkboxes
 * before <main> hide rows of unchecked verdicts), per-area tables, statement coverage,
 * and the reason and trace (decoded and hex) of every case that did not pass.
 * Everything that comes from the broker or a scenario is HTML-escaped: every %s below
 * goes through mqs_putf. */
#include <string.h>

#include "conformance/alloc.h"
#include "conformance/report.h"
#include "conformance/report_internal.h"

#define H MQS_ESC_XML

void mqs_html_badge(FILE *out, int v, const char *anchor, size_t number, const char *title)
{
    const char *css = mqs_verdict_css(v), *name = mqs_verdict_name(v);
    if (!anchor) {
        mqs_putf(out, H, "<span class=\"badge %r\">%r</span>", css, name);
        return;
    }
    mqs_putf(out, H, "<a class=\"badge %r\" href=\"#%r-%zu\"", css, anchor, number);
    if (title)
        mqs_putf(out, MQS_ESC_XML_ATTR, " title=\"%s\"", title);
    mqs_putf(out, H, ">%r</a>", name);
}

static int facts(FILE *out, const mqs_report *r, const char *target)
{
    mqs_putf(out, H, "<table class=\"facts\">\n<tr><th>Target</th><td>%s</td></tr>\n"
                     "<tr><th>Broker</th><td>%s</td></tr>\n"
                     "<tr><th>Started (UTC)</th><td>%s</td></tr>\n<tr><th>Duration</th><td>",
             target, r->broker ? r->broker : "unknown", r->started_at);
    mqs_put_duration(out, r->duration_ms);
    if (r->interrupted)
        fputs(" (interrupted: stopped before every selected case ran)", out);
    mqs_putf(out, H, "</td></tr>\n<tr><th>mqttspec</th><td>%s</td></tr>\n"
                     "<tr><th>Protocols</th><td>",
             r->tool_version);
    mqs_put_list(out, r->protocols, r->n_protocols, H, "&ndash;");
    fputs("</td></tr>\n<tr><th>Transports</th><td>", out);
    mqs_put_list(out, r->transports, r->n_transports, H, "&ndash;");
    fputs("</td></tr>\n<tr><th>Options</th><td>", out);
    for (size_t i = 0; i < r->n_options; i++) {
        char *opt = mqs_redact_option(mqs_str(r->options[i]));
        if (!opt)
            return -1;
        mqs_putf(out, H, "%r<code>%s</code>", i ? " " : "", opt);
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
    mqs_putf(out, H, "<h3>%s</h3>\n<table class=\"cases\">\n<thead><tr><th>Scenario</th>"
                     "<th>Version</th><th>Verdict</th><th>Statements</th></tr></thead>\n<tbody>\n",
             area);
    for (size_t i = 0; i < r->n_cases; i++) {
        const mqs_case_result *c = &r->cases[i];
        if (strcmp(mqs_str(c->area), area))
            continue;
        mqs_putf(out, H, "<tr class=\"%r\"><td><code>%s</code><br><span class=\"title\">%s"
                         "</span></td><td>%s/%s</td><td>",
                 mqs_verdict_css((int)c->verdict), c->id, c->title, c->protocol, c->transport);
        mqs_html_badge(out, (int)c->verdict, c->verdict == MQS_VERDICT_PASS ? NULL : "case", i + 1,
                       NULL);
        fputs("</td><td>", out);
        mqs_put_list(out, c->statements, c->n_statements, H, "&ndash;");
        fputs("</td></tr>\n", out);
    }
    fputs("</tbody></table>\n", out);
}

static int coverage(FILE *out, const mqs_report *r)
{
    mqs_run_coverage cov;
    if (mqs_run_coverage_get(r, &cov))
        return -1;
    fputs("<section id=\"coverage\"><h2>Statement coverage</h2>\n<p>", out);
    mqs_put_coverage_intro(out, &cov);
    fputs("</p>\n<table class=\"coverage\">\n<thead><tr><th>Statement</th><th>Observable</th>"
          "<th>Verdict</th><th>Cases</th><th>What it says</th></tr></thead>\n<tbody>\n",
          out);
    for (size_t i = 0; i < cov.n; i++) {
        const mqs_run_statement *row = &cov.rows[i];
        mqs_putf(out, H, "<tr class=\"%r\"><td><code>%s</code></td><td>%r</td><td>",
                 mqs_verdict_css((int)row->verdict), row->id,
                 row->st ? mqs_observability_name(row->st->observable) : "&ndash;");
        mqs_html_badge(out, (int)row->verdict, NULL, 0, NULL);
        mqs_putf(out, H, "</td><td class=\"num\">%zu</td><td>%s</td></tr>\n",
                 mqs_run_statement_cases(row),
                 row->st ? row->st->paraphrase : "(not in the MQTT 3.1.1 catalogue)");
    }
    fputs("</tbody></table>\n</section>\n", out);
    mqs_free(cov.rows);
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
        mqs_putf(out, H, "<tr class=\"%r\"><td class=\"num\">%lld</td><td>%s</td>"
                         "<td title=\"%r\">%r</td><td>%s",
                 mqs_trace_dir_name(e->dir), (long long)e->t_ms, e->client ? e->client : "-",
                 mqs_trace_dir_name(e->dir),
                 e->dir == 0 ? "&rarr;" : e->dir == 1 ? "&larr;" : "&bull;", e->text);
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
    mqs_putf(out, H, "<article class=\"case %r\" id=\"case-%zu\">\n<h3>",
             mqs_verdict_css((int)c->verdict), number);
    mqs_html_badge(out, (int)c->verdict, NULL, 0, NULL);
    mqs_putf(out, H, " <code>%s</code> %s/%s</h3>\n<p class=\"title\">%s</p>\n<dl>\n"
                     "<dt>Reason</dt><dd class=\"reason\">%s</dd>\n",
             c->id, c->protocol, c->transport, c->title, c->reason ? c->reason : "(none given)");
    if (c->failed_rule) {
        const mqs_statement *st = mqs_catalogue_find(c->failed_rule);
        mqs_putf(out, H, "<dt>Rule broken</dt><dd><code>%s</code>", c->failed_rule);
        if (st)
            mqs_putf(out, H, " (section %s): %s", st->section, st->paraphrase);
        fputs("</dd>\n", out);
    }
    fputs("<dt>Statements</dt><dd>", out);
    mqs_put_list(out, c->statements, c->n_statements, H, "&ndash;");
    mqs_putf(out, H, "</dd>\n<dt>Level, duration</dt><dd>%s, ", c->level);
    mqs_put_duration(out, c->duration_ms);
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
    mqs_putf(out, H, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                     "<title>mqttspec report: %s</title>\n<style>\n%r</style>\n</head>\n"
                     "<body>\n<header>\n<h1>mqttspec report</h1>\n",
             target, mqs_report_html_style);
    int rc = facts(out, r, target);
    mqs_free(target);
    fputs("</header>\n", out);
    if (rc == 0)
        rc = body(out, r);
    fputs("</body>\n</html>\n", out);
    return rc == 0 && !ferror(out) ? 0 : -1;
}
