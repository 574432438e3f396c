/* mqttspec net: one connection type over TCP, TLS (OpenSSL) and WebSocket (ws, wss).
 *
 * Non-blocking sockets with poll(); every connect, read and write takes an absolute
 * deadline on the monotonic clock (mqs_now_ms()). A peer that hangs, resets or sends
 * garbage yields a status and a one-line message, never a hang.
 *
 * Every byte of MQTT data that crosses the connection (after TLS / WebSocket
 * unwrapping) is passed to the trace hook, in order, with its direction.
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

/** Results of net calls (not codec statuses). */
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

/** Monotonic milliseconds. */
int64_t mqs_now_ms(void);

/** Parses mqtt://, mqtts://, ws://, wss:// URLs into ep (host/path point into storage).
 *  @return 0, or -1 with a message in err. */
int mqs_url_parse(const char *url, mqs_endpoint *ep, char *storage, size_t storage_len, char *err,
                  size_t errlen);

/** Opens a connection (TCP connect, TLS handshake, WebSocket upgrade) by deadline_ms.
 *  On failure *out is NULL and err holds one human-readable line. */
int mqs_conn_open(const mqs_endpoint *ep, int64_t deadline_ms, mqs_trace_fn trace, void *trace_ud,
                  mqs_conn **out, char *err, size_t errlen);

/** Writes all of buf by the deadline (for WebSocket: as one binary frame, or split in
 *  frames of at most mqs_conn_set_ws_frame_max bytes). */
int mqs_conn_write(mqs_conn *c, const uint8_t *buf, size_t len, int64_t deadline_ms);

/** Reads what is available (at least 1 byte) into buf by the deadline.
 *  @return MQS_NET_OK with *got > 0, MQS_NET_TIMEOUT, MQS_NET_CLOSED, MQS_NET_RESET, ... */
int mqs_conn_read(mqs_conn *c, uint8_t *buf, size_t cap, size_t *got, int64_t deadline_ms);

/** WebSocket only: split each write into frames of at most n payload bytes (0: no split). */
void mqs_conn_set_ws_frame_max(mqs_conn *c, size_t n);
/** WebSocket only: send data as a text frame (chapter 6 test). Other transports: MQS_NET_ERROR. */
int mqs_conn_ws_send_text(mqs_conn *c, const uint8_t *buf, size_t len, int64_t deadline_ms);
/** WebSocket only: the subprotocol the server returned ("" when none). */
const char *mqs_conn_ws_subprotocol(const mqs_conn *c);

/** Closes: abrupt = true sends a TCP RST (SO_LINGER 0), no TLS/WS close; false is an
 *  orderly close (WebSocket close frame, TLS close_notify, FIN). Frees c. NULL is fine. */
void mqs_conn_close(mqs_conn *c, bool abrupt);

/** The last error as one line (never NULL). */
const char *mqs_conn_error(const mqs_conn *c);

/** Description such as "tls (TLSv1.3, TLS_AES_256_GCM_SHA384, verify on)" for reports. */
const char *mqs_conn_describe(const mqs_conn *c);

const char *mqs_transport_name(mqs_transport t); /* "tcp", "tls", "ws", "wss" */
const char *mqs_net_rc_str(int rc);

#ifdef __cplusplus
}
#endif

#endif /* MQS_NET_H */
