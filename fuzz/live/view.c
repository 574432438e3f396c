/* mqttspec live fuzzer: frames and their classes as a broker sees them (view.h). */
#include "fuzz/live/view.h"

#include <string.h>

#include "codec/buf.h"
#include "codec/topic.h"

void mqs_lf_view_init(mqs_lf_view *v)
{
    memset(v, 0, sizeof *v);
    v->phase = MQS_LF_PH_PRE;
    v->version = MQS_V311;
}

bool mqs_lf_class_processed(mqs_lf_class c)
{
    return c == MQS_LF_VALID || c == MQS_LF_MAYCLOSE || c == MQS_LF_SUBFAIL || c == MQS_LF_UNDEFINED ||
           c == MQS_LF_AFTER;
}

const char *mqs_lf_class_name(mqs_lf_class c)
{
    static const char *const names[] = {"valid", "mayclose", "subfail", "invalid",
                                        "undefined", "ignored", "after-disconnect"};
    return (unsigned)c < sizeof names / sizeof names[0] ? names[c] : "?";
}

static bool is_filter_status(int st)
{
    return st == MQS_E_FILTER_HASH || st == MQS_E_FILTER_PLUS || st == MQS_E_TOPIC_EMPTY;
}

/* Rules 3.1.1 states for the sender only, with no "the receiver closes" beside them,
 * that a broker may overlook while judging the rest of the packet: DUP on QoS 0
 * [MQTT-3.3.1-2], packet id 0 [MQTT-2.3.1-1]. (A server-only packet type is the
 * third such rule; it has nothing else to judge.) */
static bool is_sender_only(int st)
{
    return st == MQS_E_PUBLISH_DUP_QOS0 || st == MQS_E_PACKET_ID_ZERO;
}

/* MQTT 3.1 rules without a "close the connection" consequence. */
static bool is_v31_leniency(int st)
{
    return st == MQS_E_V31_FLAGS_QOS || st == MQS_E_V31_UTF8_INVALID ||
           st == MQS_E_V31_CLIENT_ID_LENGTH;
}

/* Re-reads a SUBSCRIBE/UNSUBSCRIBE whose first fault is a topic filter: when that
 * and other filter faults are its only faults, marks the bad filters and returns
 * MQS_OK; otherwise the status of the first structural or encoding fault. */
static int parse_filter_list(const uint8_t *frame, size_t len, size_t hdr, mqs_version v,
                             mqs_lf_frame *f)
{
    mqs_rd r;
    uint16_t id = 0;
    size_t n = 0;
    mqs_rd_init(&r, frame, len);
    r.pos = hdr;
    if (mqs_rd_u16(&r, &id) != MQS_OK || id == 0)
        return id == 0 ? MQS_E_PACKET_ID_ZERO : MQS_E_TRUNCATED;
    while (mqs_rd_left(&r) > 0) {
        mqs_str s;
        uint8_t qos = 0;
        if (n == MQS_LF_VIEW_ITEMS || mqs_rd_str(&r, &s) != MQS_OK)
            return MQS_E_STRING_OVERRUN;
        int st = mqs_topic_filter_check(s.ptr, s.len, v, NULL);
        if (st != MQS_OK && !is_filter_status(st))
            return st; /* bad UTF-8 / U+0000: the connection must close [MQTT-1.5.3-1] */
        if (f->type == MQS_SUBSCRIBE) {
            if (mqs_rd_u8(&r, &qos) != MQS_OK)
                return MQS_E_TRUNCATED;
            if (qos > 2)
                return MQS_E_SUBSCRIBE_QOS;
        }
        f->items[n].filter = s;
        f->items[n].qos = qos;
        f->bad_filter[n] = st != MQS_OK;
        n++;
    }
    if (n == 0)
        return f->type == MQS_SUBSCRIBE ? MQS_E_SUBSCRIBE_EMPTY : MQS_E_UNSUBSCRIBE_EMPTY;
    memset(&f->pkt, 0, sizeof f->pkt);
    f->pkt.type = f->type;
    f->pkt.flags = (uint8_t)(frame[0] & 0x0fu);
    f->pkt.packet_id = id;
    f->pkt.items = f->items;
    f->pkt.n_items = n;
    f->decoded = true;
    return MQS_OK;
}

