/* mqttspec probe: connect to a broker over tcp/tls/ws/wss, send one CONNECT, print the
 * connection and the CONNACK. The quickest check that an endpoint, its certificates and
 * credentials work before a full `mqttspec run`.
 *
 * Exit: 0 CONNACK accepted, 1 CONNACK refused (return code != 0), 2 bad usage,
 * 3 unreachable / TLS / WebSocket failure / no valid CONNACK (one line on stderr). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/endpoint.h"
#include "codec/mqtt.h"
#include "net/net.h"

typedef struct probe_opts {
    mqs_cli_endpoint ep;
    long timeout_ms;
    mqs_version version;
    const char *client_id;
    char id_buf[24];
} probe_opts;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: mqttspec probe [--url URL | --host H --port P --transport T] [options]\n\n"
            "Connects, sends a CONNECT, prints the connection and the CONNACK return code.\n"
            "Exit: 0 accepted, 1 refused by CONNACK, 2 bad usage, 3 unreachable/TLS/WebSocket failure.\n\n"
            "connection options:\n%s"
            "probe options:\n"
            "  --timeout-ms N          deadline for connect + CONNACK (default 5000)\n"
            "  --protocol V            3.1.1 (default) or 3.1\n"
            "  --client-id ID          client identifier (default mqs-probe-PID)\n",
            mqs_cli_endpoint_help);
}

static int usage_error(const char *msg)
{
    fprintf(stderr, "mqttspec probe: %s (see mqttspec probe --help)\n", msg);
    return MQS_EXIT_USAGE;
}

/* The probe's own options; @return 1 consumed, 0 unknown, -1 bad value. */
static int own_opt(probe_opts *o, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    bool known = !strcmp(a, "--timeout-ms") || !strcmp(a, "--protocol") || !strcmp(a, "--client-id");
    if (!known)
        return 0;
    if (*i + 1 >= argc)
        return -1;
    const char *v = argv[++*i];
    if (!strcmp(a, "--client-id")) {
        o->client_id = v;
        return 1;
    }
    if (!strcmp(a, "--protocol")) {
        if (strcmp(v, "3.1.1") && strcmp(v, "3.1"))
            return -1;
        o->version = strcmp(v, "3.1") ? MQS_V311 : MQS_V31;
        return 1;
    }
    char *end = NULL;
    o->timeout_ms = strtol(v, &end, 10);
    return (*end || o->timeout_ms < 1 || o->timeout_ms > 3600000) ? -1 : 1;
}

static int parse(probe_opts *o, int argc, char **argv)
{
    char err[256];
    mqs_cli_endpoint_init(&o->ep);
    o->timeout_ms = 5000;
    o->version = MQS_V311;
    for (int i = 1; i < argc; i++) {
        int r = mqs_cli_endpoint_opt(&o->ep, argc, argv, &i, err, sizeof err);
        if (r < 0)
            return usage_error(err);
        if (r > 0)
            continue;
        const char *name = argv[i];
        r = own_opt(o, argc, argv, &i);
        if (r < 0) {
            snprintf(err, sizeof err, "bad or missing value for %.100s", name);
            return usage_error(err);
        }
        if (r == 0) {
            snprintf(err, sizeof err, "unknown option '%.100s'", argv[i]);
            return usage_error(err);
        }
    }
    if (mqs_cli_endpoint_finish(&o->ep, err, sizeof err) != 0)
        return usage_error(err);
    if (!o->client_id) {
        snprintf(o->id_buf, sizeof o->id_buf, "mqs-probe-%ld", (long)getpid());
        o->client_id = o->id_buf;
    }
    return MQS_EXIT_OK;
}

static mqs_str view(const char *s)
{
    mqs_str v = {(const uint8_t *)s, s ? strlen(s) : 0};
    return v;
}

static int encode_connect(const probe_opts *o, uint8_t *buf, size_t cap, size_t *n)
{
    mqs_packet p;
    memset(&p, 0, sizeof p);
    p.type = MQS_CONNECT;
    p.connect.clean_session = true;
    p.connect.keepalive = 30;
    p.connect.client_id = view(o->client_id);
    p.connect.has_username = o->ep.username != NULL;
    p.connect.username = view(o->ep.username);
    p.connect.has_password = o->ep.password != NULL;
    p.connect.password = view(o->ep.password);
    return mqs_encode(&p, o->version, buf, cap, n, NULL);
}

