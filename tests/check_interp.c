/* The interpreter and oracle, against a scripted peer in a thread on 127.0.0.1:0 (no
 * broker, no network): verdicts and reasons for matches and mismatches, the oracle on
 * malformed packets, levels, one_of observations, closes, leftovers, variables, SKIP,
 * deadlines, password redaction in traces, and allocation failures anywhere. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "codec/mqtt.h"
#include "conformance/alloc.h"
#include "conformance/interp.h"
#include "conformance/report.h"
#include "conformance/runner.h"
#include "conformance/scenario.h"

/* ---- the scripted peer ---- */

typedef struct peer {
    int lfd;
    uint16_t port;
    pthread_t th;
    const char *reply[16]; /* per received packet type: hex to send, "close", "rst", or NULL */
    const char *greeting;  /* hex sent right after accept, or NULL */
    pthread_mutex_t lock;
    uint8_t got[65536]; /* every byte received, all connections */
    size_t n_got;
    volatile int stop;
    /* Connection threads, joined by peer_stop so none outlives the test (their fd is -1
     * once the thread closed it; a slot whose thread was joined is reused; guarded by lock). */
    pthread_t conn_th[64];
    int conn_fd[64];
    bool joined[64];
    size_t n_conn;
} peer;

static size_t unhex(const char *h, uint8_t *out, size_t cap)
{
    size_t n = 0;
    for (; h[0] && h[1] && n < cap; h += 2) {
        unsigned x;
        if (sscanf(h, "%2x", &x) != 1)
            break;
        out[n++] = (uint8_t)x;
    }
    return n;
}

static void send_hex(int fd, const char *h)
{
    uint8_t buf[512];
    size_t n = unhex(h, buf, sizeof buf);
    if (send(fd, buf, n, MSG_NOSIGNAL) < 0)
        return;
}

typedef struct conn_arg {
    peer *p;
    int fd;
    size_t slot;
} conn_arg;

/* Closes a connection's fd and marks its slot closed, so peer_stop leaves it alone. */
static void conn_close(peer *p, size_t slot, int fd)
{
    pthread_mutex_lock(&p->lock);
    p->conn_fd[slot] = -1;
    close(fd);
    pthread_mutex_unlock(&p->lock);
}

/* Answers each whole packet by its type. */
static void *conn_main(void *arg)
{
    conn_arg *ca = arg;
    peer *p = ca->p;
    int fd = ca->fd;
    size_t slot = ca->slot;
    free(ca);
    if (p->greeting)
        send_hex(fd, p->greeting);
    uint8_t buf[8192];
    size_t len = 0;
    for (;;) {
        ssize_t n = recv(fd, buf + len, sizeof buf - len, 0);
        if (n <= 0)
            break;
        pthread_mutex_lock(&p->lock);
        if (p->n_got + (size_t)n <= sizeof p->got) {
            memcpy(p->got + p->n_got, buf + len, (size_t)n);
            p->n_got += (size_t)n;
        }
        pthread_mutex_unlock(&p->lock);
        len += (size_t)n;
        uint8_t type, flags;
        uint32_t rem;
        size_t hdr;
        while (mqs_frame_peek(buf, len, 0, &type, &flags, &rem, &hdr, NULL) == MQS_OK &&
               len >= hdr + rem) {
            const char *r = p->reply[type & 15];
            memmove(buf, buf + hdr + rem, len - hdr - rem);
            len -= hdr + rem;
            if (r && !strcmp(r, "rst")) {
                struct linger lg = {1, 0};
                setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
                goto out;
            }
            if (r && !strcmp(r, "close"))
                goto out;
            if (r && !strcmp(r, "big")) { /* PUBLISH "a", 200000 bytes of the pattern */
                size_t plen = 200000;
                uint8_t *b = malloc(plen + 16);
                size_t k = 0;
                b[k++] = 0x30;
                uint32_t rl = (uint32_t)(3 + plen);
                do {
                    uint8_t byte = rl % 128;
                    rl /= 128;
                    b[k++] = (uint8_t)(byte | (rl ? 0x80 : 0));
                } while (rl);
                b[k++] = 0;
                b[k++] = 1;
                b[k++] = 'a';
                for (size_t i = 0; i < plen; i++)
                    b[k++] = (uint8_t)('a' + i % 26);
                for (size_t off = 0; off < k;) { /* in pieces, as a network would */
                    size_t piece = k - off < 7000 ? k - off : 7000;
                    if (send(fd, b + off, piece, MSG_NOSIGNAL) < 0)
                        break;
                    off += piece;
                }
                free(b);
                continue;
            }
            if (r)
                send_hex(fd, r);
        }
    }
out:
    conn_close(p, slot, fd);
    return NULL;
}

static void *peer_main(void *arg)
{
    peer *p = arg;
    while (!p->stop) {
        int fd = accept(p->lfd, NULL, NULL);
        if (fd < 0)
            break;
        pthread_mutex_lock(&p->lock);
        size_t slot = 0;
        while (slot < p->n_conn && !(p->conn_fd[slot] < 0 && !p->joined[slot]))
            slot++;
        if (slot < p->n_conn) { /* a finished connection: join it and reuse its slot */
            pthread_mutex_unlock(&p->lock);
            pthread_join(p->conn_th[slot], NULL);
            pthread_mutex_lock(&p->lock);
            p->joined[slot] = true;
        } else if (slot == sizeof p->conn_th / sizeof p->conn_th[0]) {
            pthread_mutex_unlock(&p->lock);
            close(fd);
            continue;
        }
        conn_arg *ca = malloc(sizeof *ca);
        ca->p = p;
        ca->fd = fd;
        ca->slot = slot;
        p->conn_fd[slot] = fd;
        if (pthread_create(&p->conn_th[slot], NULL, conn_main, ca) == 0) {
            p->joined[slot] = false;
            if (slot == p->n_conn)
                p->n_conn++;
        } else {
            p->conn_fd[slot] = -1;
            close(fd);
            free(ca);
        }
        pthread_mutex_unlock(&p->lock);
    }
    return NULL;
}

