/* mqttspec codec: canonical validating encoder and the unchecked raw builder.
 *
 * Both run the same writer twice: first measuring (no buffer) to learn the
 * Remaining Length, then writing header and body. The validating encoder runs
 * the field checks of check.c during the second pass, in the decoder's order, so
 * a refusal carries the same status, offset and field mqs_decode would report.
 */
#include <string.h>

#include "codec/buf.h"
#include "codec/check.h"
#include "codec/mqtt.h"

typedef struct mqs_enc {
    mqs_wr w;
    mqs_version v;
    bool check;                /* run the field checks (second pass of mqs_encode) */
    const mqs_encode_raw *raw; /* NULL for mqs_encode (canonical output) */
    mqs_diag *diag;
} mqs_enc;

typedef int (*mqs_str_check)(mqs_str, mqs_version, size_t *);

static int enc_fail(mqs_enc *e, int status, size_t offset, const char *field)
{
    if (e->diag) {
        e->diag->status = status;
        e->diag->offset = offset;
        e->diag->field = field;
    }
    return status;
}

static bool str_ok(mqs_str s)
{
    return s.len <= 0xffffu && (s.ptr != NULL || s.len == 0);
}

/* Writes a length-prefixed string, after the field check when validating. */
static int enc_str(mqs_enc *e, mqs_str s, const char *field, mqs_str_check check)
{
    size_t off = 0;
    if (!str_ok(s))
        return enc_fail(e, MQS_E_BAD_PARAM, e->w.pos, field);
    if (e->check && check) {
        int st = check(s, e->v, &off);
        if (st != MQS_OK)
            return enc_fail(e, st, e->w.pos + off, field);
    }
    mqs_wr_str(&e->w, s);
    return MQS_OK;
}

static int enc_packet_id(mqs_enc *e, uint16_t id, const char *field)
{
    if (e->check && id == 0) /* [MQTT-2.3.1-1] */
        return enc_fail(e, MQS_E_PACKET_ID_ZERO, e->w.pos, field);
    mqs_wr_u16(&e->w, id);
    return MQS_OK;
}

/* ---- CONNECT ---- */

static uint8_t connect_flags(const mqs_connect *c)
{
    return (uint8_t)((c->clean_session ? 0x02u : 0u) | (c->will_flag ? 0x04u : 0u) |
                     (unsigned)(c->will_qos & 3u) << 3 | (c->will_retain ? 0x20u : 0u) |
                     (c->has_password ? 0x40u : 0u) | (c->has_username ? 0x80u : 0u));
}

static int chk_id_clean(mqs_str s, mqs_version v, size_t *off)
{
    return mqs_chk_client_id(s, true, v, off);
}

static int chk_id_unclean(mqs_str s, mqs_version v, size_t *off)
{
    return mqs_chk_client_id(s, false, v, off);
}

static int enc_connect_header(mqs_enc *e, const mqs_connect *c)
{
    mqs_str name = {(const uint8_t *)(e->v == MQS_V31 ? "MQIsdp" : "MQTT"), e->v == MQS_V31 ? 6u : 4u};
    uint8_t level = (uint8_t)e->v;
    uint8_t flags = connect_flags(c);
    if (e->raw && c->protocol_name.ptr != NULL)
        name = c->protocol_name; /* unchecked: as told */
    if (e->raw && c->protocol_level != 0)
        level = c->protocol_level;
    if (e->raw && e->raw->connect_flags >= 0)
        flags = (uint8_t)(e->raw->connect_flags & 0xff);
    if (c->will_qos > 3)
        return enc_fail(e, MQS_E_BAD_PARAM, e->w.pos, "CONNECT.will_qos");
    int st = enc_str(e, name, "CONNECT.protocol_name", NULL);
    if (st != MQS_OK)
        return st;
    mqs_wr_u8(&e->w, level);
    if (e->check && (st = mqs_chk_connect_flags(flags, e->v)) != MQS_OK)
        return enc_fail(e, st, e->w.pos, "CONNECT.flags");
    mqs_wr_u8(&e->w, flags);
    mqs_wr_u16(&e->w, c->keepalive);
    return MQS_OK;
}

static int enc_connect(mqs_enc *e, const mqs_packet *p)
{
    const mqs_connect *c = &p->connect;
    int st = enc_connect_header(e, c);
    if (st == MQS_OK)
        st = enc_str(e, c->client_id, "CONNECT.client_id",
                     c->clean_session ? chk_id_clean : chk_id_unclean);
    if (st == MQS_OK && c->will_flag)
        st = enc_str(e, c->will_topic, "CONNECT.will_topic", mqs_chk_will_topic);
    if (st == MQS_OK && c->will_flag)
        st = enc_str(e, c->will_payload, "CONNECT.will_payload", NULL);
    if (st == MQS_OK && c->has_username)
        st = enc_str(e, c->username, "CONNECT.username", mqs_chk_utf8_field);
    if (st == MQS_OK && c->has_password)
        st = enc_str(e, c->password, "CONNECT.password", NULL);
    return st;
}

