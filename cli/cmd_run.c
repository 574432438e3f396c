/* mqttspec run: certify a broker with the scenario suite. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/endpoint.h"
#include "cli/interrupt.h"
#include "conformance/alloc.h"
#include "conformance/report.h"
#include "conformance/runner.h"
#include "conformance/scenario.h"
#include "net/net.h"

#define MQS_MAX_LIST 64

typedef struct run_args {
    mqs_cli_endpoint ep; /* --url / --host / --port / TLS / credentials */
    const char *protocol;
    long jobs;
    double factor;
    const char *filters[MQS_MAX_LIST];
    size_t n_filters;
    const char *excludes[MQS_MAX_LIST];
    size_t n_excludes;
    bool no_anonymous;
    const char *report_dir;
    const char *format;
    const char *files[MQS_MAX_LIST];
    size_t n_files;
    const char *dirs[MQS_MAX_LIST];
    size_t n_dirs;
    bool no_builtin;
    bool quiet;
    const char *broker_name;
} run_args;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: mqttspec run [options]\n\n"
            "Runs the conformance suite against a broker and writes reports.\n\n"
            "target (every CONNECT uses --username/--password when given):\n%s"
            "  --no-anonymous          the broker refuses clients without credentials\n",
            mqs_cli_endpoint_help);
    fprintf(out, "selection:\n"
                 "  --protocol V            3.1, 3.1.1 or all (default all)\n"
                 "  --filter PATTERN        id glob (connect.*), area (qos) or statement id\n"
                 "                          (MQTT-3.1.2-3, MQTT-3.3.*); repeatable, any matches\n"
                 "  --exclude PATTERN       leave out the scenarios PATTERN matches (as --filter;\n"
                 "                          repeatable)\n"
                 "  --scenario FILE         also run this scenario file (repeatable)\n"
                 "  --scenario-dir DIR      also run every *.json below DIR (repeatable)\n"
                 "  --no-builtin            run only --scenario / --scenario-dir files\n"
                 "execution:\n"
                 "  --jobs N                cases run in parallel (default 16)\n"
                 "  --timeout FACTOR        scale every timeout and wait (default 1.0)\n"
                 "output:\n"
                 "  --report-dir DIR        where reports go (default reports/latest)\n"
                 "  --format LIST           json,junit,md,html or all (default all)\n"
                 "  --broker-name NAME      name the broker in reports (default: from $SYS, if any)\n"
                 "  --quiet                 print only the summary\n\n"
                 "exit codes: 0 no FAIL and no ERROR, 1 some FAIL or ERROR, 2 bad usage or\n"
                 "scenario file, 3 broker unreachable, 130 interrupted by Ctrl-C (143 by\n"
                 "SIGTERM): running cases stop and clean up, the reports hold what ran;\n"
                 "a second Ctrl-C exits at once, without cleanup\n");
}

static int bad(const char *fmt, const char *arg)
{
    fprintf(stderr, "mqttspec run: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see mqttspec run --help)\n");
    return MQS_EXIT_USAGE;
}

static int push(const char **list, size_t *n, const char *v, const char *opt)
{
    if (*n >= MQS_MAX_LIST)
        return bad("too many %s options", opt);
    list[(*n)++] = v;
    return 0;
}

static int parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

enum {
    O_PROTOCOL = 256,
    O_JOBS,
    O_FILTER,
    O_EXCLUDE,
    O_TIMEOUT,
    O_NOANON,
    O_REPORTDIR,
    O_FORMAT,
    O_SCENARIO,
    O_SCENDIR,
    O_NOBUILTIN,
    O_QUIET,
    O_BROKER,
    O_HELP
};

static const struct option longopts[] = {
    MQS_CLI_ENDPOINT_LONGOPTS,
    {"protocol", required_argument, 0, O_PROTOCOL},
    {"jobs", required_argument, 0, O_JOBS},
    {"filter", required_argument, 0, O_FILTER},
    {"exclude", required_argument, 0, O_EXCLUDE},
    {"timeout", required_argument, 0, O_TIMEOUT},
    {"no-anonymous", no_argument, 0, O_NOANON},
    {"report-dir", required_argument, 0, O_REPORTDIR},
    {"format", required_argument, 0, O_FORMAT},
    {"scenario", required_argument, 0, O_SCENARIO},
    {"scenario-dir", required_argument, 0, O_SCENDIR},
    {"no-builtin", no_argument, 0, O_NOBUILTIN},
    {"quiet", no_argument, 0, O_QUIET},
    {"broker-name", required_argument, 0, O_BROKER},
    {"help", no_argument, 0, O_HELP},
    {0, 0, 0, 0},
};

