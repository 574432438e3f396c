/* mqttspec live fuzzer: the model of what a broker must do, and the checks
 * (exec.h lists the oracles; exec_internal.h the state).
 *
 * The model is fed the broker's view of every frame we write (view.h) and every
 * frame the broker sends. It is deliberately permissive wherever the specification
 * leaves the broker a choice (close or carry on, grant a lower QoS, duplicate a QoS 1
 * message, extra copies for overlapping subscriptions): a finding must be something
 * the specification forbids.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "codec/buf.h"
#include "codec/format.h"
#include "codec/topic.h"
#include "fuzz/live/exec_internal.h"

const char *mqs_lf_oracle_name(int oracle)
{
    static const char *const names[] = {"crash",  "hang",     "no-close", "malformed", "bad-reply",
                                        "effect", "qos2-dup", "takeover", "session"};
    return oracle >= 0 && oracle < MQS_LF_OR_COUNT ? names[oracle] : "?";
}

void lf_finding(mqs_lf_job *j, int oracle, const char *rule, uint8_t ptype, int ci, int step,
                const char *fmt, ...)
{
    mqs_lf_result *r = j->res;
    ptype = ptype == 15 ? 0 : ptype;
    for (size_t i = 0; i < r->n_findings; i++) {
        const mqs_lf_finding *f = &r->findings[i];
        if (f->oracle == oracle && f->ptype == ptype && !strcmp(f->rule, rule ? rule : ""))
            return; /* one finding per signature and execution */
    }
    if (ptype == 15)
        ptype = 0; /* one "reserved type" signature */
    if (r->n_findings == MQS_LF_MAX_FINDINGS)
        return;
    mqs_lf_finding *f = &r->findings[r->n_findings++];
    memset(f, 0, sizeof *f);
    f->oracle = oracle;
    snprintf(f->rule, sizeof f->rule, "%s", rule ? rule : "");
    f->ptype = ptype;
    f->conn = ci;
    f->step = step;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->text, sizeof f->text, fmt, ap);
    va_end(ap);
    f->event = j->n_events;
    f->trigger = j->recv_event;
    f->detail = j->detail;
    f->want_id = j->want_id;
    f->want_type = j->want_type;
    j->detail = 0;
    j->want_id = 0;
    j->want_type = 0;
    char note[400];
    snprintf(note, sizeof note, "FINDING %s [%s]: %s", mqs_lf_oracle_name(oracle), f->rule, f->text);
    lf_log(j, MQS_LF_EV_NOTE, ci, step, note, strlen(note), 0);
}

const char *lf_due_rule(uint8_t type)
{
    switch (type) {
    case MQS_CONNACK: return "MQTT-3.1.4-4";
    case MQS_PUBACK:
    case MQS_PUBREC: return "MQTT-3.3.4-1";
    case MQS_PUBREL: return "MQTT-4.3.3-1";
    case MQS_PUBCOMP: return "MQTT-4.3.3-2";
    case MQS_SUBACK: return "MQTT-3.8.4-1";
    case MQS_UNSUBACK: return "MQTT-3.10.4-4";
    case MQS_PINGRESP: return "MQTT-3.12.4-1";
    default: return "MQTT-4.8.0-1";
    }
}

/* Statement an unsolicited answer of this type breaks. */
static const char *unsolicited_rule(uint8_t type)
{
    switch (type) {
    case MQS_CONNACK: return "MQTT-3.2.0-1";
    case MQS_SUBACK:
    case MQS_UNSUBACK: return "MQTT-2.3.1-7";
    case MQS_PINGRESP: return "MQTT-3.12.4-1";
    default: return "MQTT-2.3.1-6";
    }
}

/* ---- small helpers ---- */

static bool str_eq(mqs_str a, mqs_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static bool contains(const uint8_t *hay, size_t n, mqs_str needle)
{
    if (needle.len == 0)
        return true;
    for (size_t i = 0; i + needle.len <= n; i++)
        if (hay[i] == needle.ptr[0] && memcmp(hay + i, needle.ptr, needle.len) == 0)
            return true;
    return false;
}

static int id_index(const uint16_t *set, size_t n, uint16_t id)
{
    for (size_t i = 0; i < n; i++)
        if (set[i] == id)
            return (int)i;
    return -1;
}

static bool id_in(const uint16_t *set, size_t n, uint16_t id)
{
    for (size_t i = 0; i < n; i++)
        if (set[i] == id)
            return true;
    return false;
}

static void id_add(uint16_t *set, size_t *n, uint16_t id)
{
    if (!id_in(set, *n, id) && *n < LF_MAX_IDS)
        set[(*n)++] = id;
}


/* A printable preview of a string for finding texts. */
static const char *preview(mqs_str s, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < s.len && o + 5 < cap; i++) {
        uint8_t b = s.ptr[i];
        if (b >= 0x20 && b < 0x7f && b != '\\')
            out[o++] = (char)b;
        else
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", b);
    }
    if (o + 4 < cap && s.len > 0 && o >= cap - 6)
        memcpy(out + o, "...", 3), o += 3;
    out[o < cap ? o : cap - 1] = '\0';
    return out;
}

