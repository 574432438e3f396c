/* mqttspec net: broker URLs.
 *
 *   mqtt://host[:port]      TCP, default port 1883
 *   mqtts://host[:port]     TLS, default port 8883
 *   ws://host[:port][/path] WebSocket, default port 80, default path /mqtt
 *   wss://host[:port][/path] WebSocket over TLS, default port 443, default path /mqtt
 *
 * host is a name, an IPv4 address or an IPv6 address in brackets ([::1]). The scheme
 * is case-insensitive. A ws path may carry a query (?a=b). User info (user:pass@),
 * fragments, and paths on mqtt/mqtts URLs are refused with a one-line reason.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "net/net.h"

typedef struct scheme {
    const char *name;
    mqs_transport transport;
    uint16_t port;
} scheme;

static const scheme schemes[] = {
    {"mqtt", MQS_TR_TCP, 1883},
    {"mqtts", MQS_TR_TLS, 8883},
    {"ws", MQS_TR_WS, 80},
    {"wss", MQS_TR_WSS, 443},
};

static int url_fail(char *err, size_t errlen, const char *url, const char *why)
{
    if (err && errlen)
        snprintf(err, errlen, "bad URL '%.200s': %s", url, why);
    return -1;
}

static const scheme *find_scheme(const char *s, size_t len)
{
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
        if (strlen(schemes[i].name) == len && !strncasecmp(s, schemes[i].name, len))
            return &schemes[i];
    return NULL;
}

static bool host_char_ok(char ch)
{
    return isalnum((unsigned char)ch) || ch == '-' || ch == '.' || ch == '_';
}

/* Parses a decimal port 1..65535 from s[0..len). */
static bool parse_port(const char *s, size_t len, uint16_t *port)
{
    if (len == 0 || len > 5)
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v == 0 || v > 65535)
        return false;
    *port = (uint16_t)v;
    return true;
}

/* Splits the authority [host]:port / host:port; host bounds in *h, *hlen. */
static const char *split_authority(const char *a, size_t alen, const char **h, size_t *hlen,
                                   uint16_t *port)
{
    const char *port_s = NULL;
    if (alen && a[0] == '[') {
        const char *close = memchr(a, ']', alen);
        if (!close)
            return "missing ']' after an IPv6 address";
        *h = a + 1;
        *hlen = (size_t)(close - a) - 1;
        char tmp[64];
        unsigned char bin[16];
        if (*hlen == 0 || *hlen >= sizeof tmp)
            return "bad IPv6 address";
        memcpy(tmp, *h, *hlen);
        tmp[*hlen] = 0;
        if (inet_pton(AF_INET6, tmp, bin) != 1)
            return "bad IPv6 address";
        if (close + 1 < a + alen) {
            if (close[1] != ':')
                return "unexpected text after ']'";
            port_s = close + 2;
        }
    } else {
        const char *colon = memchr(a, ':', alen);
        *h = a;
        *hlen = colon ? (size_t)(colon - a) : alen;
        if (*hlen == 0)
            return "missing host";
        for (size_t i = 0; i < *hlen; i++)
            if (!host_char_ok(a[i]))
                return "bad character in host (IPv6 addresses go in brackets)";
        if (colon)
            port_s = colon + 1;
    }
    if (port_s && !parse_port(port_s, (size_t)(a + alen - port_s), port))
        return "bad port (1..65535)";
    return NULL;
}

int mqs_url_parse(const char *url, mqs_endpoint *ep, char *storage, size_t storage_len, char *err,
                  size_t errlen)
{
    if (!url || !ep || !storage)
        return url_fail(err, errlen, url ? url : "(null)", "missing argument");
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return url_fail(err, errlen, url, "spaces or control characters");
    const char *sep = strstr(url, "://");
    const scheme *sc = sep ? find_scheme(url, (size_t)(sep - url)) : NULL;
    if (!sc)
        return url_fail(err, errlen, url, "scheme must be mqtt://, mqtts://, ws:// or wss://");
    const char *a = sep + 3;
    size_t alen = strcspn(a, "/?#");
    const char *rest = a + alen;
    if (memchr(a, '@', alen))
        return url_fail(err, errlen, url, "user info is not supported (use --username/--password)");
    if (strchr(rest, '#'))
        return url_fail(err, errlen, url, "fragments (#) are not allowed");
    const char *h = NULL;
    size_t hlen = 0;
    uint16_t port = sc->port;
    const char *why = split_authority(a, alen, &h, &hlen, &port);
    if (why)
        return url_fail(err, errlen, url, why);
    bool ws = sc->transport == MQS_TR_WS || sc->transport == MQS_TR_WSS;
    if (!ws && *rest && strcmp(rest, "/") != 0)
        return url_fail(err, errlen, url, "mqtt:// and mqtts:// URLs take no path");
    if (ws && *rest == '?')
        return url_fail(err, errlen, url, "a query needs a path (e.g. /mqtt?x=1)");
    const char *path = ws ? (*rest ? rest : "/mqtt") : NULL;
    size_t need = hlen + 1 + (path ? strlen(path) + 1 : 0);
    if (need > storage_len)
        return url_fail(err, errlen, url, "too long");
    memcpy(storage, h, hlen);
    storage[hlen] = 0;
    ep->host = storage;
    ep->ws_path = NULL;
    if (path) {
        char *p = storage + hlen + 1;
        memcpy(p, path, strlen(path) + 1);
        ep->ws_path = p;
    }
    ep->transport = sc->transport;
    ep->port = port;
    return 0;
}
