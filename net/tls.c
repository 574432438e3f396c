/* mqttspec net: TLS with OpenSSL 3 over the connected non-blocking socket.
 *
 * - Verification is on unless ep->tls.insecure: trust comes from cafile/capath, else
 *   the system store; the peer name checked is tls.servername, else the host (an IP
 *   literal is checked against the certificate's IP SANs). SNI carries the name,
 *   never an IP literal. TLS 1.2 is the minimum.
 * - The socket is wrapped in a small BIO of our own that sends with MSG_NOSIGNAL, so a
 *   peer reset never raises SIGPIPE (OpenSSL's socket BIO uses write()).
 * - An EOF without close_notify counts as an orderly close (SSL_OP_IGNORE_UNEXPECTED_EOF):
 *   brokers commonly drop the TCP connection after a protocol error without it.
 * - Handshake failures become one line: the verify callback records the first
 *   certificate problem with the detail a person needs (issuer, expiry date, the names
 *   the certificate is for); alerts are named.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "net/net_internal.h"

/* ---- the MSG_NOSIGNAL socket BIO (BIO data = the mqs_conn) ---- */

static int bio_write(BIO *b, const char *data, int len)
{
    mqs_conn *c = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (c->reset_at_connect) { /* see connect_one in tcp.c */
        c->last_errno = ECONNRESET;
        return -1;
    }
    ssize_t n;
    do
        n = send(c->fd, data, (size_t)len, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        c->last_errno = errno;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            BIO_set_retry_write(b);
    }
    return (int)n;
}

static int bio_read(BIO *b, char *buf, int len)
{
    mqs_conn *c = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (c->reset_at_connect) { /* see connect_one in tcp.c */
        c->last_errno = ECONNRESET;
        return -1;
    }
    ssize_t n;
    do
        n = recv(c->fd, buf, (size_t)len, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        c->last_errno = errno;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            BIO_set_retry_read(b);
    } else if (n == 0) {
        c->last_errno = 0;
    }
    return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static BIO_METHOD *bio_method;
static pthread_once_t bio_once = PTHREAD_ONCE_INIT;

static void bio_method_init(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "mqs socket");
    if (m && BIO_meth_set_write(m, bio_write) && BIO_meth_set_read(m, bio_read) &&
        BIO_meth_set_ctrl(m, bio_ctrl) && BIO_meth_set_create(m, bio_create)) {
        bio_method = m;
        return;
    }
    BIO_meth_free(m);
}

/* ---- error text ---- */

/* The first OpenSSL error reason on this thread's queue as text ("" when none). */
static const char *ssl_reason(unsigned long *code)
{
    unsigned long e = ERR_peek_error();
    *code = e;
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    return r ? r : "";
}

/* Appends the certificate's DNS/IP names (or its CN) to buf: "other.example, 10.0.0.1". */
static void cert_names(X509 *cert, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = 0;
    GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens) && used + 2 < len; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        char one[64] = "";
        if (g->type == GEN_DNS) {
            const unsigned char *s = ASN1_STRING_get0_data(g->d.dNSName);
            snprintf(one, sizeof one, "%.*s", ASN1_STRING_length(g->d.dNSName), (const char *)s);
        } else if (g->type == GEN_IPADD) {
            const unsigned char *ip = ASN1_STRING_get0_data(g->d.iPAddress);
            int n = ASN1_STRING_length(g->d.iPAddress);
            if (n == 4 || n == 16)
                inet_ntop(n == 4 ? AF_INET : AF_INET6, ip, one, sizeof one);
        }
        if (*one)
            used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? ", " : "", one);
    }
    GENERAL_NAMES_free(gens);
    if (!buf[0])
        X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, (int)len);
}

