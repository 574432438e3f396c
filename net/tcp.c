/* mqttspec net: TCP — name resolution, non-blocking connect with a deadline, raw
 * send/recv, and the two ways to close (FIN or RST).
 *
 * SIGPIPE: every send uses MSG_NOSIGNAL (and the TLS layer's BIO does the same), so
 * writing to a connection the peer has reset returns EPIPE instead of killing the
 * process; no signal disposition is changed. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/net_internal.h"

static void format_peer(mqs_conn *c, const char *host, uint16_t port)
{
    bool v6 = strchr(host, ':') != NULL;
    snprintf(c->peer, sizeof c->peer, "%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "",
             (unsigned)port);
}

/* Classifies a failed connect errno. */
static int connect_rc(int e)
{
    switch (e) {
    case ECONNREFUSED:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case EADDRNOTAVAIL:
    case ENETDOWN:
    case EHOSTDOWN:
        return MQS_NET_REFUSED;
    case ETIMEDOUT:
        return MQS_NET_TIMEOUT;
    default:
        return MQS_NET_ERROR;
    }
}

/* One address: non-blocking connect, wait for completion by the deadline.
 * On OK, c->fd is the connected socket; otherwise *err_no says why. */
static int connect_one(mqs_conn *c, const struct addrinfo *ai, int64_t deadline_ms, int *err_no)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
        *err_no = errno;
        return MQS_NET_ERROR;
    }
    c->fd = fd;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
        *err_no = errno;
        goto fail;
    }
    int rc = mqs_net_wait(c, POLLOUT, deadline_ms);
    if (rc != MQS_NET_OK) {
        *err_no = rc == MQS_NET_TIMEOUT ? ETIMEDOUT : errno;
        goto fail;
    }
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
        soerr = errno;
    /* ECONNRESET (not ECONNREFUSED): the peer accepted the connection and reset it before
     * we looked. It was reached; the reset shows on the first read or write, as it does
     * when it comes a moment later, so the outcome does not depend on the timing. */
    c->reset_at_connect = soerr == ECONNRESET;
    if (soerr != 0 && !c->reset_at_connect) {
        *err_no = soerr;
        goto fail;
    }
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return MQS_NET_OK;
fail:
    close(fd);
    c->fd = -1;
    return connect_rc(*err_no);
}

int mqs_tcp_connect(mqs_conn *c, const mqs_endpoint *ep, int64_t deadline_ms)
{
    format_peer(c, ep->host, ep->port);
    char port[8];
    snprintf(port, sizeof port, "%u", (unsigned)ep->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    /* getaddrinfo has no timeout; numeric addresses (what tests use) do not block. */
    int g = getaddrinfo(ep->host, port, &hints, &res);
    if (g != 0)
        return mqs_net_fail(c, MQS_NET_REFUSED, "cannot resolve host '%s': %s", ep->host,
                            gai_strerror(g));
    int rc = MQS_NET_ERROR, err_no = 0;
    for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        rc = connect_one(c, ai, deadline_ms, &err_no);
        if (rc == MQS_NET_OK || rc == MQS_NET_TIMEOUT)
            break;
    }
    freeaddrinfo(res);
    if (rc == MQS_NET_TIMEOUT)
        return mqs_net_fail(c, rc, "connect to %s timed out", c->peer);
    if (rc != MQS_NET_OK)
        return mqs_net_fail(c, rc, "connect to %s failed: %s", c->peer, strerror(err_no));
    return MQS_NET_OK;
}

/* Classifies a failed send/recv errno (EAGAIN handled by the callers). */
static int io_rc(mqs_conn *c, const char *what, int e)
{
    c->last_errno = e;
    if (e == ECONNRESET || e == EPIPE)
        return mqs_net_fail(c, MQS_NET_RESET, "%s %s: connection reset by peer", what, c->peer);
    if (e == ETIMEDOUT)
        return mqs_net_fail(c, MQS_NET_RESET, "%s %s: connection timed out (TCP)", what, c->peer);
    return mqs_net_fail(c, MQS_NET_ERROR, "%s %s: %s", what, c->peer, strerror(e));
}

int mqs_tcp_try_read(mqs_conn *c, uint8_t *buf, size_t cap, size_t *got)
{
    if (c->reset_at_connect)
        return io_rc(c, "read from", ECONNRESET);
    for (;;) {
        ssize_t n = recv(c->fd, buf, cap, 0);
        if (n > 0) {
            *got = (size_t)n;
            return MQS_NET_OK;
        }
        if (n == 0)
            return mqs_net_fail(c, MQS_NET_CLOSED, "connection closed by %s", c->peer);
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            c->want = POLLIN;
            return MQS_NET_AGAIN;
        }
        return io_rc(c, "read from", errno);
    }
}

int mqs_tcp_try_write(mqs_conn *c, const uint8_t *buf, size_t len, size_t *sent)
{
    if (c->reset_at_connect)
        return io_rc(c, "write to", ECONNRESET);
    for (;;) {
        ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
        if (n >= 0) {
            *sent = (size_t)n;
            return MQS_NET_OK;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            c->want = POLLOUT;
            return MQS_NET_AGAIN;
        }
        return io_rc(c, "write to", errno);
    }
}

void mqs_tcp_close(mqs_conn *c, bool abrupt)
{
    if (abrupt) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        (void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    } else {
        (void)shutdown(c->fd, SHUT_WR);
        /* Unread data at close() makes Linux send a RST instead of the FIN: drain
         * what has arrived (no waiting). */
        uint8_t sink[4096];
        for (int i = 0; i < 64; i++)
            if (recv(c->fd, sink, sizeof sink, MSG_DONTWAIT) <= 0)
                break;
    }
    close(c->fd);
    c->fd = -1;
}