static lf_msg *msg_for(mqs_lf_job *j, mqs_str topic, mqs_str payload, bool create)
{
    for (size_t i = 0; i < j->n_msgs; i++)
        if (str_eq(j->msgs[i].topic, topic) && str_eq(j->msgs[i].payload, payload))
            return &j->msgs[i];
    if (!create || j->n_msgs == LF_MAX_MSGS)
        return NULL;
    lf_msg *m = &j->msgs[j->n_msgs++];
    memset(m, 0, sizeof *m);
    m->topic = topic;
    m->payload = payload;
    return m;
}

static void new_session(mqs_lf_job *j, lf_ident *id)
{
    id->session = ++j->next_session;
    id->n_pending = 0;
}

static void add_due(lf_conn *c, uint8_t type, uint16_t id, uint16_t count, bool required, int step,
                    int frame)
{
    if (c->n_dues == LF_MAX_DUES)
        return;
    lf_due *d = &c->dues[c->n_dues++];
    d->type = type;
    d->id = id;
    d->count = count;
    d->required = required;
    d->step = (int16_t)step;
    d->frame = (int16_t)frame;
}

bool lf_required_due(const lf_conn *c, const lf_due **first)
{
    for (size_t i = 0; i < c->n_dues; i++)
        if (c->dues[i].required) {
            if (first)
                *first = &c->dues[i];
            return true;
        }
    return false;
}

/* Removes and returns (a copy of) the oldest due of this type and id; a due with
 * count 0xffff (an unreadable packet) answers to any id, PUBACK standing for PUBREC too. */
static bool due_matches(const lf_due *d, uint8_t type, uint16_t id)
{
    if (d->count == 0xffff && d->type == MQS_PUBACK && type == MQS_PUBREC)
        return true;
    return d->type == type && (type == MQS_CONNACK || type == MQS_PINGRESP || d->id == id || d->count == 0xffff);
}

static bool take_due(lf_conn *c, uint8_t type, uint16_t id, lf_due *out)
{
    for (size_t i = 0; i < c->n_dues; i++)
        if (due_matches(&c->dues[i], type, id)) {
            *out = c->dues[i];
            memmove(&c->dues[i], &c->dues[i + 1], (c->n_dues - i - 1) * sizeof c->dues[0]);
            c->n_dues--;
            return true;
        }
    return false;
}

static bool has_due(const lf_conn *c, uint8_t type, uint16_t id)
{
    for (size_t i = 0; i < c->n_dues; i++)
        if (c->dues[i].type == type && c->dues[i].id == id && c->dues[i].count != 0xffff)
            return true;
    return false;
}

static void violation(mqs_lf_job *j, lf_conn *c, const char *rule, int status, uint8_t type, int step)
{
    if (c->must_close)
        return;
    j->ident[c->identity].tainted = true; /* what its session gets next may come from bytes after it */
    mqs_lf_conn_info *info = &j->res->conns[c - j->conns];
    info->viol_event = (long)j->n_events - 1; /* the send / CONNACK just logged */
    info->allow_mask = (uint16_t)(1u << MQS_PUBLISH);
    for (size_t i = 0; i < c->n_dues; i++) {
        info->allow_mask |= (uint16_t)(1u << c->dues[i].type);
        if (c->dues[i].count == 0xffff && c->dues[i].type == MQS_PUBACK)
            info->allow_mask |= (uint16_t)(1u << MQS_PUBREC);
    }
    if (c->connack < 0)
        info->allow_mask |= (uint16_t)(1u << MQS_CONNACK); /* a refusal, or the answer due */
    c->must_close = true;
    c->viol_rule = rule;
    c->viol_status = status;
    c->viol_type = type;
    c->viol_step = (int16_t)step;
}

/* ---- what we sent ---- */

static void record_subs(mqs_lf_job *j, lf_frame_rec *r, const lf_conn *c, const mqs_lf_frame *f)
{
    r->first_sub = (uint16_t)j->n_subs;
    for (size_t i = 0; i < f->pkt.n_items && j->n_subs < LF_MAX_SUBS; i++) {
        lf_sub *s = &j->subs[j->n_subs++];
        s->identity = c->identity;
        s->filter = f->items[i].filter;
        s->qos = f->items[i].qos;
        s->bad = f->bad_filter[i];
        s->processed = r->type == MQS_SUBSCRIBE && mqs_lf_class_processed(f->cls);
    }
    r->n_subs = (uint16_t)(j->n_subs - r->first_sub);
}

static lf_frame_rec *record_frame(mqs_lf_job *j, int ci, const mqs_lf_frame *f)
{
    if (j->n_frames == LF_MAX_FRAMES)
        return NULL;
    lf_frame_rec *r = &j->frames[j->n_frames++];
    memset(r, 0, sizeof *r);
    r->conn = (int8_t)ci;
    r->step = j->cur_step;
    r->cls = (uint8_t)f->cls;
    r->type = f->type;
    r->status = f->status;
    r->rule = f->rule;
    r->bytes = f->bytes;
    r->len = f->len;
    r->decoded = f->decoded;
    if (f->decoded) {
        r->qos = f->pkt.qos;
        r->retain = f->pkt.retain;
        r->id = f->pkt.packet_id;
        r->topic = f->pkt.publish.topic;
        r->payload = f->pkt.publish.payload;
        if (f->type == MQS_SUBSCRIBE || f->type == MQS_UNSUBSCRIBE)
            record_subs(j, r, &j->conns[ci], f);
    }
    return r;
}