static void peer_start(peer *p)
{
    p->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(p->lfd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t al = sizeof a;
    getsockname(p->lfd, (struct sockaddr *)&a, &al);
    p->port = ntohs(a.sin_port);
    ck_assert_int_eq(listen(p->lfd, 16), 0);
    pthread_mutex_init(&p->lock, NULL);
    pthread_create(&p->th, NULL, peer_main, p);
}

static void peer_stop(peer *p)
{
    p->stop = 1;
    shutdown(p->lfd, SHUT_RDWR);
    close(p->lfd);
    pthread_join(p->th, NULL);
    /* Wake every connection thread still in recv, then wait for all of them. */
    pthread_mutex_lock(&p->lock);
    for (size_t i = 0; i < p->n_conn; i++)
        if (p->conn_fd[i] >= 0)
            shutdown(p->conn_fd[i], SHUT_RDWR);
    size_t n = p->n_conn;
    pthread_mutex_unlock(&p->lock);
    for (size_t i = 0; i < n; i++)
        if (!p->joined[i])
            pthread_join(p->conn_th[i], NULL);
    pthread_mutex_destroy(&p->lock);
}

/* A peer that behaves like a small correct broker for one client. */
static void broker_like(peer *p)
{
    memset(p, 0, sizeof *p);
    p->reply[MQS_CONNECT] = "20020000";
    p->reply[MQS_PINGREQ] = "d000";
    p->reply[MQS_SUBSCRIBE] = "9003000101";
    p->reply[MQS_PUBLISH] = "40020007";
    p->reply[MQS_DISCONNECT] = "close";
}

/* ---- running a case ---- */

static mqs_scenario *scenario(const char *level, const char *extra, const char *steps)
{
    char json[8192];
    snprintf(json, sizeof json,
             "{\"id\": \"qos.t\", \"title\": \"t\", \"area\": \"qos\", \"statements\": "
             "[\"MQS-test-1\", \"MQS-test-2\"], \"protocols\": [\"3.1\", \"3.1.1\"], "
             "\"level\": \"%s\", \"clients\": [\"a\", \"b\"], %s \"steps\": [%s]}",
             level, extra, steps);
    mqs_scenario *s;
    char err[512];
    int rc = mqs_scenario_load_buf("t", (const uint8_t *)json, strlen(json), &s, err, sizeof err);
    ck_assert_msg(rc == 0, "%s", err);
    return s;
}

typedef struct outcome {
    mqs_case_result res;
    int rc;
} outcome;

/* Runs s against the peer as case 1 of run "testtokn"; cancelled may be NULL. */
static void run_case_cancel(peer *p, mqs_scenario *s, const char *user, const char *pass,
                            double factor, mqs_cancel_fn cancelled, outcome *o)
{
    mqs_endpoint ep = {.transport = MQS_TR_TCP, .host = "127.0.0.1", .port = p->port};
    mqs_case_opts co = {.ep = &ep,
                        .proto = MQS_PROTO_311,
                        .timeout_factor = factor,
                        .username = user,
                        .password = pass,
                        .token = "testtokn",
                        .case_index = 1,
                        .cancelled = cancelled,
                        .cancel_ud = p};
    memset(&o->res, 0, sizeof o->res);
    co.skip_reason = mqs_case_requirement_missing(s, &co, false);
    o->rc = mqs_case_run(s, &co, &o->res);
}

static void run_case(peer *p, mqs_scenario *s, const char *user, const char *pass, double factor,
                     outcome *o)
{
    run_case_cancel(p, s, user, pass, factor, NULL, o);
}

static void expect_verdict(const outcome *o, mqs_verdict v, const char *reason_part)
{
    ck_assert_int_eq(o->rc, 0);
    ck_assert_msg(o->res.verdict == v, "verdict %s, want %s (reason: %s)",
                  mqs_verdict_name((int)o->res.verdict), mqs_verdict_name((int)v),
                  o->res.reason ? o->res.reason : "(none)");
    if (reason_part)
        ck_assert_msg(o->res.reason && strstr(o->res.reason, reason_part),
                      "'%s' not in reason '%s'", reason_part,
                      o->res.reason ? o->res.reason : "(none)");
    else
        ck_assert_msg(o->res.reason == NULL, "unexpected reason %s", o->res.reason);
}

#define CONNECT_A "{\"op\": \"connect\", \"client\": \"a\"}"

typedef struct vcase {
    const char *name;
    const char *level;
    const char *extra;
    const char *steps;
    const char *reply_type_hex[3]; /* "TT:hex" overrides of the broker-like peer */
    const char *greeting;
    mqs_verdict want;
    const char *reason;
    const char *rule;
} vcase;

static const vcase vcases[] = {
    {"pass",
     "MUST",
     "",
     CONNECT_A ", {\"op\": \"ping\", \"client\": \"a\"}, "
               "{\"op\": \"disconnect\", \"client\": \"a\"}",
     {NULL},
     NULL,
     MQS_VERDICT_PASS,
     NULL,
     NULL},
    {"mismatch",
     "MUST",
     "",
     CONNECT_A,
     {"01:20020005"},
     NULL,
     MQS_VERDICT_FAIL,
     "step 1: expected CONNACK rc=0 on client a, got CONNACK rc=5 session_present=0 (return "
     "code is 5, expected 0)",
     "MQS-test-1"},
    {"step rule",
     "MUST",
     "",
     "{\"op\": \"connect\", \"client\": \"a\", \"rule\": \"MQTT-3.2.2-4\"}",
     {"01:20020005"},
     NULL,
     MQS_VERDICT_FAIL,
     "return code is 5",
     "MQTT-3.2.2-4"},
    {"should",
     "MUST",
     "",
     "{\"op\": \"connect\", \"client\": \"a\", \"level\": \"SHOULD\"}",
     {"01:20020005"},
     NULL,
     MQS_VERDICT_WARN,
     "return code is 5",
     NULL},
    {"info level",
     "INFO",
     "",
     CONNECT_A,
     {"01:20020005"},
     NULL,
     MQS_VERDICT_INFO,
     "return code is 5",
     NULL},
    {"oracle beats level",
     "INFO",
     "",
     CONNECT_A,
     {"01:21020000"},
     NULL,
     MQS_VERDICT_FAIL,
     "the broker sent a malformed CONNACK packet to client a",
     "MQTT-2.2.2-1"},
    {"oracle while expecting silence",
     "MUST",
     "",
     CONNECT_A ", {\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"PINGREQ\"}}, "
               "{\"op\": \"expect_none\", \"client\": \"a\", \"ms\": 2000}",
     {"12:3000"},
     NULL,
     MQS_VERDICT_FAIL,
     "malformed PUBLISH",
     NULL},
    {"garbage",
     "MUST",
     "",
     CONNECT_A,
     {"01:ffffffffffff"},
     NULL,
     MQS_VERDICT_FAIL,
     "malformed fixed header",
     NULL},
    {"timeout",
     "MUST",
     "",
     CONNECT_A ", {\"op\": \"ping\", \"client\": \"a\", \"timeout_ms\": 200}",
     {"12:"},
     NULL,
     MQS_VERDICT_FAIL,
     "no packet within 200 ms on client a (expected PINGRESP)",
     NULL},
    {"closed while waiting",
     "MUST",
     "",
     CONNECT_A ", {\"op\": \"ping\", \"client\": \"a\"}",
     {"12:close"},
     NULL,
     MQS_VERDICT_FAIL,
     "connection closed by the broker while client a waited for PINGRESP",
     NULL},
    {"expect closed",
     "MUST",
     "",
     "{\"op\": \"connect\", \"client\": \"a\", \"timeout_ms\": 300, \"expect\": "
     "{\"closed\": true, \"allow\": [\"CONNACK\"]}}",
     {"01:20020001"},
     NULL,
     MQS_VERDICT_FAIL,
     "did not close the connection of client a within 300 ms",
     NULL},
    {"expect closed ok",
     "MUST",
     "",
     "{\"op\": \"connect\", \"client\": \"a\", \"expect\": {\"closed\": true, \"allow\": "
     "[\"CONNACK\"]}}",
     {"01:close"},
     NULL,
     MQS_VERDICT_PASS,
     NULL,
     NULL},
    {"closed but packet",
     "MUST",
     "",
     "{\"op\": \"connect\", \"client\": \"a\", \"expect\": {\"closed\": true}}",
     {NULL},
     NULL,
     MQS_VERDICT_FAIL,
     "expected the broker to close the connection of client a, got CONNACK",
     NULL},
    {"none ok",
     "MUST",
     "",
     CONNECT_A ", {\"op\": \"expect_none\", \"client\": \"a\", \"ms\": 200}",
     {NULL},
     NULL,
     MQS_VERDICT_PASS,
     NULL,
     NULL},
    {"none got packet",
     "MUST",
     "",
     CONNECT_A ", {\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"PINGREQ\"}}, "
               "{\"op\": \"expect_none\", \"client\": \"a\", \"ms\": 2000}",
     {NULL},
     NULL,
     MQS_VERDICT_FAIL,
     "expected no packet on client a for 2000 ms, got PINGRESP",
     NULL},
    {"none with a filter ignores other packets",
     "MUST",
     "",
     CONNECT_A ", {\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"PINGREQ\"}}, "
               "{\"op\": \"expect_none\", \"client\": \"a\", \"ms\": 200, \"packet\": "
               "{\"type\": \"PUBLISH\", \"topic\": \"x\"}}",
     {NULL},
     NULL,
     MQS_VERDICT_PASS,
     NULL,
     NULL},
    {"none with a filter fails on a match",
     "MUST",
     "",
     CONNECT_A ", {\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"PINGREQ\"}}, "
               "{\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"PUBREL\"}}, "
               "{\"op\": \"expect_none\", \"client\": \"a\", \"ms\": 2000, \"packet\": "
               "{\"type\": \"PUBCOMP\"}}",
     {"06:70020001", NULL},
     NULL,
     MQS_VERDICT_FAIL,
     "expected no PUBCOMP on client a for 2000 ms, got PUBCOMP id=1",
     NULL},
    {"foreign malformed PUBLISH not judged behind a filter",
     "MUST",
     "\"allow_extra\": true,",
     CONNECT_A ", {\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"PINGREQ\"}}, "
               "{\"op\": \"expect_none\", \"client\": \"a\", \"ms\": 200, \"packet\": "
               "{\"type\": \"PUBLISH\", \"topic\": \"zz\"}}",
     {"12:30050001007878d000", NULL},
     NULL,
     MQS_VERDICT_PASS,
     NULL,
     NULL},
    {"malformed PUBLISH judged without a filter",
     "MUST",
     "",
     CONNECT_A ", {\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"PINGREQ\"}}, "
               "{\"op\": \"expect\", \"client\": \"a\", \"packet\": {\"type\": \"PINGRESP\"}}",
     {"12:30050001007878d000", NULL},
     NULL,
     MQS_VERDICT_FAIL,
     "the broker sent a malformed PUBLISH packet to client a",
     NULL},
    {"observe",
     "MUST",
     "",
     CONNECT_A ", {\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"PINGREQ\"}}, "
               "{\"op\": \"expect\", \"client\": \"a\", \"observe\": true, \"one_of\": ["
               "{\"packet\": {\"type\": \"PUBACK\"}, \"label\": \"acked\"},"
               "{\"packet\": {\"type\": \"PINGRESP\"}, \"label\": \"pinged back\"}]}",
     {NULL},
     NULL,
     MQS_VERDICT_INFO,
     "step 3: pinged back",
     NULL},
    {"any order saves from the first spec",
     "MUST",
     "",
     CONNECT_A ", {\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"SUBSCRIBE\", "
               "\"packet_id\": 1, \"subscriptions\": [{\"filter\": \"a\", \"qos\": 1}]}}, "
               "{\"op\": \"expect\", \"client\": \"a\", \"any_order\": true, \"save\": "
               "{\"packet_id\": \"p\"}, \"packets\": [{\"type\": \"PUBLISH\", \"qos\": 1}, "
               "{\"type\": \"SUBACK\"}]}, "
               "{\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"PUBACK\", "
               "\"packet_id\": \"${var:p}\"}}, "
               "{\"op\": \"expect\", \"client\": \"a\", \"packet\": {\"type\": \"PUBACK\", "
               "\"packet_id\": \"${var:p}\"}}",
     {"08:90030001013206000161000778", "04:40020007", NULL},
     NULL,
     MQS_VERDICT_PASS,
     NULL,
     NULL},
    {"one_of end",
     "MUST",
     "",
     CONNECT_A ", {\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"PINGREQ\"}}, "
               "{\"op\": \"expect\", \"client\": \"a\", \"one_of\": ["
               "{\"packet\": {\"type\": \"PUBACK\"}, \"label\": \"acked\"},"
               "{\"packet\": {\"type\": \"PINGRESP\"}, \"label\": \"pinged\", \"end\": true}]}, "
               "{\"op\": \"expect\", \"client\": \"a\", \"timeout_ms\": 100, \"packet\": "
               "{\"type\": \"PUBACK\"}}",
     {"12:d0003003000161", NULL},
     NULL,
     MQS_VERDICT_INFO,
     "step 3: pinged (the remaining steps do not apply)",
     NULL},
    {"one_of end not chosen",
     "MUST",
     "",
     CONNECT_A ", {\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"PINGREQ\"}}, "
               "{\"op\": \"expect\", \"client\": \"a\", \"one_of\": ["
               "{\"packet\": {\"type\": \"PUBACK\"}, \"label\": \"acked\", \"end\": true},"
               "{\"packet\": {\"type\": \"PINGRESP\"}, \"label\": \"pinged\"}]}, "
               "{\"op\": \"expect\", \"client\": \"a\", \"timeout_ms\": 100, \"packet\": "
               "{\"type\": \"PUBACK\"}}",
     {NULL},
     NULL,
     MQS_VERDICT_FAIL,
     "no packet within 100 ms on client a (expected PUBACK)",
     NULL},
    {"one_of none",
     "MUST",
     "",
     CONNECT_A ", {\"op\": \"expect\", \"client\": \"a\", \"observe\": true, \"one_of\": ["
               "{\"packet\": {\"type\": \"PUBACK\"}}, {\"none\": true, \"ms\": 200, \"label\": "
               "\"quiet\"}]}",
     {NULL},
     NULL,
     MQS_VERDICT_INFO,
     "quiet",
     NULL},
    {"one_of closed after allowed",
     "MUST",
     "",
     "{\"op\": \"connect\", \"client\": \"a\", \"timeout_ms\": 300, \"expect\": {\"one_of\": "
     "[{\"packet\": {\"return_code\": 2}}, {\"closed\": true, \"allow\": [\"CONNACK\"], "
     "\"label\": \"c\"}], \"observe\": true}}",
     {"01:20020001", NULL},
     NULL,
     MQS_VERDICT_FAIL,
     "the broker did not close the connection of client a within 300 ms",
     NULL},
    {"one_of nothing matches",
     "MUST",
     "",
     "{\"op\": \"connect\", \"client\": \"a\", \"expect\": {\"one_of\": [{\"packet\": "
     "{\"return_code\": 2}}, {\"closed\": true}]}}",
     {NULL},
     NULL,
     MQS_VERDICT_FAIL,
     "expected one of: CONNACK rc=2 | the connection closed on client a, got CONNACK",
     NULL},
    {"any order",
     "MUST",
     "",
     CONNECT_A ", {\"op\": \"send\", \"client\": \"a\", \"hex\": \"c000\"}, "
               "{\"op\": \"expect\", \"client\": \"a\", \"any_order\": true, \"packets\": "
               "[{\"type\": \"PINGRESP\"}, {\"type\": \"PUBREC\"}]}",
     {"01:2002000040020001"},
     NULL,
     MQS_VERDICT_FAIL,
     "got PUBACK id=1 on client a, which matches none of: PINGRESP; PUBREC",
     NULL},
    {"any order short",
     "MUST",
     "",
     CONNECT_A ", {\"op\": \"send\", \"client\": \"a\", \"hex\": \"c000\"}, "
               "{\"op\": \"expect\", \"client\": \"a\", \"any_order\": true, \"timeout_ms\": 200, "
               "\"packets\": [{\"type\": \"PINGRESP\"}, {\"type\": \"PUBACK\", \"packet_id\": 1}, "
               "{\"type\": \"PUBREC\"}]}",
     {"01:2002000040020001"},
     NULL,
     MQS_VERDICT_FAIL,
     "no packet within 200 ms on client a (expected PUBREC (2 of the 3 packets arrived))",
     NULL},
    {"any order ok",
     "MUST",
     "",
     CONNECT_A ", {\"op\": \"send\", \"client\": \"a\", \"hex\": \"c000\"}, "
               "{\"op\": \"expect\", \"client\": \"a\", \"any_order\": true, \"packets\": "
               "[{\"type\": \"PINGRESP\"}, {\"type\": \"PUBACK\", \"packet_id\": 1}]}",
     {"01:2002000040020001"},
     NULL,
     MQS_VERDICT_PASS,
     NULL,
     NULL},
    {"leftover publish",
     "MUST",
     "",
     CONNECT_A ", {\"op\": \"ping\", \"client\": \"a\"}",
     {"12:d0003003000161"},
     NULL,
     MQS_VERDICT_FAIL,
     "client a received PUBLISH qos=0 topic=\"a\" payload=\"\", which no step expected",
     NULL},
    {"leftover allowed",
     "MUST",
     "\"allow_extra\": true,",
     CONNECT_A ", {\"op\": \"ping\", \"client\": \"a\"}",
     {"12:d0003003000161"},
     NULL,
     MQS_VERDICT_PASS,
     NULL,
     NULL},
    {"save and var",
     "MUST",
     "",
     CONNECT_A ", {\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"PINGREQ\"}}, "
               "{\"op\": \"expect\", \"client\": \"a\", \"packet\": {\"type\": \"PUBLISH\", "
               "\"qos\": 1}, \"save\": {\"packet_id\": \"p\"}},"
               "{\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"PUBACK\", "
               "\"packet_id\": \"${var:p}\"}},"
               "{\"op\": \"expect\", \"client\": \"a\", \"packet\": {\"type\": \"PUBACK\", "
               "\"packet_id\": \"${var:p}\"}}",
     {"12:320500016100"
      "4d",
      "04:4002004d"},
     NULL,
     MQS_VERDICT_PASS,
     NULL,
     NULL},
    {"undefined var",
     "MUST",
     "",
     CONNECT_A ", {\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"PUBACK\", "
               "\"packet_id\": \"${var:nope}\"}}",
     {NULL},
     NULL,
     MQS_VERDICT_ERROR,
     "${var:nope} is not defined",
     NULL},
    {"not connected",
     "MUST",
     "",
     "{\"op\": \"ping\", \"client\": \"b\"}",
     {NULL},
     NULL,
     MQS_VERDICT_ERROR,
     "client b is not connected",
     NULL},
    {"still connected",
     "MUST",
     "",
     CONNECT_A ", " CONNECT_A,
     {NULL},
     NULL,
     MQS_VERDICT_ERROR,
     "client a is still connected",
     NULL},
    {"deadline",
     "MUST",
     "\"timeout_ms\": 300,",
     CONNECT_A ", {\"op\": \"wait\", \"ms\": 1000}",
     {NULL},
     NULL,
     MQS_VERDICT_ERROR,
     "the scenario deadline (300 ms) passed",
     NULL},
    {"send after close",
     "MUST",
     "",
     CONNECT_A ", {\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"PINGREQ\"}}, "
               "{\"op\": \"expect_closed\", \"client\": \"a\"}, "
               "{\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"PINGREQ\"}}, "
               "{\"op\": \"expect_closed\", \"client\": \"a\"}",
     {"12:close"},
     NULL,
     MQS_VERDICT_PASS,
     NULL,
     NULL},
    {"pipelined packets",
     "MUST",
     "",
     CONNECT_A ", {\"op\": \"send\", \"client\": \"a\", \"packets\": [{\"type\": \"PINGREQ\"}, "
               "{\"type\": \"PINGREQ\"}]}, "
               "{\"op\": \"expect\", \"client\": \"a\", \"packet\": {\"type\": \"PINGRESP\"}}, "
               "{\"op\": \"expect\", \"client\": \"a\", \"packet\": {\"type\": \"PINGRESP\"}}",
     {NULL},
     NULL,
     MQS_VERDICT_PASS,
     NULL,
     NULL},
    {"large frame",
     "MUST",
     "",
     CONNECT_A ", {\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"PINGREQ\"}}, "
               "{\"op\": \"expect\", \"client\": \"a\", \"packet\": {\"type\": \"PUBLISH\", "
               "\"topic\": \"a\", \"payload_size\": 200000}}",
     {"12:big"},
     NULL,
     MQS_VERDICT_PASS,
     NULL,
     NULL},
    {"split",
     "MUST",
     "",
     CONNECT_A ", {\"op\": \"send\", \"client\": \"a\", \"hex\": \"c000\", \"split\": [1]}, "
               "{\"op\": \"expect\", \"client\": \"a\", \"packet\": {\"type\": \"PINGRESP\"}}",
     {NULL},
     NULL,
     MQS_VERDICT_PASS,
     NULL,
     NULL},
    {"only other version",
     "MUST",
     "",
     CONNECT_A ", {\"op\": \"ping\", \"client\": \"b\", \"only\": \"3.1\"}",
     {NULL},
     NULL,
     MQS_VERDICT_PASS,
     NULL,
     NULL},
};

static void configure(peer *p, const vcase *c)
{
    broker_like(p);
    p->greeting = c->greeting;
    for (int i = 0; i < 3 && c->reply_type_hex[i]; i++) {
        int type = atoi(c->reply_type_hex[i]);
        const char *h = strchr(c->reply_type_hex[i], ':') + 1;
        p->reply[type] = *h ? h : NULL;
    }
}

START_TEST(verdicts)
{
    const vcase *c = &vcases[_i];
    peer p;
    configure(&p, c);
    peer_start(&p);
    mqs_scenario *s = scenario(c->level, c->extra, c->steps);
    outcome o;
    run_case(&p, s, NULL, NULL, 1.0, &o);
    expect_verdict(&o, c->want, c->reason);
    if (c->rule)
        ck_assert_str_eq(o.res.failed_rule, c->rule);
    ck_assert_str_eq(o.res.id, "qos.t");
    ck_assert_str_eq(o.res.protocol, "3.1.1");
    ck_assert_str_eq(o.res.transport, "tcp");
    ck_assert_uint_eq(o.res.n_statements, 2);
    ck_assert_uint_gt(o.res.n_trace, 0);
    mqs_case_result_free(&o.res);
    mqs_scenario_free(s);
    peer_stop(&p);
}
END_TEST

START_TEST(skip_requirements)
{
    peer p;
    broker_like(&p);
    peer_start(&p);
    mqs_scenario *s = scenario("MUST", "\"requires\": [\"credentials\"],", CONNECT_A);
    outcome o;
    run_case(&p, s, NULL, NULL, 1.0, &o);
    expect_verdict(&o, MQS_VERDICT_SKIP, "needs credentials");
    ck_assert_uint_eq(o.res.n_trace, 0);
    mqs_case_result_free(&o.res);
    run_case(&p, s, "user", "pw", 1.0, &o);
    expect_verdict(&o, MQS_VERDICT_PASS, NULL);
    mqs_case_result_free(&o.res);
    mqs_scenario_free(s);
    peer_stop(&p);
}
END_TEST

/* The password never appears in the trace: bytes are starred, text says ***. */
START_TEST(password_redacted)
{
    peer p;
    broker_like(&p);
    peer_start(&p);
    mqs_scenario *s = scenario("MUST", "", CONNECT_A);
    outcome o;
    run_case(&p, s, "alice", "s3cr3t-pw", 1.0, &o);
    expect_verdict(&o, MQS_VERDICT_PASS, NULL);
    bool saw_connect = false;
    for (size_t i = 0; i < o.res.n_trace; i++) {
        const mqs_trace_entry *e = &o.res.trace[i];
        ck_assert_ptr_null(strstr(e->text, "s3cr3t"));
        for (size_t k = 0; e->bytes && k + 6 <= e->len; k++)
            ck_assert(memcmp(e->bytes + k, "s3cr3t", 6) != 0);
        if (strstr(e->text, "CONNECT") == e->text) {
            saw_connect = true;
            ck_assert_ptr_nonnull(strstr(e->text, "password=***"));
            ck_assert_ptr_nonnull(strstr(e->text, "username=\"alice\""));
        }
    }
    ck_assert(saw_connect);
    /* ... while the peer did receive it */
    bool found = false;
    for (size_t k = 0; k + 6 <= p.n_got; k++)
        found |= memcmp(p.got + k, "s3cr3t", 6) == 0;
    ck_assert(found);
    mqs_case_result_free(&o.res);
    mqs_scenario_free(s);
    peer_stop(&p);
}
END_TEST

/* A retained topic with U+0000 and a bad UTF-8 byte is cleared with its exact bytes (a
 * lenient broker may have stored it), and the trace shows it escaped. */
START_TEST(cleanup_malformed_topic)
{
    peer p;
    broker_like(&p);
    peer_start(&p);
    mqs_scenario *s = scenario("MUST", "",
                               CONNECT_A ", {\"op\": \"send\", \"client\": \"a\", \"hex\": "
                                         "\"31 06 00 04 61 00 62 ff\"}, {\"op\": \"ping\", "
                                         "\"client\": \"a\"}");
    outcome o;
    run_case(&p, s, NULL, NULL, 1.0, &o);
    bool cleared = false;
    for (size_t i = 0; i < o.res.n_trace; i++)
        cleared |= strstr(o.res.trace[i].text, "cleared the retained message of a\\x00b\\xff") != NULL;
    ck_assert_msg(cleared, "the malformed topic was not cleared");
    /* the clearing PUBLISH: QoS 1, retain, topic a\0b\xff, empty payload */
    static const uint8_t clear[] = {0x33, 0x08, 0x00, 0x04, 'a', 0x00, 'b', 0xff, 0x00, 0x01};
    bool sent = false;
    for (size_t k = 0; k + sizeof clear <= p.n_got; k++)
        sent |= memcmp(p.got + k, clear, sizeof clear) == 0;
    ck_assert(sent);
    mqs_case_result_free(&o.res);
    mqs_scenario_free(s);
    peer_stop(&p);
}
END_TEST

/* The cleanup: a retained PUBLISH and a clean_session 0 client are undone afterwards. */
START_TEST(cleanup_runs)
{
    peer p;
    broker_like(&p);
    peer_start(&p);
    mqs_scenario *s =
        scenario("MUST", "",
                 "{\"op\": \"connect\", \"client\": \"a\", \"clean_session\": false}, "
                 "{\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"PUBLISH\", "
                 "\"retain\": true, \"topic\": \"${topic}r\", \"payload\": \"x\"}}, "
                 "{\"op\": \"connect\", \"client\": \"b\", \"expect\": {\"return_code\": 9}}");
    outcome o;
    run_case(&p, s, NULL, NULL, 1.0, &o);
    expect_verdict(&o, MQS_VERDICT_FAIL, "return code is 0, expected 9");
    bool cleared = false, discarded = false;
    for (size_t i = 0; i < o.res.n_trace; i++) {
        cleared |= strstr(o.res.trace[i].text,
                          "cleared the retained message of mqs/testtokn/0001/r") != NULL;
        discarded |= strstr(o.res.trace[i].text,
                            "discarded the session of client id mqstesttokn000100") != NULL;
    }
    ck_assert_msg(cleared && discarded, "cleanup not in the trace");
    mqs_case_result_free(&o.res);
    mqs_scenario_free(s);
    peer_stop(&p);
}
END_TEST

/* Every allocation of a case may fail: the case ends (ERROR or its verdict), no crash,
 * no leak (ASan run). */
START_TEST(allocation_failures)
{
    peer p;
    broker_like(&p);
    peer_start(&p);
    mqs_scenario *s = scenario("MUST", "",
                               CONNECT_A ", {\"op\": \"ping\", \"client\": \"a\"}, "
                                         "{\"op\": \"send\", \"client\": \"a\", \"packet\": "
                                         "{\"type\": \"PUBLISH\", \"retain\": true, \"topic\": "
                                         "\"${topic}r\", \"payload\": \"x\"}}");
    int ok = 0;
    for (long n = 0; n < 400; n += 3) {
        outcome o;
        mqs_alloc_fail_after(n);
        run_case(&p, s, NULL, NULL, 1.0, &o);
        mqs_alloc_fail_after(-1);
        if (o.rc == 0 && o.res.verdict == MQS_VERDICT_PASS)
            ok++;
        else
            ck_assert(o.rc == -1 || o.res.verdict == MQS_VERDICT_ERROR);
        mqs_case_result_free(&o.res);
    }
    ck_assert_int_gt(ok, 0);
    mqs_scenario_free(s);
    peer_stop(&p);
}
END_TEST

/* "exact" steps keep their times whatever --timeout says; others scale. */
START_TEST(exact_times)
{
    peer p;
    broker_like(&p);
    peer_start(&p);
    mqs_scenario *s = scenario("MUST", "",
                               CONNECT_A ", {\"op\": \"wait\", \"ms\": 100, \"exact\": true}, "
                                         "{\"op\": \"expect_none\", \"client\": \"a\", "
                                         "\"ms\": 100, \"exact\": true}");
    outcome o;
    run_case(&p, s, NULL, NULL, 20.0, &o);
    expect_verdict(&o, MQS_VERDICT_PASS, NULL);
    /* 200 ms exact; scaled by 20 they would be 4 s. The margin is for a loaded machine. */
    ck_assert_msg(o.res.duration_ms < 3500, "took %.0f ms", o.res.duration_ms);
    mqs_case_result_free(&o.res);
    mqs_scenario_free(s);
    s = scenario("MUST", "", CONNECT_A ", {\"op\": \"wait\", \"ms\": 100}");
    run_case(&p, s, NULL, NULL, 5.0, &o);
    expect_verdict(&o, MQS_VERDICT_PASS, NULL);
    ck_assert_msg(o.res.duration_ms >= 480, "took %.0f ms", o.res.duration_ms);
    mqs_case_result_free(&o.res);
    mqs_scenario_free(s);
    peer_stop(&p);
}
END_TEST

/* ---- the runner ---- */

static void count_progress(void *ud, const mqs_case_result *r, size_t done, size_t total)
{
    size_t *calls = ud;
    (*calls)++;
    ck_assert_ptr_nonnull(r->id);
    ck_assert_uint_le(done, total);
}

/* Scenarios qos.r0, qos.r1, ... with the given steps. */
static void runner_set_of(mqs_scenario_set *set, const char *const *steps, int n)
{
    memset(set, 0, sizeof *set);
    for (int i = 0; i < n; i++) {
        char json[2048];
        snprintf(json, sizeof json,
                 "{\"id\": \"qos.r%d\", \"title\": \"t\", \"area\": \"qos\", "
                 "\"statements\": [\"MQS-test-1\"], \"protocols\": [\"3.1\", \"3.1.1\"], "
                 "\"level\": \"MUST\", \"clients\": [\"a\", \"b\"], \"steps\": [%s]}",
                 i, steps[i]);
        mqs_scenario *sc;
        char err[256];
        ck_assert_int_eq(
            mqs_scenario_load_buf("t", (const uint8_t *)json, strlen(json), &sc, err, sizeof err),
            0);
        set->items = realloc(set->items, (set->n + 1) * sizeof *set->items);
        set->items[set->n++] = sc;
    }
}

static void runner_set(mqs_scenario_set *set)
{
    const char *const steps[] = {CONNECT_A ", {\"op\": \"ping\", \"client\": \"a\"}",
                                 "{\"op\": \"connect\", \"client\": \"b\", \"expect\": "
                                 "{\"return_code\": 5}}"};
    runner_set_of(set, steps, 2);
}

static void runner_set_free(mqs_scenario_set *set)
{
    for (size_t i = 0; i < set->n; i++)
        mqs_scenario_free(set->items[i]);
    free(set->items);
}

/* ---- interruption (Ctrl-C) ---- */

/* Steps that leave a retained message on the broker, then wait 10 s. */
#define HOLD_STEPS                                                                                 \
    CONNECT_A ", {\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"PUBLISH\", "       \
              "\"retain\": true, \"topic\": \"${topic}held\", \"payload\": \"x\"}}, "              \
              "{\"op\": \"wait\", \"ms\": 10000}"

/* Cancel callback: true once the peer received the retained PUBLISH of HOLD_STEPS. */
static bool peer_got_held(void *ud)
{
    peer *p = ud;
    static const char held[] = "/held";
    bool seen = false;
    pthread_mutex_lock(&p->lock);
    for (size_t k = 0; !seen && k + sizeof held - 1 <= p->n_got; k++)
        seen = memcmp(p->got + k, held, sizeof held - 1) == 0;
    pthread_mutex_unlock(&p->lock);
    return seen;
}

static bool trace_has(const mqs_case_result *r, const char *text)
{
    for (size_t i = 0; i < r->n_trace; i++)
        if (strstr(r->trace[i].text, text))
            return true;
    return false;
}

/* A cancelled case stops waiting at once, is ERROR "interrupted", and still cleans up. */
START_TEST(interrupted_case)
{
    peer p;
    broker_like(&p);
    peer_start(&p);
    mqs_scenario *s = scenario("MUST", "", HOLD_STEPS);
    outcome o;
    run_case_cancel(&p, s, NULL, NULL, 1.0, peer_got_held, &o);
    expect_verdict(&o, MQS_VERDICT_ERROR, "interrupted at step 3 (the run was stopped)");
    ck_assert_ptr_eq(strstr(o.res.reason, "interrupted"), o.res.reason);
    ck_assert_msg(o.res.duration_ms < 5000, "took %.0f ms of a 10 s wait", o.res.duration_ms);
    ck_assert(trace_has(&o.res, "cleared the retained message of mqs/testtokn/0001/held"));
    mqs_case_result_free(&o.res);
    mqs_scenario_free(s);
    peer_stop(&p);
}
END_TEST

static bool always(void *ud)
{
    (void)ud;
    return true;
}

/* Cancelled before it starts: the case runs no step and is ERROR "interrupted". */
START_TEST(interrupted_before_start)
{
    peer p;
    broker_like(&p);
    peer_start(&p);
    mqs_scenario *s = scenario("MUST", "", CONNECT_A);
    outcome o;
    run_case_cancel(&p, s, NULL, NULL, 1.0, always, &o);
    expect_verdict(&o, MQS_VERDICT_ERROR, "interrupted at step 1 (the run was stopped)");
    ck_assert(!trace_has(&o.res, "connected"));
    mqs_case_result_free(&o.res);
    mqs_scenario_free(s);
    peer_stop(&p);
}
END_TEST

/* A cancelled run starts no new case and reports the ones that started. */
START_TEST(runner_cancelled)
{
    peer p;
    broker_like(&p);
    peer_start(&p);
    mqs_scenario_set set;
    const char *const steps[] = {HOLD_STEPS, CONNECT_A, CONNECT_A};
    runner_set_of(&set, steps, 3);
    mqs_endpoint ep = {.transport = MQS_TR_TCP, .host = "127.0.0.1", .port = p.port};
    mqs_run_opts o = {.endpoints = &ep,
                      .n_endpoints = 1,
                      .protocols = MQS_PROTO_311,
                      .jobs = 1,
                      .timeout_factor = 0.2,
                      .cancelled = peer_got_held,
                      .cancel_ud = &p};
    mqs_report rep;
    memset(&rep, 0, sizeof rep);
    char err[256];
    int64_t t0 = mqs_now_ms();
    ck_assert_int_eq(mqs_run(&set, &o, &rep, err, sizeof err), MQS_RUN_OK);
    ck_assert_msg(mqs_now_ms() - t0 < 5000, "took %lld ms", (long long)(mqs_now_ms() - t0));
    ck_assert(rep.interrupted);
    ck_assert_uint_eq(rep.n_cases, 1);
    ck_assert_str_eq(rep.cases[0].id, "qos.r0");
    ck_assert_int_eq(rep.cases[0].verdict, MQS_VERDICT_ERROR);
    ck_assert_ptr_eq(strstr(rep.cases[0].reason, "interrupted at step 3"), rep.cases[0].reason);
    ck_assert_uint_eq(rep.counts[MQS_VERDICT_ERROR], 1);
    ck_assert_uint_eq(rep.counts[MQS_VERDICT_PASS], 0);
    /* report.json says so, and reads back */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_int_eq(mqs_report_write_json(&rep, f), 0);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(text, "\"interrupted\":\ttrue"));
    mqs_report back;
    ck_assert_int_eq(mqs_report_parse_json(text, len, &back, err, sizeof err), 0);
    ck_assert(back.interrupted);
    ck_assert_uint_eq(back.n_cases, 1);
    mqs_report_free(&back);
    free(text);
    mqs_report_free(&rep);
    runner_set_free(&set);
    peer_stop(&p);
}
END_TEST

