/* mqttspec net: private parts shared by conn.c, tcp.c, tls.c and ws.c. Not a public header.
 *
 * Layers: a byte "stream" (plain TCP, or TLS over TCP) and, for ws/wss, WebSocket
 * framing (wslay) on top of that stream. Every stream operation comes in two shapes:
 * try_* (one non-blocking attempt, MQS_NET_AGAIN when it would block, with c->want
 * telling which poll event to wait for) and the deadline-bounded versions built from
 * try_* plus mqs_net_wait().
 */
#ifndef MQS_NET_INTERNAL_H
#define MQS_NET_INTERNAL_H

#include <openssl/ssl.h>
#include <stdarg.h>
#include <wslay/wslay.h>

#include "net/net.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Internal result: the operation would block (never returned by the public API). */
#define MQS_NET_AGAIN (-1)

/** Longest error line kept per connection. */
#define MQS_NET_ERRLEN 320

/** A WebSocket message copied for fragmented sending (see ws.c). */
typedef struct mqs_ws_frag mqs_ws_frag;

struct mqs_conn {
    mqs_transport transport;
    int fd;
    char peer[300]; /* "host:port" / "[v6]:port" for messages */
    mqs_trace_fn trace;
    void *trace_ud;
    short want;     /* poll events the last MQS_NET_AGAIN waits for */
    int last_errno; /* errno of the last failed socket call (the TLS BIO sets it too) */
    int read_end;   /* sticky status of mqs_conn_read once the stream ended, 0: open */
    bool quickack;  /* re-arm TCP_QUICKACK after every read (mqs_conn_set_quickack) */
    bool reset_at_connect; /* reset by the peer between accept and our connect check */

    /* TLS (tls, wss) */
    SSL_CTX *ssl_ctx;
    SSL *ssl;
    bool tls_verify;      /* peer verification on */
    bool tls_client_cert; /* we have a client certificate */
    bool tls_cert_asked;  /* the server asked for a client certificate we do not have */
    int tls_verify_err;   /* first X509_V_ERR_* seen by the verify callback, 0: none */
    char tls_verify_detail[200];

    /* WebSocket (ws, wss) */
    wslay_event_context_ptr ws;
    uint8_t *ws_pre; /* bytes read after the upgrade response header, fed to wslay first */
    size_t ws_pre_len, ws_pre_off;
    uint8_t *ws_rx; /* received message bytes not yet returned by mqs_conn_read */
    size_t ws_rx_len, ws_rx_off, ws_rx_cap;
    int ws_io_rc; /* stream status behind the last wslay callback failure */
    int ws_rc;    /* sticky terminal status once the WebSocket is unusable, 0: fine */
    size_t ws_frame_max;
    mqs_ws_frag *ws_frags; /* fragmented messages wslay has not finished reading */
    char ws_subprotocol[64];

    char err[MQS_NET_ERRLEN];
    char desc[640];
};

/* ---- conn.c ---- */

/** Records a formatted one-line error in c->err; returns rc (for `return mqs_net_fail(...)`). */
int mqs_net_fail(mqs_conn *c, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** Waits by deadline_ms until c->fd is ready for events (POLLIN / POLLOUT).
 *  @return MQS_NET_OK (ready, or error/hangup pending: the next call reports it),
 *          MQS_NET_TIMEOUT, or MQS_NET_ERROR (poll failed). */
int mqs_net_wait(mqs_conn *c, short events, int64_t deadline_ms);

/** Stream (TCP or TLS) read: one attempt. @return OK (*got > 0), AGAIN, CLOSED, RESET,
 *  ERROR, TLS. */
int mqs_stream_try_read(mqs_conn *c, uint8_t *buf, size_t cap, size_t *got);
/** Stream write: one attempt. @return OK (*sent > 0), AGAIN, RESET, ERROR, TLS. */
int mqs_stream_try_write(mqs_conn *c, const uint8_t *buf, size_t len, size_t *sent);
/** Stream read by a deadline (at least 1 byte). Does not trace. */
int mqs_stream_read(mqs_conn *c, uint8_t *buf, size_t cap, size_t *got, int64_t deadline_ms);
/** Stream write of all of buf by a deadline. Does not trace. */
int mqs_stream_write(mqs_conn *c, const uint8_t *buf, size_t len, int64_t deadline_ms);

/** Deadline for the orderly-close handshakes (WebSocket close, TLS close_notify), which
 *  mqs_conn_close does not take a deadline for: now + 1 s. */
int64_t mqs_net_close_deadline(void);

/* ---- tcp.c ---- */

/** Resolves ep->host and connects c->fd (non-blocking, TCP_NODELAY) by the deadline.
 *  @return OK, REFUSED (refused, unreachable, name unknown), TIMEOUT, ERROR. */
int mqs_tcp_connect(mqs_conn *c, const mqs_endpoint *ep, int64_t deadline_ms);
int mqs_tcp_try_read(mqs_conn *c, uint8_t *buf, size_t cap, size_t *got);
int mqs_tcp_try_write(mqs_conn *c, const uint8_t *buf, size_t len, size_t *sent);
/** Closes c->fd: abrupt sends RST (SO_LINGER 0); orderly sends FIN (shutdown SHUT_WR),
 *  discards what the peer already sent (so close() does not turn into a RST), closes. */
void mqs_tcp_close(mqs_conn *c, bool abrupt);

/* ---- tls.c ---- */

/** TLS handshake over the connected c->fd by the deadline; see net.h for the options.
 *  @return OK, TLS (setup, handshake or verification failure), TIMEOUT, CLOSED, RESET, ERROR. */
int mqs_tls_open(mqs_conn *c, const mqs_endpoint *ep, int64_t deadline_ms);
int mqs_tls_try_read(mqs_conn *c, uint8_t *buf, size_t cap, size_t *got);
int mqs_tls_try_write(mqs_conn *c, const uint8_t *buf, size_t len, size_t *sent);
/** Sends close_notify unless abrupt (one non-blocking attempt) and frees the TLS state. */
void mqs_tls_close(mqs_conn *c, bool abrupt);
/** "TLSv1.3, TLS_AES_256_GCM_SHA384, verify on" into buf. */
void mqs_tls_describe(const mqs_conn *c, char *buf, size_t len);

/* ---- ws.c ---- */

/** WebSocket upgrade (GET path, subprotocol mqtt) over the open stream by the deadline.
 *  @return OK, PROTOCOL (bad response), TIMEOUT, CLOSED, RESET, ERROR, TLS. */
int mqs_ws_open(mqs_conn *c, const mqs_endpoint *ep, int64_t deadline_ms);
int mqs_ws_read(mqs_conn *c, uint8_t *buf, size_t cap, size_t *got, int64_t deadline_ms);
/** Sends buf as one message with opcode (binary or text), split per ws_frame_max. */
int mqs_ws_write(mqs_conn *c, uint8_t opcode, const uint8_t *buf, size_t len, int64_t deadline_ms);
/** Orderly: close frame 1000 and a short wait for the peer's close. Frees the WS state. */
void mqs_ws_close(mqs_conn *c, bool abrupt);

#ifdef __cplusplus
}
#endif

#endif /* MQS_NET_INTERNAL_H */