static void sent_connect(mqs_lf_job *j, lf_conn *c, const mqs_lf_frame *f, bool required)
{
    const mqs_connect *k = &f->pkt.connect;
    const char *own = j->c->cid[j->c->slots[c->slot].identity];
    c->client_id = k->client_id;
    if (k->client_id.len != strlen(own) || memcmp(k->client_id.ptr, own, k->client_id.len) != 0)
        c->identity = (uint8_t)(MQS_LF_MAX_SLOTS + (c - j->conns)); /* empty or mutated: its own id */
    lf_ident *id = &j->ident[c->identity];
    c->connect_sent = true;
    c->clean = k->clean_session;
    c->version = k->protocol_level == MQS_V31 ? MQS_V31 : MQS_V311;
    c->will = k->will_flag;
    c->will_topic = k->will_topic;
    c->will_payload = k->will_payload;
    c->will_retain = k->will_retain;
    c->sp_zero = k->clean_session || !id->connect_seen;
    id->connect_seen = true;
    if (!k->clean_session) {
        id->clean0_used = true;
        id->clean0_connects++;
    }
    c->clean0_at_connect = id->clean0_connects;
    if (k->clean_session)
        new_session(j, id);
    c->session = id->session;
    add_due(c, MQS_CONNACK, 0, 0, required, j->cur_step, -1);
}

static void sent_publish(mqs_lf_job *j, lf_conn *c, const mqs_lf_frame *f, bool required)
{
    lf_ident *id = &j->ident[c->identity];
    const mqs_packet *p = &f->pkt;
    lf_msg *m = msg_for(j, p->publish.topic, p->publish.payload, true);
    if (m) {
        m->any++;
        if (p->qos > m->max_qos)
            m->max_qos = p->qos;
    }
    if (p->qos == 2) {
        /* [MQTT-4.3.3-2] the same id before PUBREL is the same message; re-sent with
         * other content, a broker may keep either: each may arrive once */
        int k = id_index(id->pending, id->n_pending, p->packet_id);
        if (k < 0 || (m && id->pending_msg[k] != (int16_t)(m - j->msgs))) {
            if (m)
                m->news++;
        }
        if (k < 0 && id->n_pending < LF_MAX_IDS) {
            id->pending_msg[id->n_pending] = m ? (int16_t)(m - j->msgs) : -1;
            id->pending[id->n_pending++] = p->packet_id;
        }
    }
    if (p->qos == 1)
        add_due(c, MQS_PUBACK, p->packet_id, 0, required, j->cur_step, -1);
    else if (p->qos == 2)
        add_due(c, MQS_PUBREC, p->packet_id, 0, required, j->cur_step, -1);
}

/* Answers a processed frame calls for, and its effect on the session. */
static void sent_processed(mqs_lf_job *j, lf_conn *c, const mqs_lf_frame *f, int frame_index)
{
    lf_ident *id = &j->ident[c->identity];
    bool required = f->cls == MQS_LF_VALID && !c->mayclose;
    uint16_t pid = f->pkt.packet_id;
    switch (f->type) {
    case MQS_CONNECT: sent_connect(j, c, f, required); break;
    case MQS_PUBLISH: sent_publish(j, c, f, required); break;
    case MQS_PUBREL: {
        bool known = id_in(id->pending, id->n_pending, pid);
        int k = id_index(id->pending, id->n_pending, pid);
        if (k >= 0) { /* released: the id is free again */
            id->n_pending--;
            id->pending[k] = id->pending[id->n_pending];
            id->pending_msg[k] = id->pending_msg[id->n_pending];
        }
        add_due(c, MQS_PUBCOMP, pid, 0, required && known, j->cur_step, -1);
        break;
    }
    case MQS_PUBREC:
        add_due(c, MQS_PUBREL, pid, 0, required && id_in(id->outq2, id->n_outq2, pid), j->cur_step, -1);
        break;
    case MQS_SUBSCRIBE:
        add_due(c, MQS_SUBACK, pid, (uint16_t)f->pkt.n_items, required, j->cur_step, frame_index);
        break;
    case MQS_UNSUBSCRIBE: add_due(c, MQS_UNSUBACK, pid, 0, required, j->cur_step, -1); break;
    case MQS_PINGREQ: add_due(c, MQS_PINGRESP, 0, 0, required, j->cur_step, -1); break;
    case MQS_DISCONNECT:
        c->disconnect_sent = true;
        c->disconnect_clean = !c->mayclose; /* no earlier packet the broker may close on */
        break;
    default: break;
    }
}

/* The filters a broker may have read from a SUBSCRIBE the decoder refused: read as far
 * as they go (MQTT 3.1 leniencies; a malformed SUBSCRIBE whose first filters a broker
 * applied before it found the fault). With any_if_none, when none can be read, any
 * topic may now be delivered. */