START_TEST(runner_runs_cases)
{
    peer p;
    broker_like(&p);
    peer_start(&p);
    mqs_scenario_set set;
    runner_set(&set);
    mqs_endpoint ep = {.transport = MQS_TR_TCP, .host = "127.0.0.1", .port = p.port};
    size_t calls = 0;
    const char *filters[] = {"qos.*"};
    mqs_run_opts o = {.endpoints = &ep,
                      .n_endpoints = 1,
                      .protocols = MQS_PROTO_31 | MQS_PROTO_311,
                      .jobs = 3,
                      .timeout_factor = 0.2, /* the probe waits 1 s x 0.2 for $SYS */
                      .filters = filters,
                      .n_filters = 1,
                      .tool_version = "9.9",
                      .progress = count_progress,
                      .progress_ud = &calls};
    ck_assert_uint_eq(mqs_run_count(&set, &o), 4);
    mqs_report rep;
    memset(&rep, 0, sizeof rep);
    char err[256];
    ck_assert_int_eq(mqs_run(&set, &o, &rep, err, sizeof err), MQS_RUN_OK);
    ck_assert_uint_eq(calls, 4);
    ck_assert_uint_eq(rep.n_cases, 4);
    ck_assert_uint_eq(rep.counts[MQS_VERDICT_PASS], 2);
    ck_assert_uint_eq(rep.counts[MQS_VERDICT_FAIL], 2);
    ck_assert_str_eq(rep.cases[0].id, "qos.r0"); /* report order: scenario, then version */
    ck_assert_str_eq(rep.cases[0].protocol, "3.1.1");
    ck_assert_str_eq(rep.cases[1].protocol, "3.1");
    ck_assert_str_eq(rep.cases[3].id, "qos.r1");
    ck_assert_str_eq(rep.tool_version, "9.9");
    ck_assert_uint_eq(rep.n_protocols, 2);
    ck_assert_str_eq(rep.transports[0], "tcp");
    char want[64];
    snprintf(want, sizeof want, "tcp://127.0.0.1:%u", p.port);
    ck_assert_str_eq(rep.target, want);
    ck_assert_ptr_nonnull(rep.started_at);
    mqs_report_free(&rep);
    runner_set_free(&set);
    peer_stop(&p);
}
END_TEST

