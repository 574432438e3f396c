/* mqttspec net: MQTT over WebSocket (RFC 6455; MQTT 3.1.1 chapter 6) on top of the
 * TCP or TLS stream.
 *
 * The HTTP/1.1 upgrade is ours (a random 16-byte key, subprotocol "mqtt", status 101,
 * Upgrade/Connection headers and Sec-WebSocket-Accept checked, a bounded header and the
 * caller's deadline). Framing is libwslay's event API: it masks our frames, reassembles
 * fragmented messages, answers pings and close frames. Received binary messages are
 * appended to a byte buffer that mqs_conn_read drains, so MQTT packets may span frames
 * and a frame may carry several packets [MQTT-6.0.0-2]. A text frame from the server is
 * a protocol violation [MQTT-6.0.0-1]: the connection is failed with close 1003.
 */
#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net/net_internal.h"

#define MQS_WS_MAX_HEADER 8192               /* upgrade response header limit */
#define MQS_WS_MAX_MESSAGE (64u * 1024 * 1024) /* largest message accepted from the server */
#define MQS_WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/* A message queued for fragmented sending: wslay pulls it in pieces of at most max. */
struct mqs_ws_frag {
    mqs_ws_frag *next;
    size_t len, off, max;
    uint8_t data[];
};

/* ---- wslay callbacks ---- */

static ssize_t ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                          void *ud)
{
    (void)flags;
    mqs_conn *c = ud;
    if (c->ws_pre_off < c->ws_pre_len) {
        size_t n = c->ws_pre_len - c->ws_pre_off;
        n = n < len ? n : len;
        memcpy(buf, c->ws_pre + c->ws_pre_off, n);
        c->ws_pre_off += n;
        return (ssize_t)n;
    }
    size_t got = 0;
    int rc = mqs_stream_try_read(c, buf, len, &got);
    if (rc == MQS_NET_OK)
        return (ssize_t)got;
    if (rc != MQS_NET_AGAIN)
        c->ws_io_rc = rc;
    wslay_event_set_error(ctx, rc == MQS_NET_AGAIN ? WSLAY_ERR_WOULDBLOCK : WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
}

static ssize_t ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                          void *ud)
{
    (void)flags;
    mqs_conn *c = ud;
    size_t sent = 0;
    int rc = mqs_stream_try_write(c, data, len, &sent);
    if (rc == MQS_NET_OK)
        return (ssize_t)sent;
    if (rc != MQS_NET_AGAIN)
        c->ws_io_rc = rc;
    wslay_event_set_error(ctx, rc == MQS_NET_AGAIN ? WSLAY_ERR_WOULDBLOCK : WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
}

static int ws_genmask_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *ud)
{
    (void)ctx;
    (void)ud;
    return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

static int rx_append(mqs_conn *c, const uint8_t *data, size_t len)
{
    if (c->ws_rx_off == c->ws_rx_len)
        c->ws_rx_off = c->ws_rx_len = 0;
    if (c->ws_rx_off && c->ws_rx_len + len > c->ws_rx_cap) {
        memmove(c->ws_rx, c->ws_rx + c->ws_rx_off, c->ws_rx_len - c->ws_rx_off);
        c->ws_rx_len -= c->ws_rx_off;
        c->ws_rx_off = 0;
    }
    if (c->ws_rx_len + len > c->ws_rx_cap) {
        size_t cap = c->ws_rx_cap ? c->ws_rx_cap : 4096;
        while (cap < c->ws_rx_len + len)
            cap *= 2;
        uint8_t *p = realloc(c->ws_rx, cap);
        if (!p)
            return -1;
        c->ws_rx = p;
        c->ws_rx_cap = cap;
    }
    memcpy(c->ws_rx + c->ws_rx_len, data, len);
    c->ws_rx_len += len;
    return 0;
}

static void ws_msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                      void *ud)
{
    mqs_conn *c = ud;
    if (arg->opcode == WSLAY_BINARY_FRAME) {
        if (rx_append(c, arg->msg, arg->msg_length) != 0) {
            c->ws_rc = mqs_net_fail(c, MQS_NET_ERROR, "WebSocket from %s: out of memory", c->peer);
            wslay_event_shutdown_read(ctx);
        }
    } else if (arg->opcode == WSLAY_TEXT_FRAME) {
        /* [MQTT-6.0.0-1] MQTT goes in binary frames only. */
        c->ws_rc = mqs_net_fail(c, MQS_NET_PROTOCOL,
                                "WebSocket from %s: text frame received; MQTT uses binary frames "
                                "only [MQTT-6.0.0-1]",
                                c->peer);
        wslay_event_shutdown_read(ctx);
        (void)wslay_event_queue_close(ctx, WSLAY_CODE_UNSUPPORTED_DATA, NULL, 0);
    }
}