static void guess_subs(mqs_lf_job *j, const lf_conn *c, const mqs_lf_frame *f, bool any_if_none)
{
    static const uint8_t any[] = "#";
    size_t hdr = 0, before = j->n_subs;
    (void)mqs_frame_peek(f->bytes, f->len, MQS_LENIENT_NON_MINIMAL_RL, NULL, NULL, NULL, &hdr, NULL);
    mqs_rd r;
    mqs_rd_init(&r, f->bytes, f->len);
    r.pos = hdr;
    uint16_t pid;
    mqs_str filter;
    uint8_t qos;
    if (mqs_rd_u16(&r, &pid) == MQS_OK)
        while (j->n_subs < LF_MAX_SUBS && mqs_rd_str(&r, &filter) == MQS_OK && mqs_rd_u8(&r, &qos) == MQS_OK)
            j->subs[j->n_subs++] = (lf_sub){c->identity, filter, 2, false, true};
    if (any_if_none && j->n_subs == before && j->n_subs < LF_MAX_SUBS)
        j->subs[j->n_subs++] = (lf_sub){c->identity, {any, 1}, 2, false, true};
}

/* The answer a broker that acts on an unreadable packet of this type may send. */
static uint8_t answer_type(uint8_t type)
{
    switch (type) {
    case MQS_CONNECT: return MQS_CONNACK;
    case MQS_PUBLISH: return MQS_PUBACK; /* or PUBREC: see take_due */
    case MQS_PUBREC: return MQS_PUBREL;
    case MQS_PUBREL: return MQS_PUBCOMP;
    case MQS_SUBSCRIBE: return MQS_SUBACK;
    case MQS_UNSUBSCRIBE: return MQS_UNSUBACK;
    case MQS_PINGREQ: return MQS_PINGRESP;
    default: return 0;
    }
}

static void sent_frame(mqs_lf_job *j, int ci, const mqs_lf_frame *f)
{
    lf_conn *c = &j->conns[ci];
    lf_frame_rec *r = record_frame(j, ci, f);
    int index = r ? (int)(r - j->frames) : -1;
    j->res->sent_packets++;
    switch (f->cls) {
    case MQS_LF_INVALID:
        if (f->type == MQS_CONNECT && !c->connect_sent)
            c->connect_invalid = true;
        if (f->type == MQS_SUBSCRIBE && c->connect_sent)
            guess_subs(j, c, f, false); /* a broker may apply the filters it read before the fault */
        if (!c->must_close && f->incomplete)
            c->viol_whole = f->offset + f->whole;
        violation(j, c, f->rule, f->status, f->type, j->cur_step);
        return;
    case MQS_LF_UNDEFINED: c->undefined = true; return;
    case MQS_LF_IGNORED:
        if (c->dead_from == SIZE_MAX)
            c->dead_from = f->offset;
        return;
    case MQS_LF_AFTER: return;
    default: break;
    }
    if (f->type == MQS_CONNECT && !f->decoded && !c->connect_sent) {
        c->undefined = true; /* a CONNECT we cannot read: the session is not judged */
        return;
    }
    if (f->decoded) {
        sent_processed(j, c, f, index);
    } else {
        add_due(c, answer_type(f->type), 0, 0xffff, false, j->cur_step, -1); /* any id, optional */
        if (f->type == MQS_SUBSCRIBE)
            guess_subs(j, c, f, true);
    }
    if (f->cls != MQS_LF_VALID)
        c->mayclose = true;
}

void lf_on_sent(mqs_lf_job *j, int ci, const uint8_t *bytes, size_t len)
{
    lf_conn *c = &j->conns[ci];
    if (len > LF_TX_CAP - c->tx_len) {
        c->view.stalled = true; /* beyond what we keep: stop judging this stream */
        return;
    }
    memcpy(c->tx + c->tx_len, bytes, len);
    c->tx_len += len;
    mqs_lf_frame *f = &j->scratch;
    while (mqs_lf_view_next(&c->view, c->tx, c->tx_len, f) == 1)
        sent_frame(j, ci, f);
}

/* ---- what the broker sent ---- */

static void unsolicited(mqs_lf_job *j, int ci, const mqs_packet *p)
{
    lf_conn *c = &j->conns[ci];
    char want[160] = "";
    size_t o = 0;
    for (size_t i = 0; i < c->n_dues && o + 24 < sizeof want; i++)
        o += (size_t)snprintf(want + o, sizeof want - o, "%s%s %u", i ? ", " : "",
                              mqs_type_name(c->dues[i].type), c->dues[i].id);
    j->detail = MQS_LF_BR_UNSOLICITED;
    if (c->must_close && c->close_probed && p->type == MQS_PINGRESP) {
        c->alive_after_violation = true; /* the answer to our own probe: a no-close */
        return;
    }
    if (c->must_close) { /* a finding unless the broker closes soon (lf_late_reply) */
        if (!c->late) {
            c->late = true;
            c->late_event = j->recv_event;
            c->late_ms = mqs_now_ms();
            c->late_type = p->type;
            c->late_id = p->packet_id;
        }
        return;
    }
    for (size_t i = 0; i < c->n_dues; i++) /* what a reproducer expects instead */
        if (c->dues[i].type == p->type) {
            j->want_type = p->type;
            j->want_id = c->dues[i].id;
            break;
        }
    lf_finding(j, MQS_LF_OR_BAD_REPLY, unsolicited_rule(p->type), p->type, ci, j->cur_step,
               "the broker sent %s with packet id %u, which answers nothing the client sent "
               "(outstanding: %s)",
               mqs_type_name(p->type), p->packet_id, o ? want : "none");
}

