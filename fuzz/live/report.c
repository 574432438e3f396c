/* mqttspec live fuzzer: findings as scenario files and traces (report.h).
 *
 * The JSON is written by hand (cJSON stays in conformance/): every string goes
 * through one escaper that emits printable ASCII only, so the files are valid UTF-8
 * JSON whatever bytes a mutation produced.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/format.h"
#include "codec/topic.h"
#include "fuzz/live/report.h"
#include "fuzz/live/view.h"

/* ---- strings ---- */

void mqs_lf_finding_stem(const mqs_lf_finding *f, char *out, size_t cap)
{
    char raw[128];
    snprintf(raw, sizeof raw, "%s-%s-%s", mqs_lf_oracle_name(f->oracle), f->rule,
             f->oracle == MQS_LF_OR_CRASH ? "none" : mqs_type_name(f->ptype));
    size_t o = 0;
    for (size_t i = 0; raw[i] && o + 1 < cap; i++) {
        char ch = (char)tolower((unsigned char)raw[i]);
        out[o++] = isalnum((unsigned char)ch) || ch == '.' || ch == '-' ? ch : '-';
    }
    out[o] = '\0';
}

/* A JSON string of plain text (titles, notes): printable ASCII, the rest as '?'. */
static void json_text(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else if (ch == '$')
            fputs("$$", out);
        else
            fputc(ch >= 0x20 && ch < 0x7f ? ch : '?', out);
    }
    fputc('"', out);
}

static bool plain_byte(uint8_t b)
{
    return b >= 0x20 && b < 0x7f;
}

static size_t run_length(const uint8_t *s, size_t n, size_t i)
{
    size_t k = i;
    while (k < n && s[k] == s[i])
        k++;
    return k - i;
}

/* The body of a template string (no quotes): bytes with ${hex}, ${repeat}, $$. */
static void template_bytes(FILE *out, const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t run = run_length(s, n, i);
        if (run >= 16 && isalnum(s[i])) {
            fprintf(out, "${repeat:%zu:%c}", run, s[i]);
            i += run;
            continue;
        }
        if (!plain_byte(s[i])) {
            fputs("${hex:", out);
            for (size_t k = 0; i < n && !plain_byte(s[i]); i++, k++)
                fprintf(out, "%s%02x", k ? " " : "", s[i]);
            fputc('}', out);
            continue;
        }
        if (s[i] == '"' || s[i] == '\\')
            fprintf(out, "\\%c", s[i]);
        else if (s[i] == '$')
            fputs("$$", out);
        else
            fputc(s[i], out);
        i++;
    }
}

void mqs_lf_json_template(FILE *out, const uint8_t *s, size_t n, const mqs_lf_case *c,
                          const char *const *names, const mqs_lf_report_info *info)
{
    fputc('"', out);
    if (info && info->username && n == strlen(info->username) && !memcmp(s, info->username, n)) {
        fputs("${username}\"", out);
        return;
    }
    if (info && info->password && n == strlen(info->password) && !memcmp(s, info->password, n)) {
        fputs("${password}\"", out);
        return;
    }
    if (c && names && n >= MQS_LF_PREFIX_LEN && !memcmp(s, c->prefix, MQS_LF_PREFIX_LEN)) {
        fputs("${topic}", out);
        s += MQS_LF_PREFIX_LEN;
        n -= MQS_LF_PREFIX_LEN;
    } else if (c && names && n >= MQS_LF_CID_LEN) {
        for (unsigned k = 0; k < c->n_identities; k++)
            if (!memcmp(s, c->cid[k], MQS_LF_CID_LEN) && names[k]) {
                fprintf(out, "${cid:%s}", names[k]);
                s += MQS_LF_CID_LEN;
                n -= MQS_LF_CID_LEN;
                break;
            }
    }
    template_bytes(out, s, n);
    fputc('"', out);
}

/* ---- scenario ---- */

typedef struct writer {
    FILE *out;
    const mqs_lf_case *c;
    const bool *skip;
    const mqs_lf_result *res;
    const mqs_lf_finding *f;
    const mqs_lf_report_info *info;
    const char *names[MQS_LF_MAX_SLOTS]; /* client name of each identity */
    bool emitted[MQS_LF_MAX_STEPS];
    bool closed[MQS_LF_MAX_CONNS];
    int vars;                            /* ${var:vN} counter */
    int var_of[MQS_LF_MAX_CONNS];        /* the last saved packet id per connection, -1 */
    size_t n_steps;
    bool has_hex;
} writer;

static const char *const k_client_names[] = {"a", "b", "c"};

static const char *conn_name(const writer *w, int ci)
{
    return ci < 0 ? "w" : k_client_names[w->res->conns[ci].slot];
}

static void step_begin(writer *w, const char *op, const char *client)
{
    fprintf(w->out, "%s\n    {\"op\": \"%s\"", w->n_steps++ ? "," : "", op);
    if (client)
        fprintf(w->out, ", \"client\": \"%s\"", client);
}

