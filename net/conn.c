/* mqttspec net: the public connection API (net/net.h) and the stream layer that
 * dispatches to TCP or TLS. */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net/net_internal.h"

/* Upper bound for the orderly-close handshakes (WebSocket close, TLS close_notify),
 * which the public close call does not take a deadline for. */
#define MQS_NET_CLOSE_GRACE_MS 1000

int64_t mqs_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int mqs_net_fail(mqs_conn *c, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    return rc;
}

int mqs_net_wait(mqs_conn *c, short events, int64_t deadline_ms)
{
    for (;;) {
        int64_t left = deadline_ms - mqs_now_ms();
        if (left <= 0)
            return MQS_NET_TIMEOUT;
        struct pollfd p = {.fd = c->fd, .events = events, .revents = 0};
        int n = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
        if (n > 0)
            return MQS_NET_OK;
        if (n < 0 && errno != EINTR)
            return mqs_net_fail(c, MQS_NET_ERROR, "poll on connection to %s: %s", c->peer,
                                strerror(errno));
    }
}

static bool is_tls(const mqs_conn *c)
{
    return c->ssl != NULL;
}

int mqs_stream_try_read(mqs_conn *c, uint8_t *buf, size_t cap, size_t *got)
{
    int rc = is_tls(c) ? mqs_tls_try_read(c, buf, cap, got) : mqs_tcp_try_read(c, buf, cap, got);
#ifdef TCP_QUICKACK
    if (rc == MQS_NET_OK && c->quickack) {
        int one = 1;
        (void)setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
    }
#endif
    return rc;
}

void mqs_conn_set_quickack(mqs_conn *c, bool on)
{
    if (!c)
        return;
    c->quickack = on;
#ifdef TCP_QUICKACK
    int v = on ? 1 : 0;
    (void)setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &v, sizeof v);
#endif
}

int mqs_stream_try_write(mqs_conn *c, const uint8_t *buf, size_t len, size_t *sent)
{
    return is_tls(c) ? mqs_tls_try_write(c, buf, len, sent)
                     : mqs_tcp_try_write(c, buf, len, sent);
}

int mqs_stream_read(mqs_conn *c, uint8_t *buf, size_t cap, size_t *got, int64_t deadline_ms)
{
    for (;;) {
        int rc = mqs_stream_try_read(c, buf, cap, got);
        if (rc != MQS_NET_AGAIN)
            return rc;
        rc = mqs_net_wait(c, c->want, deadline_ms);
        if (rc == MQS_NET_TIMEOUT)
            return mqs_net_fail(c, rc, "read from %s timed out", c->peer);
        if (rc != MQS_NET_OK)
            return rc;
    }
}

int mqs_stream_write(mqs_conn *c, const uint8_t *buf, size_t len, int64_t deadline_ms)
{
    size_t off = 0;
    while (off < len) {
        size_t sent = 0;
        int rc = mqs_stream_try_write(c, buf + off, len - off, &sent);
        if (rc == MQS_NET_OK) {
            if (c->trace && c->transport != MQS_TR_WS && c->transport != MQS_TR_WSS)
                c->trace(c->trace_ud, 0, buf + off, sent);
            off += sent;
            continue;
        }
        if (rc != MQS_NET_AGAIN)
            return rc;
        rc = mqs_net_wait(c, c->want, deadline_ms);
        if (rc == MQS_NET_TIMEOUT)
            return mqs_net_fail(c, rc, "write to %s timed out (%zu of %zu bytes sent)", c->peer,
                                off, len);
        if (rc != MQS_NET_OK)
            return rc;
    }
    return MQS_NET_OK;
}

static bool is_ws(const mqs_conn *c)
{
    return c->transport == MQS_TR_WS || c->transport == MQS_TR_WSS;
}

static bool is_tls_transport(mqs_transport t)
{
    return t == MQS_TR_TLS || t == MQS_TR_WSS;
}

static void describe(mqs_conn *c, const mqs_endpoint *ep)
{
    char tls[160] = "";
    if (c->ssl)
        mqs_tls_describe(c, tls, sizeof tls);
    const char *name = mqs_transport_name(c->transport);
    if (!is_ws(c)) {
        snprintf(c->desc, sizeof c->desc, "%s to %s%s%s%s", name, c->peer, *tls ? " (" : "", tls,
                 *tls ? ")" : "");
        return;
    }
    const char *sub = *c->ws_subprotocol ? c->ws_subprotocol : "none";
    snprintf(c->desc, sizeof c->desc, "%s to %s (%s%spath %s, subprotocol %s)", name, c->peer, tls,
             *tls ? ", " : "", ep->ws_path ? ep->ws_path : "/mqtt", sub);
}

static int open_layers(mqs_conn *c, const mqs_endpoint *ep, int64_t deadline_ms)
{
    int rc = mqs_tcp_connect(c, ep, deadline_ms);
    if (rc == MQS_NET_OK && is_tls_transport(ep->transport))
        rc = mqs_tls_open(c, ep, deadline_ms);
    if (rc == MQS_NET_OK && is_ws(c))
        rc = mqs_ws_open(c, ep, deadline_ms);
    return rc;
}

