/* mqttspec compare: the matrix of several runs (conformance/compare.h). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "conformance/alloc.h"
#include "conformance/compare.h"
#include "conformance/report.h"

static void usage(FILE *out)
{
    fputs("usage: mqttspec compare REPORT.json... [--out DIR] [--format md,html]\n\n"
          "Reads the report.json of several runs (one per broker, or per broker version) and\n"
          "writes a matrix: one row per scenario and protocol version, grouped by area, one\n"
          "column per broker and transport, each cell the verdict with a reference to its\n"
          "reason; then per-broker totals and the statements each broker breaks.\n\n"
          "  -o, --out DIR      where matrix.md / matrix.html go (default: reports)\n"
          "  -f, --format LIST  md, html or all (default: all)\n"
          "  -h, --help         this text\n\n"
          "Exit: 0 written, 2 bad usage or an invalid report (the error names the file,\n"
          "the JSON path and the reason).\n",
          out);
}

static int parse_args(int argc, char **argv, const char **dir, unsigned *fmts)
{
    static const struct option longopts[] = {{"out", required_argument, NULL, 'o'},
                                             {"format", required_argument, NULL, 'f'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    char err[256];
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:f:h", longopts, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return 0;
        }
        if (c == 'o')
            *dir = optarg;
        else if (c == 'f' && mqs_report_parse_formats(optarg, fmts, err, sizeof err)) {
            fprintf(stderr, "mqttspec compare: %s\n", err);
            return -1;
        } else if (c == 'f' && (*fmts & (MQS_FMT_JSON | MQS_FMT_JUNIT)) &&
                   *fmts != MQS_FMT_ALL) {
            fprintf(stderr, "mqttspec compare: the matrix is written as md and html only\n");
            return -1;
        } else if (c == '?') {
            usage(stderr);
            return -1;
        }
    }
    *fmts &= MQS_FMT_MD | MQS_FMT_HTML;
    if (optind >= argc) {
        fprintf(stderr, "mqttspec compare: no REPORT.json given\n");
        usage(stderr);
        return -1;
    }
    return 1;
}

/* Loads every report; @return the number loaded, all of them or -1 (error printed). */
static int load_all(char **paths, int n, mqs_report *reports, mqs_compare_input *in)
{
    char err[1024];
    for (int i = 0; i < n; i++) {
        if (mqs_report_load_json(paths[i], &reports[i], err, sizeof err)) {
            fprintf(stderr, "mqttspec compare: %s\n", err);
            for (int k = 0; k < i; k++)
                mqs_report_free(&reports[k]);
            return -1;
        }
        in[i].report = &reports[i];
        in[i].source = paths[i];
    }
    return n;
}

int mqs_cmd_compare(int argc, char **argv)
{
    const char *dir = "reports";
    unsigned fmts = MQS_FMT_ALL;
    int rc = parse_args(argc, argv, &dir, &fmts);
    if (rc <= 0)
        return rc == 0 ? MQS_EXIT_OK : MQS_EXIT_USAGE;
    int n = argc - optind;
    mqs_report *reports = mqs_calloc((size_t)n, sizeof *reports);
    mqs_compare_input *in = mqs_calloc((size_t)n, sizeof *in);
    if (!reports || !in || load_all(argv + optind, n, reports, in) < 0) {
        if (!reports || !in)
            fprintf(stderr, "mqttspec compare: out of memory\n");
        mqs_free(reports);
        mqs_free(in);
        return MQS_EXIT_USAGE;
    }
    char err[1024];
    rc = mqs_compare_write_dir(in, (size_t)n, dir, fmts, err, sizeof err);
    if (rc)
        fprintf(stderr, "mqttspec compare: %s\n", err);
    else
        printf("compared %d run%s: %s%s%s%s\n", n, n == 1 ? "" : "s",
               fmts & MQS_FMT_MD ? dir : "", fmts & MQS_FMT_MD ? "/matrix.md " : "",
               fmts & MQS_FMT_HTML ? dir : "", fmts & MQS_FMT_HTML ? "/matrix.html" : "");
    for (int i = 0; i < n; i++)
        mqs_report_free(&reports[i]);
    mqs_free(reports);
    mqs_free(in);
    return rc ? MQS_EXIT_USAGE : MQS_EXIT_OK;
}
