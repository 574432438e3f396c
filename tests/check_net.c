/* Check suite `net`: the connection layer against in-process loopback peers.
 *
 * Every test runs a small peer in a thread on 127.0.0.1:0 (no network, no broker):
 * silent, echoing, closing (FIN), resetting (RST), never reading, or a WebSocket
 * server built on wslay's frame API that scripts exactly which frames it sends and
 * records the frames it receives, or an OpenSSL server with a certificate made in the
 * fixture. TCases: url, tcp, ws, tls. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <wslay/wslay.h>

#include "net/net.h"

/* ---- loopback peer ---- */

typedef struct peer peer;
typedef void (*peer_fn)(peer *p, int fd);

#define PEER_MAX_FRAMES 32

/* How late a call may return after its deadline (or after "at once") before a test calls
 * it a bug. Generous: on a loaded 2-core CI machine, under ASan, a thread can wait
 * hundreds of milliseconds for a CPU. The bugs these bounds catch (a deadline ignored,
 * seconds taken for milliseconds) are off by far more. */
#define SLACK_MS 2000

/* The deadline of a call that should succeed (or see a close) long before it: generous,
 * because a passing test never waits for it, while a TLS handshake under ASan on a loaded
 * machine took more than the 1 s this used to be. */
#define WAIT_MS 10000

struct peer {
    int lfd;
    uint16_t port;
    pthread_t th;
    peer_fn fn;
    int mode; /* scenario variant for fn */
    /* what the peer saw */
    uint8_t data[4096];
    size_t data_len;
    int eof;         /* 1: read returned 0; 2: ECONNRESET */
    int nframes;
    uint8_t opcodes[PEER_MAX_FRAMES];
    bool all_masked;
    uint16_t close_code;
    bool got_pong;
};

static void *peer_main(void *arg)
{
    peer *p = arg;
    /* The peers write with plain write() (OpenSSL's fd BIO): keep SIGPIPE away from this
     * thread only. The client side, the code under test, runs with SIGPIPE at default. */
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, NULL);
    int fd = accept(p->lfd, NULL, NULL);
    if (fd >= 0) {
        struct timeval tv = {.tv_sec = 2, .tv_usec = 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        p->fn(p, fd);
        close(fd);
    }
    return NULL;
}

static void peer_start(peer *p, peer_fn fn, int mode)
{
    memset(p, 0, sizeof *p);
    p->fn = fn;
    p->mode = mode;
    p->all_masked = true;
    p->lfd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(p->lfd, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(p->lfd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(p->lfd, 4), 0);
    socklen_t al = sizeof a;
    getsockname(p->lfd, (struct sockaddr *)&a, &al);
    p->port = ntohs(a.sin_port);
    ck_assert_int_eq(pthread_create(&p->th, NULL, peer_main, p), 0);
}

static void peer_join(peer *p)
{
    pthread_join(p->th, NULL);
    close(p->lfd);
}

/* Reads until EOF/reset/timeout, recording bytes and how it ended. */
static void peer_drain(peer *p, int fd)
{
    for (;;) {
        ssize_t n = recv(fd, p->data + p->data_len, sizeof p->data - p->data_len, 0);
        if (n > 0 && p->data_len + (size_t)n < sizeof p->data) {
            p->data_len += (size_t)n;
            continue;
        }
        p->eof = n == 0 ? 1 : (errno == ECONNRESET ? 2 : 3);
        return;
    }
}

static void fn_silent(peer *p, int fd)
{
    peer_drain(p, fd); /* never answers; returns when the client goes */
}

static void fn_fin(peer *p, int fd)
{
    (void)p;
    send(fd, "abc", 3, MSG_NOSIGNAL);
    shutdown(fd, SHUT_WR);
    peer_drain(p, fd);
}

/* Resets the connection once the client has sent a byte: resetting straight after accept
 * could race the client's own connect completion (then open, not read, sees the RST). */
static void fn_rst(peer *p, int fd)
{
    (void)p;
    uint8_t b;
    (void)recv(fd, &b, 1, 0);
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}

static void fn_echo(peer *p, int fd)
{
    uint8_t buf[256];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, 0)) > 0) {
        send(fd, buf, (size_t)n, MSG_NOSIGNAL);
        if (p->data_len + (size_t)n <= sizeof p->data) {
            memcpy(p->data + p->data_len, buf, (size_t)n);
            p->data_len += (size_t)n;
        }
    }
    p->eof = n == 0 ? 1 : (errno == ECONNRESET ? 2 : 3);
}

static void fn_noread(peer *p, int fd)
{
    (void)p;
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    usleep(400 * 1000); /* longer than the client's write deadline */
}

static mqs_endpoint tcp_ep(uint16_t port)
{
    mqs_endpoint ep = {.transport = MQS_TR_TCP, .host = "127.0.0.1", .port = port};
    return ep;
}

