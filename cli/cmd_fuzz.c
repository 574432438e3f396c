/* mqttspec fuzz: fuzz a live broker with oracles that know the specification
 * (fuzz/live/livefuzz.h). Option parsing only.
 *
 * Exit: 0 nothing found, 1 findings saved (or the broker went away), 2 bad usage,
 * 3 the broker cannot be reached at the start, 130 / 143 interrupted by SIGINT /
 * SIGTERM (cli/interrupt.h; the findings so far are saved and the summary printed).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/endpoint.h"
#include "cli/interrupt.h"
#include "conformance/interp.h"
#include "conformance/replay.h"
#include "conformance/result.h"
#include "fuzz/live/livefuzz.h"

typedef struct fuzz_cli {
    mqs_cli_endpoint ep;
    mqs_lf_opts o;
    bool seed_given, case_given, bounded, progress_off;
    char target[300];
    const char *ignore[64];
    char ignore_store[64][96]; /* patterns read by --ignore-file */
    char report_dir[400];
} fuzz_cli;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: mqttspec fuzz [--url URL | --host H --port P] [options]\n\n"
            "Plays generated and mutated MQTT sessions against a live broker and judges every\n"
            "answer: crash, hang, malformed packets, wrong acknowledgements, protocol violations\n"
            "that are not refused or that have effects, QoS 2 duplicates, takeovers, session flags.\n"
            "Each new kind of finding is replayed alone, minimised and saved as a scenario file\n"
            "that `mqttspec run --scenario FILE --no-builtin` replays, with a trace beside it.\n"
            "Only the given broker is contacted. Exit: 0 nothing found, 1 findings (or the broker\n"
            "went away), 2 bad usage, 3 the broker does not answer, 130/143 interrupted (Ctrl-C or\n"
            "SIGTERM: the running cases stop, findings so far are saved, the summary is printed;\n"
            "a second Ctrl-C exits at once).\n\n"
            "connection options:\n%s"
            "fuzz options:\n"
            "  --seconds N             stop after N seconds (default 60 unless --cases is given)\n"
            "  --cases N               stop after N cases\n"
            "  --seed S                run seed (default: random, printed); the same seed gives the same cases\n"
            "  --case N                play case N of the seed only (with --seed)\n"
            "  --jobs N                parallel jobs, each with its own connections (default 2, max 64)\n"
            "  --clients N             clients per case, 1..3 (default 2)\n"
            "  --protocol V            3.1.1, 3.1 or mixed (default mixed: mostly 3.1.1)\n"
            "  --mutate-rate P         chance in %% that a packet gets structure-aware mutations (default 30)\n"
            "  --byte-rate P           chance in %% of a raw byte mutation (default 4)\n"
            "  --timeout-ms N          how long an answer that is due may take (default 3000)\n"
            "  --minimise-seconds N    time to minimise each new finding (default 60)\n"
            "  --report-dir DIR        where findings go (default reports/fuzz/HOST-PORT)\n"
            "  --ignore SIG            do not report findings whose signature oracle:rule:TYPE matches\n"
            "                          the glob SIG (repeatable), e.g. 'no-close:MQTT-2.2.2-1:PUBREC'\n"
            "  --ignore-file F         --ignore for every line of F (# comments and blank lines skipped)\n"
            "  --pid PID               also watch this local broker process for a crash\n"
            "  --restart CMD           after a crash: pause, run CMD with sh -c, wait until the broker\n"
            "                          answers, go on (a failing CMD or a broker that does not come\n"
            "                          back ends the run with exit 1)\n"
            "  --restart-wait N        seconds CMD and the broker's return may take (default 60)\n"
            "  --no-progress           no progress line (it shows on a terminal only anyway)\n",
            mqs_cli_endpoint_help);
}

static int usage_error(const char *msg)
{
    fprintf(stderr, "mqttspec fuzz: %s (see mqttspec fuzz --help)\n", msg);
    return MQS_EXIT_USAGE;
}

static bool parse_u64(const char *v, uint64_t max, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (!v[0] || *end || errno || v[0] == '-' || n > max)
        return false;
    *out = n;
    return true;
}