static void str_field(writer *w, const char *key, mqs_str s)
{
    fprintf(w->out, ", \"%s\": ", key);
    mqs_lf_json_template(w->out, s.ptr, s.len, w->c, w->names, w->info);
}

static void connect_fields(writer *w, const mqs_lf_step *s)
{
    const mqs_connect *k = &s->pkt.connect;
    str_field(w, "client_id", k->client_id);
    fprintf(w->out, ", \"clean_session\": %s, \"keepalive\": %u", k->clean_session ? "true" : "false",
            k->keepalive);
    if (k->will_flag) {
        fputs(", \"will\": {\"topic\": ", w->out);
        mqs_lf_json_template(w->out, k->will_topic.ptr, k->will_topic.len, w->c, w->names, w->info);
        fputs(", \"payload\": ", w->out);
        mqs_lf_json_template(w->out, k->will_payload.ptr, k->will_payload.len, w->c, w->names, w->info);
        fprintf(w->out, ", \"qos\": %u, \"retain\": %s}", k->will_qos, k->will_retain ? "true" : "false");
    }
    if (k->has_username)
        str_field(w, "username", k->username);
    if (k->has_password)
        str_field(w, "password", k->password);
    if (k->protocol_name.ptr)
        str_field(w, "protocol_name", k->protocol_name);
    if (k->protocol_level)
        fprintf(w->out, ", \"protocol_level\": %u", k->protocol_level);
    if (s->raw.connect_flags >= 0)
        fprintf(w->out, ", \"connect_flags\": %d", s->raw.connect_flags);
}

static void list_fields(writer *w, const mqs_lf_step *s)
{
    const mqs_packet *p = &s->pkt;
    fprintf(w->out, ", \"packet_id\": %u, \"%s\": [", p->packet_id,
            p->type == MQS_SUBSCRIBE ? "subscriptions" : "filters");
    for (size_t i = 0; i < p->n_items; i++) {
        fputs(i ? ", " : "", w->out);
        if (p->type == MQS_SUBSCRIBE) {
            fputs("{\"filter\": ", w->out);
            mqs_lf_json_template(w->out, p->items[i].filter.ptr, p->items[i].filter.len, w->c, w->names, w->info);
            fprintf(w->out, ", \"qos\": %u}", p->items[i].qos);
        } else {
            mqs_lf_json_template(w->out, p->items[i].filter.ptr, p->items[i].filter.len, w->c, w->names, w->info);
        }
    }
    fputc(']', w->out);
}

static void packet_fields(writer *w, const mqs_lf_step *s)
{
    const mqs_packet *p = &s->pkt;
    fprintf(w->out, ", \"packet\": {\"type\": \"%s\"", mqs_type_name(p->type));
    switch (p->type) {
    case MQS_CONNECT: connect_fields(w, s); break;
    case MQS_CONNACK:
        fprintf(w->out, ", \"session_present\": %s, \"return_code\": %u",
                p->connack.session_present ? "true" : "false", p->connack.return_code);
        break;
    case MQS_PUBLISH:
        fprintf(w->out, ", \"qos\": %u, \"dup\": %s, \"retain\": %s", p->qos, p->dup ? "true" : "false",
                p->retain ? "true" : "false");
        str_field(w, "topic", p->publish.topic);
        str_field(w, "payload", p->publish.payload);
        if (p->qos > 0)
            fprintf(w->out, ", \"packet_id\": %u", p->packet_id ? p->packet_id : p->publish.packet_id);
        break;
    case MQS_SUBSCRIBE:
    case MQS_UNSUBSCRIBE: list_fields(w, s); break;
    case MQS_SUBACK:
        fprintf(w->out, ", \"packet_id\": %u, \"return_codes\": [", p->packet_id);
        for (size_t i = 0; i < p->n_items; i++)
            fprintf(w->out, "%s%u", i ? ", " : "", p->items[i].qos);
        fputc(']', w->out);
        break;
    case MQS_PINGREQ:
    case MQS_PINGRESP:
    case MQS_DISCONNECT: break;
    default: fprintf(w->out, ", \"packet_id\": %u", p->packet_id); break;
    }
    fputc('}', w->out);
    const mqs_encode_raw *r = &s->raw;
    if (r->fixed_flags < 0 && r->type < 0 && r->remaining_length < 0 && r->rl_bytes == 0)
        return;
    fputs(", \"raw\": {", w->out);
    const char *sep = "";
    if (r->fixed_flags >= 0)
        fprintf(w->out, "%s\"fixed_flags\": %d", sep, r->fixed_flags), sep = ", ";
    if (r->type >= 0)
        fprintf(w->out, "%s\"type\": %d", sep, r->type), sep = ", ";
    if (r->remaining_length >= 0)
        fprintf(w->out, "%s\"remaining_length\": %lld", sep, r->remaining_length), sep = ", ";
    if (r->rl_bytes)
        fprintf(w->out, "%s\"rl_bytes\": %d", sep, r->rl_bytes);
    fputc('}', w->out);
}

