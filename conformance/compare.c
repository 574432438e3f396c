/* The comparison matrix of several runs (see conformance/compare.h). */
#include "conformance/compare.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conformance/alloc.h"
#include "conformance/catalogue.h"
#include "conformance/report.h"
#include "conformance/report_internal.h"

/* One column: one run over one transport. */
typedef struct mx_col {
    size_t input;
    const char *transport;
    char *label; /* "broker · transport", made unique */
    size_t counts[MQS_VERDICT_COUNT];
} mx_col;

/* One row: one scenario on one protocol version; first is the first case seen for it. */
typedef struct mx_row {
    const mqs_case_result *first;
    size_t area_rank;
    size_t order;
} mx_row;

typedef struct mx {
    const mqs_compare_input *in;
    size_t n_in;
    mx_col *cols;
    size_t n_cols;
    mx_row *rows;
    size_t n_rows;
    const mqs_case_result **cells; /* n_rows x n_cols, row-major; NULL: not run */
    size_t *notes;                 /* note number of each cell, 0 for none */
    size_t n_notes;
    const char **areas;
    size_t n_areas;
} mx;

static size_t find_col(mx *m, size_t input, const char *transport)
{
    for (size_t i = 0; i < m->n_cols; i++)
        if (m->cols[i].input == input && !strcmp(m->cols[i].transport, transport))
            return i;
    m->cols[m->n_cols].input = input;
    m->cols[m->n_cols].transport = transport;
    return m->n_cols++;
}

static size_t find_row(mx *m, const mqs_case_result *c)
{
    for (size_t i = 0; i < m->n_rows; i++)
        if (!strcmp(mqs_str(m->rows[i].first->id), mqs_str(c->id)) &&
            !strcmp(mqs_str(m->rows[i].first->protocol), mqs_str(c->protocol)))
            return i;
    size_t a = 0;
    while (a < m->n_areas && strcmp(m->areas[a], mqs_str(c->area)))
        a++;
    if (a == m->n_areas)
        m->areas[m->n_areas++] = mqs_str(c->area);
    m->rows[m->n_rows] = (mx_row){c, a, m->n_rows};
    return m->n_rows++;
}