static void order_progress(void *ud, const mqs_case_result *r, size_t done, size_t total)
{
    char *order = ud; /* the last character of each finished case's id, in finishing order */
    (void)total;
    order[done - 1] = r->id[strlen(r->id) - 1];
}

/* A scenario marked "alone" runs after every other case, whatever the report order. */
START_TEST(runner_alone_last)
{
    peer p;
    broker_like(&p);
    peer_start(&p);
    mqs_scenario_set set;
    memset(&set, 0, sizeof set);
    for (int i = 0; i < 3; i++) {
        char json[1024];
        snprintf(json, sizeof json,
                 "{\"id\": \"qos.r%d\", \"title\": \"t\", \"area\": \"qos\", "
                 "\"statements\": [\"MQTT-3.1.0-1\"], \"protocols\": [\"3.1.1\"], "
                 "\"level\": \"MUST\", \"clients\": [\"a\"], %s \"steps\": [%s]}",
                 i, i == 0 ? "\"alone\": true," : "", CONNECT_A);
        mqs_scenario *sc;
        char err[256];
        ck_assert_int_eq(
            mqs_scenario_load_buf("t", (const uint8_t *)json, strlen(json), &sc, err, sizeof err),
            0);
        set.items = realloc(set.items, (set.n + 1) * sizeof *set.items);
        set.items[set.n++] = sc;
    }
    ck_assert(set.items[0]->alone && !set.items[1]->alone);
    mqs_endpoint ep = {.transport = MQS_TR_TCP, .host = "127.0.0.1", .port = p.port};
    char order[4] = "";
    mqs_run_opts o = {.endpoints = &ep,
                      .n_endpoints = 1,
                      .protocols = MQS_PROTO_311,
                      .jobs = 1,
                      .timeout_factor = 0.2,
                      .tool_version = "9.9",
                      .progress = order_progress,
                      .progress_ud = order};
    mqs_report rep;
    memset(&rep, 0, sizeof rep);
    char err[256];
    ck_assert_int_eq(mqs_run(&set, &o, &rep, err, sizeof err), MQS_RUN_OK);
    ck_assert_str_eq(order, "120");
    ck_assert_str_eq(rep.cases[0].id, "qos.r0"); /* the report keeps the scenario order */
    ck_assert_uint_eq(rep.counts[MQS_VERDICT_PASS], 3);
    mqs_report_free(&rep);
    runner_set_free(&set);
    peer_stop(&p);
}
END_TEST