/* Records the detail of a verification error for the current certificate. */
static void record_verify_error(mqs_conn *c, int err, X509 *cert)
{
    char tmp[160] = "";
    c->tls_verify_err = err;
    if (!cert)
        return;
    switch (err) {
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        cert_names(cert, tmp, sizeof tmp);
        snprintf(c->tls_verify_detail, sizeof c->tls_verify_detail, "certificate is for %s", tmp);
        break;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID: {
        BIO *m = BIO_new(BIO_s_mem());
        const ASN1_TIME *t = err == X509_V_ERR_CERT_HAS_EXPIRED ? X509_get0_notAfter(cert)
                                                                : X509_get0_notBefore(cert);
        if (m && ASN1_TIME_print(m, t)) {
            int n = BIO_read(m, tmp, (int)sizeof tmp - 1);
            tmp[n > 0 ? n : 0] = 0;
        }
        BIO_free(m);
        snprintf(c->tls_verify_detail, sizeof c->tls_verify_detail, "%s %s",
                 err == X509_V_ERR_CERT_HAS_EXPIRED ? "not after" : "not before", tmp);
        break;
    }
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        X509_NAME_oneline(X509_get_issuer_name(cert), tmp, (int)sizeof tmp);
        snprintf(c->tls_verify_detail, sizeof c->tls_verify_detail, "unknown CA, issuer %s", tmp);
        break;
    default:
        break;
    }
}

static int verify_cb(int ok, X509_STORE_CTX *st)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(st, SSL_get_ex_data_X509_STORE_CTX_idx());
    mqs_conn *c = ssl ? SSL_get_app_data(ssl) : NULL;
    if (!ok && c && !c->tls_verify_err)
        record_verify_error(c, X509_STORE_CTX_get_error(st), X509_STORE_CTX_get_current_cert(st));
    return ok;
}

/* Called when the server asks for a client certificate and none is configured. */
static int client_cert_cb(SSL *ssl, X509 **x509, EVP_PKEY **pkey)
{
    (void)x509;
    (void)pkey;
    mqs_conn *c = SSL_get_app_data(ssl);
    if (c)
        c->tls_cert_asked = true;
    return 0;
}

/* Writes the reason of a failed TLS operation (handshake or later) after prefix. */
static int tls_failure(mqs_conn *c, const char *prefix)
{
    unsigned long code;
    const char *reason = ssl_reason(&code);
    int r = ERR_GET_REASON(code);
    if (c->tls_verify_err) {
        const char *what = X509_verify_cert_error_string(c->tls_verify_err);
        if (*c->tls_verify_detail)
            return mqs_net_fail(c, MQS_NET_TLS, "%s: certificate verify failed (%s: %s)", prefix,
                                what, c->tls_verify_detail);
        return mqs_net_fail(c, MQS_NET_TLS, "%s: certificate verify failed (%s)", prefix, what);
    }
    if (r == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED)
        return mqs_net_fail(c, MQS_NET_TLS,
                            "%s: server requires a client certificate (alert 116 certificate "
                            "required)",
                            prefix);
    if (r == SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE && c->tls_cert_asked)
        return mqs_net_fail(c, MQS_NET_TLS,
                            "%s: server requires a client certificate (alert 40 handshake "
                            "failure)",
                            prefix);
    if (r == SSL_R_WRONG_VERSION_NUMBER)
        return mqs_net_fail(c, MQS_NET_TLS, "%s: wrong version number (does the port speak TLS?)",
                            prefix);
    if (*reason)
        return mqs_net_fail(c, MQS_NET_TLS, "%s: %s", prefix, reason);
    return mqs_net_fail(c, MQS_NET_TLS, "%s: TLS error", prefix);
}

/* Maps SSL_get_error after a failed SSL call; prefix names the operation. */
static int ssl_rc(mqs_conn *c, int ret, const char *prefix)
{
    switch (SSL_get_error(c->ssl, ret)) {
    case SSL_ERROR_WANT_READ:
        c->want = POLLIN;
        return MQS_NET_AGAIN;
    case SSL_ERROR_WANT_WRITE:
        c->want = POLLOUT;
        return MQS_NET_AGAIN;
    case SSL_ERROR_ZERO_RETURN:
        return mqs_net_fail(c, MQS_NET_CLOSED, "%s: connection closed by the peer", prefix);
    case SSL_ERROR_SYSCALL:
        if (c->last_errno == ECONNRESET || c->last_errno == EPIPE)
            return mqs_net_fail(c, MQS_NET_RESET, "%s: connection reset by peer", prefix);
        if (c->last_errno == 0)
            return mqs_net_fail(c, MQS_NET_CLOSED, "%s: connection closed by the peer", prefix);
        return mqs_net_fail(c, MQS_NET_ERROR, "%s: %s", prefix, strerror(c->last_errno));
    default:
        return tls_failure(c, prefix);
    }
}