static mqs_conn *open_ok(const mqs_endpoint *ep, mqs_trace_fn trace, void *ud)
{
    mqs_conn *c = NULL;
    char err[256] = "";
    int rc = mqs_conn_open(ep, mqs_now_ms() + WAIT_MS, trace, ud, &c, err, sizeof err);
    ck_assert_msg(rc == MQS_NET_OK, "open failed: %s (%s)", err, mqs_net_rc_str(rc));
    ck_assert_ptr_nonnull(c);
    return c;
}

/* Opening ep must fail with want_rc and a one-line error that contains want_text. */
static void assert_open_fails(const mqs_endpoint *ep, int want_rc, const char *want_text)
{
    mqs_conn *c = (mqs_conn *)1;
    char err[512] = "";
    int rc = mqs_conn_open(ep, mqs_now_ms() + WAIT_MS, NULL, NULL, &c, err, sizeof err);
    ck_assert_msg(rc == want_rc, "rc %d (%s): %s", rc, mqs_net_rc_str(rc), err);
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(err, want_text) != NULL, "err: %s", err);
    ck_assert(!strchr(err, '\n'));
}

/* Starts a peer running fn(mode) and connects to it over tr. */
static mqs_conn *connect_peer(peer *p, peer_fn fn, int mode, mqs_transport tr, mqs_trace_fn trace,
                              void *ud)
{
    peer_start(p, fn, mode);
    mqs_endpoint ep = {.transport = tr, .host = "127.0.0.1", .port = p->port};
    return open_ok(&ep, trace, ud);
}

/* ---- url ---- */

typedef struct url_case {
    const char *url;
    int ok;
    mqs_transport tr;
    const char *host;
    uint16_t port;
    const char *path;
} url_case;

static const url_case url_cases[] = {
    {"mqtt://127.0.0.1", 1, MQS_TR_TCP, "127.0.0.1", 1883, NULL},
    {"mqtt://broker.example:1884/", 1, MQS_TR_TCP, "broker.example", 1884, NULL},
    {"MQTTS://localhost", 1, MQS_TR_TLS, "localhost", 8883, NULL},
    {"mqtts://[::1]:8884", 1, MQS_TR_TLS, "::1", 8884, NULL},
    {"ws://127.0.0.1", 1, MQS_TR_WS, "127.0.0.1", 80, "/mqtt"},
    {"ws://127.0.0.1:9001/", 1, MQS_TR_WS, "127.0.0.1", 9001, "/"},
    {"wss://h:443/ws?x=1", 1, MQS_TR_WSS, "h", 443, "/ws?x=1"},
    {"wss://[fe80::1]", 1, MQS_TR_WSS, "fe80::1", 443, "/mqtt"},
    {"http://h", 0, 0, NULL, 0, NULL},
    {"mqtt:/h", 0, 0, NULL, 0, NULL},
    {"mqtt://", 0, 0, NULL, 0, NULL},
    {"mqtt://h:0", 0, 0, NULL, 0, NULL},
    {"mqtt://h:65536", 0, 0, NULL, 0, NULL},
    {"mqtt://h:12a", 0, 0, NULL, 0, NULL},
    {"mqtt://h:", 0, 0, NULL, 0, NULL},
    {"mqtt://h/path", 0, 0, NULL, 0, NULL},
    {"mqtt://user:pw@h", 0, 0, NULL, 0, NULL},
    {"mqtt://::1", 0, 0, NULL, 0, NULL},
    {"mqtt://[::1", 0, 0, NULL, 0, NULL},
    {"mqtt://[nothex]", 0, 0, NULL, 0, NULL},
    {"mqtt://[::1]x", 0, 0, NULL, 0, NULL},
    {"ws://h/mqtt#frag", 0, 0, NULL, 0, NULL},
    {"ws://h?x", 0, 0, NULL, 0, NULL},
    {"ws://h /mqtt", 0, 0, NULL, 0, NULL},
    {"", 0, 0, NULL, 0, NULL},
};

START_TEST(url_table)
{
    const url_case *k = &url_cases[_i];
    mqs_endpoint ep = {0};
    char st[128], err[256] = "";
    int rc = mqs_url_parse(k->url, &ep, st, sizeof st, err, sizeof err);
    if (!k->ok) {
        ck_assert_msg(rc == -1, "'%s' should fail", k->url);
        ck_assert_msg(*err && !strchr(err, '\n'), "one-line error for '%s'", k->url);
        return;
    }
    ck_assert_msg(rc == 0, "'%s': %s", k->url, err);
    ck_assert_int_eq(ep.transport, k->tr);
    ck_assert_str_eq(ep.host, k->host);
    ck_assert_uint_eq(ep.port, k->port);
    if (k->path)
        ck_assert_str_eq(ep.ws_path, k->path);
    else
        ck_assert_ptr_null(ep.ws_path);
}
END_TEST

START_TEST(url_storage_too_small)
{
    mqs_endpoint ep = {0};
    char st[8], err[128];
    ck_assert_int_eq(mqs_url_parse("ws://longhostname/mqtt", &ep, st, sizeof st, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "too long"));
}
END_TEST