static void got_connack(mqs_lf_job *j, int ci, const mqs_packet *p)
{
    lf_conn *c = &j->conns[ci];
    uint8_t rc = p->connack.return_code;
    lf_due d;
    if (c->connack >= 0 || (!c->connect_sent && !c->connect_invalid)) {
        unsolicited(j, ci, p);
        return;
    }
    c->connack = rc;
    j->res->conns[ci].connack = rc;
    if (c->connect_invalid) {
        j->detail = MQS_LF_BR_ACCEPTED;
        if (rc == 0)
            lf_finding(j, MQS_LF_OR_BAD_REPLY, c->viol_rule, MQS_CONNECT, ci, c->viol_step,
                       "the broker accepted (CONNACK 0) a CONNECT that breaks %s (%s)", c->viol_rule,
                       mqs_status_str(c->viol_status));
        return;
    }
    (void)take_due(c, MQS_CONNACK, 0, &d);
    if (rc != 0) {
        c->rejected = true;
        c->n_dues = 0; /* nothing after a refused CONNECT may be acted on [MQTT-3.1.4-5] */
        violation(j, c, "MQTT-3.2.2-5", 0, MQS_CONNACK, j->cur_step);
        return;
    }
    c->accept_seq = ++j->accept_seq;
    j->ident[c->identity].ever_accepted = true;
    /* Another connection's clean-session-0 CONNECT with the same id, sent before this
     * CONNACK came, may have been processed first: it made the session this one finds. */
    bool raced = !c->clean && j->ident[c->identity].clean0_connects > c->clean0_at_connect;
    if (c->version == MQS_V311 && p->connack.session_present && c->sp_zero && !raced)
        lf_finding(j, MQS_LF_OR_SESSION, c->clean ? "MQTT-3.2.2-1" : "MQTT-3.2.2-3", MQS_CONNACK, ci,
                   j->cur_step,
                   "CONNACK with session present = 1 for a %s (clean session %d)",
                   c->clean ? "clean session" : "client id that never had a session", c->clean);
}

/* The SUBACK of a SUBSCRIBE: one code per filter [MQTT-3.8.4-5], 0x80 for a filter the
 * broker must refuse [MQTT-4.7.1-2/3, MQTT-4.7.3-1]. */
static void got_suback(mqs_lf_job *j, int ci, const mqs_packet *p, const lf_due *d)
{
    j->detail = MQS_LF_BR_SUBACK;
    j->want_id = p->packet_id;
    if (d->count != p->n_items) {
        lf_finding(j, MQS_LF_OR_BAD_REPLY, "MQTT-3.8.4-5", MQS_SUBACK, ci, d->step,
                   "SUBACK %u has %zu return codes for a SUBSCRIBE with %u filters", p->packet_id,
                   p->n_items, d->count);
        return;
    }
    if (d->frame < 0)
        return;
    const lf_frame_rec *r = &j->frames[d->frame];
    for (size_t i = 0; i < p->n_items && i < r->n_subs; i++) {
        const lf_sub *s = &j->subs[r->first_sub + i];
        if (s->bad && p->items[i].qos != 0x80) {
            char f[80];
            lf_finding(j, MQS_LF_OR_BAD_REPLY, r->rule ? r->rule : "MQTT-4.7.1-2", MQS_SUBSCRIBE, ci,
                       d->step, "SUBACK grants QoS %u to the invalid topic filter \"%s\" (%s)",
                       p->items[i].qos, preview(s->filter, f, sizeof f), mqs_status_str(r->status));
            return;
        }
    }
}

static void got_ack(mqs_lf_job *j, int ci, const mqs_packet *p)
{
    lf_conn *c = &j->conns[ci];
    lf_due d;
    if (!take_due(c, p->type, p->packet_id, &d)) {
        lf_ident *id = &j->ident[c->identity];
        if (p->type == MQS_PUBREL && id_in(id->outq2, id->n_outq2, p->packet_id) && !c->must_close) {
            /* a PUBREL for a QoS 2 delivery (maybe re-sent on a resumed session) */
        } else {
            unsolicited(j, ci, p);
            return;
        }
    } else if (p->type == MQS_SUBACK && d.count != 0xffff) {
        got_suback(j, ci, p, &d);
    }
    if (p->type == MQS_PUBREL && j->c->slots[c->slot].auto_ack && !c->must_close)
        lf_send_auto(j, ci, MQS_PUBCOMP, p->packet_id);
}

/* Effects: a message (watcher or delivery) must come from a packet a broker may act on. */
static bool conn_ok(const mqs_lf_job *j, int ci)
{
    const lf_conn *c = &j->conns[ci];
    return !c->rejected && !c->connect_invalid;
}

/* A later connection with the same client id: its takeover may have closed conn i
 * (publishing the will) before the broker read conn i's DISCONNECT. */
static bool taken_over(const mqs_lf_job *j, size_t i)
{
    for (size_t k = i + 1; k < j->n_conns; k++)
        if (j->conns[k].identity == j->conns[i].identity && j->conns[k].connect_sent)
            return true;
    return false;
}