/* ---- sending ---- */

static ssize_t frag_read_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len,
                            const union wslay_event_msg_source *source, int *eof, void *ud)
{
    (void)ctx;
    mqs_conn *c = ud;
    mqs_ws_frag *f = source->data;
    size_t n = f->len - f->off;
    n = n < len ? n : len;
    n = n < f->max ? n : f->max;
    memcpy(buf, f->data + f->off, n);
    f->off += n;
    if (f->off == f->len) {
        *eof = 1;
        for (mqs_ws_frag **p = &c->ws_frags; *p; p = &(*p)->next)
            if (*p == f) {
                *p = f->next;
                break;
            }
        free(f);
    }
    return (ssize_t)n;
}

static int queue_fragmented(mqs_conn *c, const uint8_t *buf, size_t len)
{
    mqs_ws_frag *f = malloc(sizeof *f + len);
    if (!f)
        return WSLAY_ERR_NOMEM;
    f->len = len;
    f->off = 0;
    f->max = c->ws_frame_max;
    memcpy(f->data, buf, len);
    struct wslay_event_fragmented_msg m = {.opcode = WSLAY_BINARY_FRAME, .read_callback = frag_read_cb};
    m.source.data = f;
    int r = wslay_event_queue_fragmented_msg(c->ws, &m);
    if (r != 0) {
        free(f);
        return r;
    }
    f->next = c->ws_frags;
    c->ws_frags = f;
    return 0;
}

/* Sends what wslay has queued, by the deadline. */
static int ws_flush(mqs_conn *c, int64_t deadline_ms)
{
    while (wslay_event_want_write(c->ws)) {
        c->ws_io_rc = 0;
        if (wslay_event_send(c->ws) != 0) {
            c->ws_rc = c->ws_io_rc ? c->ws_io_rc
                                   : mqs_net_fail(c, MQS_NET_ERROR, "WebSocket send to %s failed",
                                                  c->peer);
            return c->ws_rc;
        }
        if (!wslay_event_want_write(c->ws))
            break;
        int rc = mqs_net_wait(c, c->want, deadline_ms);
        if (rc == MQS_NET_TIMEOUT)
            return mqs_net_fail(c, rc, "write to %s timed out", c->peer);
        if (rc != MQS_NET_OK)
            return rc;
    }
    return MQS_NET_OK;
}

/* One non-blocking attempt to send queued control frames (pong, close reply). */
static void ws_flush_now(mqs_conn *c)
{
    short want = c->want;
    int io = c->ws_io_rc;
    if (wslay_event_want_write(c->ws))
        (void)wslay_event_send(c->ws);
    c->want = want;
    c->ws_io_rc = io;
}

int mqs_ws_write(mqs_conn *c, uint8_t opcode, const uint8_t *buf, size_t len, int64_t deadline_ms)
{
    if (c->ws_rc)
        return c->ws_rc;
    if (!wslay_event_get_write_enabled(c->ws))
        return mqs_net_fail(c, MQS_NET_CLOSED, "WebSocket to %s: already closed", c->peer);
    int r;
    if (opcode == WSLAY_BINARY_FRAME && c->ws_frame_max && len > c->ws_frame_max) {
        r = queue_fragmented(c, buf, len);
    } else {
        struct wslay_event_msg m = {.opcode = opcode, .msg = buf, .msg_length = len};
        r = wslay_event_queue_msg(c->ws, &m);
    }
    if (r != 0)
        return mqs_net_fail(c, MQS_NET_ERROR, "WebSocket to %s: cannot queue message (wslay %d)",
                            c->peer, r);
    if (c->trace)
        c->trace(c->trace_ud, 0, buf, len);
    return ws_flush(c, deadline_ms);
}

/* ---- receiving ---- */