START_TEST(runner_unreachable)
{
    peer p;
    broker_like(&p);
    peer_start(&p);
    uint16_t port = p.port;
    peer_stop(&p); /* nobody listens there now */
    mqs_scenario_set set;
    runner_set(&set);
    mqs_endpoint ep = {.transport = MQS_TR_TCP, .host = "127.0.0.1", .port = port};
    mqs_run_opts o = {.endpoints = &ep,
                      .n_endpoints = 1,
                      .protocols = MQS_PROTO_311,
                      .jobs = 2,
                      .timeout_factor = 1.0};
    mqs_report rep;
    memset(&rep, 0, sizeof rep);
    char err[256];
    ck_assert_int_eq(mqs_run(&set, &o, &rep, err, sizeof err), MQS_RUN_UNREACHABLE);
    ck_assert_ptr_nonnull(strstr(err, "cannot reach tcp://127.0.0.1:"));
    mqs_report_free(&rep);
    runner_set_free(&set);
}
END_TEST

/* "must_accept": a broker that no longer accepts connections fails the step (a crash
 * reproducer); without it the case cannot run (ERROR). */
START_TEST(must_accept_fails_when_gone)
{
    peer p;
    broker_like(&p);
    peer_start(&p);
    outcome o;
    mqs_scenario *s =
        scenario("MUST", "", "{\"op\": \"connect\", \"client\": \"a\", \"must_accept\": true}");
    run_case(&p, s, NULL, NULL, 1.0, &o); /* there: PASS */
    expect_verdict(&o, MQS_VERDICT_PASS, NULL);
    mqs_case_result_free(&o.res);
    peer_stop(&p); /* nobody listens there now */
    run_case(&p, s, NULL, NULL, 1.0, &o);
    expect_verdict(&o, MQS_VERDICT_FAIL,
                   "the broker no longer accepts connections: client a cannot connect");
    ck_assert_str_eq(o.res.failed_rule, "MQS-test-1");
    mqs_case_result_free(&o.res);
    mqs_scenario_free(s);
    s = scenario("MUST", "", "{\"op\": \"open\", \"client\": \"a\", \"must_accept\": true}");
    run_case(&p, s, NULL, NULL, 1.0, &o);
    expect_verdict(&o, MQS_VERDICT_FAIL, "the broker no longer accepts connections");
    mqs_case_result_free(&o.res);
    mqs_scenario_free(s);
    s = scenario("MUST", "", CONNECT_A);
    run_case(&p, s, NULL, NULL, 1.0, &o);
    expect_verdict(&o, MQS_VERDICT_ERROR, "client a cannot connect");
    mqs_case_result_free(&o.res);
    mqs_scenario_free(s);
}
END_TEST