/* ---- tcp ---- */

START_TEST(tcp_refused_quickly)
{
    peer p;
    peer_start(&p, fn_silent, 0);
    uint16_t port = p.port;
    /* Free the port: connect once to end the peer thread, then close the listener. */
    mqs_endpoint ep = tcp_ep(port);
    mqs_conn_close(open_ok(&ep, NULL, NULL), true);
    peer_join(&p);
    int64_t t0 = mqs_now_ms();
    mqs_conn *c = (mqs_conn *)1;
    char err[256] = "";
    int rc = mqs_conn_open(&ep, t0 + 10000, NULL, NULL, &c, err, sizeof err);
    ck_assert_int_eq(rc, MQS_NET_REFUSED);
    ck_assert_ptr_null(c);
    ck_assert_int_lt(mqs_now_ms() - t0, SLACK_MS); /* at once, not at the 10 s deadline */
    ck_assert_msg(strstr(err, "refused") != NULL, "err: %s", err);
}
END_TEST

START_TEST(tcp_read_timeout)
{
    peer p;
    mqs_conn *c = connect_peer(&p, fn_silent, 0, MQS_TR_TCP, NULL, NULL);
    uint8_t buf[16];
    size_t got = 99;
    int64_t t0 = mqs_now_ms();
    ck_assert_int_eq(mqs_conn_read(c, buf, sizeof buf, &got, t0 + 150), MQS_NET_TIMEOUT);
    int64_t took = mqs_now_ms() - t0;
    ck_assert_int_ge(took, 145);
    ck_assert_int_lt(took, 150 + SLACK_MS);
    ck_assert_uint_eq(got, 0);
    /* Still usable after a timeout; a deadline already past returns at once. */
    t0 = mqs_now_ms();
    ck_assert_int_eq(mqs_conn_read(c, buf, sizeof buf, &got, t0 - 5), MQS_NET_TIMEOUT);
    ck_assert_int_lt(mqs_now_ms() - t0, SLACK_MS); /* the peer never sends: no wait */
    mqs_conn_close(c, false);
    peer_join(&p);
    ck_assert_int_eq(p.eof, 1); /* orderly close: the peer saw a FIN */
}
END_TEST

START_TEST(tcp_fin_is_closed)
{
    peer p;
    mqs_conn *c = connect_peer(&p, fn_fin, 0, MQS_TR_TCP, NULL, NULL);
    uint8_t buf[16];
    size_t got = 0, total = 0;
    int rc;
    while ((rc = mqs_conn_read(c, buf + total, sizeof buf - total, &got, mqs_now_ms() + WAIT_MS)) ==
           MQS_NET_OK)
        total += got;
    ck_assert_int_eq(rc, MQS_NET_CLOSED);
    ck_assert_uint_eq(total, 3);
    ck_assert_mem_eq(buf, "abc", 3);
    mqs_conn_close(c, false);
    peer_join(&p);
}
END_TEST

START_TEST(tcp_rst_is_reset)
{
    peer p;
    mqs_conn *c = connect_peer(&p, fn_rst, 0, MQS_TR_TCP, NULL, NULL);
    ck_assert_int_eq(mqs_conn_write(c, (const uint8_t *)"x", 1, mqs_now_ms() + WAIT_MS), MQS_NET_OK);
    peer_join(&p);
    uint8_t buf[16];
    size_t got;
    ck_assert_int_eq(mqs_conn_read(c, buf, sizeof buf, &got, mqs_now_ms() + WAIT_MS), MQS_NET_RESET);
    ck_assert_ptr_nonnull(strstr(mqs_conn_error(c), "reset"));
    ck_assert_int_eq(mqs_conn_read(c, buf, sizeof buf, &got, mqs_now_ms() + WAIT_MS), MQS_NET_RESET);
    /* Writing to the reset connection must not raise SIGPIPE. */
    int rc = MQS_NET_OK;
    for (int i = 0; i < 5 && rc == MQS_NET_OK; i++)
        rc = mqs_conn_write(c, (const uint8_t *)"x", 1, mqs_now_ms() + 200);
    ck_assert_int_eq(rc, MQS_NET_RESET);
    mqs_conn_close(c, false);
}
END_TEST

START_TEST(tcp_write_deadline)
{
    peer p;
    mqs_conn *c = connect_peer(&p, fn_noread, 0, MQS_TR_TCP, NULL, NULL);
    size_t big = 64u << 20;
    uint8_t *buf = calloc(1, big);
    ck_assert_ptr_nonnull(buf);
    int64_t t0 = mqs_now_ms();
    ck_assert_int_eq(mqs_conn_write(c, buf, big, t0 + 150), MQS_NET_TIMEOUT);
    int64_t took = mqs_now_ms() - t0;
    ck_assert_int_ge(took, 145);
    ck_assert_int_lt(took, 150 + SLACK_MS);
    ck_assert_ptr_nonnull(strstr(mqs_conn_error(c), "timed out"));
    free(buf);
    mqs_conn_close(c, true);
    peer_join(&p);
}
END_TEST

