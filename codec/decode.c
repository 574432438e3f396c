/* mqttspec codec: strict decoder for one whole frame (see mqtt.h, RULES.md).
 *
 * Every read goes through the mqs_rd cursor over the whole frame, so r.pos is
 * always the frame offset reported in mqs_diag. Each decode_* function stops at
 * the first broken rule, in the order documented in codec/RULES.md.
 */
#include <string.h>

#include "codec/buf.h"
#include "codec/check.h"
#include "codec/mqtt.h"

typedef struct mqs_dec {
    mqs_rd r;
    mqs_version v;
    mqs_packet *pkt;
    mqs_diag *diag;
    size_t cap; /* capacity of pkt->items */
} mqs_dec;

static int dec_fail(mqs_dec *d, int status, size_t offset, const char *field)
{
    if (d->diag) {
        d->diag->status = status;
        d->diag->offset = offset;
        d->diag->field = field;
    }
    return status;
}

/* Reads a 2-byte-length string; `missing` is the status when no byte is left. */
static int dec_str(mqs_dec *d, mqs_str *s, int missing, const char *field)
{
    size_t left = mqs_rd_left(&d->r);
    if (left == 0)
        return dec_fail(d, missing, d->r.pos, field);
    if (left < 2)
        return dec_fail(d, MQS_E_TRUNCATED, d->r.pos, field);
    if (mqs_rd_str(&d->r, s) != MQS_OK)
        return dec_fail(d, MQS_E_STRING_OVERRUN, d->r.pos, field);
    return MQS_OK;
}

/* Reads a string and runs a field check on it (offsets relative to the field). */
static int dec_checked_str(mqs_dec *d, mqs_str *s, int missing, const char *field,
                           int (*check)(mqs_str, mqs_version, size_t *))
{
    size_t start = d->r.pos, off = 0;
    int st = dec_str(d, s, missing, field);
    if (st != MQS_OK)
        return st;
    st = check ? check(*s, d->v, &off) : MQS_OK;
    return st == MQS_OK ? MQS_OK : dec_fail(d, st, start + off, field);
}

static int dec_u8(mqs_dec *d, uint8_t *v, const char *field)
{
    if (mqs_rd_u8(&d->r, v) != MQS_OK)
        return dec_fail(d, MQS_E_TRUNCATED, d->r.pos, field);
    return MQS_OK;
}

static int dec_u16(mqs_dec *d, uint16_t *v, const char *field)
{
    if (mqs_rd_u16(&d->r, v) != MQS_OK)
        return dec_fail(d, MQS_E_TRUNCATED, d->r.pos, field);
    return MQS_OK;
}

/* A packet identifier that must be present and non-zero [MQTT-2.3.1-1]. */
static int dec_packet_id(mqs_dec *d, const char *field)
{
    size_t at = d->r.pos;
    int st = dec_u16(d, &d->pkt->packet_id, field);
    if (st == MQS_OK && d->pkt->packet_id == 0)
        return dec_fail(d, MQS_E_PACKET_ID_ZERO, at, field);
    return st;
}

static int dec_end(mqs_dec *d, const char *field)
{
    if (mqs_rd_left(&d->r) != 0)
        return dec_fail(d, MQS_E_TRAILING_BYTES, d->r.pos, field);
    return dec_fail(d, MQS_OK, 0, NULL);
}

/* ---- CONNECT ---- */

