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

/* True when the run used a TLS client certificate (a "cert=" option). */
static bool used_client_cert(const mqs_report *r)
{
    for (size_t i = 0; i < r->n_options; i++)
        if (r->options[i] && !strncmp(r->options[i], "cert=", 5))
            return true;
    return false;
}

/* "broker · transport" (the target when the broker is unknown; "+cert" when the run
 * used a client certificate), unique among columns. */
static int make_label(mx *m, size_t k)
{
    const mqs_report *r = m->in[m->cols[k].input].report;
    char *name = r->broker ? mqs_strdup(r->broker) : mqs_redact_target(mqs_str(r->target));
    if (!name)
        return -1;
    const char *cert = used_client_cert(r) ? "+cert" : "";
    size_t cap = strlen(name) + strlen(m->cols[k].transport) + 40;
    char *label = mqs_malloc(cap);
    for (unsigned dup = 1; label; dup++) {
        int len = snprintf(label, cap, dup == 1 ? "%s \xc2\xb7 %s%s" : "%s \xc2\xb7 %s%s (%u)", name,
                           m->cols[k].transport, cert, dup);
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

/* ---- output shared by both formats ------------------------------------------------ */

/* The markup of one format for the parts both formats share. Every %s is escaped. */
typedef struct mx_markup {
    mqs_esc esc;
    const char *runs_head, *run_row, *runs_end; /* run_row: label broker target started version */
    const char *totals_head, *totals_cell, *totals_end; /* totals_head: %r per verdict */
    const char *broker_head, *no_breaks;        /* broker_head: %s broker */
    const char *rule_first, *rule_next, *rule_text, *rule_end; /* rule_first/next: %s id */
    const char *case_ref;                        /* %r separator, %s id protocol transport */
    const char *breaks_end;
} mx_markup;

static const mx_markup md_markup = {
    MQS_ESC_MD,
    "| Column | Broker | Target | Started (UTC) | mqttspec | Report |\n"
    "| --- | --- | --- | --- | --- | --- |\n",
    "| %s | %s | %s | %s | %s | ",
    "\n",
    "## Totals\n\n| Broker | %r | %r | %r | %r | %r | %r | Cases |\n"
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    " | %zu",
    "\n",
    "### %s\n\n",
    "None: no FAIL.\n\n",
    "- %s",
    "\n- %s",
    " (%s)",
    ": ",
    "%r%s %s/%s",
    "\n\n",
};

static const mx_markup html_markup = {
    MQS_ESC_XML,
    "<table class=\"facts\">\n<thead><tr><th>Column</th><th>Broker</th><th>Target</th>"
    "<th>Started (UTC)</th><th>mqttspec</th><th>Report</th></tr></thead>\n<tbody>\n",
    "<tr><td>%s</td><td>%s</td><td><code>%s</code></td><td>%s</td><td>%s</td><td>",
    "</tbody></table>\n",
    "<h2>Totals</h2>\n<table class=\"totals\">\n<thead><tr><th>Broker</th><th>%r</th><th>%r</th>"
    "<th>%r</th><th>%r</th><th>%r</th><th>%r</th><th>Cases</th></tr></thead>\n<tbody>\n",
    "<td class=\"num\">%zu</td>",
    "</tbody></table>\n",
    "<h3>%s</h3>\n",
    "<p>None: no FAIL.</p>\n",
    "<ul class=\"notes\">\n<li><code>%s</code>",
    "</li>\n<li><code>%s</code>",
    " %s",
    ": ",
    "%r%s %s/%s",
    "</li>\n</ul>\n",
};

/* The Report cell of a run: for a source DIR/report.json (how `make matrix` lays runs
 * out), links to DIR/report.md and DIR/report.html, and to the broker's hand-written
 * triage DIR/../DEVIATIONS.md when that file exists (paths as given, relative to where
 * compare runs); any other source is named as it is. */
static void put_report_cell(FILE *out, const mx_markup *k, const char *source)
{
    int html = k->esc == MQS_ESC_XML;
    const char *tail = "/report.json";
    size_t n = source ? strlen(source) : 0, t = strlen(tail);
    if (n <= t || strcmp(source + n - t, tail) != 0) {
        mqs_putf(out, k->esc, html ? "<code>%s</code></td></tr>\n" : "%s |\n",
                 source ? source : "-");
        return;
    }
    char dir[4096], parent[4096];
    snprintf(dir, sizeof dir, "%.*s", (int)(n - t), source);
    const char *slash = strrchr(dir, '/');
    snprintf(parent, sizeof parent, "%.*s", slash ? (int)(slash - dir) : 0, dir);
    char dev[4200];
    snprintf(dev, sizeof dev, "%s%sDEVIATIONS.md", parent, slash ? "/" : "");
    FILE *f = slash ? fopen(dev, "r") : NULL;
    mqs_putf(out, k->esc,
             html ? "<a href=\"%s/report.html\">report</a>" : "[report.md](%s/report.md), "
                                                                "[report.html](%s/report.html)",
             dir, dir);
    if (f) {
        fclose(f);
        mqs_putf(out, k->esc, html ? " · <a href=\"%s\">DEVIATIONS.md</a>" : ", [DEVIATIONS.md](%s)",
                 dev);
    }
    fputs(html ? "</td></tr>\n" : " |\n", out);
}

static void put_runs(const mx *m, FILE *out, const mx_markup *k)
{
    fputs(k->runs_head, out);
    for (size_t c = 0; c < m->n_cols; c++) {
        const mqs_compare_input *in = &m->in[m->cols[c].input];
        char *target = mqs_redact_target(mqs_str(in->report->target));
        mqs_putf(out, k->esc, k->run_row, m->cols[c].label,
                 in->report->broker ? in->report->broker : "unknown", target,
                 in->report->started_at, in->report->tool_version);
        put_report_cell(out, k, in->source);
        mqs_free(target);
    }
    fputs(k->runs_end, out);
}

static void put_totals(const mx *m, FILE *out, const mx_markup *k)
{
    const char *v[MQS_VERDICT_COUNT];
    int html = k->esc == MQS_ESC_XML;
    char badges[MQS_VERDICT_COUNT][64];
    for (int i = 0; i < MQS_VERDICT_COUNT; i++) { /* most severe first */
        int verdict = MQS_VERDICT_COUNT - 1 - i;
        snprintf(badges[i], sizeof badges[i], html ? "<span class=\"badge %s\">%s</span>" : "%.0s%s",
                 mqs_verdict_css(verdict), mqs_verdict_name(verdict));
        v[i] = badges[i];
    }
    mqs_putf(out, k->esc, k->totals_head, v[0], v[1], v[2], v[3], v[4], v[5]);
    for (size_t c = 0; c < m->n_cols; c++) {
        size_t all = 0;
        mqs_putf(out, k->esc, html ? "<tr><td>%s</td>" : "| %s", m->cols[c].label);
        for (int verdict = MQS_VERDICT_COUNT - 1; verdict >= 0; verdict--) {
            mqs_putf(out, k->esc, k->totals_cell, m->cols[c].counts[verdict]);
            all += m->cols[c].counts[verdict];
        }
        mqs_putf(out, k->esc, k->totals_cell, all);
        fputs(html ? "</tr>\n" : " |\n", out);
    }
    fputs(k->totals_end, out);
}

/* For each run, the statements it breaks and the FAIL cases that show it. */
static int put_breaks(const mx *m, FILE *out, const mx_markup *k)
{
    for (size_t i = 0; i < m->n_in; i++) {
        const mqs_report *r = m->in[i].report;
        mx_break *b;
        size_t n;
        if (breaks_of(r, &b, &n))
            return -1;
        /* The column's label ("broker · transport") when the run is one column: runs of
           one broker over several transports are then told apart. */
        const char *head = r->broker ? r->broker : r->target;
        size_t cols = 0, col = 0;
        for (size_t c = 0; c < m->n_cols; c++)
            if (m->cols[c].input == i) {
                cols++;
                col = c;
            }
        if (cols == 1)
            head = m->cols[col].label;
        mqs_putf(out, k->esc, k->broker_head, head);
        for (size_t j = 0; j < n; j++) {
            int first = j == 0 || strcmp(b[j].rule, b[j - 1].rule);
            if (first) {
                mqs_putf(out, k->esc, j ? k->rule_next : k->rule_first, b[j].rule);
                if (b[j].st)
                    mqs_putf(out, k->esc, k->rule_text, b[j].st->paraphrase);
            }
            mqs_putf(out, k->esc, k->case_ref, first ? k->rule_end : ", ", b[j].c->id,
                     b[j].c->protocol, b[j].c->transport);
        }
        fputs(n ? k->breaks_end : k->no_breaks, out);
        mqs_free(b);
    }
    return 0;
}

/* ---- Markdown -------------------------------------------------------------------- */

#define MD MQS_ESC_MD

static void md_cell(const mx *m, size_t row, size_t col, FILE *out)
{
    size_t i = row * m->n_cols + col;
    const mqs_case_result *c = m->cells[i];
    if (!c)
        fputs(" | -", out);
    else if (m->notes[i])
        fprintf(out, " | **%s**[^%zu]", mqs_verdict_name((int)c->verdict), m->notes[i]);
    else
        fprintf(out, " | %s", mqs_verdict_name((int)c->verdict));
}

static void md_area_head(const mx *m, size_t area, FILE *out)
{
    mqs_putf(out, MD, "\n### %s\n\n| Scenario | Version | Statements", m->areas[area]);
    for (size_t k = 0; k < m->n_cols; k++)
        mqs_putf(out, MD, " | %s", m->cols[k].label);
    fputs(" |\n| --- | --- | ---", out);
    for (size_t k = 0; k < m->n_cols; k++)
        fputs(" | ---", out);
    fputs(" |\n", out);
}

static void md_matrix(const mx *m, FILE *out)
{
    fputs("## Matrix\n\nOne row per scenario and protocol version; `-`: not run. A "
          "non-PASS verdict links to its reason (notes at the end).\n",
          out);
    for (size_t i = 0; i < m->n_rows; i++) {
        const mqs_case_result *c = m->rows[i].first;
        if (i == 0 || m->rows[i].area_rank != m->rows[i - 1].area_rank)
            md_area_head(m, m->rows[i].area_rank, out);
        mqs_putf(out, MD, "| %s | %s | ", c->id, c->protocol);
        mqs_put_list(out, c->statements, c->n_statements, MD, "");
        for (size_t k = 0; k < m->n_cols; k++)
            md_cell(m, i, k, out);
        fputs(" |\n", out);
    }
    fputc('\n', out);
}

static void md_notes(const mx *m, FILE *out)
{
    if (m->n_notes)
        fputs("## Notes\n\n", out);
    for (size_t i = 0; i < m->n_rows * m->n_cols; i++) {
        const mqs_case_result *c = m->cells[i];
        if (!m->notes[i])
            continue;
        mqs_putf(out, MD, "[^%zu]: %r, %s, %s %s: %s", m->notes[i],
                 mqs_verdict_name((int)c->verdict), m->cols[i % m->n_cols].label, c->id,
                 c->protocol, c->reason ? c->reason : "(no reason given)");
        if (c->failed_rule)
            mqs_putf(out, MD, " (rule %s)", c->failed_rule);
        fputc('\n', out);
    }
}

int mqs_compare_write_md(const mqs_compare_input *in, size_t n, FILE *out)
{
    mx m;
    if (mx_build(&m, in, n))
        return -1;
    fprintf(out, "# mqttspec: %zu broker run%s compared\n\n", n, n == 1 ? "" : "s");
    put_runs(&m, out, &md_markup);
    put_totals(&m, out, &md_markup);
    md_matrix(&m, out);
    fputs("## Statements each broker breaks\n\n", out);
    int rc = put_breaks(&m, out, &md_markup);
    md_notes(&m, out);
    mx_free(&m);
    return rc == 0 && !ferror(out) ? 0 : -1;
}

/* ---- HTML ------------------------------------------------------------------------ */

#define H MQS_ESC_XML

static void html_cell(const mx *m, size_t i, FILE *out)
{
    const mqs_case_result *c = m->cells[i];
    fputs("<td class=\"cell\">", out);
    if (!c)
        fputs("<span title=\"not run\">&ndash;</span>", out);
    else
        mqs_html_badge(out, (int)c->verdict, m->notes[i] ? "note" : NULL, m->notes[i],
                       c->reason ? c->reason : "(no reason given)");
    fputs("</td>", out);
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
    mqs_putf(out, H, "<tr class=\"area\"><th colspan=\"3\">%s</th>", m->areas[area]);
    for (size_t k = 0; k < m->n_cols; k++)
        mqs_putf(out, H, "<th class=\"broker\">%s</th>", m->cols[k].label);
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
        mqs_putf(out, H, "<tr%r><td><code>%s</code><br><span class=\"title\">%s</span></td>"
                         "<td>%s</td><td>",
                 row_all_pass(m, i) ? " class=\"allpass\"" : "", c->id, c->title, c->protocol);
        mqs_put_list(out, c->statements, c->n_statements, H, "");
        fputs("</td>", out);
        for (size_t k = 0; k < m->n_cols; k++)
            html_cell(m, i * m->n_cols + k, out);
        fputs("</tr>\n", out);
    }
    fputs("</tbody></table>\n", out);
}

static int html_notes(const mx *m, FILE *out)
{
    if (m->n_notes)
        fputs("<h2>Notes: reason and trace of every cell that did not pass</h2>\n", out);
    for (size_t i = 0; i < m->n_rows * m->n_cols; i++) {
        const mqs_case_result *c = m->cells[i];
        if (!m->notes[i])
            continue;
        mqs_putf(out, H, "<article class=\"case %r\" id=\"note-%zu\">\n<h3>[%zu] ",
                 mqs_verdict_css((int)c->verdict), m->notes[i], m->notes[i]);
        mqs_html_badge(out, (int)c->verdict, NULL, 0, NULL);
        mqs_putf(out, H, " %s: <code>%s</code> %s</h3>\n<dl>\n<dt>Reason</dt>"
                         "<dd class=\"reason\">%s</dd>\n",
                 m->cols[i % m->n_cols].label, c->id, c->protocol,
                 c->reason ? c->reason : "(no reason given)");
        if (c->failed_rule)
            mqs_putf(out, H, "<dt>Rule broken</dt><dd><code>%s</code></dd>\n", c->failed_rule);
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
    put_runs(&m, out, &html_markup);
    put_totals(&m, out, &html_markup);
    html_matrix(&m, out);
    fputs("<h2>Statements each broker breaks</h2>\n", out);
    int rc = put_breaks(&m, out, &html_markup);
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