/* ---- setup ---- */

static bool is_ip_literal(const char *s)
{
    unsigned char tmp[16];
    return inet_pton(AF_INET, s, tmp) == 1 || inet_pton(AF_INET6, s, tmp) == 1;
}

static int setup_fail(mqs_conn *c, const char *what, const char *file)
{
    unsigned long code;
    const char *reason = ssl_reason(&code);
    return mqs_net_fail(c, MQS_NET_TLS, "TLS setup: cannot load %s '%s': %s", what, file,
                        *reason ? reason : strerror(errno));
}

static int setup_trust(mqs_conn *c, const mqs_tls_opts *o)
{
    if (o->insecure) {
        SSL_CTX_set_verify(c->ssl_ctx, SSL_VERIFY_NONE, NULL);
        return MQS_NET_OK;
    }
    SSL_CTX_set_verify(c->ssl_ctx, SSL_VERIFY_PEER, verify_cb);
    c->tls_verify = true;
    if (o->cafile || o->capath) {
        if (SSL_CTX_load_verify_locations(c->ssl_ctx, o->cafile, o->capath) != 1)
            return setup_fail(c, o->cafile ? "CA file" : "CA directory",
                              o->cafile ? o->cafile : o->capath);
    } else if (SSL_CTX_set_default_verify_paths(c->ssl_ctx) != 1) {
        return mqs_net_fail(c, MQS_NET_TLS, "TLS setup: cannot load the system trust store");
    }
    return MQS_NET_OK;
}

static int setup_client_cert(mqs_conn *c, const mqs_tls_opts *o)
{
    if (!o->certfile && !o->keyfile) {
        SSL_CTX_set_client_cert_cb(c->ssl_ctx, client_cert_cb);
        return MQS_NET_OK;
    }
    if (!o->certfile || !o->keyfile)
        return mqs_net_fail(c, MQS_NET_TLS, "TLS setup: --cert and --key go together");
    if (SSL_CTX_use_certificate_chain_file(c->ssl_ctx, o->certfile) != 1)
        return setup_fail(c, "client certificate", o->certfile);
    if (SSL_CTX_use_PrivateKey_file(c->ssl_ctx, o->keyfile, SSL_FILETYPE_PEM) != 1)
        return setup_fail(c, "client key", o->keyfile);
    if (SSL_CTX_check_private_key(c->ssl_ctx) != 1)
        return mqs_net_fail(c, MQS_NET_TLS, "TLS setup: client key '%s' does not match '%s'",
                            o->keyfile, o->certfile);
    c->tls_client_cert = true;
    return MQS_NET_OK;
}

/* The name to verify and send as SNI. */
static int setup_peer_name(mqs_conn *c, const mqs_endpoint *ep)
{
    const char *name = ep->tls.servername ? ep->tls.servername : ep->host;
    bool ip = is_ip_literal(name);
    if (!ip && SSL_set_tlsext_host_name(c->ssl, name) != 1)
        return mqs_net_fail(c, MQS_NET_TLS, "TLS setup: bad server name '%s'", name);
    if (!c->tls_verify)
        return MQS_NET_OK;
    X509_VERIFY_PARAM *param = SSL_get0_param(c->ssl);
    int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, name) : SSL_set1_host(c->ssl, name);
    if (ok != 1)
        return mqs_net_fail(c, MQS_NET_TLS, "TLS setup: cannot check server name '%s'", name);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    return MQS_NET_OK;
}

