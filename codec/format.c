/* mqttspec codec: packet and byte formatting (see format.h). */
#include "codec/format.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

/* snprintf-style appender: counts everything, writes what fits. */
typedef struct mqs_out {
    char *p;
    size_t cap;
    size_t len;
} mqs_out;

static void out_init(mqs_out *o, char *p, size_t cap)
{
    o->p = p;
    o->cap = p ? cap : 0;
    o->len = 0;
    if (o->cap > 0)
        o->p[0] = '\0';
}

static void out_char(mqs_out *o, char c)
{
    if (o->len + 1 < o->cap) {
        o->p[o->len] = c;
        o->p[o->len + 1] = '\0';
    } else if (o->cap > 0) {
        o->p[o->cap - 1] = '\0';
    }
    o->len++;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void out_fmt(mqs_out *o, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    for (int i = 0; i < n && (size_t)i < sizeof tmp - 1; i++)
        out_char(o, tmp[i]);
}

static void out_text(mqs_out *o, const char *s)
{
    while (*s)
        out_char(o, *s++);
}

/* Quoted bytes: printable ASCII as is, '"' and '\' escaped, the rest \xNN. */
static void out_quoted(mqs_out *o, const uint8_t *s, size_t n)
{
    out_char(o, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\') {
            out_char(o, '\\');
            out_char(o, (char)s[i]);
        } else if (s[i] >= 0x20 && s[i] < 0x7f) {
            out_char(o, (char)s[i]);
        } else {
            out_fmt(o, "\\x%02x", s[i]);
        }
    }
    out_char(o, '"');
}

static void out_str_field(mqs_out *o, const char *name, mqs_str s)
{
    out_fmt(o, " %s=", name);
    out_quoted(o, s.ptr, s.len);
}

/* Binary data: its size and a quoted preview. */
static void out_blob(mqs_out *o, const char *name, mqs_str s)
{
    size_t shown = s.len < MQS_FORMAT_PREVIEW ? s.len : MQS_FORMAT_PREVIEW;
    out_fmt(o, " %s=%zuB", name, s.len);
    if (s.len == 0)
        return;
    out_char(o, ' ');
    out_quoted(o, s.ptr, shown);
    if (shown < s.len)
        out_text(o, "...");
}

static void fmt_connect(mqs_out *o, const mqs_connect *c)
{
    out_char(o, ' ');
    out_quoted(o, c->protocol_name.ptr, c->protocol_name.len);
    out_fmt(o, "/%u clean=%d keepalive=%u", c->protocol_level, c->clean_session,
            c->keepalive);
    out_str_field(o, "client_id", c->client_id);
    if (c->will_flag) {
        out_fmt(o, " will={qos=%u retain=%d", c->will_qos, c->will_retain);
        out_str_field(o, "topic", c->will_topic);
        out_blob(o, "payload", c->will_payload);
        out_char(o, '}');
    }
    if (c->has_username)
        out_str_field(o, "username", c->username);
    if (c->has_password)
        out_blob(o, "password", c->password);
}

static void fmt_items(mqs_out *o, const mqs_packet *p)
{
    out_text(o, " [");
    for (size_t i = 0; p->items && i < p->n_items; i++) {
        if (i > 0)
            out_text(o, ", ");
        if (p->type == MQS_SUBACK) {
            out_fmt(o, "0x%02x", p->items[i].qos);
            continue;
        }
        out_quoted(o, p->items[i].filter.ptr, p->items[i].filter.len);
        if (p->type == MQS_SUBSCRIBE)
            out_fmt(o, " qos=%u", p->items[i].qos);
    }
    out_char(o, ']');
}

size_t mqs_format_packet(const mqs_packet *pkt, char *out, size_t cap)
{
    mqs_out o;
    out_init(&o, out, cap);
    if (pkt == NULL)
        return 0;
    out_text(&o, mqs_type_name(pkt->type));
    switch (pkt->type) {
    case MQS_CONNECT:
        fmt_connect(&o, &pkt->connect);
        break;
    case MQS_CONNACK:
        out_fmt(&o, " session_present=%d rc=%u", pkt->connack.session_present,
                pkt->connack.return_code);
        break;
    case MQS_PUBLISH:
        out_fmt(&o, " qos=%u dup=%d retain=%d", pkt->qos, pkt->dup, pkt->retain);
        if (pkt->qos > 0)
            out_fmt(&o, " id=%u", pkt->packet_id ? pkt->packet_id : pkt->publish.packet_id);
        out_str_field(&o, "topic", pkt->publish.topic);
        out_blob(&o, "payload", pkt->publish.payload);
        break;
    case MQS_SUBSCRIBE:
    case MQS_SUBACK:
    case MQS_UNSUBSCRIBE:
        out_fmt(&o, " id=%u", pkt->packet_id);
        fmt_items(&o, pkt);
        break;
    case MQS_PUBACK:
    case MQS_PUBREC:
    case MQS_PUBREL:
    case MQS_PUBCOMP:
    case MQS_UNSUBACK:
        out_fmt(&o, " id=%u", pkt->packet_id);
        break;
    default:
        break;
    }
    return o.len;
}

static const char mqs_hex_digits[] = "0123456789abcdef";

static void out_hexbyte(mqs_out *o, uint8_t b)
{
    out_char(o, mqs_hex_digits[b >> 4]);
    out_char(o, mqs_hex_digits[b & 0x0fu]);
}

size_t mqs_format_hex(const uint8_t *bytes, size_t n, char sep, char *out, size_t cap)
{
    mqs_out o;
    out_init(&o, out, cap);
    for (size_t i = 0; bytes && i < n; i++) {
        if (i > 0 && sep)
            out_char(&o, sep);
        out_hexbyte(&o, bytes[i]);
    }
    return o.len;
}

size_t mqs_format_hexdump(const uint8_t *bytes, size_t n, char *out, size_t cap)
{
    mqs_out o;
    out_init(&o, out, cap);
    for (size_t line = 0; bytes && line < n; line += 16) {
        out_fmt(&o, "%04zx ", line);
        for (size_t i = line; i < line + 16; i++) {
            out_text(&o, i % 8 == 0 ? "  " : " ");
            if (i < n)
                out_hexbyte(&o, bytes[i]);
            else
                out_text(&o, "  ");
        }
        out_text(&o, "  |");
        for (size_t i = line; i < n && i < line + 16; i++)
            out_char(&o, bytes[i] >= 0x20 && bytes[i] < 0x7f ? (char)bytes[i] : '.');
        out_text(&o, "|\n");
    }
    return o.len;
}