/* One option. @return 0, MQS_EXIT_USAGE, or -1 for --help. */
static int take_option(run_args *a, int opt, const char *v)
{
    switch (opt) {
    case O_PROTOCOL:
        if (strcmp(v, "3.1") && strcmp(v, "3.1.1") && strcmp(v, "all"))
            return bad("--protocol is 3.1, 3.1.1 or all, not '%s'", v);
        a->protocol = v;
        return 0;
    case O_JOBS:
        return parse_long(v, 1, 256, &a->jobs) < 0 ? bad("--jobs is 1..256, not '%s'", v) : 0;
    case O_FILTER:
        return push(a->filters, &a->n_filters, v, "--filter");
    case O_EXCLUDE:
        return push(a->excludes, &a->n_excludes, v, "--exclude");
    case O_TIMEOUT: {
        char *end;
        a->factor = strtod(v, &end);
        return !*v || *end || !(a->factor >= 0.1 && a->factor <= 100)
                   ? bad("--timeout is a factor 0.1..100, not '%s'", v)
                   : 0;
    }
    case O_NOANON:
        a->no_anonymous = true;
        return 0;
    case O_REPORTDIR:
        a->report_dir = v;
        return 0;
    case O_FORMAT:
        a->format = v;
        return 0;
    case O_SCENARIO:
        return push(a->files, &a->n_files, v, "--scenario");
    case O_SCENDIR:
        return push(a->dirs, &a->n_dirs, v, "--scenario-dir");
    case O_NOBUILTIN:
        a->no_builtin = true;
        return 0;
    case O_QUIET:
        a->quiet = true;
        return 0;
    case O_BROKER:
        if (!*v)
            return bad("%s", "--broker-name is empty");
        a->broker_name = v;
        return 0;
    case O_HELP:
        return -1;
    default:
        return bad("%s", "unknown option");
    }
}

static int parse_args(int argc, char **argv, run_args *a)
{
    *a = (run_args){.protocol = "all",
                    .jobs = 16,
                    .factor = 1.0,
                    .report_dir = "reports/latest",
                    .format = "all"};
    mqs_cli_endpoint_init(&a->ep);
    optind = 1;
    opterr = 0;
    int opt, index = 0;
    char err[300];
    while ((opt = getopt_long(argc, argv, "", longopts, &index)) != -1) {
        if (opt == '?')
            return bad("unknown or incomplete option '%s'", argv[optind - 1]);
        if (opt == 0) { /* an endpoint option */
            if (mqs_cli_endpoint_set(&a->ep, longopts[index].name, optarg, err, sizeof err) < 0)
                return bad("%s", err);
            continue;
        }
        int rc = take_option(a, opt, optarg);
        if (rc)
            return rc;
    }
    if (optind < argc)
        return bad("unexpected argument '%s'", argv[optind]);
    if (mqs_cli_endpoint_finish(&a->ep, err, sizeof err) < 0)
        return bad("%s", err);
    if (a->no_builtin && !a->n_files && !a->n_dirs)
        return bad("%s", "--no-builtin needs --scenario or --scenario-dir");
    return 0;
}

/* ---- progress ---- */

typedef struct progress {
    bool tty, quiet;
} progress;

static const char *color(int v)
{
    static const char *const colors[MQS_VERDICT_COUNT] = {"\033[32m", "\033[36m", "\033[90m",
                                                          "\033[33m", "\033[31m", "\033[35m"};
    return v >= 0 && v < MQS_VERDICT_COUNT ? colors[v] : "";
}

static void on_case(void *ud, const mqs_case_result *r, size_t done, size_t total)
{
    const progress *p = ud;
    if (p->quiet)
        return;
    const char *v = mqs_verdict_name((int)r->verdict);
    if (p->tty)
        printf("\r\033[K%s%-5s\033[0m %s [%s/%s] %.0f ms\n", color((int)r->verdict), v, r->id,
               r->protocol, r->transport, r->duration_ms);
    else
        printf("%-5s %s [%s/%s] %.0f ms\n", v, r->id, r->protocol, r->transport, r->duration_ms);
    if (r->verdict != MQS_VERDICT_PASS && r->reason)
        printf("      %s\n", r->reason);
    if (p->tty)
        printf("[%zu/%zu] running...", done, total);
    fflush(stdout);
}

