/* mqttspec CLI: the options that say where the broker is and how to reach it, shared
 * by every subcommand that connects (probe, run, fuzz).
 *
 *   --url URL                      mqtt:// mqtts:// ws:// wss:// (see net/url.c)
 *   --host H  --port P             instead of --url (defaults 127.0.0.1 and the
 *   --transport tcp|tls|ws|wss     transport's port: 1883, 8883, 80, 443)
 *   --ws-path PATH                 ws/wss with --host (default /mqtt)
 *   --cafile F --capath D          trust for TLS (default: the system store)
 *   --cert F --key F               TLS client certificate and key (PEM)
 *   --tls-servername N             name to verify and send as SNI (default: the host)
 *   --insecure                     TLS without verification (only when asked)
 *   --username U                   MQTT credentials
 *   --password P | --password-file F   (the file's first line; keeps it out of `ps`)
 *
 * Use with a hand-written argv loop:
 *
 *     mqs_cli_endpoint e;
 *     mqs_cli_endpoint_init(&e);
 *     for (int i = 1; i < argc; i++) {
 *         int r = mqs_cli_endpoint_opt(&e, argc, argv, &i, err, sizeof err);
 *         if (r < 0) usage error (err); if (r > 0) continue;
 *         ... the command's own options ...
 *     }
 *     if (mqs_cli_endpoint_finish(&e, err, sizeof err) != 0) usage error (err);
 *     mqs_conn_open(&e.ep, ...); e.username / e.password go into the CONNECT.
 *
 * or, from a getopt_long loop, mqs_cli_endpoint_set(&e, "cafile", optarg, ...) with
 * MQS_CLI_ENDPOINT_LONGOPTS in the option table.
 */
#ifndef MQS_CLI_ENDPOINT_H
#define MQS_CLI_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>

#include "net/net.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mqs_cli_endpoint {
    mqs_endpoint ep;      /* complete after mqs_cli_endpoint_finish() */
    const char *url;      /* the options as given (views into argv) */
    const char *host;
    unsigned port;        /* 0: not given */
    int transport;        /* -1: not given */
    const char *ws_path;
    const char *username; /* NULL: none */
    const char *password; /* NULL: none; points into argv or into pass_buf */
    char pass_buf[256];   /* --password-file contents */
    char storage[600];    /* host/path of a parsed --url */
} mqs_cli_endpoint;

/** Help text for the options above, one per line, for a command's --help. */
extern const char mqs_cli_endpoint_help[];

/** For getopt_long tables: {name, has_arg, NULL, 0} entries of every endpoint option. */
#define MQS_CLI_ENDPOINT_LONGOPTS                                                               \
    {"url", 1, NULL, 0}, {"host", 1, NULL, 0}, {"port", 1, NULL, 0}, {"transport", 1, NULL, 0},  \
        {"ws-path", 1, NULL, 0}, {"cafile", 1, NULL, 0}, {"capath", 1, NULL, 0},                   \
        {"cert", 1, NULL, 0}, {"key", 1, NULL, 0}, {"tls-servername", 1, NULL, 0},                 \
        {"insecure", 0, NULL, 0}, {"username", 1, NULL, 0}, {"password", 1, NULL, 0},              \
        {"password-file", 1, NULL, 0}

void mqs_cli_endpoint_init(mqs_cli_endpoint *e);

/** Applies one option by name (no leading dashes). value is ignored for --insecure.
 *  @return 1 applied, 0 not an endpoint option, -1 bad value (one line in err). */
int mqs_cli_endpoint_set(mqs_cli_endpoint *e, const char *name, const char *value, char *err,
                         size_t errlen);

/** Looks at argv[*i] ("--name value" or "--name=value"); on 1 it advanced *i past a
 *  separate value. @return 1 consumed, 0 not an endpoint option, -1 error (in err). */
int mqs_cli_endpoint_opt(mqs_cli_endpoint *e, int argc, char **argv, int *i, char *err,
                         size_t errlen);

/** Checks the combination (--url excludes --host/--port/--transport/--ws-path; TLS
 *  options need tls/wss; --cert with --key; --password with --username) and fills e->ep.
 *  @return 0, or -1 with one line in err. */
int mqs_cli_endpoint_finish(mqs_cli_endpoint *e, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* MQS_CLI_ENDPOINT_H */