static void set_class(mqs_lf_frame *f, mqs_lf_class cls, int status, const char *rule)
{
    f->cls = cls;
    f->status = status;
    f->rule = rule;
}

static int decode_frame(const uint8_t *frame, size_t len, mqs_version v, unsigned lenient,
                        mqs_lf_frame *f, size_t *off)
{
    mqs_decode_opts o = {v, MQS_DIR_TO_SERVER, lenient};
    mqs_diag d = {0, 0, NULL};
    memset(&f->pkt, 0, sizeof f->pkt);
    f->pkt.items = f->items;
    f->pkt.n_items = MQS_LF_VIEW_ITEMS;
    int st = mqs_decode(frame, len, &o, &f->pkt, &d);
    f->decoded = st == MQS_OK;
    if (off)
        *off = d.offset;
    return st;
}

static void move_view(mqs_str *s, const uint8_t *from, const uint8_t *to)
{
    if (s->ptr)
        s->ptr = to + (s->ptr - from);
}

#define REPAIR_DUP 0x01u /* DUP cleared */
#define REPAIR_ID 0x02u  /* packet id 0 read as 1 */

/* Decodes a copy of the frame with sender-only faults repaired, so that the rest of
 * the packet is still judged; the views are moved back onto the frame and the
 * repaired fields read as sent. @return the status of the repaired copy. */
static int decode_repaired(const uint8_t *frame, size_t len, mqs_version v, unsigned lenient,
                           unsigned repairs, size_t id_off, size_t *off, mqs_lf_frame *f)
{
    if (len > sizeof f->fix || ((repairs & REPAIR_ID) && id_off + 1 >= len))
        return MQS_E_INTERNAL;
    memcpy(f->fix, frame, len);
    if (repairs & REPAIR_DUP)
        f->fix[0] &= (uint8_t)~0x08u;
    if (repairs & REPAIR_ID)
        f->fix[id_off + 1] = 1;
    int st = decode_frame(f->fix, len, v, lenient, f, off);
    if (st != MQS_OK)
        return st;
    move_view(&f->pkt.publish.topic, f->fix, frame);
    move_view(&f->pkt.publish.payload, f->fix, frame);
    for (size_t i = 0; i < f->pkt.n_items; i++)
        move_view(&f->items[i].filter, f->fix, frame);
    f->pkt.flags = (uint8_t)(frame[0] & 0x0fu);
    f->pkt.dup = frame[0] & 0x08u;
    if (repairs & REPAIR_ID)
        f->pkt.packet_id = f->pkt.publish.packet_id = 0;
    return MQS_OK;
}

/* True when s holds a code point 3.1.1 says strings SHOULD NOT hold (section 1.5.3):
 * U+0001..U+001F, U+007F..U+009F, or a non-character (U+FDD0..U+FDEF, U+xFFFE/xFFFF).
 * A receiver may close the connection on them, so a packet with one obliges nothing.
 * s is well-formed UTF-8 (the decoder checked). */
static bool discouraged(mqs_str s)
{
    for (size_t i = 0; i < s.len; i++) {
        uint8_t b = s.ptr[i];
        uint32_t cp = b;
        size_t extra = b >= 0xf0 ? 3 : b >= 0xe0 ? 2 : b >= 0xc0 ? 1 : 0;
        if (i + extra >= s.len + (extra ? 0 : 1))
            return false;
        if (extra)
            cp = b & (0x3fu >> extra);
        for (size_t k = 1; k <= extra; k++)
            cp = cp << 6 | (s.ptr[i + k] & 0x3fu);
        i += extra;
        if ((cp >= 0x01 && cp <= 0x1f) || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0xfdd0 && cp <= 0xfdef) ||
            (cp & 0xfffeu) == 0xfffeu)
            return true;
    }
    return false;
}