static void effect_finding(mqs_lf_job *j, mqs_str topic, mqs_str payload, const char *where,
                           const lf_frame_rec *culprit, const lf_conn *will_of)
{
    char t[96], pl[64];
    preview(topic, t, sizeof t);
    preview(payload, pl, sizeof pl);
    if (will_of) {
        int ci = (int)(will_of - j->conns);
        bool disc = will_of->disconnect_confirmed;
        lf_finding(j, MQS_LF_OR_EFFECT, disc ? "MQTT-3.14.4-3" : "MQTT-3.1.4-5",
                   disc ? MQS_DISCONNECT : MQS_CONNECT, ci, -1,
                   "%s the will message of a connection %s (topic \"%s\", payload \"%s\")", where,
                   disc ? "that ended with DISCONNECT" : "whose CONNECT was refused", t, pl);
        return;
    }
    if (culprit) {
        const lf_conn *c = &j->conns[culprit->conn];
        const char *rule = culprit->rule;
        uint8_t type = culprit->type;
        if (!rule && c->viol_rule) { /* a packet after the violation: the violation is the cause */
            rule = c->viol_rule;
            type = c->viol_type;
        }
        lf_finding(j, MQS_LF_OR_EFFECT, rule ? rule : "MQTT-3.1.4-5", type, culprit->conn, culprit->step,
                   "%s a message (topic \"%s\", payload \"%s\") from a %s the broker had to refuse "
                   "(%s%s%s)",
                   where, t, pl, mqs_type_name(culprit->type),
                   culprit->cls == MQS_LF_INVALID ? mqs_status_str(culprit->status)
                   : c->rejected                   ? "its CONNECT was refused"
                                                   : "it came after a protocol violation",
                   culprit->rule ? ", " : "", culprit->rule ? culprit->rule : "");
        return;
    }
    lf_finding(j, MQS_LF_OR_EFFECT, "MQTT-4.7.3-4", MQS_PUBLISH, -1, -1,
               "%s a message no client sent (topic \"%s\", payload \"%s\")", where, t, pl);
}

static void check_effect(mqs_lf_job *j, mqs_str topic, mqs_str payload, const char *where)
{
    const lf_frame_rec *culprit = NULL;
    const lf_conn *will_of = NULL;
    for (size_t i = 0; i < j->n_frames; i++) {
        const lf_frame_rec *r = &j->frames[i];
        if (r->type != MQS_PUBLISH || !r->decoded || !str_eq(r->topic, topic) || !str_eq(r->payload, payload))
            continue;
        if (mqs_lf_class_processed(r->cls) && conn_ok(j, r->conn))
            return;
        culprit = r;
    }
    for (size_t i = 0; i < j->n_conns; i++) {
        const lf_conn *c = &j->conns[i];
        if (!c->will || !str_eq(c->will_topic, topic) || !str_eq(c->will_payload, payload))
            continue;
        if ((!c->disconnect_confirmed || taken_over(j, i)) && conn_ok(j, (int)i))
            return; /* a will is published unless a DISCONNECT was surely processed first */
        will_of = c;
    }
    for (size_t i = 0; !culprit && !will_of && i < j->n_frames; i++) {
        const lf_frame_rec *r = &j->frames[i]; /* unreadable packets a broker may act on */
        if (mqs_lf_class_processed(r->cls) && conn_ok(j, r->conn) && contains(r->bytes, r->len, topic) &&
            contains(r->bytes, r->len, payload))
            return;
    }
    lf_frame_rec after; /* everything written after a violation, across writes */
    uint8_t field[2 + 65535];     /* the topic as a length-prefixed field */
    mqs_str lp = {field, 2 + topic.len};
    field[0] = (uint8_t)(topic.len >> 8);
    field[1] = (uint8_t)topic.len;
    memcpy(field + 2, topic.ptr, topic.len);
    /* Who sent it: the bytes after a violation (topic and payload), then packets a
     * broker had to refuse, then -- a broker that reads on after a violation may cut
     * the bytes into packets its own way -- the topic field alone, connections the
     * broker kept open first; the latest connection first each time. */
    for (int pass = 0; pass < 4 && !culprit && !will_of; pass++) {
        if (pass == 1) {
            for (size_t i = j->n_frames; !culprit && i-- > 0;) {
                const lf_frame_rec *r = &j->frames[i];
                if (!mqs_lf_class_processed(r->cls) && contains(r->bytes, r->len, topic) &&
                    contains(r->bytes, r->len, payload))
                    culprit = r;
            }
            continue;
        }
        for (size_t i = j->n_conns; !culprit && i-- > 0;) {
            const lf_conn *c = &j->conns[i];
            const uint8_t *dead = c->tx + c->dead_from;
            size_t n = c->dead_from < c->tx_len ? c->tx_len - c->dead_from : 0;
            bool kept_open = c->alive_after_violation || !c->peer_closed;
            bool hit = pass == 0 ? contains(dead, n, lp) && contains(dead, n, payload)
                                 : contains(dead, n, lp) && (pass == 3 || kept_open);
            if (!n || !hit)
                continue;
            memset(&after, 0, sizeof after);
            after.conn = (int8_t)i;
            after.step = c->viol_step;
            after.cls = MQS_LF_IGNORED;
            after.type = c->viol_type;
            culprit = &after;
        }
    }
    effect_finding(j, topic, payload, where, culprit, will_of);
}

/* Distinct processed filters of the client id that match topic; *max_qos their highest
 * requested QoS. */