/* Steps that cannot be written as a structured packet go out as exact hex. */
static bool needs_hex(const mqs_lf_step *s)
{
    const mqs_packet *p = &s->pkt;
    return s->edit.kind != MQS_LF_EDIT_NONE ||
           ((p->type == MQS_SUBSCRIBE || p->type == MQS_UNSUBSCRIBE || p->type == MQS_SUBACK) &&
            p->n_items == 0) ||
           (p->type == MQS_CONNECT && p->connect.protocol_level == 0 && p->connect.protocol_name.ptr);
}

static void send_step(writer *w, size_t i, const char *client)
{
    const mqs_lf_step *s = &w->c->steps[i];
    step_begin(w, "send", client);
    if (needs_hex(s)) {
        fputs(", \"hex\": \"", w->out);
        for (size_t k = 0; k < s->len; k++)
            fprintf(w->out, "%s%02x", k ? " " : "", s->bytes[k]);
        fputc('"', w->out);
        w->has_hex = true;
    } else {
        packet_fields(w, s);
    }
    if (s->n_split) {
        size_t left = s->len;
        fputs(", \"split\": [", w->out);
        for (unsigned k = 0; k < s->n_split && left > 0; k++) {
            size_t n = s->split[k] < left ? s->split[k] : left;
            fprintf(w->out, "%s%zu", k ? ", " : "", n);
            left -= n;
        }
        if (left)
            fprintf(w->out, ", %zu", left);
        fputc(']', w->out);
    }
    if (s->mutation[0]) {
        fputs(", \"note\": ", w->out);
        char text[128];
        snprintf(text, sizeof text, "fuzz step %zu: %s", i, s->mutation);
        json_text(w->out, text);
    }
    fputc('}', w->out);
}

/* The steps written together with step i (coalesced), each as its own send. */
static void send_chain(writer *w, size_t i, const char *client)
{
    const mqs_lf_case *c = w->c;
    for (;;) {
        if (!w->emitted[i]) {
            w->emitted[i] = true;
            send_step(w, i, client);
        }
        const mqs_lf_step *s = &c->steps[i];
        size_t next = i + 1;
        while (next < c->n_steps && w->skip && w->skip[next])
            next++;
        if (!s->coalesce || s->n_split || next >= c->n_steps || c->steps[next].kind != MQS_LF_SEND ||
            c->steps[next].slot != s->slot || c->steps[next].n_split)
            return;
        i = next;
    }
}

static bool decode_any(const mqs_lf_result *res, int ci, const uint8_t *b, size_t n, mqs_packet *p,
                       mqs_item *items, size_t cap)
{
    memset(p, 0, sizeof *p);
    p->items = items;
    p->n_items = cap;
    mqs_decode_opts o = {ci >= 0 ? res->conns[ci].version : MQS_V311, MQS_DIR_ANY,
                         MQS_LENIENT_NON_MINIMAL_RL};
    return mqs_decode(b, n, &o, p, NULL) == MQS_OK;
}

/* The match for a packet the broker sent (enough to consume the right one). */
static void expect_match(writer *w, const mqs_packet *p)
{
    fprintf(w->out, "{\"type\": \"%s\"", mqs_type_name(p->type));
    switch (p->type) {
    case MQS_CONNACK: fprintf(w->out, ", \"return_code\": %u", p->connack.return_code); break;
    case MQS_PUBLISH:
        fputs(", \"topic\": ", w->out);
        mqs_lf_json_template(w->out, p->publish.topic.ptr, p->publish.topic.len, w->c, w->names, w->info);
        break;
    case MQS_PUBACK:
    case MQS_PUBREC:
    case MQS_PUBCOMP:
    case MQS_SUBACK:
    case MQS_UNSUBACK: fprintf(w->out, ", \"packet_id\": %u", p->packet_id); break;
    default: break;
    }
    fputc('}', w->out);
}

/* The next event on the same connection is an automatic ack of this one. */
static bool acked_next(const writer *w, size_t e)
{
    const mqs_lf_event *ev = w->res->events;
    return e + 1 < w->res->n_events && ev[e + 1].kind == MQS_LF_EV_SENT && ev[e + 1].step < 0 &&
           ev[e + 1].conn == ev[e].conn;
}

