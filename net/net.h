/* mqttspec net: one connection type over TCP, TLS (OpenSSL) and WebSocket (ws, wss).
 *
 * Non-blocking sockets with poll(); every connect, read and write takes an absolute
 * deadline on the monotonic clock (mqs_now_ms()). A peer that hangs, resets or sends
 * garbage yields a status and a one-line message (mqs_conn_error), never a hang.
 * Exceptions to the deadlines: host name resolution (getaddrinfo has no timeout;
 * numeric addresses never block) and the orderly close, bounded by 1 s of its own.
 *
 * Every byte of MQTT data that crosses the connection (after TLS / WebSocket
 * unwrapping) is passed to the trace hook, in order, with its direction: received
 * bytes as mqs_conn_read returns them, sent bytes as they are written (WebSocket: the
 * whole message once it is queued for sending). HTTP upgrade and frame headers are not
 * traced.
 *
 * SIGPIPE: never raised. Sockets are written with send(MSG_NOSIGNAL), TLS through a
 * BIO of our own that does the same; the process's signal handling is left alone.
 *
 * Threads: connections are independent; different threads may use different
 * connections at the same time. One connection is not for concurrent use.
 */
#ifndef MQS_NET_H
#define MQS_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mqs_transport {
    MQS_TR_TCP = 0,
    MQS_TR_TLS = 1,
    MQS_TR_WS = 2,
    MQS_TR_WSS = 3,
} mqs_transport;

/** Results of net calls (not codec statuses). Stable values. */
typedef enum mqs_net_rc {
    MQS_NET_OK = 0,
    MQS_NET_TIMEOUT = 1,  /* deadline passed; the connection is still usable */
    MQS_NET_CLOSED = 2,   /* orderly close by the peer (FIN / WebSocket close / TLS close_notify) */
    MQS_NET_RESET = 3,    /* connection reset by the peer */
    MQS_NET_ERROR = 4,    /* anything else; see mqs_conn_error() */
    MQS_NET_REFUSED = 5,  /* connect refused / host unreachable */
    MQS_NET_TLS = 6,      /* TLS handshake or verification failure */
    MQS_NET_PROTOCOL = 7, /* WebSocket upgrade or framing violation by the peer */
} mqs_net_rc;

typedef struct mqs_tls_opts {
    const char *cafile;     /* NULL: system store (unless capath) */
    const char *capath;
    const char *certfile;   /* client certificate (PEM) */
    const char *keyfile;    /* client key (PEM) */
    const char *servername; /* SNI and the name verified; NULL: the host */
    bool insecure;          /* skip verification: only when the user asks */
} mqs_tls_opts;

typedef struct mqs_endpoint {
    mqs_transport transport;
    const char *host; /* numeric address or name */
    uint16_t port;
    const char *ws_path; /* "/mqtt" when NULL */
    mqs_tls_opts tls;
} mqs_endpoint;

/** Trace hook: dir 0 = sent by us, 1 = received from the peer. */
typedef void (*mqs_trace_fn)(void *ud, int dir, const uint8_t *data, size_t len);

typedef struct mqs_conn mqs_conn;

/** Monotonic milliseconds (CLOCK_MONOTONIC); the clock of every deadline here. */
int64_t mqs_now_ms(void);

/** Parses a broker URL: mqtt://host[:port] (tcp, 1883), mqtts:// (tls, 8883),
 *  ws://host[:port][/path] (80, path /mqtt), wss:// (443, /mqtt); IPv6 in brackets.
 *  Sets ep->transport, host, port and ws_path (NULL for mqtt/mqtts); leaves ep->tls
 *  alone. host and ws_path point into storage (600 bytes is plenty), which must
 *  outlive ep. User info, fragments and paths on mqtt/mqtts URLs are refused.
 *  @return 0, or -1 with one line "bad URL '...': reason" in err. */
int mqs_url_parse(const char *url, mqs_endpoint *ep, char *storage, size_t storage_len, char *err,
                  size_t errlen);