/* The strings of a decoded packet that a broker judges as text. */
static bool discouraged_strings(const mqs_lf_frame *f)
{
    const mqs_packet *p = &f->pkt;
    switch (p->type) {
    case MQS_CONNECT:
        return discouraged(p->connect.client_id) || (p->connect.will_flag && discouraged(p->connect.will_topic)) ||
               (p->connect.has_username && discouraged(p->connect.username));
    case MQS_PUBLISH: return discouraged(p->publish.topic);
    case MQS_SUBSCRIBE:
    case MQS_UNSUBSCRIBE:
        for (size_t i = 0; i < p->n_items; i++)
            if (discouraged(p->items[i].filter))
                return true;
        return false;
    default: return false;
    }
}

/* A frame the decoder accepted: the packet's place in the session decides. */
static void classify_ok(mqs_lf_phase *phase, mqs_version *version, mqs_lf_frame *f)
{
    if (*phase == MQS_LF_PH_PRE && f->type != MQS_CONNECT) {
        set_class(f, MQS_LF_INVALID, MQS_OK, "MQTT-3.1.0-1"); /* first packet must be CONNECT */
        *phase = MQS_LF_PH_DEAD;
        return;
    }
    if (*phase == MQS_LF_PH_CONNECTED && f->type == MQS_CONNECT) {
        if (*version == MQS_V31) { /* 3.1.1's rule; MQTT 3.1 states none */
            set_class(f, MQS_LF_MAYCLOSE, MQS_OK, "MQTT-3.1.0-2");
            f->decoded = false;
            return;
        }
        set_class(f, MQS_LF_INVALID, MQS_OK, "MQTT-3.1.0-2"); /* a second CONNECT */
        *phase = MQS_LF_PH_DEAD;
        return;
    }
    set_class(f, MQS_LF_VALID, MQS_OK, NULL);
    if (f->type == MQS_CONNECT) {
        *phase = MQS_LF_PH_CONNECTED;
        *version = f->pkt.connect.protocol_level == MQS_V31 ? MQS_V31 : MQS_V311;
    } else if (f->type == MQS_DISCONNECT) {
        *phase = MQS_LF_PH_GONE;
    }
}

/* True when a CONNECT frame names protocol "MQIsdp" (MQTT 3.1). */
static bool is_mqisdp(const uint8_t *frame, size_t len, size_t hdr)
{
    return len >= hdr + 8 && frame[hdr] == 0 && frame[hdr + 1] == 6 && !memcmp(frame + hdr + 2, "MQIsdp", 6);
}

