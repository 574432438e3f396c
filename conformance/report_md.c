/* report.md: the report for people who read Markdown (a pull request, a wiki, a terminal):
 * run facts, summary, one table per area, statement coverage, then the reason and trace of
 * every case that did not pass. Every %s below is Markdown-escaped (mqs_putf). */
#include <string.h>

#include "conformance/alloc.h"
#include "conformance/report.h"
#include "conformance/report_internal.h"

#define MD MQS_ESC_MD

static int header(FILE *out, const mqs_report *r)
{
    char *target = mqs_redact_target(mqs_str(r->target));
    if (!target)
        return -1;
    mqs_putf(out, MD, "# mqttspec report: %s\n\n| | |\n| --- | --- |\n| Target | %s |\n"
                      "| Broker | %s |\n| Started (UTC) | %s |\n| Duration | ",
             target, target, r->broker ? r->broker : "unknown", r->started_at);
    mqs_free(target);
    mqs_put_duration(out, r->duration_ms);
    if (r->interrupted)
        fputs(" (interrupted: stopped before every selected case ran)", out);
    mqs_putf(out, MD, " |\n| mqttspec | %s |\n| Protocols | ", r->tool_version);
    mqs_put_list(out, r->protocols, r->n_protocols, MD, "none");
    fputs(" |\n| Transports | ", out);
    mqs_put_list(out, r->transports, r->n_transports, MD, "none");
    fputs(" |\n| Options | ", out);
    for (size_t i = 0; i < r->n_options; i++) {
        char *opt = mqs_redact_option(mqs_str(r->options[i]));
        if (!opt)
            return -1;
        mqs_putf(out, MD, i ? ", %s" : "%s", opt);
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
    mqs_putf(out, MD, "### %s (%zu case%r)\n\n| Scenario | Version | Verdict | Statements |\n"
                      "| --- | --- | --- | --- |\n",
             area, n, n == 1 ? "" : "s");
    for (size_t i = 0; i < r->n_cases; i++) {
        const mqs_case_result *c = &r->cases[i];
        if (strcmp(mqs_str(c->area), area))
            continue;
        mqs_putf(out, MD, "| **%s** %s | %s/%s | ", c->id, c->title, c->protocol, c->transport);
        if (c->verdict == MQS_VERDICT_PASS)
            fputs("PASS | ", out);
        else
            fprintf(out, "[**%s**](#case-%zu) | ", mqs_verdict_name((int)c->verdict), i + 1);
        mqs_put_list(out, c->statements, c->n_statements, MD, "-");
        fputs(" |\n", out);
    }
    fputc('\n', out);
}

static int coverage(FILE *out, const mqs_report *r)
{
    mqs_run_coverage cov;
    if (mqs_run_coverage_get(r, &cov))
        return -1;
    fputs("## Statement coverage\n\n", out);
    mqs_put_coverage_intro(out, &cov);
    fputs("\n\n| Statement | Observable | Verdict | Cases | What it says |\n"
          "| --- | --- | --- | ---: | --- |\n",
          out);
    for (size_t i = 0; i < cov.n; i++) {
        const mqs_run_statement *row = &cov.rows[i];
        mqs_putf(out, MD, "| %s | %r | %r | %zu | %s |\n", row->id,
                 row->st ? mqs_observability_name(row->st->observable) : "-",
                 mqs_verdict_name((int)row->verdict), mqs_run_statement_cases(row),
                 row->st ? row->st->paraphrase : "(not in the MQTT 3.1.1 catalogue)");
    }
    fputc('\n', out);
    mqs_free(cov.rows);
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
    mqs_putf(out, MD, "### <a id=\"case-%zu\"></a>%r: %s [%s/%s]\n\n*%s*\n\n- Reason: %s",
             number, mqs_verdict_name((int)c->verdict), c->id, c->protocol, c->transport,
             c->title, c->reason ? c->reason : "(none given)");
    if (c->failed_rule) {
        const mqs_statement *st = mqs_catalogue_find(c->failed_rule);
        mqs_putf(out, MD, "\n- Rule broken: %s", c->failed_rule);
        if (st)
            mqs_putf(out, MD, " (section %s): %s", st->section, st->paraphrase);
    }
    fputs("\n- Statements: ", out);
    mqs_put_list(out, c->statements, c->n_statements, MD, "-");
    mqs_putf(out, MD, "\n- Level: %s, duration ", c->level);
    mqs_put_duration(out, c->duration_ms);
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
