/* mqttspec: subcommand dispatch only (see cli/commands.def). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

typedef struct mqs_command {
    const char *name;
    const char *summary;
    int (*fn)(int argc, char **argv);
} mqs_command;

static const mqs_command commands[] = {
#define MQS_CMD(name, summary) {#name, summary, mqs_cmd_##name},
#include "cli/commands.def"
#undef MQS_CMD
    {NULL, NULL, NULL},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: mqttspec COMMAND [options]   (mqttspec COMMAND --help for details)\n\n"
                 "MQTT 3.1/3.1.1 broker conformance suite and packet codec.\n\ncommands:\n");
    for (size_t i = 0; commands[i].name; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return MQS_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("mqttspec %s\n", MQS_VERSION);
        return 0;
    }
    for (size_t i = 0; commands[i].name; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "mqttspec: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return MQS_EXIT_USAGE;
}
