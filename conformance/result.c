/* Verdict names and freeing a run's results (see conformance/result.h). */
#include "conformance/result.h"

#include <string.h>

#include "conformance/alloc.h"

static const char *const verdict_names[MQS_VERDICT_COUNT] = {"PASS", "INFO", "SKIP",
                                                             "WARN", "FAIL", "ERROR"};

const char *mqs_verdict_name(int v)
{
    return v >= 0 && v < MQS_VERDICT_COUNT ? verdict_names[v] : "UNKNOWN";
}

int mqs_verdict_from_name(const char *name)
{
    for (int v = 0; name && v < MQS_VERDICT_COUNT; v++)
        if (!strcmp(name, verdict_names[v]))
            return v;
    return -1;
}

static void free_strings(char **s, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        mqs_free(s[i]);
    mqs_free(s);
}

void mqs_case_result_free(mqs_case_result *c)
{
    if (!c)
        return;
    mqs_free(c->id);
    mqs_free(c->title);
    mqs_free(c->area);
    mqs_free(c->level);
    mqs_free(c->protocol);
    mqs_free(c->transport);
    free_strings(c->statements, c->n_statements);
    mqs_free(c->reason);
    mqs_free(c->failed_rule);
    for (size_t i = 0; c->trace && i < c->n_trace; i++) {
        mqs_free(c->trace[i].client);
        mqs_free(c->trace[i].bytes);
        mqs_free(c->trace[i].text);
    }
    mqs_free(c->trace);
    memset(c, 0, sizeof *c);
}

void mqs_report_free(mqs_report *r)
{
    if (!r)
        return;
    mqs_free(r->tool_version);
    mqs_free(r->target);
    mqs_free(r->broker);
    mqs_free(r->started_at);
    free_strings(r->options, r->n_options);
    free_strings(r->protocols, r->n_protocols);
    free_strings(r->transports, r->n_transports);
    for (size_t i = 0; r->cases && i < r->n_cases; i++)
        mqs_case_result_free(&r->cases[i]);
    mqs_free(r->cases);
    memset(r, 0, sizeof *r);
}