/* ---- the other packets ---- */

static int enc_connack(mqs_enc *e, const mqs_packet *p)
{
    uint8_t flags = p->connack.session_present ? 0x01u : 0x00u;
    size_t off = 0;
    if (e->raw)
        flags |= p->connack.flags; /* unchecked: any reserved bits as told */
    int st = e->check ? mqs_chk_connack(flags, p->connack.return_code, e->v, &off) : MQS_OK;
    if (st != MQS_OK)
        return enc_fail(e, st, e->w.pos + off, off ? "CONNACK.return_code" : "CONNACK.flags");
    mqs_wr_u8(&e->w, flags);
    mqs_wr_u8(&e->w, p->connack.return_code);
    return MQS_OK;
}

static int enc_publish(mqs_enc *e, const mqs_packet *p)
{
    uint16_t id = p->packet_id ? p->packet_id : p->publish.packet_id;
    int st = enc_str(e, p->publish.topic, "PUBLISH.topic", mqs_chk_publish_topic);
    if (st == MQS_OK && p->qos > 0)
        st = enc_packet_id(e, id, "PUBLISH.packet_id");
    if (st != MQS_OK)
        return st;
    if (p->publish.payload.ptr == NULL && p->publish.payload.len > 0)
        return enc_fail(e, MQS_E_BAD_PARAM, e->w.pos, "PUBLISH.payload");
    mqs_wr_bytes(&e->w, p->publish.payload.ptr, p->publish.payload.len);
    return MQS_OK;
}

static int enc_item(mqs_enc *e, int type, const mqs_item *it)
{
    int st = MQS_OK;
    size_t at = e->w.pos;
    if (type == MQS_SUBACK) {
        if (e->check && (st = mqs_chk_suback_rc(it->qos, e->v)) != MQS_OK)
            return enc_fail(e, st, at, "SUBACK.return_code");
        mqs_wr_u8(&e->w, it->qos);
        return MQS_OK;
    }
    const char *field = type == MQS_SUBSCRIBE ? "SUBSCRIBE.filter" : "UNSUBSCRIBE.filter";
    if ((st = enc_str(e, it->filter, field, mqs_chk_filter)) != MQS_OK || type != MQS_SUBSCRIBE)
        return st;
    at = e->w.pos;
    if (e->check && (st = mqs_chk_sub_qos(it->qos, e->v)) != MQS_OK)
        return enc_fail(e, st, at, "SUBSCRIBE.qos");
    mqs_wr_u8(&e->w, it->qos);
    return MQS_OK;
}

static int enc_list(mqs_enc *e, const mqs_packet *p)
{
    const char *field = p->type == MQS_SUBSCRIBE ? "SUBSCRIBE.packet_id"
                        : p->type == MQS_SUBACK  ? "SUBACK.packet_id"
                                                 : "UNSUBSCRIBE.packet_id";
    int st = enc_packet_id(e, p->packet_id, field);
    if (st != MQS_OK)
        return st;
    if (p->items == NULL && p->n_items > 0)
        return enc_fail(e, MQS_E_BAD_PARAM, e->w.pos, "items");
    if (e->check && p->n_items == 0 && (st = mqs_chk_empty_list(p->type, e->v)) != MQS_OK)
        return enc_fail(e, st, e->w.pos, field);
    for (size_t i = 0; i < p->n_items && st == MQS_OK; i++)
        st = enc_item(e, p->type, &p->items[i]);
    return st;
}

static int enc_body(mqs_enc *e, const mqs_packet *p)
{
    switch (p->type) {
    case MQS_CONNECT:
        return enc_connect(e, p);
    case MQS_CONNACK:
        return enc_connack(e, p);
    case MQS_PUBLISH:
        return enc_publish(e, p);
    case MQS_PUBACK:
    case MQS_PUBREC:
    case MQS_PUBREL:
    case MQS_PUBCOMP:
    case MQS_UNSUBACK:
        return enc_packet_id(e, p->packet_id, "packet_id");
    case MQS_SUBSCRIBE:
    case MQS_SUBACK:
    case MQS_UNSUBSCRIBE:
        return enc_list(e, p);
    default:
        return MQS_OK; /* PINGREQ, PINGRESP, DISCONNECT, reserved types: no body */
    }
}

/* Fixed header flags from the fields (mqs_encode ignores pkt->flags). */
static uint8_t canonical_flags(const mqs_packet *p)
{
    switch (p->type) {
    case MQS_PUBLISH:
        return (uint8_t)((p->dup ? 0x08u : 0u) | (unsigned)(p->qos & 3u) << 1 | (p->retain ? 1u : 0u));
    case MQS_PUBREL:
    case MQS_SUBSCRIBE:
    case MQS_UNSUBSCRIBE:
        return (uint8_t)(0x02u | (p->dup ? 0x08u : 0u)); /* DUP: MQTT 3.1 retries */
    default:
        return 0;
    }
}

