/* mqttspec CLI: subcommand entry points and shared exit codes. */
#ifndef MQS_CLI_H
#define MQS_CLI_H

#define MQS_VERSION "0.1.0"

/* Exit codes (DESIGN.md): 0 no FAIL/ERROR (or: input valid), 1 some FAIL (or: input
 * malformed/incomplete), 2 bad usage or input, 3 target unreachable. */
#define MQS_EXIT_OK 0
#define MQS_EXIT_FAIL 1
#define MQS_EXIT_USAGE 2
#define MQS_EXIT_UNREACHABLE 3

#define MQS_CMD(name, summary) int mqs_cmd_##name(int argc, char **argv);
#include "cli/commands.def"
#undef MQS_CMD

#endif