static void copy_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

int mqs_conn_open(const mqs_endpoint *ep, int64_t deadline_ms, mqs_trace_fn trace, void *trace_ud,
                  mqs_conn **out, char *err, size_t errlen)
{
    if (out)
        *out = NULL;
    if (!ep || !out || !ep->host || !*ep->host || ep->port == 0 || ep->transport > MQS_TR_WSS) {
        copy_err(err, errlen, "bad endpoint: host, port and transport are required");
        return MQS_NET_ERROR;
    }
    mqs_conn *c = calloc(1, sizeof *c);
    if (!c) {
        copy_err(err, errlen, "out of memory");
        return MQS_NET_ERROR;
    }
    c->fd = -1;
    c->transport = ep->transport;
    c->trace = trace;
    c->trace_ud = trace_ud;
    int rc = open_layers(c, ep, deadline_ms);
    if (rc != MQS_NET_OK) {
        copy_err(err, errlen, c->err);
        mqs_conn_close(c, true);
        return rc;
    }
    describe(c, ep);
    *out = c;
    return MQS_NET_OK;
}

int mqs_conn_write(mqs_conn *c, const uint8_t *buf, size_t len, int64_t deadline_ms)
{
    if (!c || (!buf && len))
        return MQS_NET_ERROR;
    if (len == 0)
        return MQS_NET_OK;
    if (is_ws(c))
        return mqs_ws_write(c, WSLAY_BINARY_FRAME, buf, len, deadline_ms);
    return mqs_stream_write(c, buf, len, deadline_ms);
}

int mqs_conn_read(mqs_conn *c, uint8_t *buf, size_t cap, size_t *got, int64_t deadline_ms)
{
    if (got)
        *got = 0;
    if (!c || !buf || !cap || !got)
        return c ? mqs_net_fail(c, MQS_NET_ERROR, "read: bad arguments") : MQS_NET_ERROR;
    if (c->read_end)
        return c->read_end;
    int rc = is_ws(c) ? mqs_ws_read(c, buf, cap, got, deadline_ms)
                      : mqs_stream_read(c, buf, cap, got, deadline_ms);
    if (rc == MQS_NET_OK && c->trace)
        c->trace(c->trace_ud, 1, buf, *got);
    /* The end of the stream is final: a reset socket would say "EOF" next time. */
    if (rc == MQS_NET_CLOSED || rc == MQS_NET_RESET || rc == MQS_NET_PROTOCOL || rc == MQS_NET_TLS)
        c->read_end = rc;
    return rc;
}

void mqs_conn_set_ws_frame_max(mqs_conn *c, size_t n)
{
    if (c)
        c->ws_frame_max = n;
}

int mqs_conn_ws_send_text(mqs_conn *c, const uint8_t *buf, size_t len, int64_t deadline_ms)
{
    if (!c || (!buf && len))
        return MQS_NET_ERROR;
    if (!is_ws(c))
        return mqs_net_fail(c, MQS_NET_ERROR, "text frames exist only on ws/wss connections");
    return mqs_ws_write(c, WSLAY_TEXT_FRAME, buf, len, deadline_ms);
}

const char *mqs_conn_ws_subprotocol(const mqs_conn *c)
{
    return c ? c->ws_subprotocol : "";
}

void mqs_conn_close(mqs_conn *c, bool abrupt)
{
    if (!c)
        return;
    if (c->ws)
        mqs_ws_close(c, abrupt);
    if (c->ssl || c->ssl_ctx)
        mqs_tls_close(c, abrupt);
    if (c->fd >= 0)
        mqs_tcp_close(c, abrupt);
    free(c->ws_pre);
    free(c->ws_rx);
    free(c);
}

int64_t mqs_net_close_deadline(void)
{
    return mqs_now_ms() + MQS_NET_CLOSE_GRACE_MS;
}

const char *mqs_conn_error(const mqs_conn *c)
{
    if (!c)
        return "no connection";
    return *c->err ? c->err : "no error";
}

const char *mqs_conn_describe(const mqs_conn *c)
{
    return c ? c->desc : "no connection";
}

const char *mqs_transport_name(mqs_transport t)
{
    switch (t) {
    case MQS_TR_TCP: return "tcp";
    case MQS_TR_TLS: return "tls";
    case MQS_TR_WS: return "ws";
    case MQS_TR_WSS: return "wss";
    }
    return "unknown";
}

const char *mqs_net_rc_str(int rc)
{
    switch (rc) {
    case MQS_NET_OK: return "ok";
    case MQS_NET_TIMEOUT: return "timeout";
    case MQS_NET_CLOSED: return "closed by peer";
    case MQS_NET_RESET: return "reset by peer";
    case MQS_NET_ERROR: return "error";
    case MQS_NET_REFUSED: return "connection refused or unreachable";
    case MQS_NET_TLS: return "TLS failure";
    case MQS_NET_PROTOCOL: return "WebSocket protocol violation";
    }
    return "unknown";
}
