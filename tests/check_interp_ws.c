/* Check suite `interp_ws`: the interpreter's transport step options (SCENARIOS.md:
 * send "ws_text" / "ws_frame_max", connect/open "ws_subprotocol" / "client_cert") and
 * the oracle on WebSocket violations, against a small WebSocket "broker" in a thread on
 * 127.0.0.1:0 built on wslay's frame API: it records the opcode of every frame it gets,
 * reassembles the binary ones into MQTT packets and answers CONNECT and PINGREQ; a text
 * frame makes it send close 1003 and hang up. Plus the loader's checks of these keys. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <wslay/wslay.h>

#include "codec/mqtt.h"
#include "conformance/interp.h"
#include "conformance/runner.h"
#include "conformance/scenario.h"

enum {
    WSB_BROKER,         /* answers CONNECT and PINGREQ; a text frame: close 1003 */
    WSB_NO_SUBPROTOCOL, /* the same, without Sec-WebSocket-Protocol in the 101 */
    WSB_TEXT_REPLY,     /* answers CONNECT with a text frame */
    WSB_HANG_UP,        /* plain TCP: closes at once (a TLS handshake fails) */
};

#define WSB_MAX_FRAMES 64

typedef struct wsb {
    int lfd;
    uint16_t port;
    pthread_t th;
    int mode;
    int nframes; /* frames received, over all connections */
    uint8_t opcodes[WSB_MAX_FRAMES];
} wsb;

static ssize_t io_send(const uint8_t *d, size_t n, int flags, void *ud)
{
    (void)flags;
    return send(*(int *)ud, d, n, MSG_NOSIGNAL);
}

static ssize_t io_recv(uint8_t *b, size_t n, int flags, void *ud)
{
    (void)flags;
    return recv(*(int *)ud, b, n, 0);
}

static int io_mask(uint8_t *b, size_t n, void *ud)
{
    (void)ud;
    memset(b, 0, n);
    return 0;
}

