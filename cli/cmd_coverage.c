/* mqttspec coverage: which scenarios cover which statement of MQTT 3.1.1
 * (conformance/coverage.h over the scenarios the loader finds). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "conformance/alloc.h"
#include "conformance/coverage.h"
#include "conformance/scenario.h"

#define MQS_MAX_LIST 64

static void usage(FILE *out)
{
    fputs("usage: mqttspec coverage [--json] [--scenario FILE]... [--scenario-dir DIR]...\n"
          "                         [--no-builtin]\n\n"
          "Lists every normative statement of MQTT 3.1.1 with whether a client can observe a\n"
          "server keeping it (yes / partly / no) and the scenarios that check it; then the\n"
          "statement ids outside the catalogue, the totals, and the observable statements no\n"
          "scenario checks, each with the reason conformance/uncovered.tsv gives.\n\n"
          "  --json             one JSON object instead of text\n"
          "  --scenario FILE    count this scenario file too (repeatable)\n"
          "  --scenario-dir DIR count every *.json below DIR too (repeatable)\n"
          "  --no-builtin       leave out the built-in scenarios\n\n"
          "Exit: 0; 1 when a scenario cites an id that is neither in the catalogue nor an own\n"
          "MQTT31-/MQS- id (a typo: named on stderr); 2 bad usage or a bad scenario file.\n",
          out);
}

typedef struct cov_args {
    const char *files[MQS_MAX_LIST], *dirs[MQS_MAX_LIST];
    size_t n_files, n_dirs;
    bool json, builtin;
} cov_args;

/* @return 1 to go on, 0 after --help, -1 on bad usage (message printed). */
static int parse_args(int argc, char **argv, cov_args *a)
{
    static const struct option longopts[] = {
        {"json", no_argument, 0, 'j'},           {"scenario", required_argument, 0, 's'},
        {"scenario-dir", required_argument, 0, 'd'}, {"no-builtin", no_argument, 0, 'n'},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0},
    };
    optind = 1;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if ((opt == 's' && a->n_files == MQS_MAX_LIST) ||
            (opt == 'd' && a->n_dirs == MQS_MAX_LIST) || opt == '?') {
            fprintf(stderr, "mqttspec coverage: bad or repeated option '%s' (see --help)\n",
                    argv[optind - 1]);
            return -1;
        }
        switch (opt) {
        case 's': a->files[a->n_files++] = optarg; break;
        case 'd': a->dirs[a->n_dirs++] = optarg; break;
        case 'j': a->json = true; break;
        case 'n': a->builtin = false; break;
        default: usage(stdout); return 0;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "mqttspec coverage: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    return 1;
}

/* Names every unknown statement id on stderr. @return how many there are. */
static size_t warn_unknown(const mqs_coverage *cov)
{
    for (size_t i = cov->n_catalogue; i < cov->n_rows; i++) {
        const mqs_coverage_row *row = &cov->rows[i];
        if (row->kind != MQS_STID_UNKNOWN)
            continue;
        fprintf(stderr, "mqttspec coverage: '%s' (cited by", row->id);
        for (size_t k = 0; k < row->n_scenarios; k++)
            fprintf(stderr, "%s %s", k ? "," : "", cov->scenarios[row->scenarios[k]].id);
        fputs(") is not a statement of the MQTT 3.1.1 catalogue nor an MQTT31-/MQS- id\n", stderr);
    }
    return cov->n_unknown;
}

static int report(const mqs_scenario_set *set, bool json)
{
    mqs_scenario_ref *refs = mqs_calloc(set->n ? set->n : 1, sizeof *refs);
    for (size_t i = 0; refs && i < set->n; i++)
        refs[i] = (mqs_scenario_ref){set->items[i]->id, set->items[i]->statements,
                                     set->items[i]->n_statements};
    mqs_coverage cov;
    int rc = refs ? mqs_coverage_compute(refs, set->n, &cov) : -1;
    if (rc == 0) {
        rc = json ? mqs_coverage_write_json(&cov, stdout) : mqs_coverage_write_text(&cov, stdout);
        if (rc == 0)
            rc = warn_unknown(&cov) ? 1 : 0;
        else
            fprintf(stderr, "mqttspec coverage: out of memory or write error\n");
        mqs_coverage_free(&cov);
    } else
        fprintf(stderr, "mqttspec coverage: out of memory\n");
    mqs_free(refs);
    return rc == 0 ? MQS_EXIT_OK : MQS_EXIT_FAIL;
}

int mqs_cmd_coverage(int argc, char **argv)
{
    cov_args a = {.builtin = true};
    int go = parse_args(argc, argv, &a);
    if (go <= 0)
        return go == 0 ? MQS_EXIT_OK : MQS_EXIT_USAGE;
    mqs_scenario_set set = {0};
    char err[1024];
    int rc;
    if (mqs_scenario_set_load(&set, a.builtin, a.files, a.n_files, a.dirs, a.n_dirs, err,
                              sizeof err) < 0) {
        fprintf(stderr, "mqttspec coverage: %s\n", err);
        rc = MQS_EXIT_USAGE;
    } else
        rc = report(&set, a.json);
    mqs_scenario_set_free(&set);
    return rc;
}