typedef struct trace_log {
    uint8_t out[64], in[64];
    size_t n_out, n_in;
} trace_log;

static void trace_fn(void *ud, int dir, const uint8_t *d, size_t n)
{
    trace_log *t = ud;
    uint8_t *dst = dir ? t->in : t->out;
    size_t *len = dir ? &t->n_in : &t->n_out;
    if (*len + n <= sizeof t->in) {
        memcpy(dst + *len, d, n);
        *len += n;
    }
}

START_TEST(tcp_echo_trace_and_abrupt_close)
{
    peer p;
    trace_log t = {0};
    mqs_conn *c = connect_peer(&p, fn_echo, 0, MQS_TR_TCP, trace_fn, &t);
    ck_assert_ptr_nonnull(strstr(mqs_conn_describe(c), "tcp to 127.0.0.1:"));
    static const uint8_t ping[] = {0xc0, 0x00};
    ck_assert_int_eq(mqs_conn_write(c, ping, 2, mqs_now_ms() + WAIT_MS), MQS_NET_OK);
    uint8_t buf[8];
    size_t got = 0, total = 0;
    while (total < 2) {
        ck_assert_int_eq(mqs_conn_read(c, buf + total, sizeof buf - total, &got, mqs_now_ms() + WAIT_MS),
                         MQS_NET_OK);
        total += got;
    }
    ck_assert_mem_eq(buf, ping, 2);
    ck_assert_uint_eq(t.n_out, 2);
    ck_assert_uint_eq(t.n_in, 2);
    ck_assert_mem_eq(t.out, ping, 2);
    ck_assert_mem_eq(t.in, ping, 2);
    mqs_conn_close(c, true);
    peer_join(&p);
    ck_assert_int_eq(p.eof, 2); /* abrupt close: the peer saw a RST */
}
END_TEST

START_TEST(bad_arguments)
{
    mqs_conn *c = (mqs_conn *)1;
    char err[128] = "";
    mqs_endpoint ep = {.transport = MQS_TR_TCP, .host = NULL, .port = 1};
    ck_assert_int_eq(mqs_conn_open(&ep, mqs_now_ms() + 100, NULL, NULL, &c, err, sizeof err),
                     MQS_NET_ERROR);
    ck_assert_ptr_null(c);
    ck_assert(*err);
    ep.host = "127.0.0.1";
    ep.port = 0;
    ck_assert_int_eq(mqs_conn_open(&ep, mqs_now_ms() + 100, NULL, NULL, &c, err, sizeof err),
                     MQS_NET_ERROR);
    ck_assert_str_eq(mqs_conn_error(NULL), "no connection");
    ck_assert_str_eq(mqs_transport_name(MQS_TR_WSS), "wss");
    ck_assert_str_eq(mqs_net_rc_str(999), "unknown");
    mqs_conn_close(NULL, false);
}
END_TEST

/* ---- ws: a scripted server on wslay's frame API ---- */

enum ws_mode {
    WS_ECHO_FRAGMENTED, /* echo each message back in 3 fragments, with a ping in between */
    WS_SPLIT_PACKETS,   /* two MQTT packets over three frames, then close 1000 */
    WS_TEXT,            /* a text frame */
    WS_BAD_ACCEPT,      /* 101 with a wrong Sec-WebSocket-Accept */
    WS_NOT_FOUND,       /* 404 */
    WS_NO_SUBPROTOCOL,  /* 101 without Sec-WebSocket-Protocol; then records frames */
    WS_RECORD,          /* records frames until the close frame */
};

static ssize_t srv_send(const uint8_t *d, size_t n, int flags, void *ud)
{
    (void)flags;
    return send(*(int *)ud, d, n, MSG_NOSIGNAL);
}

static ssize_t srv_recv(uint8_t *b, size_t n, int flags, void *ud)
{
    (void)flags;
    return recv(*(int *)ud, b, n, 0);
}

static int srv_mask(uint8_t *b, size_t n, void *ud)
{
    (void)ud;
    memset(b, 0x5a, n);
    return 0;
}