static bool handshake(const wsb *w, int fd)
{
    char req[2048];
    size_t n = 0;
    req[0] = 0;
    while (n < sizeof req - 1 && !strstr(req, "\r\n\r\n")) {
        if (recv(fd, req + n, 1, 0) != 1)
            return false;
        req[++n] = 0;
    }
    const char *k = strstr(req, "Sec-WebSocket-Key: ");
    if (!k)
        return false;
    char key[64], cat[128], acc[64];
    sscanf(k + 19, "%63[^\r]", key);
    snprintf(cat, sizeof cat, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
    uint8_t md[20];
    SHA1((const unsigned char *)cat, strlen(cat), md);
    EVP_EncodeBlock((unsigned char *)acc, md, 20);
    char resp[300];
    snprintf(resp, sizeof resp,
             "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Accept: %s\r\n%s\r\n",
             acc, w->mode == WSB_NO_SUBPROTOCOL ? "" : "Sec-WebSocket-Protocol: mqtt\r\n");
    return send(fd, resp, strlen(resp), MSG_NOSIGNAL) == (ssize_t)strlen(resp);
}

static void frame(wslay_frame_context_ptr f, uint8_t op, const void *d, size_t n)
{
    struct wslay_frame_iocb io = {0};
    io.fin = 1;
    io.opcode = op;
    io.payload_length = n;
    io.data = d;
    io.data_length = n;
    (void)wslay_frame_send(f, &io);
}

/* Answers the whole MQTT packets in buf[0..*len). @return false to hang up. */
static bool answer(const wsb *w, wslay_frame_context_ptr f, uint8_t *buf, size_t *len)
{
    uint8_t type, flags;
    uint32_t rem;
    size_t hdr;
    while (mqs_frame_peek(buf, *len, 0, &type, &flags, &rem, &hdr, NULL) == MQS_OK &&
           *len >= hdr + rem) {
        memmove(buf, buf + hdr + rem, *len - hdr - rem);
        *len -= hdr + rem;
        if (type == MQS_CONNECT && w->mode == WSB_TEXT_REPLY)
            frame(f, WSLAY_TEXT_FRAME, "\x20\x02\x00\x00", 4);
        else if (type == MQS_CONNECT)
            frame(f, WSLAY_BINARY_FRAME, "\x20\x02\x00\x00", 4);
        else if (type == MQS_PINGREQ)
            frame(f, WSLAY_BINARY_FRAME, "\xd0\x00", 2);
        else if (type == MQS_DISCONNECT)
            return false;
    }
    return true;
}

/* Receives one whole frame, appending its payload to stream (up to cap). @return the
 * opcode (recorded in w->opcodes), or -1 on EOF / error. */
static int read_frame(wsb *w, wslay_frame_context_ptr f, uint8_t *stream, size_t *len,
                      size_t cap)
{
    size_t got = 0;
    int op = -1;
    for (;;) {
        struct wslay_frame_iocb io = {0};
        if (wslay_frame_recv(f, &io) < 0)
            return -1;
        if (op < 0) {
            op = io.opcode;
            if (w->nframes < WSB_MAX_FRAMES)
                w->opcodes[w->nframes++] = (uint8_t)op;
        }
        if (*len + io.data_length <= cap) {
            memcpy(stream + *len, io.data, io.data_length);
            *len += io.data_length;
        }
        got += io.data_length;
        if (got >= io.payload_length)
            return op;
    }
}

static void serve(wsb *w, int fd)
{
    if (w->mode == WSB_HANG_UP || !handshake(w, fd))
        return;
    struct wslay_frame_callbacks cb = {io_send, io_recv, io_mask};
    wslay_frame_context_ptr f;
    if (wslay_frame_context_init(&f, &cb, &fd) != 0)
        return;
    uint8_t stream[4096];
    size_t len = 0;
    for (;;) {
        size_t before = len;
        int op = read_frame(w, f, stream, &len, sizeof stream);
        if (op == WSLAY_TEXT_FRAME)
            frame(f, WSLAY_CONNECTION_CLOSE, "\x03\xeb", 2); /* 1003 unsupported data */
        if (op != WSLAY_BINARY_FRAME && op != WSLAY_CONTINUATION_FRAME) {
            len = before;
            break;
        }
        if (!answer(w, f, stream, &len))
            break;
    }
    wslay_frame_context_free(f);
}

static void *wsb_main(void *arg)
{
    wsb *w = arg;
    for (;;) {
        int fd = accept(w->lfd, NULL, NULL);
        if (fd < 0)
            break;
        struct timeval tv = {.tv_sec = 3, .tv_usec = 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        serve(w, fd);
        close(fd);
    }
    return NULL;
}

static void wsb_start(wsb *w, int mode)
{
    memset(w, 0, sizeof *w);
    w->mode = mode;
    w->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(w->lfd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t al = sizeof a;
    getsockname(w->lfd, (struct sockaddr *)&a, &al);
    w->port = ntohs(a.sin_port);
    ck_assert_int_eq(listen(w->lfd, 8), 0);
    ck_assert_int_eq(pthread_create(&w->th, NULL, wsb_main, w), 0);
}

static void wsb_stop(wsb *w)
{
    shutdown(w->lfd, SHUT_RDWR);
    close(w->lfd);
    pthread_join(w->th, NULL);
}

/* ---- cases ---- */

static mqs_scenario *load(const char *requires, const char *steps, char *err, size_t errlen)
{
    char json[4096];
    snprintf(json, sizeof json,
             "{\"id\": \"transport.t\", \"title\": \"t\", \"area\": \"transport\", "
             "\"statements\": [\"MQTT-6.0.0-4\"], \"protocols\": [\"3.1.1\"], \"level\": "
             "\"MUST\", \"requires\": [%s], \"clients\": [\"a\"], \"steps\": [%s]}",
             requires, steps);
    mqs_scenario *s = NULL;
    mqs_scenario_load_buf("t", (const uint8_t *)json, strlen(json), &s, err, errlen);
    return s;
}

typedef struct run {
    mqs_case_result res;
    char trace[8192]; /* every trace text, one per line */
} run;

static void run_on(const wsb *w, mqs_transport tr, const char *certfile, const char *requires,
                   const char *steps, run *r)
{
    char err[512];
    mqs_scenario *s = load(requires, steps, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    mqs_endpoint ep = {.transport = tr, .host = "127.0.0.1", .port = w->port};
    ep.tls.certfile = certfile;
    ep.tls.keyfile = certfile;
    ep.tls.insecure = true;
    mqs_case_opts co = {.ep = &ep,
                        .proto = MQS_PROTO_311,
                        .timeout_factor = 1.0,
                        .token = "testtokn",
                        .case_index = 1};
    memset(r, 0, sizeof *r);
    co.skip_reason = mqs_case_requirement_missing(s, &co, certfile != NULL);
    ck_assert_int_eq(mqs_case_run(s, &co, &r->res), 0);
    size_t used = 0;
    for (size_t i = 0; i < r->res.n_trace && used < sizeof r->trace; i++) {
        int n = snprintf(r->trace + used, sizeof r->trace - used, "%s\n", r->res.trace[i].text);
        used += n > 0 ? (size_t)n : 0;
    }
    mqs_scenario_free(s);
}

static void want(const run *r, mqs_verdict v, const char *reason_part, const char *rule)
{
    ck_assert_msg(r->res.verdict == v, "verdict %s, want %s (reason: %s)\ntrace:\n%s",
                  mqs_verdict_name((int)r->res.verdict), mqs_verdict_name((int)v),
                  r->res.reason ? r->res.reason : "(none)", r->trace);
    if (reason_part)
        ck_assert_msg(r->res.reason && strstr(r->res.reason, reason_part), "'%s' not in '%s'",
                      reason_part, r->res.reason ? r->res.reason : "(none)");
    if (rule)
        ck_assert_str_eq(r->res.failed_rule ? r->res.failed_rule : "(none)", rule);
}

/* Runs one case against w and checks its verdict (see want). */
static void check_case(const wsb *w, mqs_transport tr, const char *cert, const char *requires,
                       const char *steps, mqs_verdict v, const char *reason, const char *rule)
{
    run r;
    run_on(w, tr, cert, requires, steps, &r);
    want(&r, v, reason, rule);
    mqs_case_result_free(&r.res);
}

#define CONNECT "{\"op\": \"connect\", \"client\": \"a\"}"
#define PING "{\"op\": \"ping\", \"client\": \"a\"}"

START_TEST(text_frame_sent_and_close_seen)
{
    wsb w;
    wsb_start(&w, WSB_BROKER);
    run r;
    run_on(&w, MQS_TR_WS, NULL, "\"ws\"",
           CONNECT ", {\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"PINGREQ\"}, "
                   "\"ws_text\": true}, {\"op\": \"expect_closed\", \"client\": \"a\"}",
           &r);
    want(&r, MQS_VERDICT_PASS, NULL, NULL);
    ck_assert_ptr_nonnull(strstr(r.trace, "PINGREQ (as WebSocket text frames)"));
    mqs_case_result_free(&r.res);
    wsb_stop(&w);
    ck_assert_int_ge(w.nframes, 2);
    ck_assert_int_eq(w.opcodes[0], WSLAY_BINARY_FRAME);
    ck_assert_int_eq(w.opcodes[1], WSLAY_TEXT_FRAME);
}
END_TEST

START_TEST(frames_of_at_most_n_bytes)
{
    wsb w;
    wsb_start(&w, WSB_BROKER);
    run r;
    /* CONNECT (31 bytes: client id of 17) in frames of 4 bytes, then two PINGREQs in
     * one frame, then a ping. */
    run_on(&w, MQS_TR_WS, NULL, "\"ws\"",
           "{\"op\": \"open\", \"client\": \"a\", \"ws_subprotocol\": \"mqtt\"}, "
           "{\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"CONNECT\"}, "
           "\"ws_frame_max\": 4}, {\"op\": \"expect\", \"client\": \"a\", \"packet\": "
           "{\"type\": \"CONNACK\", \"return_code\": 0}}, {\"op\": \"send\", \"client\": \"a\", "
           "\"hex\": \"c000 c000\"}, {\"op\": \"expect\", \"client\": \"a\", \"packet\": "
           "{\"type\": \"PINGRESP\"}}, " PING,
           &r);
    want(&r, MQS_VERDICT_PASS, NULL, NULL);
    ck_assert_ptr_nonnull(strstr(r.trace, "(in WebSocket frames of at most 4 bytes)"));
    mqs_case_result_free(&r.res);
    wsb_stop(&w);
    /* CONNECT: a binary frame and 7 continuations; the two PINGREQs: one binary frame;
     * the ping; the cleanup's DISCONNECT (after which the peer hangs up). */
    ck_assert_int_eq(w.nframes, 11);
    ck_assert_int_eq(w.opcodes[0], WSLAY_BINARY_FRAME);
    for (int i = 1; i < 8; i++)
        ck_assert_int_eq(w.opcodes[i], WSLAY_CONTINUATION_FRAME);
    for (int i = 8; i < 11; i++)
        ck_assert_int_eq(w.opcodes[i], WSLAY_BINARY_FRAME);
}
END_TEST

START_TEST(subprotocol_missing_fails)
{
    wsb w;
    wsb_start(&w, WSB_NO_SUBPROTOCOL);
    check_case(&w, MQS_TR_WS, NULL, "\"ws\"",
               "{\"op\": \"connect\", \"client\": \"a\", \"ws_subprotocol\": \"mqtt\"}",
               MQS_VERDICT_FAIL,
               "step 1: the server returned the WebSocket subprotocol none (no "
               "Sec-WebSocket-Protocol header) to client a, expected 'mqtt'",
               "MQTT-6.0.0-4");
    check_case(&w, MQS_TR_WS, NULL, "\"ws\"", CONNECT ", " PING, MQS_VERDICT_PASS, NULL, NULL);
    wsb_stop(&w);
}
END_TEST

START_TEST(text_frame_from_broker_fails)
{
    wsb w;
    wsb_start(&w, WSB_TEXT_REPLY);
    run r;
    /* Even a step that expects the close: a text frame is the broker's violation. */
    run_on(&w, MQS_TR_WS, NULL, "\"ws\"",
           "{\"op\": \"connect\", \"client\": \"a\", \"expect\": {\"closed\": true}}", &r);
    want(&r, MQS_VERDICT_FAIL, "the broker broke the WebSocket protocol on client a",
         "MQTT-6.0.0-1");
    ck_assert_ptr_nonnull(strstr(r.res.reason, "text frame received"));
    mqs_case_result_free(&r.res);
    wsb_stop(&w);
}
END_TEST

START_TEST(ws_options_skip_elsewhere)
{
    wsb w;
    wsb_start(&w, WSB_BROKER);
    check_case(&w, MQS_TR_TCP, NULL, "\"ws\"",
               "{\"op\": \"connect\", \"client\": \"a\", \"ws_subprotocol\": \"mqtt\"}",
               MQS_VERDICT_SKIP, "needs a WebSocket endpoint", NULL);
    wsb_stop(&w);
}
END_TEST

/* "client_cert": false leaves the run's certificate out (here a file that does not
 * exist: loading it would fail), and a handshake the server ends is its refusal. */
START_TEST(without_client_cert_refusal_is_close)
{
    wsb w;
    wsb_start(&w, WSB_HANG_UP);
    run r;
    const char *cert = "/nonexistent/mqs-client.pem";
    run_on(&w, MQS_TR_TLS, cert, "\"tls\", \"client-cert\"",
           "{\"op\": \"connect\", \"client\": \"a\", \"client_cert\": false, \"expect\": "
           "{\"closed\": true}}",
           &r);
    want(&r, MQS_VERDICT_PASS, NULL, NULL);
    ck_assert_ptr_nonnull(
        strstr(r.trace, "connection refused during the TLS handshake without a client certificate"));
    mqs_case_result_free(&r.res);
    /* Expecting a CONNACK instead: the refusal fails the step. */
    check_case(&w, MQS_TR_TLS, cert, "\"tls\", \"client-cert\"",
               "{\"op\": \"connect\", \"client\": \"a\", \"client_cert\": false}",
               MQS_VERDICT_FAIL, "refused during the TLS handshake", NULL);
    /* With the certificate (the default), the bad file makes the case ERROR. */
    check_case(&w, MQS_TR_TLS, cert, "\"tls\", \"client-cert\"",
               "{\"op\": \"connect\", \"client\": \"a\", \"expect\": {\"closed\": true}}",
               MQS_VERDICT_ERROR, "cannot connect", NULL);
    wsb_stop(&w);
}
END_TEST

/* The run's probe: a failure below MQTT after the connection opened (here a WebSocket
 * violation; a TLS 1.3 refusal of a missing client certificate is the other) is
 * "unreachable" (-2, exit 3), not "no CONNACK". */
START_TEST(probe_failure_below_mqtt_is_unreachable)
{
    wsb w;
    wsb_start(&w, WSB_TEXT_REPLY);
    mqs_endpoint ep = {.transport = MQS_TR_WS, .host = "127.0.0.1", .port = w.port};
    mqs_probe pr;
    mqs_probe_run(&ep, MQS_PROTO_311, NULL, NULL, 1.0, "probe", false, &pr);
    ck_assert_int_eq(pr.connack, -2);
    ck_assert_msg(strstr(pr.err, "text frame received") != NULL, "%s", pr.err);
    wsb_stop(&w);
    wsb_start(&w, WSB_BROKER);
    ep.port = w.port;
    mqs_probe_run(&ep, MQS_PROTO_311, NULL, NULL, 1.0, "probe", false, &pr);
    ck_assert_int_eq(pr.connack, 0);
    wsb_stop(&w);
}
END_TEST

typedef struct load_case {
    const char *requires, *steps, *error;
} load_case;

static const load_case load_cases[] = {
    {"", "{\"op\": \"send\", \"client\": \"a\", \"hex\": \"c000\", \"ws_text\": true}",
     "t: steps[0].ws_text: WebSocket only: the scenario must have \"requires\": [\"ws\"]"},
    {"", "{\"op\": \"send\", \"client\": \"a\", \"hex\": \"c000\", \"ws_frame_max\": 2}",
     "t: steps[0].ws_frame_max: WebSocket only"},
    {"", "{\"op\": \"open\", \"client\": \"a\", \"ws_subprotocol\": \"mqtt\"}",
     "t: steps[0].ws_subprotocol: WebSocket only"},
    {"\"ws\"",
     "{\"op\": \"send\", \"client\": \"a\", \"hex\": \"c000\", \"ws_text\": true, "
     "\"ws_frame_max\": 2}",
     "t: steps[0].ws_frame_max: a \"ws_text\" write goes in one text frame"},
    {"\"ws\"", "{\"op\": \"send\", \"client\": \"a\", \"hex\": \"c000\", \"ws_frame_max\": 0}",
     "t: steps[0].ws_frame_max: 0 is out of range 1..65535"},
    {"\"ws\"", "{\"op\": \"send\", \"client\": \"a\", \"hex\": \"c000\", \"ws_text\": 1}",
     "t: steps[0].ws_text: expected true or false, got a number"},
    {"", "{\"op\": \"connect\", \"client\": \"a\", \"client_cert\": \"no\"}",
     "t: steps[0].client_cert: expected true or false, got a string"},
    {"", "{\"op\": \"expect_none\", \"client\": \"a\", \"ms\": 1, \"client_cert\": false}",
     "t: steps[0]: unknown key \"client_cert\""},
    {"\"ws\"", "{\"op\": \"ping\", \"client\": \"a\", \"ws_text\": true}",
     "t: steps[0]: unknown key \"ws_text\""},
};

START_TEST(loader_checks)
{
    const load_case *c = &load_cases[_i];
    char err[512] = "";
    mqs_scenario *s = load(c->requires, c->steps, err, sizeof err);
    ck_assert_ptr_null(s);
    ck_assert_msg(strstr(err, c->error) != NULL, "'%s' not in '%s'", c->error, err);
}
END_TEST

START_TEST(loader_accepts)
{
    char err[512] = "";
    mqs_scenario *s = load("\"ws\", \"tls\", \"client-cert\"",
                           "{\"op\": \"open\", \"client\": \"a\", \"ws_subprotocol\": \"\", "
                           "\"client_cert\": false}, {\"op\": \"send\", \"client\": \"a\", "
                           "\"hex\": \"c000\", \"ws_frame_max\": 3, \"split\": [1]}",
                           err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    ck_assert_str_eq(s->steps[0].ws_subprotocol, "");
    ck_assert(s->steps[0].no_client_cert);
    ck_assert_uint_eq(s->steps[1].ws_frame_max, 3);
    ck_assert(!s->steps[1].ws_text);
    mqs_scenario_free(s);
}
END_TEST

/* --exclude (runner): a scenario any exclude pattern matches is left out, whatever the
 * filters; here to leave mosquitto's slow WebSocket payloads out of a ws run. */
START_TEST(runner_excludes)
{
    char err[512];
    mqs_scenario *a = load("\"ws\"", PING, err, sizeof err);
    ck_assert_msg(a != NULL, "%s", err);
    mqs_scenario *items[] = {a};
    mqs_scenario_set set = {items, 1};
    mqs_endpoint ep = {.transport = MQS_TR_WS, .host = "127.0.0.1", .port = 1};
    const char *inc[] = {"transport"}, *ex_id[] = {"transport.t"}, *ex_rule[] = {"MQTT-6.*"},
               *ex_other[] = {"qos"};
    mqs_run_opts o = {.endpoints = &ep, .n_endpoints = 1, .protocols = MQS_PROTO_311, .jobs = 1};
    ck_assert_uint_eq(mqs_run_count(&set, &o), 1);
    o.excludes = ex_id;
    o.n_excludes = 1;
    ck_assert_uint_eq(mqs_run_count(&set, &o), 0);
    o.excludes = ex_rule;
    o.filters = inc;
    o.n_filters = 1;
    ck_assert_uint_eq(mqs_run_count(&set, &o), 0);
    o.excludes = ex_other;
    ck_assert_uint_eq(mqs_run_count(&set, &o), 1);
    mqs_scenario_free(a);
}
END_TEST

Suite *interp_ws_suite(void)
{
    Suite *s = suite_create("interp_ws");
    TCase *t = tcase_create("transport_steps");
    tcase_set_timeout(t, 30);
    tcase_add_test(t, text_frame_sent_and_close_seen);
    tcase_add_test(t, frames_of_at_most_n_bytes);
    tcase_add_test(t, subprotocol_missing_fails);
    tcase_add_test(t, text_frame_from_broker_fails);
    tcase_add_test(t, ws_options_skip_elsewhere);
    tcase_add_test(t, without_client_cert_refusal_is_close);
    tcase_add_test(t, probe_failure_below_mqtt_is_unreachable);
    suite_add_tcase(s, t);
    TCase *l = tcase_create("loader");
    tcase_add_loop_test(l, loader_checks, 0, (int)(sizeof load_cases / sizeof load_cases[0]));
    tcase_add_test(l, loader_accepts);
    tcase_add_test(l, runner_excludes);
    suite_add_tcase(s, l);
    return s;
}