static int dec_connect_header(mqs_dec *d)
{
    mqs_connect *c = &d->pkt->connect;
    size_t at = d->r.pos;
    int st = dec_str(d, &c->protocol_name, MQS_E_TRUNCATED, "CONNECT.protocol_name");
    if (st != MQS_OK)
        return st;
    bool is_311 = c->protocol_name.len == 4 && memcmp(c->protocol_name.ptr, "MQTT", 4) == 0;
    bool is_31 = c->protocol_name.len == 6 && memcmp(c->protocol_name.ptr, "MQIsdp", 6) == 0;
    if (!is_311 && !is_31) /* [MQTT-3.1.2-1] */
        return dec_fail(d, MQS_E_CONNECT_PROTOCOL_NAME, at, "CONNECT.protocol_name");
    at = d->r.pos;
    if ((st = dec_u8(d, &c->protocol_level, "CONNECT.protocol_level")) != MQS_OK)
        return st;
    if (c->protocol_level != (is_311 ? MQS_V311 : MQS_V31)) /* [MQTT-3.1.2-2] */
        return dec_fail(d, MQS_E_CONNECT_PROTOCOL_LEVEL, at, "CONNECT.protocol_level");
    at = d->r.pos;
    if ((st = dec_u8(d, &c->flags, "CONNECT.flags")) != MQS_OK)
        return st;
    if ((st = mqs_chk_connect_flags(c->flags, d->v)) != MQS_OK)
        return dec_fail(d, st, at, "CONNECT.flags");
    c->clean_session = c->flags & 0x02u;
    c->will_flag = c->flags & 0x04u;
    c->will_qos = (uint8_t)((c->flags >> 3) & 3u);
    c->will_retain = c->flags & 0x20u;
    c->has_password = c->flags & 0x40u;
    c->has_username = c->flags & 0x80u;
    return dec_u16(d, &c->keepalive, "CONNECT.keepalive");
}

/* User name or password announced by a flag: missing fields break a 3.1.1 rule;
 * MQTT 3.1 tolerates them (v31-vs-v311.md row 13) and the flag is cleared. */
static int dec_connect_credential(mqs_dec *d, bool *present, mqs_str *s, int missing,
                                  const char *field, bool utf8)
{
    if (!*present)
        return MQS_OK;
    if (d->v == MQS_V31 && mqs_rd_left(&d->r) == 0) {
        *present = false;
        return MQS_OK;
    }
    return dec_checked_str(d, s, missing, field, utf8 ? mqs_chk_utf8_field : NULL);
}

static int chk_client_id_clean(mqs_str s, mqs_version v, size_t *off);
static int chk_client_id_unclean(mqs_str s, mqs_version v, size_t *off);

static int dec_connect(mqs_dec *d)
{
    mqs_connect *c = &d->pkt->connect;
    int st = dec_connect_header(d);
    if (st != MQS_OK)
        return st;
    st = dec_checked_str(d, &c->client_id, MQS_E_CONNECT_CLIENT_ID_MISSING, "CONNECT.client_id",
                         c->clean_session ? chk_client_id_clean : chk_client_id_unclean);
    if (st == MQS_OK && c->will_flag)
        st = dec_checked_str(d, &c->will_topic, MQS_E_CONNECT_WILL_MISSING, "CONNECT.will_topic",
                             mqs_chk_will_topic); /* [MQTT-3.1.2-9], [MQTT-3.1.3-10] */
    if (st == MQS_OK && c->will_flag)
        st = dec_str(d, &c->will_payload, MQS_E_CONNECT_WILL_MISSING, "CONNECT.will_payload");
    if (st == MQS_OK) /* [MQTT-3.1.2-19], [MQTT-3.1.3-11] */
        st = dec_connect_credential(d, &c->has_username, &c->username,
                                    MQS_E_CONNECT_USERNAME_MISSING, "CONNECT.username", true);
    if (st == MQS_OK) /* [MQTT-3.1.2-21] */
        st = dec_connect_credential(d, &c->has_password, &c->password,
                                    MQS_E_CONNECT_PASSWORD_MISSING, "CONNECT.password", false);
    return st == MQS_OK ? dec_end(d, "CONNECT") : st;
}

static int chk_client_id_clean(mqs_str s, mqs_version v, size_t *off)
{
    return mqs_chk_client_id(s, true, v, off);
}

static int chk_client_id_unclean(mqs_str s, mqs_version v, size_t *off)
{
    return mqs_chk_client_id(s, false, v, off);
}

/* ---- the other packets ---- */

static int dec_connack(mqs_dec *d)
{
    mqs_connack *a = &d->pkt->connack;
    size_t at = d->r.pos, off = 0;
    int st = dec_u8(d, &a->flags, "CONNACK.flags");
    if (st == MQS_OK)
        st = dec_u8(d, &a->return_code, "CONNACK.return_code");
    if (st != MQS_OK)
        return st;
    st = mqs_chk_connack(a->flags, a->return_code, d->v, &off);
    if (st != MQS_OK)
        return dec_fail(d, st, at + off, off ? "CONNACK.return_code" : "CONNACK.flags");
    a->session_present = a->flags & 0x01u; /* MQTT 3.1: unused bit, as on the wire */
    return dec_end(d, "CONNACK");
}

