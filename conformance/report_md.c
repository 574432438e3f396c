/* report.md: the report for people who read Markdown (a pull request, a wiki, a terminal):
 * run facts, summary, one table per area, statement coverage, then the reason and trace of
 * every case that did not pass. */
#include <string.h>

#include "conformance/alloc.h"
#include "conformance/report.h"
#include "conformance/report_internal.h"

static void md(FILE *out, const char *s)
{
    mqs_put_text(out, s, MQS_ESC_MD);
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

static void put_list(FILE *out, char *const *items, size_t n, const char *none)
{
    for (size_t i = 0; i < n; i++) {
        fputs(i ? ", " : "", out);
        md(out, items[i]);
    }
    if (n == 0)
        fputs(none, out);
}

static int header(FILE *out, const mqs_report *r)
{
    char *target = mqs_redact_target(mqs_str(r->target));
    if (!target)
        return -1;
    fputs("# mqttspec report: ", out);
    md(out, target);
    fputs("\n\n| | |\n| --- | --- |\n| Target | ", out);
    md(out, target);
    fputs(" |\n| Broker | ", out);
    md(out, r->broker ? r->broker : "unknown");
    fputs(" |\n| Started (UTC) | ", out);
    md(out, r->started_at);
    fputs(" |\n| Duration | ", out);
    put_duration(out, r->duration_ms);
    fputs(" |\n| mqttspec | ", out);
    md(out, r->tool_version);
    fputs(" |\n| Protocols | ", out);
    put_list(out, r->protocols, r->n_protocols, "none");
    fputs(" |\n| Transports | ", out);
    put_list(out, r->transports, r->n_transports, "none");
    fputs(" |\n| Options | ", out);
    mqs_free(target);
    for (size_t i = 0; i < r->n_options; i++) {
        char *opt = mqs_redact_option(mqs_str(r->options[i]));
        if (!opt)
            return -1;
        fputs(i ? ", " : "", out);
        md(out, opt);
        mqs_free(opt);
    }
    fputs(r->n_options ? " |\n\n" : "none |\n\n", out);
    return 0;
}

static void summary(FILE *out, const mqs_report *r)
{
    size_t counts[MQS_VERDICT_COUNT];
    mqs_report_count(r, counts);
    fputs("## Summary\n\n| Verdict | Cases |\n| --- | ---: |\n", out);
    for (int v = MQS_VERDICT_COUNT - 1; v >= 0; v--)
        fprintf(out, "| %s | %zu |\n", mqs_verdict_name(v), counts[v]);
    fprintf(out, "| **Total** | **%zu** |\n\n", r->n_cases);
    if (counts[MQS_VERDICT_FAIL] || counts[MQS_VERDICT_ERROR])
        fprintf(out, "**Not conformant**: %zu case(s) broke a MUST, %zu could not run.\n\n",
                counts[MQS_VERDICT_FAIL], counts[MQS_VERDICT_ERROR]);
    else
        fputs("**No FAIL and no ERROR.**\n\n", out);
    fputs("PASS: the broker did what the statement demands. FAIL: it broke a MUST. "
          "WARN: it broke a SHOULD, or was lenient. INFO: an allowed behaviour, noted. "
          "SKIP: a precondition was not given. ERROR: the case could not run.\n\n",
          out);
}

static void area_table(FILE *out, const mqs_report *r, const char *area)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_cases; i++)
        n += !strcmp(mqs_str(r->cases[i].area), area);
    fputs("### ", out);
    md(out, area);
    fprintf(out, " (%zu case%s)\n\n| Scenario | Version | Verdict | Statements |\n"
                 "| --- | --- | --- | --- |\n",
            n, n == 1 ? "" : "s");
    for (size_t i = 0; i < r->n_cases; i++) {
        const mqs_case_result *c = &r->cases[i];
        if (strcmp(mqs_str(c->area), area))
            continue;
        fputs("| **", out);
        md(out, c->id);
        fputs("** ", out);
        md(out, c->title);
        fputs(" | ", out);
        md(out, c->protocol);
        fputc('/', out);
        md(out, c->transport);
        if (c->verdict == MQS_VERDICT_PASS)
            fputs(" | PASS | ", out);
        else
            fprintf(out, " | [**%s**](#case-%zu) | ", mqs_verdict_name((int)c->verdict), i + 1);
        put_list(out, c->statements, c->n_statements, "-");
        fputs(" |\n", out);
    }
    fputc('\n', out);
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
    fprintf(out, "## Statement coverage\n\nThis run checked %zu statements: %zu of the %zu "
                 "fully observable and %zu of the %zu partly observable statements of MQTT "
                 "3.1.1, %zu not observable, and %zu ids outside the 3.1.1 catalogue (MQTT 3.1 "
                 "or mqttspec's own). A statement's verdict is the worst verdict of the cases "
                 "that check it.\n\n",
            n, per_obs[MQS_OBS_YES], mqs_catalogue_count_obs(MQS_OBS_YES), per_obs[MQS_OBS_PARTLY],
            mqs_catalogue_count_obs(MQS_OBS_PARTLY), per_obs[MQS_OBS_NO], outside);
    fputs("| Statement | Observable | Verdict | Cases | What it says |\n"
          "| --- | --- | --- | ---: | --- |\n",
          out);
    for (size_t i = 0; i < n; i++) {
        size_t cases = 0;
        for (int v = 0; v < MQS_VERDICT_COUNT; v++)
            cases += rows[i].counts[v];
        fputs("| ", out);
        md(out, rows[i].id);
        fprintf(out, " | %s | %s | %zu | ",
                rows[i].st ? mqs_observability_name(rows[i].st->observable) : "-",
                mqs_verdict_name((int)rows[i].verdict), cases);
        md(out, rows[i].st ? rows[i].st->paraphrase : "(not in the MQTT 3.1.1 catalogue)");
        fputs(" |\n", out);
    }
    fputc('\n', out);
    mqs_free(rows);
    return 0;
}