/* After wslay_event_recv returned r (io: the stream status its callback saw): sets
 * c->ws_rc when the WebSocket can deliver nothing more. @return true then. */
static bool ws_ended(mqs_conn *c, int r, int io)
{
    if (c->ws_rc)
        return true;
    if (r != 0) {
        if (io == MQS_NET_CLOSED)
            mqs_net_fail(c, io, "connection closed by %s without a WebSocket close frame", c->peer);
        c->ws_rc = io ? io : mqs_net_fail(c, MQS_NET_ERROR, "WebSocket from %s failed", c->peer);
        return true;
    }
    if (wslay_event_get_close_received(c->ws)) {
        c->ws_rc = mqs_net_fail(c, MQS_NET_CLOSED, "WebSocket close (status %u) from %s",
                                (unsigned)wslay_event_get_status_code_received(c->ws), c->peer);
        return true;
    }
    if (!wslay_event_get_read_enabled(c->ws)) {
        c->ws_rc = mqs_net_fail(c, MQS_NET_PROTOCOL,
                                "WebSocket framing violation by %s (answered with close %u)", c->peer,
                                (unsigned)wslay_event_get_status_code_sent(c->ws));
        return true;
    }
    return false;
}

/* One round: let wslay read what is there, answer control frames. */
static bool ws_pump(mqs_conn *c)
{
    c->ws_io_rc = 0;
    int r = wslay_event_recv(c->ws);
    int io = c->ws_io_rc;
    ws_flush_now(c);
    return ws_ended(c, r, io);
}

int mqs_ws_read(mqs_conn *c, uint8_t *buf, size_t cap, size_t *got, int64_t deadline_ms)
{
    for (;;) {
        if (c->ws_rx_off < c->ws_rx_len) {
            size_t n = c->ws_rx_len - c->ws_rx_off;
            n = n < cap ? n : cap;
            memcpy(buf, c->ws_rx + c->ws_rx_off, n);
            c->ws_rx_off += n;
            *got = n;
            return MQS_NET_OK;
        }
        if (c->ws_rc)
            return c->ws_rc;
        if (ws_pump(c) || c->ws_rx_off < c->ws_rx_len)
            continue;
        int rc = mqs_net_wait(c, c->want, deadline_ms);
        if (rc == MQS_NET_TIMEOUT)
            return mqs_net_fail(c, rc, "read from %s timed out", c->peer);
        if (rc != MQS_NET_OK)
            return rc;
    }
}

void mqs_ws_close(mqs_conn *c, bool abrupt)
{
    if (!abrupt) {
        int64_t dl = mqs_net_close_deadline();
        if (!wslay_event_get_close_sent(c->ws))
            (void)wslay_event_queue_close(c->ws, WSLAY_CODE_NORMAL_CLOSURE, NULL, 0);
        int rc = ws_flush(c, dl);
        /* Wait (briefly) for the server's close frame or its FIN; discard data. */
        while (rc == MQS_NET_OK && !c->ws_rc) {
            c->ws_rx_off = c->ws_rx_len = 0;
            if (ws_pump(c))
                break;
            rc = mqs_net_wait(c, c->want, dl);
        }
    }
    while (c->ws_frags) {
        mqs_ws_frag *f = c->ws_frags;
        c->ws_frags = f->next;
        free(f);
    }
    wslay_event_context_free(c->ws);
    c->ws = NULL;
}

/* ---- the upgrade handshake ---- */

static void base64(const uint8_t *in, size_t len, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, in, (int)len);
}

/* Sec-WebSocket-Accept for key: base64(SHA-1(key + GUID)) (RFC 6455 4.2.2). */
static void ws_accept_for(const char *key, char out[29])
{
    char cat[64 + sizeof MQS_WS_GUID];
    snprintf(cat, sizeof cat, "%s%s", key, MQS_WS_GUID);
    uint8_t md[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)cat, strlen(cat), md);
    base64(md, sizeof md, out);
}

static bool path_ok(const char *p)
{
    if (*p != '/')
        return false;
    for (; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return false;
    return true;
}

/* Parsed facts of an upgrade response. */
typedef struct ws_resp {
    bool upgrade, connection, extensions;
    char accept[64];
    bool has_accept;
} ws_resp;

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = 0;
    return s;
}