/* The options that take a number; @return 1 done, -1 bad value, 0 not one of them. */
static int number_opt(fuzz_cli *f, const char *name, const char *v)
{
    uint64_t n = 0;
    mqs_lf_opts *o = &f->o;
    struct {
        const char *name;
        uint64_t min, max;
    } const k[] = {{"--seconds", 1, 86400 * 30}, {"--cases", 1, UINT64_MAX / 4},
                   {"--seed", 0, UINT64_MAX},     {"--case", 0, UINT64_MAX / 4},
                   {"--jobs", 1, 64},             {"--clients", 1, MQS_LF_MAX_SLOTS},
                   {"--mutate-rate", 0, 100},     {"--byte-rate", 0, 100},
                   {"--timeout-ms", 50, 600000},  {"--minimise-seconds", 0, 3600},
                   {"--pid", 1, 0x7fffffff},      {"--restart-wait", 1, 3600}};
    size_t i = 0;
    while (i < sizeof k / sizeof k[0] && strcmp(k[i].name, name))
        i++;
    if (i == sizeof k / sizeof k[0])
        return 0;
    if (!parse_u64(v, k[i].max, &n) || n < k[i].min)
        return -1;
    switch (i) {
    case 0: o->seconds = (double)n, f->bounded = true; break;
    case 1: o->max_cases = n, f->bounded = true; break;
    case 2: o->seed = n, f->seed_given = true; break;
    case 3: o->first_case = n, f->case_given = true; break;
    case 4: o->jobs = (unsigned)n; break;
    case 5: o->gen.max_clients = (unsigned)n; break;
    case 6: o->gen.mutate_pct = (unsigned)n; break;
    case 7: o->gen.byte_pct = (unsigned)n; break;
    case 8: o->timeout_ms = (int64_t)n; break;
    case 9: o->minimise_ms = (int64_t)n * 1000; break;
    case 10: o->pid = (int)n; break;
    default: o->restart_wait_ms = (int64_t)n * 1000; break;
    }
    return 1;
}

/* --ignore-file: one signature glob per line. @return 1, or -1 (unreadable, too many). */
static int read_ignore_file(fuzz_cli *f, const char *path)
{
    FILE *in = fopen(path, "r");
    if (!in)
        return -1;
    char line[256];
    int rc = 1;
    while (rc == 1 && fgets(line, sizeof line, in)) {
        size_t n = strcspn(line, "\r\n");
        line[n] = '\0';
        const char *p = line + strspn(line, " \t");
        if (!*p || *p == '#')
            continue;
        size_t k = f->o.n_ignore;
        if (k == sizeof f->ignore / sizeof f->ignore[0] || strlen(p) >= sizeof f->ignore_store[0]) {
            rc = -1;
            break;
        }
        snprintf(f->ignore_store[k], sizeof f->ignore_store[k], "%s", p);
        f->ignore[k] = f->ignore_store[k];
        f->o.n_ignore = k + 1;
        f->o.ignore = f->ignore;
    }
    fclose(in);
    return rc;
}

/* The fuzzer's own options. @return 1 consumed, 0 unknown, -1 bad or missing value. */
static int own_opt(fuzz_cli *f, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    if (!strcmp(a, "--no-progress")) {
        f->progress_off = true;
        return 1;
    }
    if (strncmp(a, "--", 2) != 0)
        return 0;
    bool known = !strcmp(a, "--protocol") || !strcmp(a, "--report-dir") || !strcmp(a, "--restart") ||
                 !strcmp(a, "--ignore") || !strcmp(a, "--ignore-file");
    int r = 0;
    if (!known && (r = number_opt(f, a, "0")) == 0)
        return 0;
    if (*i + 1 >= argc)
        return -1;
    const char *v = argv[++*i];
    if (!strcmp(a, "--protocol")) {
        f->o.gen.version = !strcmp(v, "3.1.1") ? MQS_V311 : !strcmp(v, "3.1") ? MQS_V31 : 0;
        return !strcmp(v, "mixed") || f->o.gen.version ? 1 : -1;
    }
    if (!strcmp(a, "--report-dir")) {
        f->o.report_dir = v;
        return v[0] ? 1 : -1;
    }
    if (!strcmp(a, "--ignore-file"))
        return read_ignore_file(f, v);
    if (!strcmp(a, "--ignore")) {
        if (f->o.n_ignore == sizeof f->ignore / sizeof f->ignore[0] || !v[0])
            return -1;
        f->ignore[f->o.n_ignore++] = v;
        f->o.ignore = f->ignore;
        return 1;
    }
    if (!strcmp(a, "--restart")) {
        f->o.restart = v;
        return v[0] ? 1 : -1;
    }
    return number_opt(f, a, v);
}

static void defaults(fuzz_cli *f)
{
    mqs_lf_gen_opts g = MQS_LF_GEN_OPTS_INIT;
    memset(f, 0, sizeof *f);
    mqs_cli_endpoint_init(&f->ep);
    f->o.gen = g;
    f->o.jobs = 2;
    f->o.timeout_ms = 3000;
    f->o.minimise_ms = 60000;
    f->o.restart_wait_ms = 60000;
    f->o.out = stdout;
}

static uint64_t random_seed(void)
{
    uint64_t s = 0;
    FILE *r = fopen("/dev/urandom", "rb");
    if (!r || fread(&s, sizeof s, 1, r) != 1)
        s = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    if (r)
        fclose(r);
    return s % 1000000000000ull; /* short enough to type */
}