/* The fence for a code block: longer than any run of backticks inside it. */
static void fence(FILE *out, const mqs_case_result *c)
{
    size_t run = mqs_longest_run(c->reason, '`');
    for (size_t i = 0; i < c->n_trace; i++) {
        size_t t = mqs_longest_run(c->trace[i].text, '`');
        size_t k = mqs_longest_run(c->trace[i].client, '`');
        run = t > run ? t : run;
        run = k > run ? k : run;
    }
    for (size_t i = 0; i < (run < 3 ? 3 : run + 1); i++)
        fputc('`', out);
    fputc('\n', out);
}

static int details(FILE *out, const mqs_case_result *c, size_t number)
{
    fprintf(out, "### <a id=\"case-%zu\"></a>%s: ", number, mqs_verdict_name((int)c->verdict));
    md(out, c->id);
    fputs(" [", out);
    md(out, c->protocol);
    fputc('/', out);
    md(out, c->transport);
    fputs("]\n\n*", out);
    md(out, c->title);
    fputs("*\n\n- Reason: ", out);
    md(out, c->reason ? c->reason : "(none given)");
    if (c->failed_rule) {
        const mqs_statement *st = mqs_catalogue_find(c->failed_rule);
        fputs("\n- Rule broken: ", out);
        md(out, c->failed_rule);
        if (st) {
            fputs(" (section ", out);
            md(out, st->section);
            fputs("): ", out);
            md(out, st->paraphrase);
        }
    }
    fputs("\n- Statements: ", out);
    put_list(out, c->statements, c->n_statements, "-");
    fputs("\n- Level: ", out);
    md(out, c->level);
    fputs(", duration ", out);
    put_duration(out, c->duration_ms);
    fputs("\n\n", out);
    if (!c->n_trace)
        return 0;
    fputs("Trace (ms since the case started, client, -> sent / <- received / -- event):\n\n",
          out);
    fence(out, c);
    int rc = mqs_put_trace(out, c, MQS_ESC_NONE);
    fence(out, c);
    fputc('\n', out);
    return rc;
}

int mqs_report_write_md(const mqs_report *r, FILE *out)
{
    const char **areas;
    size_t n_areas;
    if (header(out, r))
        return -1;
    summary(out, r);
    if (mqs_report_areas(r, &areas, &n_areas))
        return -1;
    fputs("## Results by area\n\n", out);
    for (size_t i = 0; i < n_areas; i++)
        area_table(out, r, areas[i]);
    mqs_free(areas);
    if (coverage(out, r))
        return -1;
    fputs("## Cases that did not pass\n\n", out);
    size_t shown = 0;
    for (size_t i = 0; i < r->n_cases; i++)
        if (r->cases[i].verdict != MQS_VERDICT_PASS && ++shown && details(out, &r->cases[i], i + 1))
            return -1;
    if (!shown)
        fputs("None: every case passed.\n", out);
    return ferror(out) ? -1 : 0;
}