static void on_notice(void *ud, const char *text)
{
    (void)ud;
    fprintf(stderr, "mqttspec run: note: %s\n", text);
}

/* ---- report options ---- */

static int add_option(mqs_report *rep, const char *key, const char *value)
{
    char **grown = mqs_realloc(rep->options, (rep->n_options + 1) * sizeof *grown);
    if (!grown)
        return -1;
    rep->options = grown;
    rep->options[rep->n_options] = mqs_asprintf("%s=%s", key, value);
    return rep->options[rep->n_options++] ? 0 : -1;
}

static int fill_options(const run_args *a, mqs_report *rep)
{
    const mqs_cli_endpoint *e = &a->ep;
    char num[64];
    int rc = 0;
    if (e->url)
        rc |= add_option(rep, "url", e->url);
    else
        rc |= add_option(rep, "host", e->ep.host);
    snprintf(num, sizeof num, "%u", e->ep.port);
    rc |= add_option(rep, "port", num);
    rc |= add_option(rep, "transport", mqs_transport_name(e->ep.transport));
    if (e->ep.ws_path && !e->url)
        rc |= add_option(rep, "ws-path", e->ep.ws_path);
    const mqs_tls_opts *t = &e->ep.tls;
    const char *tls[][2] = {{"cafile", t->cafile},
                            {"capath", t->capath},
                            {"cert", t->certfile},
                            {"key", t->keyfile},
                            {"tls-servername", t->servername}};
    for (size_t i = 0; i < sizeof tls / sizeof tls[0]; i++)
        if (tls[i][1])
            rc |= add_option(rep, tls[i][0], tls[i][1]);
    if (t->insecure)
        rc |= add_option(rep, "insecure", "true");
    rc |= add_option(rep, "protocol", a->protocol);
    snprintf(num, sizeof num, "%ld", a->jobs);
    rc |= add_option(rep, "jobs", num);
    snprintf(num, sizeof num, "%g", a->factor);
    rc |= add_option(rep, "timeout", num);
    for (size_t i = 0; i < a->n_filters; i++)
        rc |= add_option(rep, "filter", a->filters[i]);
    for (size_t i = 0; i < a->n_excludes; i++)
        rc |= add_option(rep, "exclude", a->excludes[i]);
    if (e->username)
        rc |= add_option(rep, "username", e->username);
    if (e->password)
        rc |= add_option(rep, "password", "***");
    if (a->no_anonymous)
        rc |= add_option(rep, "no-anonymous", "true");
    for (size_t i = 0; i < a->n_files; i++)
        rc |= add_option(rep, "scenario", a->files[i]);
    for (size_t i = 0; i < a->n_dirs; i++)
        rc |= add_option(rep, "scenario-dir", a->dirs[i]);
    if (a->no_builtin)
        rc |= add_option(rep, "builtin", "false");
    rc |= add_option(rep, "format", a->format);
    return rc ? -1 : 0;
}

/* ---- main ---- */

static void summary(const mqs_report *rep, const char *dir, bool wrote)
{
    printf("\nmqttspec: %zu case%s in %.1f s:", rep->n_cases, rep->n_cases == 1 ? "" : "s",
           rep->duration_ms / 1000.0);
    for (int v = 0; v < MQS_VERDICT_COUNT; v++)
        printf(" %zu %s%s", rep->counts[v], mqs_verdict_name(v),
               v + 1 < MQS_VERDICT_COUNT ? "," : "");
    printf("\n");
    printf("target: %s%s%s\n", rep->target, rep->broker ? " — " : "",
           rep->broker ? rep->broker : "");
    if (wrote)
        printf("reports: %s/\n", dir);
}

static int write_reports(const run_args *a, const mqs_report *rep, bool *wrote)
{
    char err[512];
    unsigned formats = MQS_FMT_ALL;
    *wrote = false;
    if (mqs_report_parse_formats(a->format, &formats, err, sizeof err) < 0)
        return bad("--format: %s", err);
    if (mqs_report_write_dir(rep, a->report_dir, formats, err, sizeof err) < 0) {
        fprintf(stderr, "mqttspec run: cannot write reports: %s\n", err);
        return MQS_EXIT_USAGE;
    }
    *wrote = true;
    return 0;
}

