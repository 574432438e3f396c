/* Scenario coverage of the statement catalogue (see conformance/coverage.h). */
#include "conformance/coverage.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "conformance/alloc.h"

/* The row for id: a catalogue row, or a row after them (created when add is set). */
static mqs_coverage_row *find_row(mqs_coverage *cov, const char *id, int add)
{
    size_t i = mqs_catalogue_index(id);
    if (i != (size_t)-1)
        return &cov->rows[i];
    for (i = cov->n_catalogue; i < cov->n_rows; i++)
        if (!strcmp(cov->rows[i].id, id))
            return &cov->rows[i];
    if (!add)
        return NULL;
    mqs_coverage_row *row = &cov->rows[cov->n_rows++];
    row->id = id;
    row->kind = mqs_statement_id_classify(id);
    return row;
}

/* Pass 1 (fill == 0) counts the citations of every row; pass 2 records them. A scenario
 * citing a statement twice counts once (its index is already the last one recorded). */
static void cite_all(mqs_coverage *cov, int fill)
{
    for (size_t s = 0; s < cov->n_scenarios; s++) {
        const mqs_scenario_ref *sc = &cov->scenarios[s];
        for (size_t k = 0; k < sc->n; k++) {
            if (!sc->statements[k])
                continue;
            mqs_coverage_row *row = find_row(cov, sc->statements[k], !fill);
            if (!fill)
                row->n_scenarios++; /* an upper bound: duplicates are dropped in pass 2 */
            else if (!row->n_scenarios || row->scenarios[row->n_scenarios - 1] != s)
                row->scenarios[row->n_scenarios++] = s;
        }
    }
}

static int cmp_row_id(const void *a, const void *b)
{
    return strcmp(((const mqs_coverage_row *)a)->id, ((const mqs_coverage_row *)b)->id);
}

static void tally(mqs_coverage *cov)
{
    for (size_t i = 0; i < cov->n_catalogue; i++) {
        mqs_coverage_row *row = &cov->rows[i];
        const char *reason = mqs_catalogue_uncovered_reason(row->id);
        cov->total[row->st->observable]++;
        if (row->n_scenarios)
            cov->covered[row->st->observable]++;
        if (row->n_scenarios && reason)
            cov->n_stale_reasons++;
        row->reason = row->n_scenarios ? NULL : reason;
    }
    for (size_t i = cov->n_catalogue; i < cov->n_rows; i++)
        cov->n_unknown += cov->rows[i].kind == MQS_STID_UNKNOWN;
}

int mqs_coverage_compute(const mqs_scenario_ref *sc, size_t n, mqs_coverage *out)
{
    memset(out, 0, sizeof *out);
    size_t citations = 0;
    for (size_t s = 0; s < n; s++)
        citations += sc[s].n;
    out->scenarios = sc;
    out->n_scenarios = n;
    out->n_catalogue = mqs_catalogue_count();
    out->rows = mqs_calloc(out->n_catalogue + citations, sizeof *out->rows);
    if (!out->rows)
        return -1;
    out->n_rows = out->n_catalogue;
    for (size_t i = 0; i < out->n_catalogue; i++) {
        out->rows[i].st = mqs_catalogue_at(i);
        out->rows[i].id = out->rows[i].st->id;
        out->rows[i].kind = MQS_STID_CATALOGUE;
    }
    cite_all(out, 0);
    for (size_t i = 0; i < out->n_rows; i++) {
        mqs_coverage_row *row = &out->rows[i];
        row->scenarios = row->n_scenarios ? mqs_calloc(row->n_scenarios, sizeof(size_t)) : NULL;
        if (row->n_scenarios && !row->scenarios) {
            mqs_coverage_free(out);
            return -1;
        }
        row->n_scenarios = 0;
    }
    cite_all(out, 1);
    qsort(out->rows + out->n_catalogue, out->n_rows - out->n_catalogue, sizeof *out->rows,
          cmp_row_id);
    tally(out);
    return 0;
}