static void expect_recv(writer *w, size_t e)
{
    const mqs_lf_event *ev = &w->res->events[e];
    mqs_item items[MQS_LF_VIEW_ITEMS];
    mqs_packet p;
    if (ev->status != MQS_OK || !decode_any(w->res, ev->conn, w->res->log + ev->off, ev->len, &p, items,
                                            MQS_LF_VIEW_ITEMS))
        return;
    step_begin(w, "expect", conn_name(w, ev->conn));
    fputs(", \"packet\": ", w->out);
    expect_match(w, &p);
    if (ev->conn >= 0 && acked_next(w, e)) {
        w->var_of[ev->conn] = ++w->vars;
        fprintf(w->out, ", \"save\": {\"packet_id\": \"v%d\"}", w->vars);
    }
    fputc('}', w->out);
}

static void auto_ack(writer *w, const mqs_lf_event *ev)
{
    const uint8_t *b = w->res->log + ev->off;
    if (ev->len == 2 && b[0] == 0xc0) { /* the PINGREQ sent after a violation */
        step_begin(w, "send", conn_name(w, ev->conn));
        fputs(", \"packet\": {\"type\": \"PINGREQ\"}, \"note\": \"a broker that closed never reads this\"}", w->out);
        return;
    }
    if (ev->len < 4)
        return;
    step_begin(w, "send", conn_name(w, ev->conn));
    fprintf(w->out, ", \"packet\": {\"type\": \"%s\", \"packet_id\": ", mqs_type_name(b[0] >> 4));
    if (w->var_of[ev->conn] > 0)
        fprintf(w->out, "\"${var:v%d}\"}}", w->var_of[ev->conn]);
    else
        fprintf(w->out, "%u}}", (unsigned)(b[2] << 8 | b[3]));
}

static void replay_one(writer *w, size_t e, const mqs_lf_event *ev, const char *name, mqs_str watch_topic);

/* After a protocol violation a conforming broker closes: a PINGREQ that it never
 * reads, then the close (answers due before the violation may come first). */
static void expect_close_after_violation(writer *w, int ci)
{
    const char *name = conn_name(w, ci);
    w->closed[ci] = true;
    step_begin(w, "send", name);
    fputs(", \"packet\": {\"type\": \"PINGREQ\"}, \"note\": \"after the protocol violation: a broker that "
          "closes never answers this\"}", w->out);
    step_begin(w, "expect_closed", name);
    fputs(", \"allow\": [", w->out);
    const char *sep = "";
    for (int t = MQS_CONNECT; t <= MQS_DISCONNECT; t++)
        if (w->res->conns[ci].allow_mask & (1u << t)) {
            fprintf(w->out, "%s\"%s\"", sep, mqs_type_name(t));
            sep = ", ";
        }
    fputs("]}", w->out);
}

/* A crash reproducer sends every byte the last execution sent, also after a protocol
 * violation (a broker that does not close reads them, and they may be what kills
 * it), and expects nothing that depends on a broker that closes: no close, no packet
 * after the violation. */
static void replay_for_crash(writer *w, size_t e, mqs_str watch_topic)
{
    const mqs_lf_event *ev = &w->res->events[e];
    long v = ev->conn >= 0 ? w->res->conns[ev->conn].viol_event : -1;
    if (ev->kind == MQS_LF_EV_PEER_CLOSED)
        return;
    if (ev->kind == MQS_LF_EV_RECV && v >= 0 && (long)e > v) {
        w->var_of[ev->conn] = -1; /* its ack goes out with the id that was sent */
        return;
    }
    replay_one(w, e, ev, conn_name(w, ev->conn), watch_topic);
}

static void replay_event(writer *w, size_t e, mqs_str watch_topic)
{
    const mqs_lf_event *ev = &w->res->events[e];
    const char *name = conn_name(w, ev->conn);
    if (w->f->oracle == MQS_LF_OR_CRASH) {
        replay_for_crash(w, e, watch_topic);
        return;
    }
    if (ev->conn >= 0) {
        long v = w->res->conns[ev->conn].viol_event;
        if (v >= 0 && (long)e > v)
            return; /* the broker should have closed: what followed is not replayed */
        if (v >= 0 && (long)e == v && !w->closed[ev->conn]) {
            replay_one(w, e, ev, name, watch_topic);
            expect_close_after_violation(w, ev->conn);
            return;
        }
    }
    replay_one(w, e, ev, name, watch_topic);
}