/* A frame the decoder refused: which refusals leave the broker a choice. */
static void classify_fault(const uint8_t *frame, size_t len, size_t hdr, int st, mqs_lf_phase *phase,
                           mqs_version *version, mqs_lf_frame *f)
{
    const char *rule = mqs_status_rule(st);
    bool connect = f->type == MQS_CONNECT;
    bool list = f->type == MQS_SUBSCRIBE || f->type == MQS_UNSUBSCRIBE;
    bool v31 = connect ? *phase == MQS_LF_PH_PRE && is_mqisdp(frame, len, hdr)
                       : *phase == MQS_LF_PH_CONNECTED && *version == MQS_V31;
    if (v31) {
        /* MQTT 3.1 states no "close the connection" rule: a broker may carry on. */
        set_class(f, MQS_LF_MAYCLOSE, st, rule);
        f->decoded = false;
        memset(&f->pkt, 0, sizeof f->pkt);
        if (connect) {
            *phase = MQS_LF_PH_CONNECTED;
            *version = MQS_V31;
        }
        return;
    }
    if (connect && *phase == MQS_LF_PH_PRE && st == MQS_E_CONNECT_PROTOCOL_NAME) {
        set_class(f, MQS_LF_UNDEFINED, st, rule);
        *phase = MQS_LF_PH_FOREIGN;
        return;
    }
    if (*phase == MQS_LF_PH_CONNECTED && list && is_filter_status(st)) {
        int st2 = parse_filter_list(frame, len, hdr, *version, f);
        if (st2 == MQS_OK) {
            set_class(f, f->type == MQS_SUBSCRIBE ? MQS_LF_SUBFAIL : MQS_LF_MAYCLOSE, st, rule);
            return;
        }
        st = st2;
        rule = mqs_status_rule(st);
    }
    bool lenient = (*phase == MQS_LF_PH_CONNECTED && (st == MQS_E_SENT_TO_SERVER || is_sender_only(st))) ||
                   (is_v31_leniency(st) && (connect ? *phase == MQS_LF_PH_PRE
                                                    : *phase == MQS_LF_PH_CONNECTED)) ||
                   st == MQS_E_TOO_MANY_ITEMS;
    if (lenient) {
        set_class(f, MQS_LF_MAYCLOSE, st, rule);
        f->decoded = false;
        memset(&f->pkt, 0, sizeof f->pkt); /* nothing known to act on: no answer is due */
        if (connect) {
            *phase = MQS_LF_PH_CONNECTED;
            *version = MQS_V31;
        }
        return;
    }
    if (*phase == MQS_LF_PH_CONNECTED && connect)
        rule = "MQTT-3.1.0-2"; /* a second CONNECT, well-formed or not */
    set_class(f, MQS_LF_INVALID, st, rule ? rule : "MQTT-4.8.0-1");
    *phase = MQS_LF_PH_DEAD;
}

void mqs_lf_classify(const uint8_t *frame, size_t len, mqs_lf_phase *phase, mqs_version *version,
                     mqs_lf_frame *f)
{
    size_t hdr = 0, off = 0;
    f->bytes = frame;
    f->len = len;
    f->type = len ? (uint8_t)(frame[0] >> 4) : 0;
    f->decoded = false;
    f->incomplete = false;
    memset(f->bad_filter, 0, sizeof f->bad_filter);
    if (*phase == MQS_LF_PH_DEAD || *phase == MQS_LF_PH_FOREIGN) {
        set_class(f, *phase == MQS_LF_PH_DEAD ? MQS_LF_IGNORED : MQS_LF_UNDEFINED, MQS_OK, NULL);
        return;
    }
    unsigned lenient = 0;
    int st = decode_frame(frame, len, *version, 0, f, &off);
    int excuse = MQS_OK; /* the first fault a broker may overlook */
    if (st == MQS_E_RL_NON_MINIMAL) { /* 3.1.1 has no statement for the shortest encoding */
        lenient = MQS_LENIENT_NON_MINIMAL_RL;
        excuse = st;
        st = decode_frame(frame, len, *version, lenient, f, &off);
    }
    unsigned repairs = 0;
    size_t id_off = 0;
    for (int k = 0; k < 2 && *phase == MQS_LF_PH_CONNECTED && is_sender_only(st); k++) {
        excuse = excuse == MQS_OK ? st : excuse;
        repairs |= st == MQS_E_PUBLISH_DUP_QOS0 ? REPAIR_DUP : REPAIR_ID;
        if (st == MQS_E_PACKET_ID_ZERO)
            id_off = off;
        st = decode_repaired(frame, len, *version, lenient, repairs, id_off, &off, f);
    }
    if (st == MQS_E_INTERNAL) /* too big to repair: judge by the first fault */
        st = excuse;
    if (*phase == MQS_LF_PH_GONE) {
        set_class(f, MQS_LF_AFTER, st, NULL);
        return;
    }
    (void)mqs_frame_peek(frame, len, MQS_LENIENT_NON_MINIMAL_RL, NULL, NULL, NULL, &hdr, NULL);
    if (st == MQS_OK)
        classify_ok(phase, version, f);
    else
        classify_fault(frame, len, hdr, st, phase, version, f);
    if (excuse != MQS_OK && f->cls == MQS_LF_VALID)
        set_class(f, MQS_LF_MAYCLOSE, excuse, mqs_status_rule(excuse));
    if (f->cls == MQS_LF_VALID && f->decoded && discouraged_strings(f))
        set_class(f, MQS_LF_MAYCLOSE, MQS_OK, "MQS-DISCOURAGED-CHAR"); /* [1.5.3]: may close */
}