static unsigned matching_subs(const mqs_lf_job *j, uint8_t identity, mqs_str topic, uint8_t *max_qos)
{
    unsigned n = 0;
    *max_qos = 0;
    for (size_t i = 0; i < j->n_subs; i++) {
        const lf_sub *s = &j->subs[i];
        if (s->identity != identity || !s->processed || s->bad ||
            !mqs_topic_match(s->filter.ptr, s->filter.len, topic.ptr, topic.len))
            continue;
        bool dup = false;
        for (size_t k = 0; k < i && !dup; k++)
            dup = j->subs[k].identity == identity && j->subs[k].processed && !j->subs[k].bad &&
                  str_eq(j->subs[k].filter, s->filter);
        if (s->qos > *max_qos)
            *max_qos = s->qos;
        n += !dup;
    }
    return n;
}

/* A QoS 2 message reaches one session once per new message and matching
 * subscription [MQTT-4.3.3-2]; a re-delivery carries DUP [MQTT-3.3.1-1]. */
static void count_qos2(mqs_lf_job *j, int ci, const mqs_packet *p, const lf_msg *m, unsigned overlap)
{
    lf_conn *c = &j->conns[ci];
    int16_t mi = (int16_t)(m - j->msgs);
    lf_dlv *d = NULL;
    for (size_t i = 0; i < j->n_dlvs && !d; i++)
        if (j->dlvs[i].session == c->session && j->dlvs[i].msg == mi)
            d = &j->dlvs[i];
    if (!d) {
        if (j->n_dlvs == LF_MAX_MSGS)
            return;
        d = &j->dlvs[j->n_dlvs++];
        memset(d, 0, sizeof *d);
        d->session = c->session;
        d->msg = mi;
    }
    bool redelivery = d->count > 0 && d->last_id == p->packet_id && d->last_conn != ci;
    d->count++;
    d->last_id = p->packet_id;
    d->last_conn = (int8_t)ci;
    uint32_t allowed = m->news * (overlap ? overlap : 1);
    if (d->count <= allowed)
        return;
    char t[96];
    lf_finding(j, MQS_LF_OR_QOS2_DUP, redelivery ? "MQTT-3.3.1-1" : "MQTT-4.3.3-2", MQS_PUBLISH, ci,
               j->cur_step,
               "QoS 2 message on \"%s\" delivered %u times to one session (DUP 0, %u published as "
               "new, %u matching subscriptions)%s",
               preview(m->topic, t, sizeof t), d->count, m->news, overlap,
               redelivery ? ": a re-delivery on a new connection without DUP" : "");
}

static void got_publish(mqs_lf_job *j, int ci, const mqs_packet *p)
{
    lf_conn *c = &j->conns[ci];
    lf_ident *id = &j->ident[c->identity];
    char where[64], t[96];
    snprintf(where, sizeof where, "client %c received", 'a' + c->slot);
    if (p->qos == 2)
        id_add(id->outq2, &id->n_outq2, p->packet_id);
    uint8_t max_req = 0;
    unsigned overlap = matching_subs(j, c->identity, p->publish.topic, &max_req);
    bool judged = !c->must_close && !id->tainted; /* after a violation a broker may have read on */
    j->detail = MQS_LF_BR_NO_SUB;
    if (overlap == 0 && judged) {
        lf_finding(j, MQS_LF_OR_BAD_REPLY, "MQTT-3.3.2-3", MQS_PUBLISH, ci, j->cur_step,
                   "PUBLISH on \"%s\" to a session with no matching subscription",
                   preview(p->publish.topic, t, sizeof t));
    }
    check_effect(j, p->publish.topic, p->publish.payload, where);
    lf_msg *m = msg_for(j, p->publish.topic, p->publish.payload, false);
    j->detail = MQS_LF_BR_QOS;
    j->want_id = m ? (m->max_qos < max_req ? m->max_qos : max_req) : 0;
    if (m && overlap && judged && (p->qos > m->max_qos || p->qos > max_req))
        lf_finding(j, MQS_LF_OR_BAD_REPLY, "MQTT-3.8.4-6", MQS_PUBLISH, ci, j->cur_step,
                   "delivered at QoS %u a message published at QoS %u to a subscription that asked "
                   "for at most QoS %u",
                   p->qos, m->max_qos, max_req);
    if (m && judged && p->qos == 2 && !p->dup && !p->retain)
        count_qos2(j, ci, p, m, overlap);
    if (j->c->slots[c->slot].auto_ack && !c->must_close && p->qos > 0)
        lf_send_auto(j, ci, p->qos == 1 ? MQS_PUBACK : MQS_PUBREC, p->packet_id);
}