/* Reads the request header and answers the upgrade according to the mode. */
static bool srv_handshake(peer *p, int fd)
{
    char req[2048];
    size_t n = 0;
    while (n < sizeof req - 1 && !strstr(req, "\r\n\r\n")) {
        ssize_t r = recv(fd, req + n, 1, 0);
        if (r <= 0)
            return false;
        n += (size_t)r;
        req[n] = 0;
    }
    const char *k = strstr(req, "Sec-WebSocket-Key: ");
    if (!k || !strstr(req, "Sec-WebSocket-Protocol: mqtt\r\n") || strncmp(req, "GET /mqtt ", 10))
        return false;
    char key[64], cat[128], acc[64];
    sscanf(k + 19, "%63[^\r]", key);
    snprintf(cat, sizeof cat, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
    uint8_t md[20];
    SHA1((const unsigned char *)cat, strlen(cat), md);
    EVP_EncodeBlock((unsigned char *)acc, md, 20);
    if (p->mode == WS_BAD_ACCEPT)
        acc[0] = acc[0] == 'A' ? 'B' : 'A';
    char resp[512];
    if (p->mode == WS_NOT_FOUND)
        snprintf(resp, sizeof resp, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    else
        snprintf(resp, sizeof resp,
                 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\n"
                 "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Accept: %s\r\n%s\r\n",
                 acc, p->mode == WS_NO_SUBPROTOCOL ? "" : "sec-websocket-protocol: mqtt\r\n");
    send(fd, resp, strlen(resp), MSG_NOSIGNAL);
    return p->mode != WS_NOT_FOUND && p->mode != WS_BAD_ACCEPT;
}

static void srv_frame(wslay_frame_context_ptr f, bool fin, uint8_t op, const void *d, size_t n)
{
    struct wslay_frame_iocb io = {0};
    io.fin = fin;
    io.opcode = op;
    io.payload_length = n;
    io.data = d;
    io.data_length = n;
    ck_assert_int_eq(wslay_frame_send(f, &io), (ssize_t)n);
}

/* Receives one whole frame; appends data payloads to p->data. @return the opcode, -1 on EOF. */
static int srv_read_frame(peer *p, wslay_frame_context_ptr f, uint8_t *payload, size_t *plen)
{
    size_t got = 0;
    int op = -1;
    for (;;) {
        struct wslay_frame_iocb io = {0};
        ssize_t r = wslay_frame_recv(f, &io);
        if (r < 0)
            return -1;
        if (op < 0) {
            op = io.opcode;
            if (p->nframes < PEER_MAX_FRAMES)
                p->opcodes[p->nframes++] = (uint8_t)op;
            p->all_masked = p->all_masked && io.mask;
        }
        if (got + io.data_length <= 256) {
            memcpy(payload + got, io.data, io.data_length);
            got += io.data_length;
        }
        if (got == io.payload_length) {
            *plen = got;
            return op;
        }
    }
}

static void fn_ws(peer *p, int fd)
{
    if (!srv_handshake(p, fd)) {
        usleep(100 * 1000);
        return;
    }
    struct wslay_frame_callbacks cb = {srv_send, srv_recv, srv_mask};
    wslay_frame_context_ptr f;
    wslay_frame_context_init(&f, &cb, &fd);
    static const uint8_t pk[] = {0x20, 0x02, 0x00, 0x00, 0xd0, 0x00}; /* CONNACK, PINGRESP */
    uint8_t msg[256];
    size_t len;
    int op;
    switch (p->mode) {
    case WS_SPLIT_PACKETS:
        srv_frame(f, true, WSLAY_BINARY_FRAME, pk, 1);
        srv_frame(f, true, WSLAY_BINARY_FRAME, pk + 1, 4);
        srv_frame(f, true, WSLAY_BINARY_FRAME, pk + 5, 1);
        srv_frame(f, true, WSLAY_CONNECTION_CLOSE, "\x03\xe8", 2);
        break;
    case WS_TEXT:
        srv_frame(f, true, WSLAY_TEXT_FRAME, "hi", 2);
        break;
    case WS_ECHO_FRAGMENTED:
        while ((op = srv_read_frame(p, f, msg, &len)) == WSLAY_BINARY_FRAME && len >= 3) {
            srv_frame(f, true, WSLAY_PING, "p", 1);
            srv_frame(f, false, WSLAY_BINARY_FRAME, msg, 1);
            srv_frame(f, false, WSLAY_CONTINUATION_FRAME, msg + 1, 1);
            srv_frame(f, true, WSLAY_CONTINUATION_FRAME, msg + 2, len - 2);
        }
        if (op == WSLAY_PONG)
            p->got_pong = true;
        /* fall through: record the rest */
    default:
        while ((op = srv_read_frame(p, f, msg, &len)) >= 0) {
            if (op == WSLAY_PONG)
                p->got_pong = true;
            if (op == WSLAY_CONNECTION_CLOSE) {
                p->close_code = len >= 2 ? (uint16_t)(msg[0] * 256u + msg[1]) : 0;
                srv_frame(f, true, WSLAY_CONNECTION_CLOSE, msg, len);
                break;
            }
            if (op != WSLAY_PONG && p->data_len + len <= sizeof p->data) {
                memcpy(p->data + p->data_len, msg, len);
                p->data_len += len;
            }
        }
        break;
    }
    wslay_frame_context_free(f);
    usleep(50 * 1000);
}

static mqs_endpoint ws_ep(uint16_t port)
{
    mqs_endpoint ep = {.transport = MQS_TR_WS, .host = "127.0.0.1", .port = port};
    return ep;
}

/* Reads exactly n bytes (any chunking). */
static int read_n(mqs_conn *c, uint8_t *buf, size_t n)
{
    size_t total = 0, got;
    while (total < n) {
        int rc = mqs_conn_read(c, buf + total, n - total, &got, mqs_now_ms() + WAIT_MS);
        if (rc != MQS_NET_OK)
            return rc;
        total += got;
    }
    return MQS_NET_OK;
}

START_TEST(ws_split_packets_and_close)
{
    peer p;
    mqs_conn *c = connect_peer(&p, fn_ws, WS_SPLIT_PACKETS, MQS_TR_WS, NULL, NULL);
    ck_assert_str_eq(mqs_conn_ws_subprotocol(c), "mqtt");
    ck_assert_ptr_nonnull(strstr(mqs_conn_describe(c), "subprotocol mqtt"));
    uint8_t buf[6];
    ck_assert_int_eq(read_n(c, buf, 6), MQS_NET_OK);
    static const uint8_t want[] = {0x20, 0x02, 0x00, 0x00, 0xd0, 0x00};
    ck_assert_mem_eq(buf, want, 6);
    size_t got;
    ck_assert_int_eq(mqs_conn_read(c, buf, 6, &got, mqs_now_ms() + WAIT_MS), MQS_NET_CLOSED);
    ck_assert_ptr_nonnull(strstr(mqs_conn_error(c), "close (status 1000)"));
    mqs_conn_close(c, false);
    peer_join(&p);
}
END_TEST

START_TEST(ws_echo_fragmented_with_ping)
{
    peer p;
    trace_log t = {0};
    mqs_conn *c = connect_peer(&p, fn_ws, WS_ECHO_FRAGMENTED, MQS_TR_WS, trace_fn, &t);
    static const uint8_t msg[] = "\x30\x05\x00\x01tabc";
    ck_assert_int_eq(mqs_conn_write(c, msg, 7, mqs_now_ms() + WAIT_MS), MQS_NET_OK);
    uint8_t buf[7];
    ck_assert_int_eq(read_n(c, buf, 7), MQS_NET_OK);
    ck_assert_mem_eq(buf, msg, 7);
    /* The trace holds MQTT bytes only, not frames or the HTTP upgrade. */
    ck_assert_uint_eq(t.n_out, 7);
    ck_assert_uint_eq(t.n_in, 7);
    ck_assert_mem_eq(t.in, msg, 7);
    mqs_conn_close(c, false);
    peer_join(&p);
    ck_assert(p.got_pong);
    ck_assert(p.all_masked);
    ck_assert_uint_eq(p.close_code, 1000);
}
END_TEST

START_TEST(ws_client_frame_split_and_text)
{
    peer p;
    mqs_conn *c = connect_peer(&p, fn_ws, WS_RECORD, MQS_TR_WS, NULL, NULL);
    mqs_conn_set_ws_frame_max(c, 2);
    ck_assert_int_eq(mqs_conn_write(c, (const uint8_t *)"12345", 5, mqs_now_ms() + WAIT_MS),
                     MQS_NET_OK);
    ck_assert_int_eq(mqs_conn_ws_send_text(c, (const uint8_t *)"T", 1, mqs_now_ms() + WAIT_MS),
                     MQS_NET_OK);
    mqs_conn_close(c, false);
    peer_join(&p);
    ck_assert_int_eq(p.nframes, 5);
    ck_assert_int_eq(p.opcodes[0], WSLAY_BINARY_FRAME);
    ck_assert_int_eq(p.opcodes[1], WSLAY_CONTINUATION_FRAME);
    ck_assert_int_eq(p.opcodes[2], WSLAY_CONTINUATION_FRAME);
    ck_assert_int_eq(p.opcodes[3], WSLAY_TEXT_FRAME);
    ck_assert_int_eq(p.opcodes[4], WSLAY_CONNECTION_CLOSE);
    ck_assert_uint_eq(p.data_len, 6);
    ck_assert_mem_eq(p.data, "12345T", 6);
    ck_assert(p.all_masked);
}
END_TEST

START_TEST(ws_text_from_server_is_protocol_error)
{
    peer p;
    mqs_conn *c = connect_peer(&p, fn_ws, WS_TEXT, MQS_TR_WS, NULL, NULL);
    uint8_t buf[4];
    size_t got;
    ck_assert_int_eq(mqs_conn_read(c, buf, sizeof buf, &got, mqs_now_ms() + WAIT_MS), MQS_NET_PROTOCOL);
    ck_assert_ptr_nonnull(strstr(mqs_conn_error(c), "MQTT-6.0.0-1"));
    mqs_conn_close(c, true);
    peer_join(&p);
}
END_TEST

static void ws_open_fails(int mode, int want_rc, const char *want_text)
{
    peer p;
    peer_start(&p, fn_ws, mode);
    mqs_endpoint ep = ws_ep(p.port);
    assert_open_fails(&ep, want_rc, want_text);
    peer_join(&p);
}

START_TEST(ws_bad_accept)
{
    ws_open_fails(WS_BAD_ACCEPT, MQS_NET_PROTOCOL, "Sec-WebSocket-Accept is");
}
END_TEST

START_TEST(ws_refused_404)
{
    ws_open_fails(WS_NOT_FOUND, MQS_NET_PROTOCOL, "refused: HTTP/1.1 404 Not Found");
}
END_TEST

START_TEST(ws_no_subprotocol_recorded)
{
    peer p;
    mqs_conn *c = connect_peer(&p, fn_ws, WS_NO_SUBPROTOCOL, MQS_TR_WS, NULL, NULL);
    ck_assert_str_eq(mqs_conn_ws_subprotocol(c), "");
    mqs_conn_close(c, false);
    peer_join(&p);
}
END_TEST

START_TEST(ws_read_timeout)
{
    peer p;
    mqs_conn *c = connect_peer(&p, fn_ws, WS_RECORD, MQS_TR_WS, NULL, NULL);
    uint8_t buf[4];
    size_t got;
    int64_t t0 = mqs_now_ms();
    ck_assert_int_eq(mqs_conn_read(c, buf, sizeof buf, &got, t0 + 100), MQS_NET_TIMEOUT);
    ck_assert_int_ge(mqs_now_ms() - t0, 95);
    ck_assert_int_lt(mqs_now_ms() - t0, 100 + SLACK_MS);
    mqs_conn_close(c, false);
    peer_join(&p);
    ck_assert_uint_eq(p.close_code, 1000);
}
END_TEST

START_TEST(text_on_tcp_is_error)
{
    peer p;
    mqs_conn *c = connect_peer(&p, fn_silent, 0, MQS_TR_TCP, NULL, NULL);
    ck_assert_int_eq(mqs_conn_ws_send_text(c, (const uint8_t *)"x", 1, mqs_now_ms() + 100),
                     MQS_NET_ERROR);
    ck_assert_str_eq(mqs_conn_ws_subprotocol(c), "");
    mqs_conn_close(c, true);
    peer_join(&p);
}
END_TEST

/* ---- tls: an in-process OpenSSL server with a self-signed certificate made here ---- */

typedef struct tls_fixture {
    EVP_PKEY *key;
    X509 *cert;
    char cafile[64]; /* the certificate as PEM, for the client's --cafile */
} tls_fixture;

static tls_fixture tls_fx;

/* A self-signed P-256 certificate for IP 127.0.0.1 (valid from now for a day). */
static void tls_setup(void)
{
    tls_fx.key = EVP_EC_gen("P-256");
    ck_assert_ptr_nonnull(tls_fx.key);
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, tls_fx.key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"mqs test", -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "IP:127.0.0.1");
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    ck_assert_int_gt(X509_sign(x, tls_fx.key, EVP_sha256()), 0);
    tls_fx.cert = x;
    snprintf(tls_fx.cafile, sizeof tls_fx.cafile, "/tmp/mqs-check-net-XXXXXX");
    int fd = mkstemp(tls_fx.cafile);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    PEM_write_X509(f, x);
    fclose(f);
}

static void tls_teardown(void)
{
    unlink(tls_fx.cafile);
    X509_free(tls_fx.cert);
    EVP_PKEY_free(tls_fx.key);
}

enum tls_mode { TLS_SEND_AND_CLOSE_NOTIFY, TLS_ECHO };

static void fn_tls(peer *p, int fd)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate(ctx, tls_fx.cert);
    SSL_CTX_use_PrivateKey(ctx, tls_fx.key);
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) == 1) {
        if (p->mode == TLS_SEND_AND_CLOSE_NOTIFY) {
            SSL_write(ssl, "hi", 2);
            SSL_shutdown(ssl);
        }
        int n;
        while ((n = SSL_read(ssl, p->data + p->data_len, (int)(sizeof p->data - p->data_len))) > 0) {
            if (p->mode == TLS_ECHO)
                SSL_write(ssl, p->data + p->data_len, n);
            p->data_len += (size_t)n;
        }
        p->eof = SSL_get_error(ssl, n) == SSL_ERROR_ZERO_RETURN ? 1 : 3;
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
}

