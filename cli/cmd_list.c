/* mqttspec list: the scenarios, with their protocol versions and statements. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "conformance/scenario.h"

#define MQS_MAX_LIST 64

static void usage(FILE *out)
{
    fprintf(out, "usage: mqttspec list [--filter PATTERN]... [--json] [--scenario FILE]...\n"
                 "                     [--scenario-dir DIR]... [--no-builtin]\n\n"
                 "Lists the scenarios: id, protocol versions, level, statements and title.\n"
                 "  --filter PATTERN   id glob (connect.*), area (qos) or statement id\n"
                 "                     (MQTT-3.1.2-3, MQTT-3.3.*); repeatable, any matches\n"
                 "  --json             a JSON array instead of text\n"
                 "  --scenario FILE    also list this scenario file (repeatable)\n"
                 "  --scenario-dir DIR also list every *.json below DIR (repeatable)\n"
                 "  --no-builtin       leave out the built-in scenarios\n");
}

static void print_text(const mqs_scenario_set *set, const char *const *filters, size_t n_filters)
{
    size_t shown = 0;
    for (size_t i = 0; i < set->n; i++) {
        const mqs_scenario *s = set->items[i];
        bool match = n_filters == 0;
        for (size_t f = 0; f < n_filters && !match; f++)
            match = mqs_scenario_matches(s, filters[f]);
        if (!match)
            continue;
        char protos[16];
        snprintf(protos, sizeof protos, "%s%s%s", s->protocols & MQS_PROTO_31 ? "3.1" : "",
                 s->protocols == (MQS_PROTO_31 | MQS_PROTO_311) ? "," : "",
                 s->protocols & MQS_PROTO_311 ? "3.1.1" : "");
        printf("%-40s %-9s %-6s ", s->id, protos, mqs_level_name((int)s->level));
        for (size_t k = 0; k < s->n_statements; k++)
            printf("%s%s", k ? "," : "", s->statements[k]);
        printf("\n    %s\n", s->title);
        shown++;
    }
    printf("%zu scenario%s\n", shown, shown == 1 ? "" : "s");
}

int mqs_cmd_list(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"filter", required_argument, 0, 'f'},
        {"json", no_argument, 0, 'j'},
        {"scenario", required_argument, 0, 's'},
        {"scenario-dir", required_argument, 0, 'd'},
        {"no-builtin", no_argument, 0, 'n'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *filters[MQS_MAX_LIST], *files[MQS_MAX_LIST], *dirs[MQS_MAX_LIST];
    size_t n_filters = 0, n_files = 0, n_dirs = 0;
    bool json = false, builtin = true;
    optind = 1;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if ((opt == 'f' && n_filters == MQS_MAX_LIST) || (opt == 's' && n_files == MQS_MAX_LIST) ||
            (opt == 'd' && n_dirs == MQS_MAX_LIST) || opt == '?') {
            fprintf(stderr, "mqttspec list: bad or repeated option '%s' (see --help)\n",
                    argv[optind - 1]);
            return MQS_EXIT_USAGE;
        }
        switch (opt) {
        case 'f':
            filters[n_filters++] = optarg;
            break;
        case 's':
            files[n_files++] = optarg;
            break;
        case 'd':
            dirs[n_dirs++] = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'n':
            builtin = false;
            break;
        default:
            usage(stdout);
            return MQS_EXIT_OK;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "mqttspec list: unexpected argument '%s'\n", argv[optind]);
        return MQS_EXIT_USAGE;
    }
    mqs_scenario_set set = {0};
    char err[1024];
    int rc = MQS_EXIT_OK;
    if (mqs_scenario_set_load(&set, builtin, files, n_files, dirs, n_dirs, err, sizeof err) < 0) {
        fprintf(stderr, "mqttspec list: %s\n", err);
        rc = MQS_EXIT_USAGE;
    } else if (json) {
        if (mqs_scenario_list_json(&set, filters, n_filters, stdout) < 0) {
            fprintf(stderr, "mqttspec list: out of memory\n");
            rc = MQS_EXIT_FAIL;
        }
    } else {
        print_text(&set, filters, n_filters);
    }
    mqs_scenario_set_free(&set);
    return rc;
}