/* The runner's verdict on a saved finding (fuzz/live cannot call up into conformance/).
 * Its waits follow --timeout-ms: the default 3000 ms keeps the scenario's own timeouts
 * (factor 1), --timeout-ms 500 makes them a sixth, as patient as the fuzzer was. */
static int replay(void *ud, const char *path, char *why, size_t whylen)
{
    const fuzz_cli *f = ud;
    double factor = (double)f->o.timeout_ms / 3000.0;
    int v = mqs_replay_file(path, &f->ep.ep, f->ep.username, f->ep.password,
                            factor < 0.1 ? 0.1 : factor, why, whylen);
    return v == MQS_VERDICT_FAIL ? 1 : v == MQS_VERDICT_PASS || v == MQS_VERDICT_INFO ? 0 : -1;
}

static int finish(fuzz_cli *f)
{
    char err[256];
    if (mqs_cli_endpoint_finish(&f->ep, err, sizeof err) != 0)
        return usage_error(err);
    if (f->case_given && !f->seed_given)
        return usage_error("--case needs --seed");
    if (f->case_given)
        f->o.max_cases = 1;
    if (!f->bounded && !f->case_given)
        f->o.seconds = 60;
    if (!f->seed_given)
        f->o.seed = random_seed();
    f->o.ep = &f->ep.ep;
    f->o.username = f->ep.username;
    f->o.password = f->ep.password;
    f->o.gen.username = f->ep.username;
    f->o.gen.password = f->ep.password;
    snprintf(f->target, sizeof f->target, "%s:%u", f->ep.ep.host, f->ep.ep.port);
    f->o.target = f->target;
    if (!f->o.report_dir) {
        char host[200];
        size_t n = 0;
        for (const char *h = f->ep.ep.host; *h && n + 1 < sizeof host; h++)
            host[n++] = (*h == '/' || *h == ':' || *h == ' ') ? '_' : *h;
        host[n] = '\0';
        snprintf(f->report_dir, sizeof f->report_dir, "reports/fuzz/%s-%u", host, f->ep.ep.port);
        f->o.report_dir = f->report_dir;
    }
    f->o.progress = !f->progress_off && isatty(STDERR_FILENO);
    f->o.replay = replay;
    f->o.replay_ud = f;
    mqs_make_token(f->o.token); /* the runner's kind of token: unique per run */
    return MQS_EXIT_OK;
}

static void on_first_signal(int sig)
{
    (void)sig;
    mqs_lf_stop();
}

/* After Ctrl-C / SIGTERM: one line on stderr. @return 130 or 143. */
static int report_interrupt(const fuzz_cli *f, const mqs_lf_summary *sum)
{
    fflush(stdout);
    fprintf(stderr,
            "mqttspec fuzz: interrupted by %s: %llu cases ran (%llu cut short), %u finding%s saved "
            "under %s\n",
            mqs_interrupt_name(), (unsigned long long)sum->cases, (unsigned long long)sum->cut,
            sum->unique, sum->unique == 1 ? "" : "s", f->o.report_dir);
    return mqs_interrupt_exit_code();
}

int mqs_cmd_fuzz(int argc, char **argv)
{
    fuzz_cli *f = malloc(sizeof *f);
    if (!f) {
        fprintf(stderr, "mqttspec fuzz: out of memory\n");
        return MQS_EXIT_USAGE;
    }
    defaults(f);
    char err[256];
    int rc = MQS_EXIT_OK;
    for (int i = 1; i < argc && rc == MQS_EXIT_OK; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            free(f);
            return MQS_EXIT_OK;
        }
        int r = mqs_cli_endpoint_opt(&f->ep, argc, argv, &i, err, sizeof err);
        if (r < 0) {
            rc = usage_error(err);
            break;
        }
        if (r > 0)
            continue;
        const char *name = argv[i];
        r = own_opt(f, argc, argv, &i);
        if (r <= 0) {
            snprintf(err, sizeof err, r < 0 ? "bad or missing value for %.100s" : "unknown option '%.100s'",
                     name);
            rc = usage_error(err);
        }
    }
    if (rc == MQS_EXIT_OK)
        rc = finish(f);
    if (rc != MQS_EXIT_OK) {
        free(f);
        return rc;
    }
    mqs_interrupt_install("stopping the running cases, saving the findings so far "
                          "(press Ctrl-C again to exit at once)",
                          on_first_signal);
    mqs_lf_summary sum;
    if (mqs_lf_run(&f->o, &sum) != 0)
        rc = MQS_EXIT_USAGE;
    else if (sum.unreachable)
        rc = MQS_EXIT_UNREACHABLE;
    else
        rc = sum.unique > 0 || sum.crashed ? MQS_EXIT_FAIL : MQS_EXIT_OK;
    if (mqs_interrupt_signal() && rc != MQS_EXIT_USAGE)
        rc = report_interrupt(f, &sum);
    mqs_interrupt_uninstall();
    free(f);
    return rc;
}