/* "requires": ["qos2"]: the run's probe subscribes at QoS 2; a broker that grants only
 * QoS 1 (allowed, MQTT-3.8.4-5) skips such cases, one that grants QoS 2 runs them. */
START_TEST(runner_qos2_requirement)
{
    static const char *const grants[] = {"9003000101", "9003000102"};
    for (int g = 0; g < 2; g++) {
        peer p;
        broker_like(&p);
        p.reply[MQS_SUBSCRIBE] = grants[g];
        peer_start(&p);
        const char json[] = "{\"id\": \"qos.q2\", \"title\": \"t\", \"area\": \"qos\", "
                            "\"statements\": [\"MQTT-3.8.4-5\"], \"protocols\": [\"3.1.1\"], "
                            "\"level\": \"MUST\", \"requires\": [\"qos2\"], \"clients\": [\"a\"], "
                            "\"steps\": [" CONNECT_A "]}";
        mqs_scenario *sc;
        char err[256];
        ck_assert_int_eq(
            mqs_scenario_load_buf("t", (const uint8_t *)json, strlen(json), &sc, err, sizeof err),
            0);
        ck_assert_uint_eq(sc->requires, MQS_REQ_QOS2);
        mqs_scenario_set set = {&sc, 1};
        mqs_endpoint ep = {.transport = MQS_TR_TCP, .host = "127.0.0.1", .port = p.port};
        mqs_run_opts o = {.endpoints = &ep,
                          .n_endpoints = 1,
                          .protocols = MQS_PROTO_311,
                          .jobs = 1,
                          .timeout_factor = 0.2};
        mqs_report rep;
        memset(&rep, 0, sizeof rep);
        ck_assert_int_eq(mqs_run(&set, &o, &rep, err, sizeof err), MQS_RUN_OK);
        ck_assert_uint_eq(rep.n_cases, 1);
        if (g == 0) {
            ck_assert_int_eq(rep.cases[0].verdict, MQS_VERDICT_SKIP);
            ck_assert_str_eq(rep.cases[0].reason,
                             "the broker grants QoS 1 to a QoS 2 subscription");
        } else {
            ck_assert_int_eq(rep.cases[0].verdict, MQS_VERDICT_PASS);
        }
        mqs_report_free(&rep);
        mqs_scenario_free(sc);
        peer_stop(&p);
    }
}
END_TEST

