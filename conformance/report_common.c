/* Views of a run shared by the report writers (report_internal.h). */
#include <stdlib.h>
#include <string.h>

#include "conformance/alloc.h"
#include "conformance/report_internal.h"

void mqs_report_count(const mqs_report *r, size_t counts[MQS_VERDICT_COUNT])
{
    memset(counts, 0, MQS_VERDICT_COUNT * sizeof counts[0]);
    for (size_t i = 0; i < r->n_cases; i++)
        if ((int)r->cases[i].verdict >= 0 && r->cases[i].verdict < MQS_VERDICT_COUNT)
            counts[r->cases[i].verdict]++;
}

int mqs_report_areas(const mqs_report *r, const char ***areas, size_t *n)
{
    *n = 0;
    *areas = mqs_calloc(r->n_cases ? r->n_cases : 1, sizeof **areas);
    if (!*areas)
        return -1;
    for (size_t i = 0; i < r->n_cases; i++) {
        const char *a = mqs_str(r->cases[i].area);
        size_t k = 0;
        while (k < *n && strcmp((*areas)[k], a))
            k++;
        if (k == *n)
            (*areas)[(*n)++] = a;
    }
    return 0;
}

/* Catalogue statements first (catalogue order), then the others by id. */
static int cmp_run_statement(const void *pa, const void *pb)
{
    const mqs_run_statement *a = pa, *b = pb;
    if (a->st && b->st)
        return a->st < b->st ? -1 : a->st > b->st;
    if (a->st || b->st)
        return a->st ? -1 : 1;
    return strcmp(a->id, b->id);
}

/* Adds case c's verdict to the row for id, creating it (rows has room). */
static void add_citation(mqs_run_statement *rows, size_t *n, const char *id, mqs_verdict v)
{
    size_t k = 0;
    while (k < *n && strcmp(rows[k].id, id))
        k++;
    if (k == *n) {
        memset(&rows[k], 0, sizeof rows[k]);
        rows[k].id = id;
        rows[k].st = mqs_catalogue_find(id);
        rows[k].verdict = MQS_VERDICT_PASS;
        (*n)++;
    }
    rows[k].counts[v]++;
    if (v > rows[k].verdict)
        rows[k].verdict = v;
}

int mqs_run_statements(const mqs_report *r, mqs_run_statement **out, size_t *n)
{
    size_t cap = 0;
    for (size_t i = 0; i < r->n_cases; i++)
        cap += r->cases[i].n_statements;
    *n = 0;
    *out = mqs_calloc(cap ? cap : 1, sizeof **out);
    if (!*out)
        return -1;
    for (size_t i = 0; i < r->n_cases; i++) {
        const mqs_case_result *c = &r->cases[i];
        if ((int)c->verdict < 0 || c->verdict >= MQS_VERDICT_COUNT)
            continue;
        for (size_t s = 0; s < c->n_statements; s++)
            if (c->statements[s])
                add_citation(*out, n, c->statements[s], c->verdict);
    }
    qsort(*out, *n, sizeof **out, cmp_run_statement);
    return 0;
}

size_t mqs_catalogue_count_obs(mqs_observability obs)
{
    size_t n = 0;
    for (size_t i = 0; i < mqs_catalogue_count(); i++)
        n += mqs_catalogue_at(i)->observable == obs;
    return n;
}

int mqs_put_trace(FILE *out, const mqs_case_result *c, mqs_esc mode)
{
    for (size_t i = 0; i < c->n_trace; i++) {
        const mqs_trace_entry *e = &c->trace[i];
        const char *arrow = e->dir == 0 ? "->" : e->dir == 1 ? "<-" : "--";
        fprintf(out, "%6lld ms  ", (long long)e->t_ms);
        mqs_put_text(out, e->client ? e->client : "-", mode);
        fputs("  ", out);
        mqs_put_text(out, arrow, mode);
        fputs("  ", out);
        mqs_put_text(out, e->text, mode);
        fputc('\n', out);
        uint8_t *copy;
        const uint8_t *b = mqs_trace_bytes(e, &copy);
        if (!b && e->bytes && e->len)
            return -1;
        if (b) {
            fputs("           ", out);
            mqs_put_hex(out, b, e->len, MQS_TEXT_HEX_MAX, 1);
            fputc('\n', out);
        }
        mqs_free(copy);
    }
    return 0;
}

size_t mqs_run_statement_cases(const mqs_run_statement *row)
{
    size_t n = 0;
    for (int v = 0; v < MQS_VERDICT_COUNT; v++)
        n += row->counts[v];
    return n;
}

int mqs_run_coverage_get(const mqs_report *r, mqs_run_coverage *cov)
{
    memset(cov, 0, sizeof *cov);
    if (mqs_run_statements(r, &cov->rows, &cov->n))
        return -1;
    for (size_t i = 0; i < cov->n; i++) {
        if (cov->rows[i].st)
            cov->per_obs[cov->rows[i].st->observable]++;
        else
            cov->outside++;
    }
    return 0;
}

void mqs_put_coverage_intro(FILE *out, const mqs_run_coverage *cov)
{
    fprintf(out, "This run checked %zu statements: %zu of the %zu fully observable and %zu of "
                 "the %zu partly observable statements of MQTT 3.1.1, %zu not observable, and "
                 "%zu ids outside the 3.1.1 catalogue (MQTT 3.1 or mqttspec's own). A "
                 "statement's verdict is the worst verdict of the cases that check it.",
            cov->n, cov->per_obs[MQS_OBS_YES], mqs_catalogue_count_obs(MQS_OBS_YES),
            cov->per_obs[MQS_OBS_PARTLY], mqs_catalogue_count_obs(MQS_OBS_PARTLY),
            cov->per_obs[MQS_OBS_NO], cov->outside);
}