void mqs_coverage_free(mqs_coverage *cov)
{
    for (size_t i = 0; cov->rows && i < cov->n_rows; i++)
        mqs_free(cov->rows[i].scenarios);
    mqs_free(cov->rows);
    memset(cov, 0, sizeof *cov);
}

int mqs_coverage_row_missing(const mqs_coverage_row *row)
{
    return row->st && row->st->observable != MQS_OBS_NO && row->n_scenarios == 0;
}

static void scenario_list(const mqs_coverage *cov, const mqs_coverage_row *row, FILE *out)
{
    for (size_t k = 0; k < row->n_scenarios; k++)
        fprintf(out, "%s%s", k ? ", " : "", cov->scenarios[row->scenarios[k]].id);
}

static void text_row(const mqs_coverage *cov, const mqs_coverage_row *row, FILE *out)
{
    const char *kind = row->st ? mqs_observability_name(row->st->observable)
                       : row->kind == MQS_STID_OWN ? "own" : "UNKNOWN";
    fprintf(out, "%-15s %-7s ", row->id, kind);
    if (row->n_scenarios)
        scenario_list(cov, row, out);
    else if (row->st && row->st->observable == MQS_OBS_NO)
        fputs("- (not observable by a client)", out);
    else
        fputs("- NOT COVERED", out);
    if (row->kind == MQS_STID_UNKNOWN)
        fputs("   <- not a statement of the catalogue: a typo?", out);
    fputc('\n', out);
}

static void text_totals(const mqs_coverage *cov, FILE *out)
{
    fputs("\ntotals:\n", out);
    for (int o = MQS_OBS_YES; o >= MQS_OBS_NO; o--)
        fprintf(out, "  %-7s %3zu of %3zu covered\n", mqs_observability_name(o), cov->covered[o],
                cov->total[o]);
    fprintf(out, "  server-observable (yes + partly): %zu of %zu covered\n",
            cov->covered[MQS_OBS_YES] + cov->covered[MQS_OBS_PARTLY],
            cov->total[MQS_OBS_YES] + cov->total[MQS_OBS_PARTLY]);
}

static void text_missing(const mqs_coverage *cov, FILE *out)
{
    size_t missing = 0;
    for (size_t i = 0; i < cov->n_catalogue; i++)
        missing += mqs_coverage_row_missing(&cov->rows[i]) ? 1u : 0u;
    fprintf(out, "\nobservable statements without a scenario: %zu\n", missing);
    for (size_t i = 0; i < cov->n_catalogue; i++) {
        const mqs_coverage_row *row = &cov->rows[i];
        if (mqs_coverage_row_missing(row))
            fprintf(out, "  %-15s %-7s %s\n", row->id, mqs_observability_name(row->st->observable),
                    row->reason ? row->reason : "(no reason in conformance/uncovered.tsv)");
    }
    for (size_t i = 0; i < cov->n_catalogue; i++)
        if (cov->rows[i].n_scenarios && mqs_catalogue_uncovered_reason(cov->rows[i].id))
            fprintf(out, "note: conformance/uncovered.tsv still gives a reason for %s, which is "
                         "covered now: remove it\n",
                    cov->rows[i].id);
}

int mqs_coverage_write_text(const mqs_coverage *cov, FILE *out)
{
    fprintf(out, "MQTT 3.1.1 statement coverage by %zu scenario%s\n\n%-15s %-7s %s\n",
            cov->n_scenarios, cov->n_scenarios == 1 ? "" : "s", "statement", "obs.",
            "scenarios");
    for (size_t i = 0; i < cov->n_catalogue; i++)
        text_row(cov, &cov->rows[i], out);
    if (cov->n_rows > cov->n_catalogue)
        fputs("\nids outside the MQTT 3.1.1 catalogue (own: MQTT31-... for MQTT 3.1, MQS-... "
              "mqttspec's own):\n",
              out);
    for (size_t i = cov->n_catalogue; i < cov->n_rows; i++)
        text_row(cov, &cov->rows[i], out);
    text_totals(cov, out);
    text_missing(cov, out);
    return ferror(out) ? -1 : 0;
}