/** Opens a connection (TCP connect, TLS handshake, WebSocket upgrade) by deadline_ms.
 *  ep and its strings are only read during the call. trace may be NULL.
 *  @param[out] out  the connection (free with mqs_conn_close); NULL on failure
 *  @param[out] err  on failure one human-readable line (may be NULL)
 *  @return MQS_NET_OK, MQS_NET_REFUSED (refused, unreachable, unknown host),
 *          MQS_NET_TIMEOUT, MQS_NET_TLS (setup, handshake, verification),
 *          MQS_NET_PROTOCOL (WebSocket upgrade refused or malformed), MQS_NET_CLOSED /
 *          MQS_NET_RESET (during the handshake), MQS_NET_ERROR (bad endpoint, memory). */
int mqs_conn_open(const mqs_endpoint *ep, int64_t deadline_ms, mqs_trace_fn trace, void *trace_ud,
                  mqs_conn **out, char *err, size_t errlen);

/** Writes all of buf by the deadline (for WebSocket: as one binary message, in one
 *  frame, or split in frames of at most mqs_conn_set_ws_frame_max bytes).
 *  @return MQS_NET_OK, MQS_NET_TIMEOUT (part may have been sent; WebSocket: the rest
 *          stays queued and goes out with the next write), MQS_NET_RESET (peer gone),
 *          MQS_NET_TLS, MQS_NET_CLOSED (WebSocket already closed), MQS_NET_ERROR. */
int mqs_conn_write(mqs_conn *c, const uint8_t *buf, size_t len, int64_t deadline_ms);

/** Reads what is available (at least 1 byte, at most cap) into buf by the deadline.
 *  Over WebSocket the result is the byte stream of the binary messages, whatever
 *  their framing. A deadline in the past still returns data already there.
 *  @return MQS_NET_OK with *got > 0; MQS_NET_TIMEOUT (nothing by the deadline; the
 *          connection stays usable); MQS_NET_CLOSED (FIN, TLS close_notify, or a
 *          WebSocket close frame, after all data before it was returned);
 *          MQS_NET_RESET; MQS_NET_TLS (e.g. an alert after the handshake);
 *          MQS_NET_PROTOCOL (WebSocket: a text frame [MQTT-6.0.0-1] or bad framing);
 *          MQS_NET_ERROR. Once CLOSED/RESET/PROTOCOL, later reads return the same. */
int mqs_conn_read(mqs_conn *c, uint8_t *buf, size_t cap, size_t *got, int64_t deadline_ms);

/** Acknowledge every read at once (TCP_QUICKACK, re-armed after each read; Linux, all
 *  transports). Without it a peer that uses Nagle's algorithm can hold its second
 *  small packet for our delayed ACK (~40 ms): request/answer loops (the live fuzzer)
 *  crawl. Off by default. NULL is fine. */
void mqs_conn_set_quickack(mqs_conn *c, bool on);

/** WebSocket only: split each later write into frames of at most n payload bytes
 *  (0: one frame per write; wslay caps a split frame at 4096 bytes). No effect elsewhere. */
void mqs_conn_set_ws_frame_max(mqs_conn *c, size_t n);
/** WebSocket only: send data as one text frame (chapter 6 test). Traced like a write.
 *  @return as mqs_conn_write; other transports: MQS_NET_ERROR. */
int mqs_conn_ws_send_text(mqs_conn *c, const uint8_t *buf, size_t len, int64_t deadline_ms);
/** WebSocket only: the subprotocol the server returned ("" when none). */
const char *mqs_conn_ws_subprotocol(const mqs_conn *c);

/** Closes: abrupt = true sends a TCP RST (SO_LINGER 0), no TLS/WS close; false is an
 *  orderly close (WebSocket close frame 1000 and up to 1 s for the server's close,
 *  TLS close_notify, FIN). Frees c. NULL is fine. */
void mqs_conn_close(mqs_conn *c, bool abrupt);

/** The last error as one line (never NULL; valid until the next call on c). */
const char *mqs_conn_error(const mqs_conn *c);

/** Description for reports, e.g. "tls to 127.0.0.1:8883 (TLSv1.3,
 *  TLS_AES_256_GCM_SHA384, verify on, client certificate)" or "wss to h:443 (TLSv1.3,
 *  ..., verify on, path /mqtt, subprotocol mqtt)". Never NULL; lives as long as c. */
const char *mqs_conn_describe(const mqs_conn *c);

const char *mqs_transport_name(mqs_transport t); /* "tcp", "tls", "ws", "wss" */
const char *mqs_net_rc_str(int rc);

#ifdef __cplusplus
}
#endif

#endif /* MQS_NET_H */
