/* mqttspec render: the human and CI reports of a run, written again from its report.json. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "conformance/report.h"

static void usage(FILE *out)
{
    fputs("usage: mqttspec render REPORT.json [--out DIR] [--format LIST]\n\n"
          "Writes junit.xml, report.md and report.html again from a run's report.json (for\n"
          "instance one kept as a CI artifact), so the other formats never need a new run.\n\n"
          "  -o, --out DIR      where to write (default: the directory of REPORT.json)\n"
          "  -f, --format LIST  json, junit, md, html or all, comma-separated\n"
          "                     (default: junit,md,html)\n"
          "  -h, --help         this text\n\n"
          "Exit: 0 written, 2 bad usage or an invalid report.\n",
          out);
}

/* The directory part of path ("." when it has none); written into buf. */
static const char *dir_of(const char *path, char *buf, size_t cap)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return ".";
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    snprintf(buf, cap, "%.*s", (int)n, path);
    return buf;
}

int mqs_cmd_render(int argc, char **argv)
{
    static const struct option longopts[] = {{"out", required_argument, NULL, 'o'},
                                             {"format", required_argument, NULL, 'f'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *dir = NULL;
    unsigned fmts = MQS_FMT_JUNIT | MQS_FMT_MD | MQS_FMT_HTML;
    char err[1024], dirbuf[4096];
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:f:h", longopts, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return MQS_EXIT_OK;
        }
        if (c == 'o')
            dir = optarg;
        else if (c == 'f' && mqs_report_parse_formats(optarg, &fmts, err, sizeof err)) {
            fprintf(stderr, "mqttspec render: %s\n", err);
            return MQS_EXIT_USAGE;
        } else if (c == '?') {
            usage(stderr);
            return MQS_EXIT_USAGE;
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "mqttspec render: give exactly one REPORT.json\n");
        usage(stderr);
        return MQS_EXIT_USAGE;
    }
    mqs_report r;
    if (mqs_report_load_json(argv[optind], &r, err, sizeof err)) {
        fprintf(stderr, "mqttspec render: %s\n", err);
        return MQS_EXIT_USAGE;
    }
    if (!dir)
        dir = dir_of(argv[optind], dirbuf, sizeof dirbuf);
    int rc = mqs_report_write_dir(&r, dir, fmts, err, sizeof err);
    if (rc)
        fprintf(stderr, "mqttspec render: %s\n", err);
    else
        printf("wrote the reports of %zu cases to %s/\n", r.n_cases, dir);
    mqs_report_free(&r);
    return rc ? MQS_EXIT_USAGE : MQS_EXIT_OK;
}