static mqs_endpoint tls_ep(uint16_t port)
{
    mqs_endpoint ep = {.transport = MQS_TR_TLS, .host = "127.0.0.1", .port = port};
    ep.tls.cafile = tls_fx.cafile;
    return ep;
}

START_TEST(tls_data_then_close_notify)
{
    peer p;
    peer_start(&p, fn_tls, TLS_SEND_AND_CLOSE_NOTIFY);
    mqs_endpoint ep = tls_ep(p.port);
    mqs_conn *c = open_ok(&ep, NULL, NULL);
    ck_assert_ptr_nonnull(strstr(mqs_conn_describe(c), "verify on"));
    uint8_t buf[4];
    ck_assert_int_eq(read_n(c, buf, 2), MQS_NET_OK);
    ck_assert_mem_eq(buf, "hi", 2);
    size_t got;
    ck_assert_int_eq(mqs_conn_read(c, buf, sizeof buf, &got, mqs_now_ms() + WAIT_MS), MQS_NET_CLOSED);
    mqs_conn_close(c, false);
    peer_join(&p);
}
END_TEST

START_TEST(tls_echo_trace_and_orderly_close)
{
    peer p;
    peer_start(&p, fn_tls, TLS_ECHO);
    mqs_endpoint ep = tls_ep(p.port);
    trace_log t = {0};
    mqs_conn *c = open_ok(&ep, trace_fn, &t);
    ck_assert_int_eq(mqs_conn_write(c, (const uint8_t *)"\xc0\x00", 2, mqs_now_ms() + WAIT_MS), MQS_NET_OK);
    uint8_t buf[2];
    ck_assert_int_eq(read_n(c, buf, 2), MQS_NET_OK);
    ck_assert_uint_eq(t.n_out, 2);
    ck_assert_uint_eq(t.n_in, 2);
    mqs_conn_close(c, false);
    peer_join(&p);
    ck_assert_int_eq(p.eof, 1); /* the server read our close_notify */
}
END_TEST