static int dec_publish(mqs_dec *d)
{
    mqs_publish *p = &d->pkt->publish;
    int st = dec_checked_str(d, &p->topic, MQS_E_TRUNCATED, "PUBLISH.topic", mqs_chk_publish_topic);
    if (st == MQS_OK && d->pkt->qos > 0)
        st = dec_packet_id(d, "PUBLISH.packet_id");
    if (st != MQS_OK)
        return st;
    p->packet_id = d->pkt->packet_id;
    size_t n = mqs_rd_left(&d->r);
    (void)mqs_rd_bytes(&d->r, n, &p->payload.ptr);
    p->payload.len = n;
    return dec_fail(d, MQS_OK, 0, NULL);
}

static int dec_ack(mqs_dec *d)
{
    int st = dec_packet_id(d, "packet_id");
    return st == MQS_OK ? dec_end(d, "packet_id") : st;
}

static void dec_store(mqs_dec *d, size_t i, mqs_str filter, uint8_t qos)
{
    if (i < d->cap && d->pkt->items) {
        d->pkt->items[i].filter = filter;
        d->pkt->items[i].qos = qos;
    }
}

/* After the packet id: at least one entry where the version asks for it. */
static int dec_list_start(mqs_dec *d, const char *field)
{
    int st = dec_packet_id(d, field);
    if (st != MQS_OK)
        return st;
    if (mqs_rd_left(&d->r) == 0 && (st = mqs_chk_empty_list(d->pkt->type, d->v)) != MQS_OK)
        return dec_fail(d, st, d->r.pos, field);
    return MQS_OK;
}

static int dec_list_end(mqs_dec *d, size_t count)
{
    d->pkt->n_items = count;
    if (count > d->cap)
        return dec_fail(d, MQS_E_TOO_MANY_ITEMS, 0, "items");
    return dec_fail(d, MQS_OK, 0, NULL);
}

static int dec_subscribe(mqs_dec *d)
{
    size_t count = 0;
    int st = dec_list_start(d, "SUBSCRIBE.packet_id");
    while (st == MQS_OK && mqs_rd_left(&d->r) > 0) {
        mqs_str filter;
        uint8_t qos = 0;
        /* [MQTT-3.8.3-1] via [MQTT-1.5.3-1/2], [MQTT-4.7.1-2/3], [MQTT-4.7.3-1] */
        st = dec_checked_str(d, &filter, MQS_E_TRUNCATED, "SUBSCRIBE.filter", mqs_chk_filter);
        size_t at = d->r.pos;
        if (st == MQS_OK)
            st = dec_u8(d, &qos, "SUBSCRIBE.qos");
        if (st == MQS_OK && (st = mqs_chk_sub_qos(qos, d->v)) != MQS_OK)
            return dec_fail(d, st, at, "SUBSCRIBE.qos");
        dec_store(d, count++, filter, qos);
    }
    return st == MQS_OK ? dec_list_end(d, count) : st;
}

static int dec_suback(mqs_dec *d)
{
    size_t count = 0;
    int st = dec_list_start(d, "SUBACK.packet_id");
    while (st == MQS_OK && mqs_rd_left(&d->r) > 0) {
        size_t at = d->r.pos;
        uint8_t rc = 0;
        (void)mqs_rd_u8(&d->r, &rc);
        if ((st = mqs_chk_suback_rc(rc, d->v)) != MQS_OK)
            return dec_fail(d, st, at, "SUBACK.return_code");
        dec_store(d, count++, (mqs_str){NULL, 0}, rc);
    }
    return st == MQS_OK ? dec_list_end(d, count) : st;
}

static int dec_unsubscribe(mqs_dec *d)
{
    size_t count = 0;
    int st = dec_list_start(d, "UNSUBSCRIBE.packet_id");
    while (st == MQS_OK && mqs_rd_left(&d->r) > 0) {
        mqs_str filter;
        /* [MQTT-3.10.3-1] via [MQTT-1.5.3-1/2], [MQTT-4.7.1-2/3], [MQTT-4.7.3-1] */
        st = dec_checked_str(d, &filter, MQS_E_TRUNCATED, "UNSUBSCRIBE.filter", mqs_chk_filter);
        if (st == MQS_OK)
            dec_store(d, count++, filter, 0);
    }
    return st == MQS_OK ? dec_list_end(d, count) : st;
}