/* A frame of n bytes at p judged without decoding (cls, status). */
static void raw_frame(mqs_lf_view *v, const uint8_t *p, size_t n, mqs_lf_class cls, int st, mqs_lf_frame *f)
{
    memset(&f->pkt, 0, sizeof f->pkt);
    f->bytes = p;
    f->len = n;
    f->offset = v->consumed;
    f->type = (uint8_t)(p[0] >> 4);
    f->status = st;
    f->rule = st == MQS_OK ? NULL : mqs_status_rule(st);
    f->cls = cls;
    f->decoded = false;
    f->incomplete = false;
    memset(f->bad_filter, 0, sizeof f->bad_filter);
    v->consumed += n;
}

int mqs_lf_view_next(mqs_lf_view *v, const uint8_t *stream, size_t len, mqs_lf_frame *f)
{
    if (v->consumed >= len)
        return 0;
    const uint8_t *p = stream + v->consumed;
    size_t left = len - v->consumed, hdr = 0;
    if (v->phase == MQS_LF_PH_DEAD) {
        /* Nothing after a violation is acted on: the rest is one ignored blob (its
         * bytes still identify effects it must not have). */
        raw_frame(v, p, left, MQS_LF_IGNORED, MQS_OK, f);
        return 1;
    }
    if (v->stalled)
        return 0;
    uint8_t type = (uint8_t)(p[0] >> 4);
    uint32_t rl = 0;
    if ((type == 0 || type == 15) && v->phase != MQS_LF_PH_FOREIGN && v->phase != MQS_LF_PH_GONE) {
        /* A reserved type is a violation from its first byte on: nothing after it may be
         * acted on (mosquitto 2.0.11 skips the byte and reads on). A broker may still read
         * the whole frame (its Remaining Length says how much) before it looks at the
         * type, so while that frame is not complete it need not have closed (ActiveMQ
         * 5.17 waits): incomplete says so. */
        size_t hdr_r = 0;
        uint32_t rl_r = 0;
        int st_r = mqs_frame_peek(p, left, MQS_LENIENT_NON_MINIMAL_RL, NULL, NULL, &rl_r, &hdr_r, NULL);
        raw_frame(v, p, 1, MQS_LF_INVALID, MQS_E_RESERVED_TYPE, f);
        f->incomplete = st_r == MQS_NEED_MORE || (st_r == MQS_OK && left - hdr_r < rl_r);
        f->whole = st_r == MQS_OK ? hdr_r + rl_r : 5;
        v->phase = MQS_LF_PH_DEAD;
        return 1;
    }
    mqs_diag d = {0, 0, NULL};
    int st = mqs_frame_peek(p, left, MQS_LENIENT_NON_MINIMAL_RL, NULL, NULL, &rl, &hdr, &d);
    if (st == MQS_NEED_MORE)
        return 0;
    if (st != MQS_OK) {
        /* An unframeable header (a fifth length byte): the broker reads that far, must
         * close, and can never find another frame in this stream. */
        size_t n = d.offset + 1 < left ? d.offset + 1 : left;
        mqs_lf_class cls = v->phase == MQS_LF_PH_FOREIGN ? MQS_LF_UNDEFINED
                           : v->phase == MQS_LF_PH_GONE  ? MQS_LF_AFTER
                                                         : MQS_LF_INVALID;
        raw_frame(v, p, n, cls, st, f);
        if (cls == MQS_LF_INVALID)
            v->phase = MQS_LF_PH_DEAD;
        else
            v->stalled = true;
        return 1;
    }
    if (left - hdr < rl)
        return 0;
    f->offset = v->consumed;
    mqs_lf_classify(p, hdr + rl, &v->phase, &v->version, f);
    v->consumed += hdr + rl;
    return 1;
}