static int cmp_row(const void *pa, const void *pb)
{
    const mx_row *a = pa, *b = pb;
    if (a->area_rank != b->area_rank)
        return a->area_rank < b->area_rank ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

/* "broker · transport" (the target when the broker is unknown), unique among columns. */
static int make_label(mx *m, size_t k)
{
    const mqs_report *r = m->in[m->cols[k].input].report;
    char *name = r->broker ? mqs_strdup(r->broker) : mqs_redact_target(mqs_str(r->target));
    if (!name)
        return -1;
    size_t cap = strlen(name) + strlen(m->cols[k].transport) + 32;
    char *label = mqs_malloc(cap);
    for (unsigned dup = 1; label; dup++) {
        int len = snprintf(label, cap, dup == 1 ? "%s \xc2\xb7 %s" : "%s \xc2\xb7 %s (%u)", name,
                           m->cols[k].transport, dup);
        if (len < 0)
            break;
        size_t j = 0;
        while (j < k && strcmp(m->cols[j].label, label))
            j++;
        if (j == k)
            break;
    }
    mqs_free(name);
    m->cols[k].label = label;
    return label ? 0 : -1;
}

static void mx_free(mx *m)
{
    for (size_t i = 0; m->cols && i < m->n_cols; i++)
        mqs_free(m->cols[i].label);
    mqs_free(m->cols);
    mqs_free(m->rows);
    mqs_free(m->cells);
    mqs_free(m->notes);
    mqs_free(m->areas);
}

/* Pass 1: the columns and rows every case belongs to (col_of/row_of, in case order). */
static void place_cases(mx *m, size_t *col_of, size_t *row_of)
{
    size_t seen = 0;
    for (size_t i = 0; i < m->n_in; i++) {
        const mqs_report *r = m->in[i].report;
        for (size_t k = 0; k < r->n_cases; k++, seen++) {
            col_of[seen] = find_col(m, i, mqs_str(r->cases[k].transport));
            row_of[seen] = find_row(m, &r->cases[k]);
        }
    }
}

/* Pass 2: rows sorted by area, then every case in its cell (the worst verdict wins
 * should a run hold the same case twice), column totals and note numbers. */
static void fill_cells(mx *m, const size_t *col_of, const size_t *row_of, size_t *pos)
{
    qsort(m->rows, m->n_rows, sizeof *m->rows, cmp_row);
    for (size_t i = 0; i < m->n_rows; i++)
        pos[m->rows[i].order] = i;
    size_t seen = 0;
    for (size_t i = 0; i < m->n_in; i++) {
        const mqs_report *r = m->in[i].report;
        for (size_t k = 0; k < r->n_cases; k++, seen++) {
            const mqs_case_result **cell = &m->cells[pos[row_of[seen]] * m->n_cols + col_of[seen]];
            if (!*cell || r->cases[k].verdict > (*cell)->verdict)
                *cell = &r->cases[k];
        }
    }
    for (size_t i = 0; i < m->n_rows * m->n_cols; i++) {
        const mqs_case_result *c = m->cells[i];
        if (!c || (int)c->verdict < 0 || c->verdict >= MQS_VERDICT_COUNT)
            continue;
        m->cols[i % m->n_cols].counts[c->verdict]++;
        if (c->verdict != MQS_VERDICT_PASS)
            m->notes[i] = ++m->n_notes;
    }
}

static int mx_build(mx *m, const mqs_compare_input *in, size_t n)
{
    memset(m, 0, sizeof *m);
    m->in = in;
    m->n_in = n;
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += in[i].report->n_cases;
    size_t cap = total ? total : 1;
    size_t *tmp = mqs_calloc(3 * cap, sizeof *tmp);
    m->cols = mqs_calloc(cap, sizeof *m->cols);
    m->rows = mqs_calloc(cap, sizeof *m->rows);
    m->areas = mqs_calloc(cap, sizeof *m->areas);
    int ok = tmp && m->cols && m->rows && m->areas;
    if (ok) {
        place_cases(m, tmp, tmp + cap);
        size_t cells = m->n_rows * m->n_cols;
        m->cells = mqs_calloc(cells ? cells : 1, sizeof *m->cells);
        m->notes = mqs_calloc(cells ? cells : 1, sizeof *m->notes);
        ok = m->cells && m->notes;
    }
    if (ok)
        fill_cells(m, tmp, tmp + cap, tmp + 2 * cap);
    for (size_t k = 0; ok && k < m->n_cols; k++)
        ok = make_label(m, k) == 0;
    mqs_free(tmp);
    if (!ok)
        mx_free(m);
    return ok ? 0 : -1;
}

/* One statement a run breaks, and the FAIL case that shows it. */
typedef struct mx_break {
    const char *rule;
    const mqs_statement *st;
    const mqs_case_result *c;
} mx_break;

static int cmp_break(const void *pa, const void *pb)
{
    const mx_break *a = pa, *b = pb;
    if (a->st && b->st && a->st != b->st)
        return a->st < b->st ? -1 : 1;
    if (!a->st != !b->st)
        return a->st ? -1 : 1;
    return strcmp(a->rule, b->rule);
}

/* The statements run r breaks: each FAIL case's failed rule, or when it names none, every
 * statement it cites. Sorted by catalogue order, then id. Free *out with mqs_free. */
static int breaks_of(const mqs_report *r, mx_break **out, size_t *n)
{
    size_t cap = 1;
    for (size_t i = 0; i < r->n_cases; i++)
        cap += r->cases[i].n_statements + 1;
    *n = 0;
    *out = mqs_calloc(cap, sizeof **out);
    if (!*out)
        return -1;
    for (size_t i = 0; i < r->n_cases; i++) {
        const mqs_case_result *c = &r->cases[i];
        if (c->verdict != MQS_VERDICT_FAIL)
            continue;
        if (c->failed_rule)
            (*out)[(*n)++] = (mx_break){c->failed_rule, mqs_catalogue_find(c->failed_rule), c};
        for (size_t k = 0; !c->failed_rule && k < c->n_statements; k++)
            (*out)[(*n)++] = (mx_break){c->statements[k], mqs_catalogue_find(c->statements[k]), c};
    }
    qsort(*out, *n, sizeof **out, cmp_break);
    return 0;
}

/* ---- Markdown -------------------------------------------------------------------- */

static void md(FILE *out, const char *s)
{
    mqs_put_text(out, s, MQS_ESC_MD);
}

static void md_runs(const mx *m, FILE *out)
{
    fprintf(out, "# mqttspec: %zu broker run%s compared\n\n", m->n_in, m->n_in == 1 ? "" : "s");
    fputs("| Column | Broker | Target | Started (UTC) | mqttspec | Report |\n"
          "| --- | --- | --- | --- | --- | --- |\n",
          out);
    for (size_t k = 0; k < m->n_cols; k++) {
        const mqs_compare_input *in = &m->in[m->cols[k].input];
        char *target = mqs_redact_target(mqs_str(in->report->target));
        fputs("| ", out);
        md(out, m->cols[k].label);
        fputs(" | ", out);
        md(out, in->report->broker ? in->report->broker : "unknown");
        fputs(" | ", out);
        md(out, target ? target : "");
        fputs(" | ", out);
        md(out, in->report->started_at);
        fputs(" | ", out);
        md(out, in->report->tool_version);
        fputs(" | ", out);
        md(out, in->source ? in->source : "-");
        fputs(" |\n", out);
        mqs_free(target);
    }
    fputc('\n', out);
}

static void md_totals(const mx *m, FILE *out)
{
    fputs("## Totals\n\n| Broker | ERROR | FAIL | WARN | SKIP | INFO | PASS | Cases |\n"
          "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
          out);
    for (size_t k = 0; k < m->n_cols; k++) {
        size_t all = 0;
        fputs("| ", out);
        md(out, m->cols[k].label);
        for (int v = MQS_VERDICT_COUNT - 1; v >= 0; v--) {
            fprintf(out, " | %zu", m->cols[k].counts[v]);
            all += m->cols[k].counts[v];
        }
        fprintf(out, " | %zu |\n", all);
    }
    fputc('\n', out);
}

static void md_cell(const mx *m, size_t row, size_t col, FILE *out)
{
    const mqs_case_result *c = m->cells[row * m->n_cols + col];
    fputs(" | ", out);
    if (!c)
        fputs("-", out);
    else if (m->notes[row * m->n_cols + col])
        fprintf(out, "**%s**[^%zu]", mqs_verdict_name((int)c->verdict),
                m->notes[row * m->n_cols + col]);
    else
        fputs(mqs_verdict_name((int)c->verdict), out);
}

static void md_matrix(const mx *m, FILE *out)
{
    fputs("## Matrix\n\nOne row per scenario and protocol version; `-`: not run. A "
          "non-PASS verdict links to its reason (notes at the end).\n",
          out);
    for (size_t i = 0; i < m->n_rows; i++) {
        const mqs_case_result *c = m->rows[i].first;
        if (i == 0 || m->rows[i].area_rank != m->rows[i - 1].area_rank) {
            fputs("\n### ", out);
            md(out, m->areas[m->rows[i].area_rank]);
            fputs("\n\n| Scenario | Version | Statements", out);
            for (size_t k = 0; k < m->n_cols; k++) {
                fputs(" | ", out);
                md(out, m->cols[k].label);
            }
            fputs(" |\n| --- | --- | ---", out);
            for (size_t k = 0; k < m->n_cols; k++)
                fputs(" | ---", out);
            fputs(" |\n", out);
        }
        fputs("| ", out);
        md(out, c->id);
        fputs(" | ", out);
        md(out, c->protocol);
        fputs(" | ", out);
        for (size_t s = 0; s < c->n_statements; s++) {
            fputs(s ? ", " : "", out);
            md(out, c->statements[s]);
        }
        for (size_t k = 0; k < m->n_cols; k++)
            md_cell(m, i, k, out);
        fputs(" |\n", out);
    }
    fputc('\n', out);
}

static int md_breaks(const mx *m, FILE *out)
{
    fputs("## Statements each broker breaks\n\n", out);
    for (size_t i = 0; i < m->n_in; i++) {
        const mqs_report *r = m->in[i].report;
        mx_break *b;
        size_t n;
        if (breaks_of(r, &b, &n))
            return -1;
        fputs("### ", out);
        md(out, r->broker ? r->broker : r->target);
        fputs("\n\n", out);
        for (size_t k = 0; k < n; k++) {
            if (k == 0 || strcmp(b[k].rule, b[k - 1].rule)) {
                fputs(k ? "\n- " : "- ", out);
                md(out, b[k].rule);
                if (b[k].st) {
                    fputs(" (", out);
                    md(out, b[k].st->paraphrase);
                    fputc(')', out);
                }
                fputs(": ", out);
            } else
                fputs(", ", out);
            md(out, b[k].c->id);
            fputs(" ", out);
            md(out, b[k].c->protocol);
            fputc('/', out);
            md(out, b[k].c->transport);
        }
        fputs(n ? "\n\n" : "None: no FAIL.\n\n", out);
        mqs_free(b);
    }
    return 0;
}

static void md_notes(const mx *m, FILE *out)
{
    if (m->n_notes)
        fputs("## Notes\n\n", out);
    for (size_t i = 0; i < m->n_rows * m->n_cols; i++) {
        if (!m->notes[i])
            continue;
        const mqs_case_result *c = m->cells[i];
        fprintf(out, "[^%zu]: %s, ", m->notes[i], mqs_verdict_name((int)c->verdict));
        md(out, m->cols[i % m->n_cols].label);
        fputs(", ", out);
        md(out, c->id);
        fputc(' ', out);
        md(out, c->protocol);
        fputs(": ", out);
        md(out, c->reason ? c->reason : "(no reason given)");
        if (c->failed_rule) {
            fputs(" (rule ", out);
            md(out, c->failed_rule);
            fputc(')', out);
        }
        fputc('\n', out);
    }
}

int mqs_compare_write_md(const mqs_compare_input *in, size_t n, FILE *out)
{
    mx m;
    if (mx_build(&m, in, n))
        return -1;
    md_runs(&m, out);
    md_totals(&m, out);
    md_matrix(&m, out);
    int rc = md_breaks(&m, out);
    md_notes(&m, out);
    mx_free(&m);
    return rc == 0 && !ferror(out) ? 0 : -1;
}

/* ---- HTML ------------------------------------------------------------------------ */

static void h(FILE *out, const char *s)
{
    mqs_put_text(out, s, MQS_ESC_XML);
}

static void html_runs(const mx *m, FILE *out)
{
    fputs("<table class=\"facts\">\n<thead><tr><th>Column</th><th>Broker</th><th>Target</th>"
          "<th>Started (UTC)</th><th>mqttspec</th><th>Report</th></tr></thead>\n<tbody>\n",
          out);
    for (size_t k = 0; k < m->n_cols; k++) {
        const mqs_compare_input *in = &m->in[m->cols[k].input];
        char *target = mqs_redact_target(mqs_str(in->report->target));
        fputs("<tr><td>", out);
        h(out, m->cols[k].label);
        fputs("</td><td>", out);
        h(out, in->report->broker ? in->report->broker : "unknown");
        fputs("</td><td><code>", out);
        h(out, target);
        fputs("</code></td><td>", out);
        h(out, in->report->started_at);
        fputs("</td><td>", out);
        h(out, in->report->tool_version);
        fputs("</td><td><code>", out);
        h(out, in->source ? in->source : "-");
        fputs("</code></td></tr>\n", out);
        mqs_free(target);
    }
    fputs("</tbody></table>\n", out);
}

static void html_totals(const mx *m, FILE *out)
{
    fputs("<h2>Totals</h2>\n<table class=\"totals\">\n<thead><tr><th>Broker</th>", out);
    for (int v = MQS_VERDICT_COUNT - 1; v >= 0; v--)
        fprintf(out, "<th><span class=\"badge %s\">%s</span></th>", mqs_verdict_css(v),
                mqs_verdict_name(v));
    fputs("<th>Cases</th></tr></thead>\n<tbody>\n", out);
    for (size_t k = 0; k < m->n_cols; k++) {
        size_t all = 0;
        fputs("<tr><td>", out);
        h(out, m->cols[k].label);
        fputs("</td>", out);
        for (int v = MQS_VERDICT_COUNT - 1; v >= 0; v--) {
            fprintf(out, "<td class=\"num\">%zu</td>", m->cols[k].counts[v]);
            all += m->cols[k].counts[v];
        }
        fprintf(out, "<td class=\"num\">%zu</td></tr>\n", all);
    }
    fputs("</tbody></table>\n", out);
}

static void html_cell(const mx *m, size_t i, FILE *out)
{
    const mqs_case_result *c = m->cells[i];
    fputs("<td class=\"cell\">", out);
    if (!c) {
        fputs("<span title=\"not run\">&ndash;</span></td>", out);
        return;
    }
    const char *css = mqs_verdict_css((int)c->verdict);
    if (!m->notes[i]) {
        fprintf(out, "<span class=\"badge %s\">%s</span></td>", css,
                mqs_verdict_name((int)c->verdict));
        return;
    }
    fprintf(out, "<a class=\"badge %s\" href=\"#note-%zu\" title=\"", css, m->notes[i]);
    mqs_put_text(out, c->reason ? c->reason : "(no reason given)", MQS_ESC_XML_ATTR);
    fprintf(out, "\">%s</a></td>", mqs_verdict_name((int)c->verdict));
}

/* 1 when every cell of row i that ran passed (such rows can be hidden). */
static int row_all_pass(const mx *m, size_t i)
{
    for (size_t k = 0; k < m->n_cols; k++) {
        const mqs_case_result *c = m->cells[i * m->n_cols + k];
        if (c && c->verdict != MQS_VERDICT_PASS)
            return 0;
    }
    return 1;
}

static void html_area_head(const mx *m, size_t area, FILE *out)
{
    fputs("<tr class=\"area\"><th colspan=\"3\">", out);
    h(out, m->areas[area]);
    fputs("</th>", out);
    for (size_t k = 0; k < m->n_cols; k++) {
        fputs("<th class=\"broker\">", out);
        h(out, m->cols[k].label);
        fputs("</th>", out);
    }
    fputs("</tr>\n", out);
}

static void html_matrix(const mx *m, FILE *out)
{
    fputs("<h2>Matrix</h2>\n<input type=\"checkbox\" id=\"only-diff\">\n"
          "<label for=\"only-diff\" class=\"count\">hide rows where every broker passes</label>\n"
          "<table class=\"matrix\">\n<tbody>\n",
          out);
    for (size_t i = 0; i < m->n_rows; i++) {
        const mqs_case_result *c = m->rows[i].first;
        if (i == 0 || m->rows[i].area_rank != m->rows[i - 1].area_rank)
            html_area_head(m, m->rows[i].area_rank, out);
        fprintf(out, "<tr%s><td><code>", row_all_pass(m, i) ? " class=\"allpass\"" : "");
        h(out, c->id);
        fputs("</code><br><span class=\"title\">", out);
        h(out, c->title);
        fputs("</span></td><td>", out);
        h(out, c->protocol);
        fputs("</td><td>", out);
        for (size_t s = 0; s < c->n_statements; s++) {
            fputs(s ? ", " : "", out);
            h(out, c->statements[s]);
        }
        fputs("</td>", out);
        for (size_t k = 0; k < m->n_cols; k++)
            html_cell(m, i * m->n_cols + k, out);
        fputs("</tr>\n", out);
    }
    fputs("</tbody></table>\n", out);
}

static int html_breaks(const mx *m, FILE *out)
{
    fputs("<h2>Statements each broker breaks</h2>\n", out);
    for (size_t i = 0; i < m->n_in; i++) {
        const mqs_report *r = m->in[i].report;
        mx_break *b;
        size_t n;
        if (breaks_of(r, &b, &n))
            return -1;
        fputs("<h3>", out);
        h(out, r->broker ? r->broker : r->target);
        fputs(n ? "</h3>\n<ul class=\"notes\">\n" : "</h3>\n<p>None: no FAIL.</p>\n", out);
        for (size_t k = 0; k < n; k++) {
            if (k == 0 || strcmp(b[k].rule, b[k - 1].rule)) {
                fputs(k ? "</li>\n<li><code>" : "<li><code>", out);
                h(out, b[k].rule);
                fputs("</code> ", out);
                h(out, b[k].st ? b[k].st->paraphrase : "");
                fputs(": ", out);
            } else
                fputs(", ", out);
            h(out, b[k].c->id);
            fputc(' ', out);
            h(out, b[k].c->protocol);
            fputc('/', out);
            h(out, b[k].c->transport);
        }
        fputs(n ? "</li>\n</ul>\n" : "", out);
        mqs_free(b);
    }
    return 0;
}

static int html_notes(const mx *m, FILE *out)
{
    if (m->n_notes)
        fputs("<h2>Notes: reason and trace of every cell that did not pass</h2>\n", out);
    for (size_t i = 0; i < m->n_rows * m->n_cols; i++) {
        if (!m->notes[i])
            continue;
        const mqs_case_result *c = m->cells[i];
        fprintf(out, "<article class=\"case %s\" id=\"note-%zu\">\n<h3>[%zu] <span class=\"badge "
                     "%s\">%s</span> ",
                mqs_verdict_css((int)c->verdict), m->notes[i], m->notes[i],
                mqs_verdict_css((int)c->verdict), mqs_verdict_name((int)c->verdict));
        h(out, m->cols[i % m->n_cols].label);
        fputs(": <code>", out);
        h(out, c->id);
        fputs("</code> ", out);
        h(out, c->protocol);
        fputs("</h3>\n<dl>\n<dt>Reason</dt><dd class=\"reason\">", out);
        h(out, c->reason ? c->reason : "(no reason given)");
        fputs("</dd>\n", out);
        if (c->failed_rule) {
            fputs("<dt>Rule broken</dt><dd><code>", out);
            h(out, c->failed_rule);
            fputs("</code></dd>\n", out);
        }
        fputs("</dl>\n", out);
        if (c->n_trace) {
            fputs("<details><summary>trace</summary>\n", out);
            if (mqs_html_trace(out, c))
                return -1;
            fputs("</details>\n", out);
        }
        fputs("</article>\n", out);
    }
    return 0;
}

int mqs_compare_write_html(const mqs_compare_input *in, size_t n, FILE *out)
{
    mx m;
    if (mx_build(&m, in, n))
        return -1;
    fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                 "<title>mqttspec: %zu broker runs compared</title>\n<style>\n%s"
                 "#only-diff:checked ~ table.matrix tr.allpass { display: none; }\n"
                 "#only-diff:checked + label { opacity: .6; }\n"
                 "</style>\n</head>\n<body>\n<h1>mqttspec: %zu broker run%s compared</h1>\n",
            n, mqs_report_html_style, n, n == 1 ? "" : "s");
    html_runs(&m, out);
    html_totals(&m, out);
    html_matrix(&m, out);
    int rc = html_breaks(&m, out);
    if (rc == 0)
        rc = html_notes(&m, out);
    fputs("</body>\n</html>\n", out);
    mx_free(&m);
    return rc == 0 && !ferror(out) ? 0 : -1;
}

/* Adapts a matrix writer to mqs_write_file. */
typedef struct compare_ctx {
    const mqs_compare_input *in;
    size_t n;
    int (*write)(const mqs_compare_input *in, size_t n, FILE *out);
} compare_ctx;

static int write_matrix(const void *ctx, FILE *out)
{
    const compare_ctx *c = ctx;
    return c->write(c->in, c->n, out);
}

int mqs_compare_write_dir(const mqs_compare_input *in, size_t n, const char *dir, unsigned fmts,
                          char *err, size_t errlen)
{
    if (mqs_make_dirs(dir) != 0) {
        snprintf(err, errlen, "%s: cannot create directory (%s)", dir, strerror(errno));
        return -1;
    }
    compare_ctx md_ctx = {in, n, mqs_compare_write_md};
    compare_ctx html_ctx = {in, n, mqs_compare_write_html};
    if ((fmts & MQS_FMT_MD) && mqs_write_file(dir, "matrix.md", write_matrix, &md_ctx, err, errlen))
        return -1;
    if ((fmts & MQS_FMT_HTML) &&
        mqs_write_file(dir, "matrix.html", write_matrix, &html_ctx, err, errlen))
        return -1;
    return 0;
}