static bool has_token(char *list, const char *token)
{
    for (char *save = NULL, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save))
        if (!strcasecmp(trim(t), token))
            return true;
    return false;
}

/* One header line "Name: value" into r; false on a malformed line. */
static bool header_line(mqs_conn *c, char *line, ws_resp *r)
{
    char *colon = strchr(line, ':');
    if (!colon || colon == line || line[0] == ' ' || line[0] == '\t')
        return false;
    *colon = 0;
    for (char *p = line; *p; p++)
        if (!isgraph((unsigned char)*p))
            return false;
    char *v = trim(colon + 1);
    if (!strcasecmp(line, "upgrade"))
        r->upgrade = !strcasecmp(v, "websocket");
    else if (!strcasecmp(line, "connection"))
        r->connection = has_token(v, "upgrade");
    else if (!strcasecmp(line, "sec-websocket-accept")) {
        r->has_accept = true;
        snprintf(r->accept, sizeof r->accept, "%s", v);
    } else if (!strcasecmp(line, "sec-websocket-protocol"))
        snprintf(c->ws_subprotocol, sizeof c->ws_subprotocol, "%s", v);
    else if (!strcasecmp(line, "sec-websocket-extensions"))
        r->extensions = r->extensions || *v;
    return true;
}

/* Checks the status line and headers (hdr is NUL-terminated, ends with CRLF CRLF). */
static int check_response(mqs_conn *c, char *hdr, const char *key, const char *what)
{
    char *save = NULL;
    char *status = strtok_r(hdr, "\r\n", &save);
    if (!status || strncmp(status, "HTTP/1.1 ", 9) != 0)
        return mqs_net_fail(c, MQS_NET_PROTOCOL, "%s failed: not an HTTP/1.1 response", what);
    for (char *p = status; *p; p++)
        if (!isprint((unsigned char)*p))
            *p = '?';
    if (strncmp(status + 9, "101", 3) != 0 || (status[12] && status[12] != ' '))
        return mqs_net_fail(c, MQS_NET_PROTOCOL, "%s refused: %.80s", what, status);
    ws_resp r = {0};
    for (char *line = strtok_r(NULL, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save))
        if (!header_line(c, line, &r))
            return mqs_net_fail(c, MQS_NET_PROTOCOL, "%s failed: malformed response header",
                                what);
    char want[29];
    ws_accept_for(key, want);
    if (!r.upgrade)
        return mqs_net_fail(c, MQS_NET_PROTOCOL, "%s failed: no 'Upgrade: websocket' header", what);
    if (!r.connection)
        return mqs_net_fail(c, MQS_NET_PROTOCOL, "%s failed: no 'Connection: Upgrade' header", what);
    if (!r.has_accept)
        return mqs_net_fail(c, MQS_NET_PROTOCOL, "%s failed: no Sec-WebSocket-Accept header", what);
    if (strcmp(r.accept, want) != 0)
        return mqs_net_fail(c, MQS_NET_PROTOCOL,
                            "%s failed: Sec-WebSocket-Accept is '%.40s', expected '%s'", what,
                            r.accept, want);
    if (r.extensions)
        return mqs_net_fail(c, MQS_NET_PROTOCOL, "%s failed: server chose extensions we did not offer",
                            what);
    /* RFC 6455 4.1: a subprotocol we did not offer fails the connection. An absent one is
     * recorded as "" for the conformance layer to judge [MQTT-6.0.0-4]. */
    if (*c->ws_subprotocol && strcmp(c->ws_subprotocol, "mqtt") != 0)
        return mqs_net_fail(c, MQS_NET_PROTOCOL,
                            "%s failed: server chose subprotocol '%.40s', we offered only 'mqtt'",
                            what, c->ws_subprotocol);
    return MQS_NET_OK;
}

static char *find_crlfcrlf(char *s, size_t n)
{
    for (size_t i = 0; i + 4 <= n; i++)
        if (!memcmp(s + i, "\r\n\r\n", 4))
            return s + i;
    return NULL;
}