void lf_on_frame(mqs_lf_job *j, int ci, const uint8_t *frame, size_t len)
{
    lf_conn *c = &j->conns[ci];
    if (c->undefined)
        return;
    mqs_item items[MQS_LF_VIEW_ITEMS];
    mqs_packet p;
    mqs_diag d = {0, 0, NULL};
    memset(&p, 0, sizeof p);
    p.items = items;
    p.n_items = MQS_LF_VIEW_ITEMS;
    mqs_decode_opts o = {c->version, MQS_DIR_TO_CLIENT, 0};
    int st = mqs_decode(frame, len, &o, &p, &d);
    if (st == MQS_E_RL_NON_MINIMAL) { /* no 3.1.1 statement asks for the shortest encoding */
        o.lenient = MQS_LENIENT_NON_MINIMAL_RL;
        p.n_items = MQS_LF_VIEW_ITEMS;
        st = mqs_decode(frame, len, &o, &p, &d);
    }
    uint8_t type = len ? (uint8_t)(frame[0] >> 4) : 0;
    if (st == MQS_E_PACKET_ID_ZERO && type != MQS_PUBLISH && len >= 4 && (has_due(c, type, 0) || c->must_close)) {
        /* Packet id 0 echoed: the answer to a packet of ours with id 0 that the broker
         * chose to process (the fault is the client's, 3.1.1 asks the sender only), or
         * anything after a protocol violation, which may have carried id 0: the broker
         * acting on it is the finding (bad-reply after the violation), not the id. */
        o.lenient = MQS_LENIENT_NON_MINIMAL_RL;
        memset(&p, 0, sizeof p);
        p.type = type;
        p.items = items;
        p.n_items = type == MQS_SUBACK ? len - 4 : 0;
        for (size_t i = 0; i + 4 < len && i < MQS_LF_VIEW_ITEMS; i++)
            items[i].qos = frame[4 + i];
        st = MQS_OK;
    }
    if (st == MQS_E_SUBACK_EMPTY && len == 4) {
        /* No codes for no filters: the answer to an empty SUBSCRIBE (MQTT 3.1 allows one);
         * judged by the count check against what was asked. */
        memset(&p, 0, sizeof p);
        p.type = MQS_SUBACK;
        p.packet_id = (uint16_t)(frame[2] << 8 | frame[3]);
        p.items = items;
        st = MQS_OK;
    }
    if (st != MQS_OK) {
        const char *rule = mqs_status_rule(st);
        lf_due answered; /* it answered, if badly: no hang on top */
        if (len >= 4 && type != MQS_PUBLISH)
            (void)take_due(c, type, (uint16_t)(frame[2] << 8 | frame[3]), &answered);
        else if (len >= 2 && (type == MQS_CONNACK || type == MQS_PINGRESP))
            (void)take_due(c, type, 0, &answered);
        lf_finding(j, MQS_LF_OR_MALFORMED, rule ? rule : "MQTT-4.8.0-1", type, ci, j->cur_step,
                   "the broker sent a malformed %s: %s (byte %zu, %s)", mqs_type_name(type),
                   mqs_status_str(st), d.offset, d.field ? d.field : "?");
        return;
    }
    if (type != MQS_CONNACK && c->connack != 0) {
        j->detail = MQS_LF_BR_BEFORE_CONNACK;
        if (c->connack < 0 && !c->must_close)
            lf_finding(j, MQS_LF_OR_BAD_REPLY, "MQTT-3.2.0-1", type, ci, j->cur_step,
                       "the broker sent %s before CONNACK", mqs_type_name(type));
        else
            unsolicited(j, ci, &p);
        return;
    }
    switch (type) {
    case MQS_CONNACK: got_connack(j, ci, &p); break;
    case MQS_PUBLISH: got_publish(j, ci, &p); break;
    default: got_ack(j, ci, &p); break;
    }
}

static void end_session(mqs_lf_job *j, lf_conn *c)
{
    lf_ident *id = &j->ident[c->identity];
    if (c->connect_sent && c->clean && id->session == c->session)
        new_session(j, id); /* a clean session lasts as long as its connection */
}

void lf_late_reply(mqs_lf_job *j, int ci)
{
    lf_conn *c = &j->conns[ci];
    if (!c->late)
        return;
    long saved = j->recv_event;
    j->recv_event = c->late_event;
    j->detail = MQS_LF_BR_UNSOLICITED;
    lf_finding(j, MQS_LF_OR_BAD_REPLY, c->viol_rule, c->viol_type, ci, c->viol_step,
               "the broker sent %s (id %u) after a %s from the client that breaks %s (it must "
               "close the connection and act on nothing more)",
               mqs_type_name(c->late_type), c->late_id, mqs_type_name(c->viol_type), c->viol_rule);
    j->recv_event = saved;
    c->late = false;
}

void lf_on_peer_closed(mqs_lf_job *j, int ci)
{
    lf_conn *c = &j->conns[ci];
    c->peer_closed = true;
    c->late = false; /* it closed: what it answered before is the pipeline's, not a finding */
    /* The broker surely read the DISCONNECT only if everything before it was a valid
     * 3.1.1 packet and answered: otherwise it may have closed on an earlier packet
     * (a refused subscription, a string it dislikes), which publishes the will. */
    c->disconnect_confirmed = c->disconnect_clean && c->n_dues == 0 && c->version == MQS_V311;
    c->n_dues = 0;
    if (!c->must_close && !c->disconnect_sent && !c->undefined && !c->mayclose)
        j->need_probe = true;
    end_session(j, c);
}

void lf_on_we_close(mqs_lf_job *j, int ci)
{
    lf_conn *c = &j->conns[ci];
    lf_late_reply(j, ci);
    c->we_closed = true;
    c->n_dues = 0;
    end_session(j, c);
}

void lf_check_effects(mqs_lf_job *j)
{
    for (size_t i = 0; i < j->n_seen; i++) {
        j->recv_event = j->seen[i].event;
        check_effect(j, j->seen[i].topic, j->seen[i].payload, "the watcher received");
    }
    j->recv_event = -1;
}