static void replay_one(writer *w, size_t e, const mqs_lf_event *ev, const char *name, mqs_str watch_topic)
{
    switch (ev->kind) {
    case MQS_LF_EV_OPEN:
        step_begin(w, "open", name);
        fputc('}', w->out);
        break;
    case MQS_LF_EV_SENT:
        if (ev->step >= 0)
            send_chain(w, (size_t)ev->step, name);
        else
            auto_ack(w, ev);
        break;
    case MQS_LF_EV_RECV:
        if (ev->conn >= 0) {
            expect_recv(w, e);
        } else if (watch_topic.ptr) {
            mqs_packet p;
            if (decode_any(w->res, -1, w->res->log + ev->off, ev->len, &p, NULL, 0) &&
                p.type == MQS_PUBLISH && p.publish.topic.len == watch_topic.len &&
                !memcmp(p.publish.topic.ptr, watch_topic.ptr, watch_topic.len))
                expect_recv(w, e);
        }
        break;
    case MQS_LF_EV_PEER_CLOSED:
        if (ev->conn >= 0 && !w->closed[ev->conn]) {
            w->closed[ev->conn] = true;
            step_begin(w, "expect_closed", name);
            fputc('}', w->out);
        }
        break;
    case MQS_LF_EV_CLOSED:
        if (ev->conn >= 0 && !w->closed[ev->conn]) {
            w->closed[ev->conn] = true;
            step_begin(w, "close", name);
            fprintf(w->out, ", \"abrupt\": %s}", ev->len == 3 && w->res->log[ev->off] == 'R' ? "true" : "false");
        }
        break;
    default: break;
    }
}

/* The SUBACK a conforming broker could send for the SUBSCRIBE of step i: the requested
 * QoS for each valid filter, 0x80 for each invalid one. */
static void suback_codes(writer *w, int step)
{
    fputs("[", w->out);
    if (step >= 0 && (size_t)step < w->c->n_steps) {
        const mqs_packet *p = &w->c->steps[step].pkt;
        for (size_t i = 0; i < p->n_items; i++) {
            bool ok = mqs_topic_filter_check(p->items[i].filter.ptr, p->items[i].filter.len,
                                             w->c->version, NULL) == MQS_OK;
            fprintf(w->out, "%s%u", i ? ", " : "", ok ? p->items[i].qos : 0x80u);
        }
    }
    fputs("]", w->out);
}

static void expect_instead_bad_reply(writer *w, const char *name)
{
    const mqs_lf_finding *f = w->f;
    switch (f->detail) {
    case MQS_LF_BR_BEFORE_CONNACK:
        step_begin(w, "expect", name);
        fputs(", \"packet\": {\"type\": \"CONNACK\"}}", w->out);
        break;
    case MQS_LF_BR_ACCEPTED:
        step_begin(w, "expect", name);
        fputs(", \"one_of\": [{\"closed\": true, \"label\": \"closed\"}", w->out);
        for (int rc = 1; rc <= 5; rc++)
            fprintf(w->out, ", {\"packet\": {\"type\": \"CONNACK\", \"return_code\": %d}, \"label\": \"refused %d\"}", rc, rc);
        fputs("]}", w->out);
        break;
    case MQS_LF_BR_SUBACK:
        step_begin(w, "expect", name);
        fprintf(w->out, ", \"packet\": {\"type\": \"SUBACK\", \"packet_id\": %u, \"return_codes\": ", f->want_id);
        suback_codes(w, f->step);
        fputs("}}", w->out);
        break;
    case MQS_LF_BR_QOS: /* delivered at an allowed QoS, or not (yet) delivered */
        step_begin(w, "expect", name);
        fputs(", \"one_of\": [", w->out);
        for (unsigned q = 0; q <= f->want_id && q <= 2; q++)
            fprintf(w->out, "{\"packet\": {\"type\": \"PUBLISH\", \"qos\": %u}, \"label\": \"QoS %u\"}, ", q, q);
        fputs("{\"none\": true, \"ms\": 2000, \"label\": \"not delivered\"}]}", w->out);
        break;
    default:
        if (f->want_type) { /* the answer that was due instead */
            step_begin(w, "expect", name);
            fprintf(w->out, ", \"packet\": {\"type\": \"%s\"", mqs_type_name(f->want_type));
            if (f->want_type != MQS_CONNACK && f->want_type != MQS_PINGRESP)
                fprintf(w->out, ", \"packet_id\": %u", f->want_id);
            fputs("}}", w->out);
        } else {
            step_begin(w, "expect_none", name);
            fputs(", \"ms\": 1500}", w->out);
        }
        break;
    }
}