/* After Ctrl-C / SIGTERM: one line on what ran. @return the exit code for the signal. */
static int report_interrupt(const mqs_report *rep, size_t planned, const char *dir, bool wrote)
{
    size_t cut = 0;
    for (size_t i = 0; i < rep->n_cases; i++)
        cut += rep->cases[i].verdict == MQS_VERDICT_ERROR && rep->cases[i].reason &&
               !strncmp(rep->cases[i].reason, "interrupted", 11);
    fprintf(stderr,
            "mqttspec run: interrupted by %s: %zu of %zu cases ran (%zu cut short: ERROR "
            "\"interrupted\"), with their cleanup; %s%s%s\n",
            mqs_interrupt_name(), rep->n_cases, planned, cut,
            wrote ? "reports of what ran: " : "no reports written", wrote ? dir : "",
            wrote ? "/" : "");
    return mqs_interrupt_exit_code();
}

static int run_suite(const run_args *a, const mqs_scenario_set *set)
{
    int rc;
    unsigned protos = !strcmp(a->protocol, "3.1")     ? MQS_PROTO_31
                      : !strcmp(a->protocol, "3.1.1") ? MQS_PROTO_311
                                                      : MQS_PROTO_31 | MQS_PROTO_311;
    progress prog = {isatty(STDOUT_FILENO) == 1, a->quiet};
    mqs_run_opts o = {
        .endpoints = &a->ep.ep,
        .n_endpoints = 1,
        .protocols = protos,
        .jobs = (unsigned)a->jobs,
        .timeout_factor = a->factor,
        .username = a->ep.username,
        .password = a->ep.password,
        .no_anonymous = a->no_anonymous,
        .client_cert = a->ep.ep.tls.certfile != NULL,
        .filters = a->filters,
        .n_filters = a->n_filters,
        .excludes = a->excludes,
        .n_excludes = a->n_excludes,
        .tool_version = MQS_VERSION,
        .progress = on_case,
        .notice = on_notice,
        .progress_ud = &prog,
        .cancelled = mqs_interrupt_cancelled,
    };
    size_t planned = mqs_run_count(set, &o);
    if (planned == 0) {
        fprintf(stderr, "mqttspec run: no scenario matches the selection (--filter/--exclude/--protocol)\n");
        return MQS_EXIT_USAGE;
    }
    mqs_report rep;
    memset(&rep, 0, sizeof rep);
    char err[512];
    /* The options first; the run appends how it reached the target ("connection=..."). */
    mqs_interrupt_install(NULL, NULL);
    int st = fill_options(a, &rep) < 0 ? MQS_RUN_NOMEM : mqs_run(set, &o, &rep, err, sizeof err);
    if (prog.tty && !prog.quiet)
        printf("\r\033[K");
    if (st == MQS_RUN_UNREACHABLE) {
        mqs_interrupt_uninstall();
        fprintf(stderr, "mqttspec run: %s\n", err);
        mqs_report_free(&rep);
        return MQS_EXIT_UNREACHABLE;
    }
    bool wrote = false;
    if (st == MQS_RUN_OK && a->broker_name) {
        mqs_free(rep.broker);
        if (!(rep.broker = mqs_strdup(a->broker_name)))
            st = -1;
    }
    if (st != MQS_RUN_OK) {
        fprintf(stderr, "mqttspec run: out of memory\n");
        rc = MQS_EXIT_FAIL;
    } else {
        rc = write_reports(a, &rep, &wrote);
        summary(&rep, a->report_dir, wrote);
    }
    if (!rc)
        rc = rep.counts[MQS_VERDICT_FAIL] || rep.counts[MQS_VERDICT_ERROR] ? MQS_EXIT_FAIL
                                                                           : MQS_EXIT_OK;
    if (mqs_interrupt_signal()) {
        fflush(stdout);
        rc = report_interrupt(&rep, planned, a->report_dir, wrote);
    }
    mqs_interrupt_uninstall();
    mqs_report_free(&rep);
    return rc;
}

int mqs_cmd_run(int argc, char **argv)
{
    run_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc == -1) {
        usage(stdout);
        return MQS_EXIT_OK;
    }
    if (rc)
        return rc;
    signal(SIGPIPE, SIG_IGN);
    mqs_scenario_set set = {0};
    char err[1024];
    if (mqs_scenario_set_load(&set, !a.no_builtin, a.files, a.n_files, a.dirs, a.n_dirs, err,
                              sizeof err) < 0) {
        fprintf(stderr, "mqttspec run: %s\n", err);
        mqs_scenario_set_free(&set);
        return MQS_EXIT_USAGE;
    }
    rc = run_suite(&a, &set);
    mqs_scenario_set_free(&set);
    return rc;
}