/* Header values after raw overrides; E_BAD_PARAM when they cannot be written. */
static int header_values(const mqs_encode_raw *raw, const mqs_packet *p, size_t body, uint8_t *b0,
                         uint64_t *rl, int *rl_bytes)
{
    unsigned type = p->type, flags = canonical_flags(p);
    *rl = body;
    if (raw) {
        if (raw->type > 15 || raw->fixed_flags > 15 || raw->rl_bytes < 0 || raw->rl_bytes > 5 ||
            raw->remaining_length > 34359738367LL) /* 5 bytes of 7 bits */
            return MQS_E_BAD_PARAM;
        type = raw->type >= 0 ? (unsigned)raw->type : type;
        flags = raw->fixed_flags >= 0 ? (unsigned)raw->fixed_flags : flags;
        *rl = raw->remaining_length >= 0 ? (uint64_t)raw->remaining_length : *rl;
    }
    *rl_bytes = raw && raw->rl_bytes ? raw->rl_bytes : mqs_varint_size(*rl);
    if (type > 15 || *rl_bytes < mqs_varint_size(*rl))
        return MQS_E_BAD_PARAM;
    *b0 = (uint8_t)(type << 4 | flags);
    return MQS_OK;
}

/* Checks mqs_encode applies before the body: type, flags, QoS range. */
static int enc_precheck(mqs_enc *e, const mqs_packet *p)
{
    if (p->type > 15 || p->qos > 3)
        return enc_fail(e, MQS_E_BAD_PARAM, 0, "fixed_header");
    if (!e->check)
        return MQS_OK;
    if (mqs_type_info_get(p->type) == NULL)
        return enc_fail(e, MQS_E_RESERVED_TYPE, 0, "fixed_header.type");
    int st = mqs_chk_fixed_flags(p->type, canonical_flags(p), e->v);
    return st == MQS_OK ? MQS_OK : enc_fail(e, st, 0, "fixed_header.flags");
}

static int encode(const mqs_packet *pkt, mqs_version v, const mqs_encode_raw *raw, uint8_t *buf,
                  size_t cap, size_t *written, mqs_diag *diag)
{
    mqs_enc e = {.v = v, .check = raw == NULL, .raw = raw, .diag = diag};
    uint8_t b0 = 0;
    uint64_t rl = 0;
    int rl_bytes = 1;
    if (written)
        *written = 0;
    if (pkt == NULL || (v != MQS_V31 && v != MQS_V311) || (buf == NULL && cap > 0))
        return enc_fail(&e, MQS_E_BAD_PARAM, 0, NULL);
    int st = enc_precheck(&e, pkt);
    if (st != MQS_OK)
        return st;
    bool check = e.check;
    e.check = false; /* first pass: measure the body */
    mqs_wr_init(&e.w, NULL, 0);
    if ((st = enc_body(&e, pkt)) != MQS_OK)
        return st;
    if (check && e.w.pos > MQS_MAX_REMAINING_LENGTH)
        return enc_fail(&e, MQS_E_BAD_PARAM, 1, "fixed_header.remaining_length");
    if (header_values(raw, pkt, e.w.pos, &b0, &rl, &rl_bytes) != MQS_OK)
        return enc_fail(&e, MQS_E_BAD_PARAM, 0, "raw");
    e.check = check; /* second pass: check and write */
    mqs_wr_init(&e.w, buf, cap);
    mqs_wr_u8(&e.w, b0);
    mqs_wr_varint(&e.w, rl, rl_bytes);
    if ((st = enc_body(&e, pkt)) != MQS_OK)
        return st;
    if (written)
        *written = e.w.pos;
    if (!mqs_wr_fits(&e.w))
        return enc_fail(&e, MQS_E_BUFFER_TOO_SMALL, cap, NULL);
    return enc_fail(&e, MQS_OK, 0, NULL);
}

int mqs_encode(const mqs_packet *pkt, mqs_version v, uint8_t *buf, size_t cap, size_t *written,
               mqs_diag *diag)
{
    return encode(pkt, v, NULL, buf, cap, written, diag);
}

int mqs_encode_unchecked(const mqs_packet *pkt, mqs_version v, const mqs_encode_raw *raw,
                         uint8_t *buf, size_t cap, size_t *written)
{
    static const mqs_encode_raw none = MQS_ENCODE_RAW_INIT;
    return encode(pkt, v, raw ? raw : &none, buf, cap, written, NULL);
}

int mqs_encoded_size(const mqs_packet *pkt, mqs_version v, size_t *n)
{
    size_t need = 0;
    int st = mqs_encode(pkt, v, NULL, 0, &need, NULL);
    if (n)
        *n = need;
    return st == MQS_E_BUFFER_TOO_SMALL ? MQS_OK : st;
}