/* What a conforming broker does at the point where the oracle fired. */
static void expect_instead(writer *w)
{
    const mqs_lf_finding *f = w->f;
    long trig = f->trigger;
    int ci = trig >= 0 ? w->res->events[trig].conn : f->conn;
    const char *name = conn_name(w, ci);
    if (ci >= 0 && w->closed[ci] && w->res->conns[ci].viol_event >= 0 && f->oracle != MQS_LF_OR_CRASH)
        return; /* the close after the violation, expected above, is what fails */
    switch (f->oracle) {
    case MQS_LF_OR_MALFORMED:
        step_begin(w, ci < 0 ? "expect_none" : "expect", name);
        if (ci < 0) /* a message the watcher got: a good broker sends it well-formed or not at all */
            fputs(", \"ms\": 2000}", w->out);
        else if (f->ptype >= MQS_CONNECT && f->ptype <= MQS_DISCONNECT)
            fprintf(w->out, ", \"packet\": {\"type\": \"%s\"}, \"note\": \"the broker's packet is malformed\"}",
                    mqs_type_name(f->ptype));
        else
            fputs(", \"none\": true, \"ms\": 1500}", w->out);
        break;
    case MQS_LF_OR_HANG:
        step_begin(w, "expect", name);
        fprintf(w->out, ", \"packet\": {\"type\": \"%s\"", mqs_type_name(f->want_type));
        if (f->want_type != MQS_CONNACK && f->want_type != MQS_PINGRESP)
            fprintf(w->out, ", \"packet_id\": %u", f->want_id);
        fputs("}}", w->out);
        break;
    case MQS_LF_OR_NO_CLOSE:
    case MQS_LF_OR_TAKEOVER:
        step_begin(w, "expect_closed", name);
        fputc('}', w->out);
        break;
    case MQS_LF_OR_BAD_REPLY: expect_instead_bad_reply(w, name); break;
    case MQS_LF_OR_SESSION:
        step_begin(w, "expect", name);
        fputs(", \"packet\": {\"type\": \"CONNACK\", \"session_present\": false}}", w->out);
        break;
    case MQS_LF_OR_CRASH:
        step_begin(w, "wait", NULL);
        fputs(", \"ms\": 1000, \"note\": \"time to read what was sent\"}", w->out);
        step_begin(w, "connect", "p");
        fputs(", \"must_accept\": true, \"note\": \"a fresh client must still be able to connect\"}", w->out);
        step_begin(w, "ping", "p");
        fputc('}', w->out);
        break;
    default: /* effect, qos2-dup: the message must not arrive */
        step_begin(w, "expect_none", name);
        fputs(", \"ms\": 2000}", w->out);
        break;
    }
}

/* A filter for the topic of a PUBLISH the strict decoder refuses (bad UTF-8, U+0000
 * in it): the topic read leniently, each level that is not plain printable ASCII
 * (or holds a wildcard) replaced by '+'. So a reproducer's watcher sees that message
 * and not the case's other traffic, e.g. a will that a good broker publishes when it
 * closes the connection. @return the length written to out, 0 when the topic cannot
 * be read or does not start with the case's prefix. */
static size_t filter_for_bad_topic(const mqs_lf_case *c, const uint8_t *b, size_t n, char *out, size_t cap)
{
    size_t i = 1, tl = 0;
    while (i < n && i < 5 && (b[i] & 0x80))
        i++;
    if (i + 3 > n)
        return 0;
    tl = (size_t)(b[i + 1] << 8 | b[i + 2]);
    const uint8_t *t = b + i + 3;
    if (tl > n - (i + 3) || tl < MQS_LF_PREFIX_LEN || memcmp(t, c->prefix, MQS_LF_PREFIX_LEN) != 0)
        return 0;
    size_t o = 0;
    for (size_t k = 0; k < tl;) {
        size_t end = k;
        bool plain = true;
        while (end < tl && t[end] != '/') {
            plain = plain && t[end] >= 0x20 && t[end] < 0x7f && t[end] != '+' && t[end] != '#';
            end++;
        }
        const uint8_t *lvl = plain ? t + k : (const uint8_t *)"+";
        size_t len = plain ? end - k : 1;
        if (o + len + 2 > cap)
            return 0;
        memcpy(out + o, lvl, len);
        o += len;
        if (end < tl)
            out[o++] = '/';
        k = end + 1;
        if (end + 1 == tl) /* a trailing '/': an empty last level */
            break;
    }
    return o;
}

/* The topic the watcher of a reproducer subscribes to: that of the message that
 * fired, or a filter for it when it cannot be decoded (filter_for_bad_topic), or
 * every topic of the case. */
static mqs_str watch_topic_of(const writer *w, char *all, size_t cap)
{
    mqs_str none = {NULL, 0};
    long t = w->f->trigger;
    if (t < 0 || w->res->events[t].conn >= 0)
        return none;
    const mqs_lf_event *ev = &w->res->events[t];
    mqs_packet p;
    bool qos = w->f->oracle == MQS_LF_OR_BAD_REPLY && w->f->detail == MQS_LF_BR_QOS; /* as subscribed: a wildcard */
    if (!qos && decode_any(w->res, -1, w->res->log + ev->off, ev->len, &p, NULL, 0) && p.type == MQS_PUBLISH)
        return p.publish.topic;
    size_t n = qos ? 0 : filter_for_bad_topic(w->c, w->res->log + ev->off, ev->len, all, cap);
    if (n) {
        mqs_str bad = {(const uint8_t *)all, n};
        return bad;
    }
    snprintf(all, cap, "%s#", w->c->prefix);
    mqs_str any = {(const uint8_t *)all, strlen(all)};
    return any;
}