static int dec_body(mqs_dec *d)
{
    switch (d->pkt->type) {
    case MQS_CONNECT:
        return dec_connect(d);
    case MQS_CONNACK:
        return dec_connack(d);
    case MQS_PUBLISH:
        return dec_publish(d);
    case MQS_SUBSCRIBE:
        return dec_subscribe(d);
    case MQS_SUBACK:
        return dec_suback(d);
    case MQS_UNSUBSCRIBE:
        return dec_unsubscribe(d);
    case MQS_PINGREQ:
    case MQS_PINGRESP:
    case MQS_DISCONNECT:
        return dec_fail(d, MQS_OK, 0, NULL); /* length already checked to be 0 */
    default:
        return dec_ack(d); /* PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK */
    }
}

/* Fixed header rules, in order: reserved type, direction, flags, fixed length. */
static int dec_fixed_header(mqs_dec *d, mqs_dir dir)
{
    mqs_packet *p = d->pkt;
    const mqs_type_info *t = mqs_type_info_get(p->type);
    int st;
    if (t == NULL)
        return dec_fail(d, MQS_E_RESERVED_TYPE, 0, "fixed_header.type");
    if ((st = mqs_chk_dir(p->type, dir)) != MQS_OK)
        return dec_fail(d, st, 0, "fixed_header.type");
    if ((st = mqs_chk_fixed_flags(p->type, p->flags, d->v)) != MQS_OK)
        return dec_fail(d, st, 0, "fixed_header.flags");
    if (t->fixed_len != MQS_VAR_LEN && p->remaining_length != (uint32_t)t->fixed_len)
        return dec_fail(d, MQS_E_FIXED_LENGTH, 1, "fixed_header.remaining_length");
    return MQS_OK;
}

static void dec_reset(mqs_packet *pkt, uint8_t type, uint8_t flags, uint32_t rl)
{
    mqs_item *items = pkt->items;
    memset(pkt, 0, sizeof *pkt);
    pkt->items = items;
    pkt->type = type;
    pkt->flags = flags;
    pkt->dup = flags & 0x08u;
    pkt->qos = (uint8_t)((flags >> 1) & 3u);
    pkt->retain = flags & 0x01u;
    pkt->remaining_length = rl;
}

int mqs_decode(const uint8_t *buf, size_t len, const mqs_decode_opts *opts, mqs_packet *pkt,
               mqs_diag *diag)
{
    static const mqs_decode_opts strict = {MQS_V311, MQS_DIR_ANY, 0};
    mqs_dec d = {.pkt = pkt, .diag = diag};
    uint8_t type = 0, flags = 0;
    uint32_t rl = 0;
    size_t hdr = 0;
    if (opts == NULL)
        opts = &strict;
    d.v = opts->version == 0 ? MQS_V311 : opts->version;
    if (pkt == NULL || (buf == NULL && len > 0) || (d.v != MQS_V31 && d.v != MQS_V311))
        return dec_fail(&d, MQS_E_BAD_PARAM, 0, NULL);
    int st = mqs_frame_peek(buf, len, opts->lenient, &type, &flags, &rl, &hdr, diag);
    if (st != MQS_OK)
        return st;
    if (len - hdr < rl)
        return dec_fail(&d, MQS_NEED_MORE, len, NULL);
    if (len - hdr > rl) /* the caller passed more than one frame */
        return dec_fail(&d, MQS_E_BAD_PARAM, hdr + rl, NULL);
    mqs_rd_init(&d.r, buf, len);
    d.cap = pkt->items ? pkt->n_items : 0;
    dec_reset(pkt, type, flags, rl);
    d.r.pos = hdr;
    if (pkt->type == MQS_CONNECT) /* a CONNECT is judged by its own protocol name */
        d.v = mqs_connect_version(d.r);
    st = dec_fixed_header(&d, opts->dir);
    return st == MQS_OK ? dec_body(&d) : st;
}