START_TEST(tls_untrusted_fails_in_one_line)
{
    peer p;
    peer_start(&p, fn_tls, TLS_ECHO);
    mqs_endpoint ep = tls_ep(p.port);
    ep.tls.cafile = NULL; /* the system store does not know our certificate */
    assert_open_fails(&ep, MQS_NET_TLS, "certificate verify failed (self-signed certificate");
    peer_join(&p);
}
END_TEST

START_TEST(tls_insecure_and_name_mismatch)
{
    peer p;
    peer_start(&p, fn_tls, TLS_ECHO);
    mqs_endpoint ep = tls_ep(p.port);
    ep.tls.cafile = NULL;
    ep.tls.insecure = true;
    mqs_conn *c = open_ok(&ep, NULL, NULL);
    ck_assert_ptr_nonnull(strstr(mqs_conn_describe(c), "verify off"));
    mqs_conn_close(c, false);
    peer_join(&p);

    peer_start(&p, fn_tls, TLS_ECHO);
    ep = tls_ep(p.port);
    ep.tls.servername = "broker.example";
    assert_open_fails(&ep, MQS_NET_TLS, "hostname mismatch: certificate is for 127.0.0.1");
    peer_join(&p);
}
END_TEST

START_TEST(tls_read_timeout)
{
    peer p;
    peer_start(&p, fn_tls, TLS_ECHO);
    mqs_endpoint ep = tls_ep(p.port);
    mqs_conn *c = open_ok(&ep, NULL, NULL);
    uint8_t buf[4];
    size_t got;
    int64_t t0 = mqs_now_ms();
    ck_assert_int_eq(mqs_conn_read(c, buf, sizeof buf, &got, t0 + 100), MQS_NET_TIMEOUT);
    ck_assert_int_lt(mqs_now_ms() - t0, 100 + SLACK_MS);
    mqs_conn_close(c, true);
    peer_join(&p);
}
END_TEST