static void watcher_setup(writer *w, mqs_str topic)
{
    step_begin(w, "connect", "w");
    fputc('}', w->out);
    step_begin(w, "send", "w");
    fputs(", \"packet\": {\"type\": \"SUBSCRIBE\", \"packet_id\": 1, \"subscriptions\": [{\"filter\": ", w->out);
    mqs_lf_json_template(w->out, topic.ptr, topic.len, w->c, w->names, w->info);
    fputs(", \"qos\": 1}]}}", w->out); /* as the fuzzer's watcher */
    step_begin(w, "expect", "w");
    fputs(", \"packet\": {\"type\": \"SUBACK\", \"packet_id\": 1}}", w->out);
}

static void header(writer *w, bool watcher)
{
    const mqs_lf_finding *f = w->f;
    FILE *out = w->out;
    char stem[128], text[512];
    mqs_lf_finding_stem(f, stem, sizeof stem);
    fprintf(out, "{\n  \"id\": \"fuzz.%s\",\n  \"title\": ", stem);
    snprintf(text, sizeof text, "fuzz finding (%s): %.200s", mqs_lf_oracle_name(f->oracle), f->text);
    json_text(out, text);
    fputs(",\n  \"area\": \"fuzz\",\n  \"statements\": [", out);
    json_text(out, f->rule);
    fprintf(out, "],\n  \"protocols\": [\"%s\"],\n  \"level\": \"MUST\",\n",
            w->c->version == MQS_V31 ? "3.1" : "3.1.1");
    if (w->info->username)
        fputs("  \"requires\": [\"credentials\"],\n", out);
    fputs("  \"timeout_ms\": 60000,\n  \"allow_extra\": true,\n  \"clients\": [", out);
    for (unsigned s = 0; s < w->c->n_slots; s++)
        fprintf(out, "%s\"%s\"", s ? ", " : "", k_client_names[s]);
    if (watcher)
        fputs(", \"w\"", out);
    if (f->oracle == MQS_LF_OR_CRASH)
        fputs(", \"p\"", out);
    size_t kept = 0;
    for (size_t i = 0; i < w->c->n_steps; i++)
        kept += !(w->skip && w->skip[i]);
    snprintf(text, sizeof text,
             "Found by mqttspec fuzz against %s: seed %llu, case %llu (%zu of its %zu steps kept by the "
             "minimiser). Oracle %s: %s. Executions with this signature: %llu.",
             w->info->target ? w->info->target : "?", (unsigned long long)w->c->seed,
             (unsigned long long)w->c->number, kept, w->c->n_steps, mqs_lf_oracle_name(f->oracle),
             f->text, (unsigned long long)w->info->folded);
    fputs("],\n  \"notes\": ", out);
    json_text(out, text);
    fputs(",\n  \"steps\": [", out);
}

int mqs_lf_write_scenario(FILE *out, const mqs_lf_case *c, const bool *skip, const mqs_lf_result *res,
                          const mqs_lf_finding *f, const mqs_lf_report_info *info)
{
    writer w;
    memset(&w, 0, sizeof w);
    w.out = out;
    w.c = c;
    w.skip = skip;
    w.res = res;
    w.f = f;
    w.info = info;
    for (int i = 0; i < MQS_LF_MAX_CONNS; i++)
        w.var_of[i] = -1;
    for (unsigned s = c->n_slots; s-- > 0;)
        w.names[c->slots[s].identity] = k_client_names[s]; /* the first slot of each id */
    char all[1024];
    mqs_str watch = watch_topic_of(&w, all, sizeof all);
    header(&w, watch.ptr != NULL);
    if (watch.ptr)
        watcher_setup(&w, watch);
    size_t cut = f->oracle == MQS_LF_OR_CRASH ? res->n_events
                 : f->trigger >= 0          ? (size_t)f->trigger
                                            : f->event;
    for (size_t e = 0; e < cut && e < res->n_events; e++)
        replay_event(&w, e, watch);
    expect_instead(&w);
    fputs("\n  ]\n}\n", out);
    return ferror(out) ? -1 : 0;
}

/* ---- trace ---- */

/* Overwrites every occurrence of the run's password in b[0..n) with '*' (same length:
 * the frame still decodes), so that traces can be kept and shared. */
static void redact_password(uint8_t *b, size_t n, const mqs_lf_report_info *info)
{
    size_t pl = info && info->password ? strlen(info->password) : 0;
    for (size_t i = 0; pl && i + pl <= n; i++)
        if (!memcmp(b + i, info->password, pl))
            memset(b + i, '*', pl);
}