/* Reads the response header into hdr (NUL-terminated); keeps any bytes after it. */
static int read_response(mqs_conn *c, char *hdr, int64_t deadline_ms, const char *what)
{
    size_t n = 0;
    for (;;) {
        size_t got = 0;
        int rc = mqs_stream_read(c, (uint8_t *)hdr + n, MQS_WS_MAX_HEADER - n, &got, deadline_ms);
        if (rc == MQS_NET_TIMEOUT)
            return mqs_net_fail(c, rc, "%s timed out", what);
        if (rc == MQS_NET_CLOSED || rc == MQS_NET_RESET)
            return mqs_net_fail(c, MQS_NET_PROTOCOL,
                                "%s failed: connection %s before the response (is it a WebSocket "
                                "endpoint?)",
                                what, rc == MQS_NET_CLOSED ? "closed" : "reset");
        if (rc != MQS_NET_OK)
            return rc;
        n += got;
        char *end = find_crlfcrlf(hdr, n);
        if (memchr(hdr, 0, end ? (size_t)(end - hdr) : n))
            return mqs_net_fail(c, MQS_NET_PROTOCOL, "%s failed: NUL byte in the response", what);
        if (end) {
            size_t hlen = (size_t)(end - hdr) + 4;
            c->ws_pre_len = n - hlen;
            if (c->ws_pre_len) {
                c->ws_pre = malloc(c->ws_pre_len);
                if (!c->ws_pre)
                    return mqs_net_fail(c, MQS_NET_ERROR, "out of memory");
                memcpy(c->ws_pre, hdr + hlen, c->ws_pre_len);
            }
            end[2] = 0;
            return MQS_NET_OK;
        }
        if (n == MQS_WS_MAX_HEADER)
            return mqs_net_fail(c, MQS_NET_PROTOCOL, "%s failed: response header over %d bytes",
                                what, MQS_WS_MAX_HEADER);
    }
}

static int ws_context(mqs_conn *c)
{
    static const struct wslay_event_callbacks cb = {
        .recv_callback = ws_recv_cb,
        .send_callback = ws_send_cb,
        .genmask_callback = ws_genmask_cb,
        .on_msg_recv_callback = ws_msg_cb,
    };
    if (wslay_event_context_client_init(&c->ws, &cb, c) != 0)
        return mqs_net_fail(c, MQS_NET_ERROR, "WebSocket: out of memory");
    wslay_event_config_set_max_recv_msg_length(c->ws, MQS_WS_MAX_MESSAGE);
    return MQS_NET_OK;
}

int mqs_ws_open(mqs_conn *c, const mqs_endpoint *ep, int64_t deadline_ms)
{
    const char *path = ep->ws_path ? ep->ws_path : "/mqtt";
    char what[420];
    snprintf(what, sizeof what, "WebSocket upgrade with %s (path %.80s)", c->peer, path);
    if (!path_ok(path) || strlen(path) > 2048)
        return mqs_net_fail(c, MQS_NET_ERROR, "%s: bad path", what);
    uint8_t raw[16];
    char key[25];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return mqs_net_fail(c, MQS_NET_ERROR, "%s: no random bytes", what);
    base64(raw, sizeof raw, key);
    uint16_t dflt = ep->transport == MQS_TR_WSS ? 443 : 80;
    bool v6 = strchr(ep->host, ':') != NULL;
    char port[8] = "";
    if (ep->port != dflt)
        snprintf(port, sizeof port, ":%u", (unsigned)ep->port);
    char req[2600];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: %s%s%s%s\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
                     "Sec-WebSocket-Protocol: mqtt\r\n\r\n",
                     path, v6 ? "[" : "", ep->host, v6 ? "]" : "", port, key);
    if (n < 0 || (size_t)n >= sizeof req)
        return mqs_net_fail(c, MQS_NET_ERROR, "%s: request too long", what);
    int rc = mqs_stream_write(c, (const uint8_t *)req, (size_t)n, deadline_ms);
    if (rc == MQS_NET_TIMEOUT)
        return mqs_net_fail(c, rc, "%s timed out", what);
    if (rc != MQS_NET_OK)
        return rc;
    char *hdr = malloc(MQS_WS_MAX_HEADER + 1);
    if (!hdr)
        return mqs_net_fail(c, MQS_NET_ERROR, "out of memory");
    rc = read_response(c, hdr, deadline_ms, what);
    if (rc == MQS_NET_OK)
        rc = check_response(c, hdr, key, what);
    free(hdr);
    return rc == MQS_NET_OK ? ws_context(c) : rc;
}