static const char *connack_text(unsigned rc)
{
    static const char *const text[] = {"accepted", "unacceptable protocol version",
                                       "identifier rejected", "server unavailable",
                                       "bad user name or password", "not authorized"};
    return rc < 6 ? text[rc] : "reserved return code";
}

/* Reads one whole packet into buf by the deadline. @return MQS_NET_* or -1 (framing). */
static int read_packet(mqs_conn *c, uint8_t *buf, size_t cap, size_t *len, int64_t deadline)
{
    *len = 0;
    for (;;) {
        uint32_t rem = 0;
        size_t hdr = 0;
        int st = mqs_frame_peek(buf, *len, 0, NULL, NULL, &rem, &hdr, NULL);
        if (st == MQS_OK && hdr + rem <= *len) {
            *len = hdr + rem;
            return MQS_NET_OK;
        }
        if ((st != MQS_OK && st != MQS_NEED_MORE) || *len == cap || (st == MQS_OK && hdr + rem > cap))
            return -1;
        size_t got = 0;
        int rc = mqs_conn_read(c, buf + *len, cap - *len, &got, deadline);
        if (rc != MQS_NET_OK)
            return rc;
        *len += got;
    }
}

/* Sends CONNECT, waits for CONNACK; prints the outcome. @return the exit code. */
static int exchange(const probe_opts *o, mqs_conn *c, int64_t deadline)
{
    uint8_t buf[1024];
    size_t n = 0;
    if (encode_connect(o, buf, sizeof buf, &n) != MQS_OK)
        return usage_error("cannot encode a CONNECT from these options (check --client-id/--username)");
    if (mqs_conn_write(c, buf, n, deadline) != MQS_NET_OK) {
        fprintf(stderr, "mqttspec probe: sending CONNECT: %s\n", mqs_conn_error(c));
        return MQS_EXIT_UNREACHABLE;
    }
    int rc = read_packet(c, buf, sizeof buf, &n, deadline);
    if (rc != MQS_NET_OK) {
        fprintf(stderr, "mqttspec probe: waiting for CONNACK: %s\n",
                rc < 0 ? "the reply is not an MQTT packet" : mqs_conn_error(c));
        return MQS_EXIT_UNREACHABLE;
    }
    mqs_packet p;
    memset(&p, 0, sizeof p);
    mqs_decode_opts dopts = {.version = o->version, .dir = MQS_DIR_TO_CLIENT};
    mqs_diag diag = {0};
    int st = mqs_decode(buf, n, &dopts, &p, &diag);
    if (st != MQS_OK || p.type != MQS_CONNACK) {
        if (st != MQS_OK)
            fprintf(stderr, "mqttspec probe: expected CONNACK, got a malformed packet (%s)\n",
                    mqs_status_str(st));
        else
            fprintf(stderr, "mqttspec probe: expected CONNACK, got %s\n", mqs_type_name(p.type));
        return MQS_EXIT_UNREACHABLE;
    }
    printf("connected: %s\n", mqs_conn_describe(c));
    printf("CONNACK: return code %u (%s), session present %d\n", p.connack.return_code,
           connack_text(p.connack.return_code), p.connack.session_present ? 1 : 0);
    if (p.connack.return_code != 0)
        return MQS_EXIT_FAIL;
    static const uint8_t disconnect[] = {0xe0, 0x00};
    (void)mqs_conn_write(c, disconnect, sizeof disconnect, deadline);
    return MQS_EXIT_OK;
}

int mqs_cmd_probe(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return MQS_EXIT_OK;
        }
    probe_opts o;
    int ex = parse(&o, argc, argv);
    if (ex != MQS_EXIT_OK)
        return ex;
    int64_t deadline = mqs_now_ms() + o.timeout_ms;
    mqs_conn *c = NULL;
    char err[512];
    if (mqs_conn_open(&o.ep.ep, deadline, NULL, NULL, &c, err, sizeof err) != MQS_NET_OK) {
        fprintf(stderr, "mqttspec probe: %s\n", err);
        return MQS_EXIT_UNREACHABLE;
    }
    ex = exchange(&o, c, deadline);
    mqs_conn_close(c, ex != MQS_EXIT_OK && ex != MQS_EXIT_FAIL);
    return ex;
}