static cJSON *scenario_ids(const mqs_coverage *cov, const mqs_coverage_row *row)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t k = 0; arr && k < row->n_scenarios; k++) {
        cJSON *s = cJSON_CreateString(cov->scenarios[row->scenarios[k]].id);
        if (!s || !cJSON_AddItemToArray(arr, s)) {
            cJSON_Delete(s);
            cJSON_Delete(arr);
            return NULL;
        }
    }
    return arr;
}

static cJSON *json_row(const mqs_coverage *cov, const mqs_coverage_row *row)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *ids = scenario_ids(cov, row);
    int ok = o && ids && cJSON_AddStringToObject(o, "id", row->id);
    if (ok && row->st)
        ok = cJSON_AddStringToObject(o, "section", row->st->section) &&
             cJSON_AddStringToObject(o, "observable", mqs_observability_name(row->st->observable)) &&
             cJSON_AddStringToObject(o, "binds", row->st->binds) &&
             cJSON_AddStringToObject(o, "paraphrase", row->st->paraphrase) &&
             (row->reason ? cJSON_AddStringToObject(o, "reason", row->reason)
                          : cJSON_AddNullToObject(o, "reason")) != NULL;
    else if (ok)
        ok = cJSON_AddStringToObject(o, "kind", row->kind == MQS_STID_OWN ? "own" : "unknown") !=
             NULL;
    if (ok && cJSON_AddItemToObject(o, "scenarios", ids))
        return o;
    cJSON_Delete(ids); /* not (or no longer) attached to o */
    cJSON_Delete(o);
    return NULL;
}

/* Adds rows [from, to) (missing ones only when missing_only) to a new array under key. */
static int json_rows(cJSON *root, const char *key, const mqs_coverage *cov, size_t from,
                     size_t to, int missing_only)
{
    cJSON *arr = cJSON_AddArrayToObject(root, key);
    for (size_t i = from; arr && i < to; i++) {
        if (missing_only && !mqs_coverage_row_missing(&cov->rows[i]))
            continue;
        cJSON *o = json_row(cov, &cov->rows[i]);
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            return 0;
        }
    }
    return arr != NULL;
}

static int json_totals(cJSON *root, const mqs_coverage *cov)
{
    cJSON *t = cJSON_AddObjectToObject(root, "totals");
    for (int o = MQS_OBS_YES; t && o >= MQS_OBS_NO; o--) {
        cJSON *one = cJSON_AddObjectToObject(t, mqs_observability_name(o));
        if (!one || !cJSON_AddNumberToObject(one, "total", (double)cov->total[o]) ||
            !cJSON_AddNumberToObject(one, "covered", (double)cov->covered[o]))
            return 0;
    }
    cJSON *obs = t ? cJSON_AddObjectToObject(t, "observable") : NULL;
    return obs &&
           cJSON_AddNumberToObject(obs, "total",
                                   (double)(cov->total[MQS_OBS_YES] + cov->total[MQS_OBS_PARTLY])) &&
           cJSON_AddNumberToObject(
               obs, "covered", (double)(cov->covered[MQS_OBS_YES] + cov->covered[MQS_OBS_PARTLY]));
}

int mqs_coverage_write_json(const mqs_coverage *cov, FILE *out)
{
    cJSON *root = cJSON_CreateObject();
    int ok = root && cJSON_AddNumberToObject(root, "scenarios", (double)cov->n_scenarios) &&
             json_totals(root, cov) &&
             json_rows(root, "statements", cov, 0, cov->n_catalogue, 0) &&
             json_rows(root, "other_ids", cov, cov->n_catalogue, cov->n_rows, 0) &&
             json_rows(root, "uncovered", cov, 0, cov->n_catalogue, 1);
    char *text = ok ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!text)
        return -1;
    ok = fputs(text, out) >= 0 && fputc('\n', out) != EOF;
    cJSON_free(text);
    return ok && !ferror(out) ? 0 : -1;
}