static void trace_frame(FILE *out, const mqs_lf_result *res, const mqs_lf_event *ev,
                        const mqs_lf_report_info *info)
{
    const uint8_t *b = res->log + ev->off;
    uint8_t *copy = NULL;
    if (info && info->password && info->password[0]) {
        copy = malloc(ev->len ? ev->len : 1);
        if (!copy) {
            fputs("(not shown: out of memory)\n", out);
            return;
        }
        memcpy(copy, b, ev->len);
        redact_password(copy, ev->len, info);
        b = copy;
    }
    char hex[3 * 48 + 8], text[512];
    mqs_format_hex(b, ev->len < 48 ? ev->len : 48, ' ', hex, sizeof hex);
    mqs_item items[MQS_LF_VIEW_ITEMS];
    mqs_packet p;
    memset(&p, 0, sizeof p);
    p.items = items;
    p.n_items = MQS_LF_VIEW_ITEMS;
    mqs_decode_opts o = {ev->conn >= 0 ? res->conns[ev->conn].version : MQS_V311,
                         ev->kind == MQS_LF_EV_SENT ? MQS_DIR_TO_SERVER : MQS_DIR_TO_CLIENT, 0};
    mqs_diag d = {0, 0, NULL};
    int st = mqs_decode(b, ev->len, &o, &p, &d);
    if (st == MQS_OK)
        mqs_format_packet(&p, text, sizeof text);
    else if (st == MQS_NEED_MORE || st == MQS_E_BAD_PARAM)
        snprintf(text, sizeof text, "(part of a packet, or several packets)");
    else
        snprintf(text, sizeof text, "%s (%s, byte %zu)", mqs_status_name(st), mqs_status_str(st), d.offset);
    fprintf(out, "%s%s\n        %s\n", hex, ev->len > 48 ? " ..." : "", text);
    free(copy);
}

int mqs_lf_write_trace(FILE *out, const mqs_lf_case *c, const bool *skip, const mqs_lf_result *res,
                       const mqs_lf_finding *f, const mqs_lf_report_info *info)
{
    fprintf(out, "mqttspec fuzz finding\n\ntarget:    %s\noracle:    %s\nstatement: %s\npacket:    %s\nwhat:      %s\n",
            info->target ? info->target : "?", mqs_lf_oracle_name(f->oracle), f->rule,
            f->ptype ? mqs_type_name(f->ptype) : "-", f->text);
    fprintf(out, "seed:      %llu\ncase:      %llu (again: mqttspec fuzz --seed %llu --case %llu ...)\n",
            (unsigned long long)c->seed, (unsigned long long)c->number, (unsigned long long)c->seed,
            (unsigned long long)c->number);
    fprintf(out, "folded:    %llu executions with this signature\n\n", (unsigned long long)info->folded);
    fprintf(out, "case: MQTT %s, %u client(s):", c->version == MQS_V31 ? "3.1" : "3.1.1", c->n_slots);
    for (unsigned s = 0; s < c->n_slots; s++)
        fprintf(out, " %c (client id %s%s)", 'a' + s, c->cid[c->slots[s].identity],
                c->slots[s].auto_ack ? ", acks what it receives" : "");
    fputs("\nsteps (- = dropped by the minimiser):\n", out);
    for (size_t i = 0; i < c->n_steps; i++) {
        const mqs_lf_step *s = &c->steps[i];
        fprintf(out, " %c [%2zu] %c %-12s", skip && skip[i] ? '-' : ' ', i, 'a' + s->slot, mqs_lf_step_name(s));
        if (s->kind == MQS_LF_SEND)
            fprintf(out, " %zu bytes%s%s%s%s", s->len, s->coalesce ? ", coalesced" : "",
                    s->n_split ? ", split" : "", s->mutation[0] ? ", mutation: " : "", s->mutation);
        fputc('\n', out);
    }
    fputs("\ntrace (the last execution):\n", out);
    for (size_t e = 0; e < res->n_events; e++) {
        const mqs_lf_event *ev = &res->events[e];
        char who = ev->conn < 0 ? 'w' : (char)('a' + res->conns[ev->conn].slot);
        fprintf(out, "  +%4lldms %c ", (long long)ev->t_ms, who);
        switch (ev->kind) {
        case MQS_LF_EV_OPEN: fputs("connection opened\n", out); break;
        case MQS_LF_EV_SENT: fputs("> ", out), trace_frame(out, res, ev, info); break;
        case MQS_LF_EV_RECV: fputs("< ", out), trace_frame(out, res, ev, info); break;
        case MQS_LF_EV_PEER_CLOSED: fprintf(out, "closed by the broker (%.*s)\n", (int)ev->len, res->log + ev->off); break;
        case MQS_LF_EV_CLOSED: fprintf(out, "closed by mqttspec (%.*s)\n", (int)ev->len, res->log + ev->off); break;
        case MQS_LF_EV_SKIPPED: fprintf(out, "step %d not played (%.*s)\n", ev->step, (int)ev->len, res->log + ev->off); break;
        case MQS_LF_EV_SYNC: fputs("waited for the answers due\n", out); break;
        default: fprintf(out, "%.*s\n", (int)ev->len, res->log + ev->off); break;
        }
    }
    if (res->log_truncated)
        fputs("  (trace truncated)\n", out);
    return ferror(out) ? -1 : 0;
}