START_TEST(runner_allocation_failures)
{
    peer p;
    broker_like(&p);
    peer_start(&p);
    mqs_scenario_set set;
    runner_set(&set);
    mqs_endpoint ep = {.transport = MQS_TR_TCP, .host = "127.0.0.1", .port = p.port};
    mqs_run_opts o = {.endpoints = &ep,
                      .n_endpoints = 1,
                      .protocols = MQS_PROTO_31 | MQS_PROTO_311,
                      .jobs = 2,
                      .timeout_factor = 0.2};
    int ok = 0;
    for (long n = 0; n < 300; n += 13) {
        mqs_report rep;
        memset(&rep, 0, sizeof rep);
        char err[256];
        mqs_alloc_fail_after(n);
        int rc = mqs_run(&set, &o, &rep, err, sizeof err);
        mqs_alloc_fail_after(-1);
        ck_assert(rc == MQS_RUN_OK || rc == MQS_RUN_NOMEM);
        ok += rc == MQS_RUN_OK && rep.counts[MQS_VERDICT_ERROR] == 0;
        mqs_report_free(&rep);
    }
    ck_assert_int_gt(ok, 0);
    runner_set_free(&set);
    peer_stop(&p);
}
END_TEST

Suite *interp_suite(void)
{
    Suite *s = suite_create("interp");
    TCase *t = tcase_create("verdicts");
    tcase_add_loop_test(t, verdicts, 0, (int)(sizeof vcases / sizeof vcases[0]));
    tcase_add_test(t, skip_requirements);
    tcase_add_test(t, password_redacted);
    tcase_add_test(t, cleanup_runs);
    tcase_add_test(t, cleanup_malformed_topic);
    tcase_add_test(t, exact_times);
    tcase_set_timeout(t, 20);
    suite_add_tcase(s, t);
    t = tcase_create("runner");
    tcase_add_test(t, runner_runs_cases);
    tcase_add_test(t, runner_unreachable);
    tcase_add_test(t, must_accept_fails_when_gone);
    tcase_add_test(t, runner_alone_last);
    tcase_add_test(t, interrupted_case);
    tcase_add_test(t, interrupted_before_start);
    tcase_add_test(t, runner_cancelled);
    tcase_add_test(t, runner_qos2_requirement);
    tcase_set_timeout(t, 30);
    suite_add_tcase(s, t);
    t = tcase_create("malformed");
    tcase_add_test(t, allocation_failures);
    tcase_add_test(t, runner_allocation_failures);
    tcase_set_timeout(t, 120);
    suite_add_tcase(s, t);
    return s;
}
