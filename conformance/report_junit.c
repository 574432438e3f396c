/* junit.xml: one <testsuite> per area, one <testcase> per case, in the JUnit XML dialect
 * CI systems read (Jenkins, GitLab, GitHub test reporters). FAIL is a <failure>, ERROR an
 * <error>, SKIP <skipped>; WARN and INFO pass, with their reason in <system-out>. */
#include <string.h>

#include "conformance/alloc.h"
#include "conformance/report.h"
#include "conformance/report_internal.h"

static void attr(FILE *out, const char *name, const char *value)
{
    fprintf(out, " %s=\"", name);
    mqs_put_text(out, value, MQS_ESC_XML_ATTR);
    fputc('"', out);
}

static void property(FILE *out, const char *name, const char *value)
{
    fputs("      <property", out);
    attr(out, "name", name);
    attr(out, "value", value);
    fputs("/>\n", out);
}

static int properties(FILE *out, const mqs_report *r)
{
    char *target = mqs_redact_target(mqs_str(r->target));
    if (!target)
        return -1;
    fputs("    <properties>\n", out);
    property(out, "mqttspec.version", mqs_str(r->tool_version));
    property(out, "target", target);
    property(out, "broker", r->broker ? r->broker : "unknown");
    property(out, "started_at", mqs_str(r->started_at));
    mqs_free(target);
    for (size_t i = 0; i < r->n_options; i++) {
        char *opt = mqs_redact_option(mqs_str(r->options[i]));
        if (!opt)
            return -1;
        char *eq = strchr(opt, '=');
        if (eq)
            *eq = '\0';
        char name[128];
        snprintf(name, sizeof name, "option.%s", opt);
        property(out, name, eq ? eq + 1 : "");
        mqs_free(opt);
    }
    fputs("    </properties>\n", out);
    return 0;
}

/* The text body of a <failure>/<error>/<system-out>: reason, rule, statements, trace. */
static int case_body(FILE *out, const mqs_case_result *c)
{
    fprintf(out, "%s: ", mqs_verdict_name((int)c->verdict));
    mqs_put_text(out, c->reason ? c->reason : "(no reason given)", MQS_ESC_XML);
    fputs("\nscenario: ", out);
    mqs_put_text(out, c->title, MQS_ESC_XML);
    if (c->failed_rule) {
        fputs("\nrule: ", out);
        mqs_put_text(out, c->failed_rule, MQS_ESC_XML);
    }
    fputs("\nstatements:", out);
    for (size_t i = 0; i < c->n_statements; i++) {
        fputc(' ', out);
        mqs_put_text(out, c->statements[i], MQS_ESC_XML);
    }
    fputs(c->n_trace ? "\ntrace:\n" : "\n", out);
    return mqs_put_trace(out, c, MQS_ESC_XML);
}

/* <failure>, <error>, <skipped> or <system-out> for a non-PASS case. */
static int case_outcome(FILE *out, const mqs_case_result *c)
{
    static const char *const element[MQS_VERDICT_COUNT] = {
        [MQS_VERDICT_INFO] = "system-out", [MQS_VERDICT_SKIP] = "skipped",
        [MQS_VERDICT_WARN] = "system-out", [MQS_VERDICT_FAIL] = "failure",
        [MQS_VERDICT_ERROR] = "error"};
    const char *el = element[c->verdict];
    fprintf(out, "      <%s", el);
    if (c->verdict == MQS_VERDICT_FAIL || c->verdict == MQS_VERDICT_ERROR ||
        c->verdict == MQS_VERDICT_SKIP)
        attr(out, "message", c->reason ? c->reason : mqs_verdict_name((int)c->verdict));
    if (c->verdict == MQS_VERDICT_FAIL || c->verdict == MQS_VERDICT_ERROR)
        attr(out, "type", mqs_verdict_name((int)c->verdict));
    fputc('>', out);
    int rc = case_body(out, c);
    fprintf(out, "</%s>\n", el);
    return rc;
}

static int testcase(FILE *out, const mqs_case_result *c)
{
    fputs("    <testcase name=\"", out);
    mqs_put_text(out, c->id, MQS_ESC_XML_ATTR);
    fputs(" [", out);
    mqs_put_text(out, c->protocol, MQS_ESC_XML_ATTR);
    fputc('/', out);
    mqs_put_text(out, c->transport, MQS_ESC_XML_ATTR);
    fputs("]\"", out);
    attr(out, "classname", mqs_str(c->area));
    fprintf(out, " time=\"%.3f\"", c->duration_ms > 0 ? c->duration_ms / 1000.0 : 0.0);
    if (c->verdict == MQS_VERDICT_PASS || (int)c->verdict < 0 || c->verdict >= MQS_VERDICT_COUNT) {
        fputs("/>\n", out);
        return 0;
    }
    fputs(">\n", out);
    int rc = case_outcome(out, c);
    fputs("    </testcase>\n", out);
    return rc;
}

/* Totals over the cases of one area (all areas when area is NULL). */
static void totals(const mqs_report *r, const char *area, size_t counts[MQS_VERDICT_COUNT],
                   size_t *tests, double *ms)
{
    memset(counts, 0, MQS_VERDICT_COUNT * sizeof counts[0]);
    *tests = 0;
    *ms = 0;
    for (size_t i = 0; i < r->n_cases; i++) {
        const mqs_case_result *c = &r->cases[i];
        if (area && strcmp(mqs_str(c->area), area))
            continue;
        (*tests)++;
        *ms += c->duration_ms > 0 ? c->duration_ms : 0;
        if ((int)c->verdict >= 0 && c->verdict < MQS_VERDICT_COUNT)
            counts[c->verdict]++;
    }
}

static void totals_attrs(FILE *out, const mqs_report *r, const char *area)
{
    size_t counts[MQS_VERDICT_COUNT], tests;
    double ms;
    totals(r, area, counts, &tests, &ms);
    fprintf(out, " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" time=\"%.3f\"",
            tests, counts[MQS_VERDICT_FAIL], counts[MQS_VERDICT_ERROR], counts[MQS_VERDICT_SKIP],
            (area ? ms : (r->duration_ms > 0 ? r->duration_ms : ms)) / 1000.0);
}

static int testsuite(FILE *out, const mqs_report *r, const char *area)
{
    fputs("  <testsuite", out);
    attr(out, "name", area);
    totals_attrs(out, r, area);
    fputs(">\n", out);
    if (properties(out, r))
        return -1;
    for (size_t i = 0; i < r->n_cases; i++)
        if (!strcmp(mqs_str(r->cases[i].area), area) && testcase(out, &r->cases[i]))
            return -1;
    fputs("  </testsuite>\n", out);
    return 0;
}

int mqs_report_write_junit(const mqs_report *r, FILE *out)
{
    const char **areas;
    size_t n_areas;
    if (mqs_report_areas(r, &areas, &n_areas))
        return -1;
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"mqttspec\"", out);
    totals_attrs(out, r, NULL);
    fputs(">\n", out);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n_areas; i++)
        rc = testsuite(out, r, areas[i]);
    fputs("</testsuites>\n", out);
    mqs_free(areas);
    return rc == 0 && !ferror(out) ? 0 : -1;
}