static int setup(mqs_conn *c, const mqs_endpoint *ep)
{
    pthread_once(&bio_once, bio_method_init);
    c->ssl_ctx = SSL_CTX_new(TLS_client_method());
    if (!bio_method || !c->ssl_ctx)
        return mqs_net_fail(c, MQS_NET_TLS, "TLS setup: out of memory");
    SSL_CTX_set_min_proto_version(c->ssl_ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(c->ssl_ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_mode(c->ssl_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                                     SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    int rc = setup_trust(c, &ep->tls);
    if (rc == MQS_NET_OK)
        rc = setup_client_cert(c, &ep->tls);
    if (rc != MQS_NET_OK)
        return rc;
    c->ssl = SSL_new(c->ssl_ctx);
    BIO *bio = BIO_new(bio_method);
    if (!c->ssl || !bio) {
        BIO_free(bio);
        return mqs_net_fail(c, MQS_NET_TLS, "TLS setup: out of memory");
    }
    BIO_set_data(bio, c);
    SSL_set_bio(c->ssl, bio, bio);
    SSL_set_app_data(c->ssl, c);
    return setup_peer_name(c, ep);
}

int mqs_tls_open(mqs_conn *c, const mqs_endpoint *ep, int64_t deadline_ms)
{
    ERR_clear_error();
    int rc = setup(c, ep);
    if (rc != MQS_NET_OK)
        return rc;
    char prefix[360];
    snprintf(prefix, sizeof prefix, "TLS handshake with %s failed", c->peer);
    for (;;) {
        ERR_clear_error();
        int ret = SSL_connect(c->ssl);
        if (ret == 1)
            return MQS_NET_OK;
        rc = ssl_rc(c, ret, prefix);
        if (rc == MQS_NET_RESET || rc == MQS_NET_CLOSED)
            return mqs_net_fail(c, rc, "%s: connection %s by the peer (does the port speak TLS?)",
                                prefix, rc == MQS_NET_RESET ? "reset" : "closed");
        if (rc != MQS_NET_AGAIN)
            return rc;
        rc = mqs_net_wait(c, c->want, deadline_ms);
        if (rc == MQS_NET_TIMEOUT)
            return mqs_net_fail(c, rc, "TLS handshake with %s timed out", c->peer);
        if (rc != MQS_NET_OK)
            return rc;
    }
}

int mqs_tls_try_read(mqs_conn *c, uint8_t *buf, size_t cap, size_t *got)
{
    ERR_clear_error();
    c->last_errno = 0;
    int ret = SSL_read_ex(c->ssl, buf, cap, got);
    if (ret == 1)
        return MQS_NET_OK;
    char prefix[340];
    snprintf(prefix, sizeof prefix, "TLS connection with %s failed", c->peer);
    return ssl_rc(c, ret, prefix);
}

int mqs_tls_try_write(mqs_conn *c, const uint8_t *buf, size_t len, size_t *sent)
{
    ERR_clear_error();
    c->last_errno = 0;
    int ret = SSL_write_ex(c->ssl, buf, len, sent);
    if (ret == 1)
        return MQS_NET_OK;
    char prefix[340];
    snprintf(prefix, sizeof prefix, "TLS write to %s", c->peer);
    int rc = ssl_rc(c, ret, prefix);
    if (rc == MQS_NET_AGAIN || rc == MQS_NET_TLS)
        return rc;
    /* The peer may have sent an alert before it closed (TLS 1.3 checks the client
     * certificate after our handshake completed): that alert is the real reason. */
    uint8_t one;
    size_t n;
    ERR_clear_error();
    snprintf(prefix, sizeof prefix, "TLS connection with %s failed", c->peer);
    ret = SSL_peek_ex(c->ssl, &one, 1, &n);
    if (ret != 1 && SSL_get_error(c->ssl, ret) == SSL_ERROR_SSL)
        return tls_failure(c, prefix);
    /* A write to a closed TLS connection is a reset for the caller. */
    return rc == MQS_NET_CLOSED ? MQS_NET_RESET : rc;
}

void mqs_tls_close(mqs_conn *c, bool abrupt)
{
    if (c->ssl && !abrupt && SSL_is_init_finished(c->ssl)) {
        ERR_clear_error();
        (void)SSL_shutdown(c->ssl); /* sends close_notify; the reply is not awaited */
    }
    ERR_clear_error();
    SSL_free(c->ssl);
    SSL_CTX_free(c->ssl_ctx);
    c->ssl = NULL;
    c->ssl_ctx = NULL;
}

void mqs_tls_describe(const mqs_conn *c, char *buf, size_t len)
{
    snprintf(buf, len, "%s, %s, verify %s%s", SSL_get_version(c->ssl), SSL_get_cipher_name(c->ssl),
             c->tls_verify ? "on" : "off", c->tls_client_cert ? ", client certificate" : "");
}
