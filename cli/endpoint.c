/* mqttspec CLI: endpoint options (see cli/endpoint.h). */
#include "cli/endpoint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char mqs_cli_endpoint_help[] =
    "  --url URL               mqtt://H[:P]  mqtts://H[:P]  ws://H[:P][/path]  wss://H[:P][/path]\n"
    "  --host H                broker host (default 127.0.0.1); IPv6 without brackets\n"
    "  --port P                broker port (default 1883 tcp, 8883 tls, 80 ws, 443 wss)\n"
    "  --transport T           tcp | tls | ws | wss (default tcp)\n"
    "  --ws-path PATH          WebSocket path with --host (default /mqtt)\n"
    "  --cafile F              trust the CA certificates in F (PEM) for TLS\n"
    "  --capath D              trust the hashed CA directory D for TLS\n"
    "  --cert F --key F        TLS client certificate and its key (PEM)\n"
    "  --tls-servername N      name to verify and send as SNI (default: the host)\n"
    "  --insecure              TLS without certificate verification\n"
    "  --username U            MQTT user name\n"
    "  --password P            MQTT password (never printed)\n"
    "  --password-file F       MQTT password from the first line of F\n";

void mqs_cli_endpoint_init(mqs_cli_endpoint *e)
{
    memset(e, 0, sizeof *e);
    e->transport = -1;
}

static int opt_fail(char *err, size_t errlen, const char *fmt, const char *a)
{
    snprintf(err, errlen, fmt, a);
    return -1;
}

static int parse_transport(const char *v)
{
    static const char *const names[] = {"tcp", "tls", "ws", "wss"};
    for (int t = 0; t < 4; t++)
        if (!strcmp(v, names[t]))
            return t;
    return -1;
}

static int read_password_file(mqs_cli_endpoint *e, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return opt_fail(err, errlen, "cannot read --password-file '%s'", path);
    bool ok = fgets(e->pass_buf, sizeof e->pass_buf, f) != NULL;
    fclose(f);
    if (!ok)
        return opt_fail(err, errlen, "--password-file '%s' is empty", path);
    e->pass_buf[strcspn(e->pass_buf, "\r\n")] = 0;
    e->password = e->pass_buf;
    return 1;
}

/* Where a string-valued option goes; NULL for other names. */
static const char **string_slot(mqs_cli_endpoint *e, const char *name)
{
    struct {
        const char *name;
        const char **slot;
    } const slots[] = {
        {"url", &e->url},
        {"host", &e->host},
        {"ws-path", &e->ws_path},
        {"cafile", &e->ep.tls.cafile},
        {"capath", &e->ep.tls.capath},
        {"cert", &e->ep.tls.certfile},
        {"key", &e->ep.tls.keyfile},
        {"tls-servername", &e->ep.tls.servername},
        {"username", &e->username},
        {"password", &e->password},
    };
    for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++)
        if (!strcmp(name, slots[i].name))
            return slots[i].slot;
    return NULL;
}

int mqs_cli_endpoint_set(mqs_cli_endpoint *e, const char *name, const char *value, char *err,
                         size_t errlen)
{
    if (!strcmp(name, "insecure")) {
        e->ep.tls.insecure = true;
        return 1;
    }
    const char **slot = string_slot(e, name);
    bool known = slot || !strcmp(name, "port") || !strcmp(name, "transport") ||
                 !strcmp(name, "password-file");
    if (!known)
        return 0;
    if (!value || !*value)
        return opt_fail(err, errlen, "--%s needs a value", name);
    if (slot) {
        *slot = value;
        return 1;
    }
    if (!strcmp(name, "password-file"))
        return read_password_file(e, value, err, errlen);
    if (!strcmp(name, "transport")) {
        e->transport = parse_transport(value);
        return e->transport < 0
                   ? opt_fail(err, errlen, "--transport '%s': use tcp, tls, ws or wss", value)
                   : 1;
    }
    char *end = NULL;
    long p = strtol(value, &end, 10);
    if (*end || p < 1 || p > 65535)
        return opt_fail(err, errlen, "--port '%s': use 1..65535", value);
    e->port = (unsigned)p;
    return 1;
}

int mqs_cli_endpoint_opt(mqs_cli_endpoint *e, int argc, char **argv, int *i, char *err,
                         size_t errlen)
{
    const char *arg = argv[*i];
    if (strncmp(arg, "--", 2) != 0)
        return 0;
    char name[32];
    const char *eq = strchr(arg, '=');
    size_t n = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
    if (n == 0 || n >= sizeof name)
        return 0;
    memcpy(name, arg + 2, n);
    name[n] = 0;
    bool flag = !strcmp(name, "insecure");
    if (flag && eq)
        return opt_fail(err, errlen, "--%s takes no value", name);
    const char *value = eq ? eq + 1 : NULL;
    bool takes_next = !flag && !eq && *i + 1 < argc;
    if (takes_next)
        value = argv[*i + 1];
    int r = mqs_cli_endpoint_set(e, name, value, err, errlen);
    if (r == 1 && takes_next)
        (*i)++;
    return r;
}

static bool is_tls(mqs_transport t)
{
    return t == MQS_TR_TLS || t == MQS_TR_WSS;
}

static const char *tls_option_given(const mqs_tls_opts *o)
{
    if (o->cafile)
        return "--cafile";
    if (o->capath)
        return "--capath";
    if (o->certfile)
        return "--cert";
    if (o->keyfile)
        return "--key";
    if (o->servername)
        return "--tls-servername";
    return o->insecure ? "--insecure" : NULL;
}

static int finish_url(mqs_cli_endpoint *e, char *err, size_t errlen)
{
    if (e->host || e->port || e->transport >= 0 || e->ws_path)
        return opt_fail(err, errlen, "%s", "--url excludes --host, --port, --transport and --ws-path");
    return mqs_url_parse(e->url, &e->ep, e->storage, sizeof e->storage, err, errlen);
}

static void finish_host(mqs_cli_endpoint *e)
{
    static const uint16_t dflt[] = {1883, 8883, 80, 443};
    mqs_transport t = e->transport < 0 ? MQS_TR_TCP : (mqs_transport)e->transport;
    e->ep.transport = t;
    e->ep.host = e->host ? e->host : "127.0.0.1";
    e->ep.port = (uint16_t)(e->port ? e->port : dflt[t]);
    e->ep.ws_path = NULL;
    if (t == MQS_TR_WS || t == MQS_TR_WSS)
        e->ep.ws_path = e->ws_path ? e->ws_path : "/mqtt";
}

int mqs_cli_endpoint_finish(mqs_cli_endpoint *e, char *err, size_t errlen)
{
    if (e->url) {
        if (finish_url(e, err, errlen) != 0)
            return -1;
    } else {
        finish_host(e);
        if (e->ws_path && !e->ep.ws_path)
            return opt_fail(err, errlen, "%s", "--ws-path needs --transport ws or wss");
        if (e->ws_path && e->ws_path[0] != '/')
            return opt_fail(err, errlen, "--ws-path '%s' must start with '/'", e->ws_path);
    }
    const char *tls_opt = tls_option_given(&e->ep.tls);
    if (tls_opt && !is_tls(e->ep.transport))
        return opt_fail(err, errlen, "%s needs a TLS transport (tls, wss, mqtts://, wss://)",
                        tls_opt);
    if (!e->ep.tls.certfile != !e->ep.tls.keyfile)
        return opt_fail(err, errlen, "%s", "--cert and --key go together");
    if (e->password && !e->username)
        return opt_fail(err, errlen, "%s", "--password needs --username");
    return 0;
}