Suite *net_suite(void)
{
    Suite *s = suite_create("net");
    TCase *tc = tcase_create("url");
    tcase_add_loop_test(tc, url_table, 0, (int)(sizeof url_cases / sizeof url_cases[0]));
    tcase_add_test(tc, url_storage_too_small);
    suite_add_tcase(s, tc);

    tc = tcase_create("tcp");
    tcase_add_test(tc, tcp_refused_quickly);
    tcase_add_test(tc, tcp_read_timeout);
    tcase_add_test(tc, tcp_fin_is_closed);
    tcase_add_test(tc, tcp_rst_is_reset);
    tcase_add_test(tc, tcp_write_deadline);
    tcase_add_test(tc, tcp_echo_trace_and_abrupt_close);
    tcase_add_test(tc, bad_arguments);
    tcase_add_test(tc, text_on_tcp_is_error);
    suite_add_tcase(s, tc);

    tc = tcase_create("ws");
    tcase_add_test(tc, ws_split_packets_and_close);
    tcase_add_test(tc, ws_echo_fragmented_with_ping);
    tcase_add_test(tc, ws_client_frame_split_and_text);
    tcase_add_test(tc, ws_text_from_server_is_protocol_error);
    tcase_add_test(tc, ws_bad_accept);
    tcase_add_test(tc, ws_refused_404);
    tcase_add_test(tc, ws_no_subprotocol_recorded);
    tcase_add_test(tc, ws_read_timeout);
    suite_add_tcase(s, tc);

    tc = tcase_create("tls");
    tcase_add_unchecked_fixture(tc, tls_setup, tls_teardown);
    tcase_add_test(tc, tls_data_then_close_notify);
    tcase_add_test(tc, tls_echo_trace_and_orderly_close);
    tcase_add_test(tc, tls_untrusted_fails_in_one_line);
    tcase_add_test(tc, tls_insecure_and_name_mismatch);
    tcase_add_test(tc, tls_read_timeout);
    suite_add_tcase(s, tc);
    return s;
}
