/* mqttspec live fuzzer: case generator and structure-aware mutator (case.h).
 *
 * Every random choice comes from one generator seeded by (seed, case number) and
 * never depends on name bytes, so a case has the same shape in every execution.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/buf.h"
#include "fuzz/live/case.h"
#include "fuzz/live/rng.h"
#include "fuzz/live/view.h"

#define STREAM_CAP (64u * 1024u)

/* Generator state for one case. */
typedef struct gen {
    mqs_lf_case *c;
    mqs_lf_rng r;
    const mqs_lf_gen_opts *o;
    bool open[MQS_LF_MAX_SLOTS];
    uint16_t next_id[MQS_LF_MAX_SLOTS];
    int last_qos2[MQS_LF_MAX_SLOTS];       /* step index of the slot's last QoS 2 PUBLISH, -1 */
    uint8_t *stream[MQS_LF_MAX_SLOTS];     /* bytes written on the slot's current connection */
    size_t stream_len[MQS_LF_MAX_SLOTS];
    mqs_lf_view view[MQS_LF_MAX_SLOTS];
    mqs_lf_frame *frame;                   /* scratch for vet() */
    uint8_t *scratch;                      /* MQS_LF_MAX_BYTES for encode_step() */
    bool failed;
} gen;

static const char *const k_topics[] = {"a", "b", "a/b", "c/d/e", "x", "a/b/c", "b/a"};
static const char *const k_filters[] = {"a", "b", "#", "+", "a/#", "+/b", "a/+", "c/+/e", "a/b", "x"};

/* ---- names ---- */

static void base36(uint64_t v, size_t width, char *out)
{
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    for (size_t i = width; i-- > 0;) {
        out[i] = digits[v % 36];
        v /= 36;
    }
    out[width] = '\0';
}

void mqs_lf_case_name(mqs_lf_case *c, const mqs_lf_names *names)
{
    char idx[5], who[3];
    base36(names->index, 4, idx);
    snprintf(c->root, sizeof c->root, "mqf/%.8s/", names->token);
    snprintf(c->prefix, sizeof c->prefix, "%s%s/", c->root, idx);
    for (unsigned i = 0; i < MQS_LF_MAX_SLOTS; i++) {
        base36(i, 2, who);
        snprintf(c->cid[i], sizeof c->cid[i], "mqf%.8s%s%s", names->token, idx, who);
    }
}

/* ---- arena ---- */

static uint8_t *alloc(gen *g, size_t n)
{
    mqs_lf_case *c = g->c;
    if (n > sizeof c->arena - c->arena_used) {
        g->failed = true;
        return NULL;
    }
    uint8_t *p = c->arena + c->arena_used;
    c->arena_used += n;
    return p;
}

static mqs_str str_of(gen *g, const void *a, size_t na, const void *b, size_t nb)
{
    mqs_str s = {NULL, 0};
    uint8_t *p = alloc(g, na + nb);
    if (!p)
        return s;
    if (na)
        memcpy(p, a, na);
    if (nb)
        memcpy(p + na, b, nb);
    s.ptr = p;
    s.len = na + nb;
    return s;
}

static mqs_str cstr(gen *g, const char *a, const char *b)
{
    return str_of(g, a, strlen(a), b, b ? strlen(b) : 0);
}

/* ---- packets ---- */

static mqs_lf_step *new_step(gen *g, mqs_lf_step_kind kind, unsigned slot)
{
    mqs_lf_case *c = g->c;
    if (c->n_steps == MQS_LF_MAX_STEPS)
        return NULL;
    mqs_lf_step *s = &c->steps[c->n_steps];
    memset(s, 0, sizeof *s);
    s->kind = (uint8_t)kind;
    s->slot = (uint8_t)slot;
    s->raw = (mqs_encode_raw)MQS_ENCODE_RAW_INIT;
    s->pkt.items = s->items;
    return s;
}

static uint16_t fresh_id(gen *g, unsigned slot)
{
    uint16_t id = g->next_id[slot]++;
    if (g->next_id[slot] == 0)
        g->next_id[slot] = 1;
    return id ? id : fresh_id(g, slot);
}

static mqs_str payload(gen *g, unsigned slot, size_t step)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789-_.:";
    char tag[24];
    size_t n = mqs_lf_rng_below(&g->r, 24);
    if (mqs_lf_rng_chance(&g->r, 4))
        n = 200 + mqs_lf_rng_below(&g->r, 4000);
    int t = snprintf(tag, sizeof tag, "p%u.%zu.", slot, step);
    uint8_t *p = alloc(g, (size_t)t + n);
    mqs_str s = {p, p ? (size_t)t + n : 0};
    if (!p)
        return s;
    memcpy(p, tag, (size_t)t);
    for (size_t i = 0; i < n; i++)
        p[t + (int)i] = (uint8_t)alphabet[mqs_lf_rng_below(&g->r, sizeof alphabet - 1)];
    return s;
}

static void make_connect(gen *g, mqs_lf_step *s, unsigned slot)
{
    static const uint16_t keepalives[] = {0, 10, 30, 60, 300};
    mqs_connect *k = &s->pkt.connect;
    s->pkt.type = MQS_CONNECT;
    k->clean_session = mqs_lf_rng_chance(&g->r, 70);
    k->keepalive = MQS_LF_PICK(&g->r, keepalives);
    k->client_id = cstr(g, g->c->cid[g->c->slots[slot].identity], NULL);
    if (mqs_lf_rng_chance(&g->r, 20)) {
        char suffix[8];
        snprintf(suffix, sizeof suffix, "w%u", slot);
        k->will_flag = true;
        k->will_topic = cstr(g, g->c->prefix, suffix);
        k->will_payload = payload(g, slot, g->c->n_steps);
        k->will_qos = (uint8_t)mqs_lf_rng_below(&g->r, 3);
        k->will_retain = mqs_lf_rng_chance(&g->r, 10);
    }
    if (g->o->username) {
        k->has_username = true;
        k->username = cstr(g, g->o->username, NULL);
    }
    if (g->o->password) {
        k->has_password = true;
        k->password = cstr(g, g->o->password, NULL);
    }
}

static void make_publish(gen *g, mqs_lf_step *s, unsigned slot)
{
    s->pkt.type = MQS_PUBLISH;
    s->pkt.qos = (uint8_t)mqs_lf_rng_below(&g->r, 3);
    s->pkt.retain = mqs_lf_rng_chance(&g->r, 10);
    s->pkt.publish.topic = cstr(g, g->c->prefix, MQS_LF_PICK(&g->r, k_topics));
    s->pkt.publish.payload = payload(g, slot, g->c->n_steps);
    if (s->pkt.qos > 0)
        s->pkt.packet_id = s->pkt.publish.packet_id = fresh_id(g, slot);
}

/* A QoS 2 PUBLISH sent again with its packet id (DUP set): the broker must not
 * deliver it a second time before the PUBREL [MQTT-4.3.3-2]. */
static bool make_retransmit(gen *g, mqs_lf_step *s, unsigned slot)
{
    if (g->last_qos2[slot] < 0)
        return false;
    const mqs_lf_step *orig = &g->c->steps[g->last_qos2[slot]];
    s->pkt = orig->pkt;
    s->pkt.items = s->items;
    s->pkt.dup = mqs_lf_rng_chance(&g->r, 80);
    return true;
}

static void make_list(gen *g, mqs_lf_step *s, unsigned slot, uint8_t type)
{
    size_t n = 1 + mqs_lf_rng_below(&g->r, 3);
    s->pkt.type = type;
    s->pkt.packet_id = fresh_id(g, slot);
    s->pkt.n_items = n;
    for (size_t i = 0; i < n; i++) {
        s->items[i].filter = cstr(g, g->c->prefix, MQS_LF_PICK(&g->r, k_filters));
        s->items[i].qos = type == MQS_SUBSCRIBE ? (uint8_t)mqs_lf_rng_below(&g->r, 3) : 0;
    }
}

static void make_ack(gen *g, mqs_lf_step *s, unsigned slot)
{
    static const uint8_t types[] = {MQS_PUBACK, MQS_PUBREC, MQS_PUBCOMP};
    if (g->last_qos2[slot] >= 0 && mqs_lf_rng_chance(&g->r, 75)) {
        s->pkt.type = MQS_PUBREL;
        s->pkt.packet_id = g->c->steps[g->last_qos2[slot]].pkt.packet_id;
        return;
    }
    s->pkt.type = mqs_lf_rng_chance(&g->r, 50) ? MQS_PUBREL : MQS_LF_PICK(&g->r, types);
    s->pkt.packet_id = (uint16_t)(1 + mqs_lf_rng_below(&g->r, 100));
}

/* A packet no client should send: a server-only type or a reserved one. */
static void make_odd(gen *g, mqs_lf_step *s)
{
    static const uint8_t types[] = {MQS_CONNACK, MQS_SUBACK, MQS_UNSUBACK, MQS_PINGRESP, 0, 15};
    uint8_t t = MQS_LF_PICK(&g->r, types);
    s->pkt.type = t == 0 || t == 15 ? MQS_PINGREQ : t;
    if (t == 0 || t == 15)
        s->raw.type = t;
    s->pkt.packet_id = 1;
    if (t == MQS_SUBACK) {
        s->pkt.n_items = 1;
        s->items[0].qos = 1;
    }
}

/* ---- mutations ---- */

/* Appends one description to the step's mutation text ("qos=3 rl_bytes=4"). */
static void note(mqs_lf_step *s, const char *fmt, ...)
{
    size_t used = strlen(s->mutation);
    if (used + 2 >= sizeof s->mutation)
        return;
    if (used)
        s->mutation[used++] = ' ';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->mutation + used, sizeof s->mutation - used, fmt, ap);
    va_end(ap);
}

/* The string fields a mutation may target: topic, filters, client id, will topic,
 * user name. Returns how many; fields[i] points at the mqs_str. */
static size_t string_fields(mqs_lf_step *s, mqs_str **fields, const char **names)
{
    size_t n = 0;
    mqs_packet *p = &s->pkt;
    if (p->type == MQS_PUBLISH) {
        names[n] = "topic";
        fields[n++] = &p->publish.topic;
    } else if (p->type == MQS_SUBSCRIBE || p->type == MQS_UNSUBSCRIBE) {
        for (size_t i = 0; i < p->n_items && n < 4; i++) {
            names[n] = "filter";
            fields[n++] = &s->items[i].filter;
        }
    } else if (p->type == MQS_CONNECT) {
        names[n] = "client_id";
        fields[n++] = &p->connect.client_id;
        if (p->connect.will_flag) {
            names[n] = "will_topic";
            fields[n++] = &p->connect.will_topic;
        }
        if (p->connect.has_username) {
            names[n] = "username";
            fields[n++] = &p->connect.username;
        }
    }
    return n;
}

typedef struct piece {
    const char *bytes;
    size_t len;
    const char *name;
} piece;

static const piece k_pieces[] = {
    {"\xff", 1, "byte ff"},
    {"\xc0\x80", 2, "overlong NUL"},
    {"\xed\xa0\x80", 3, "surrogate"},
    {"\xf4\x90\x80\x80", 4, "above U+10FFFF"},
    {"\xe2\x82", 2, "truncated sequence"},
    {"\x00", 1, "U+0000"},
    {"#", 1, "'#'"},
    {"+", 1, "'+'"},
    {"/", 1, "'/'"},
    {"//", 2, "'//'"},
    {"/#", 2, "'/#'"},
    {"a+", 2, "'a+'"},
    {"\xef\xbb\xbf", 3, "U+FEFF"},
    {"\x01", 1, "U+0001"},
    {"\xc2\x9f", 2, "U+009F"},
    {"\xf0\x9f\x98\x80", 4, "4-byte character"},
    {"$", 1, "'$'"},
    {" ", 1, "space"},
};

static void mutate_string(gen *g, mqs_lf_step *s)
{
    mqs_str *fields[8];
    const char *names[8];
    size_t n = string_fields(s, fields, names);
    if (n == 0)
        return;
    size_t which = mqs_lf_rng_below(&g->r, (uint32_t)n);
    mqs_str *f = fields[which];
    uint32_t how = mqs_lf_rng_below(&g->r, 10);
    if (how == 0) { /* empty */
        f->len = 0;
        note(s, "empty %s", names[which]);
        return;
    }
    if (how == 1) { /* long: stays inside the prefix */
        size_t extra = 100 + mqs_lf_rng_below(&g->r, 2000);
        uint8_t *p = alloc(g, f->len + extra);
        if (!p)
            return;
        memcpy(p, f->ptr, f->len);
        memset(p + f->len, 'l', extra);
        f->ptr = p;
        f->len += extra;
        note(s, "%s +%zu bytes", names[which], extra);
        return;
    }
    const piece *pc = &MQS_LF_PICK(&g->r, k_pieces);
    /* Insert after the name prefix (client ids and topics keep their namespace). */
    size_t keep = f->len >= MQS_LF_PREFIX_LEN ? MQS_LF_PREFIX_LEN : f->len;
    size_t at = keep + mqs_lf_rng_below(&g->r, (uint32_t)(f->len - keep + 1));
    uint8_t *p = alloc(g, f->len + pc->len);
    if (!p)
        return;
    memcpy(p, f->ptr, at);
    memcpy(p + at, pc->bytes, pc->len);
    memcpy(p + at + pc->len, f->ptr + at, f->len - at);
    f->ptr = p;
    f->len += pc->len;
    note(s, "%s in %s", pc->name, names[which]);
}

static void mutate_connect(gen *g, mqs_lf_step *s)
{
    static const uint8_t levels[] = {1, 2, 3, 4, 6, 7, 0x83, 0xff};
    static const char *const names[] = {"MQIsdp", "MQTT", "MQTX", "mqtt", ""};
    static const uint16_t keepalives[] = {0, 1, 65535};
    mqs_connect *k = &s->pkt.connect;
    switch (mqs_lf_rng_below(&g->r, 9)) {
    case 0:
        s->raw.connect_flags = (int)mqs_lf_rng_below(&g->r, 256);
        note(s, "connect_flags=0x%02x", s->raw.connect_flags);
        break;
    case 1:
        s->raw.connect_flags = (int)(mqs_lf_rng_below(&g->r, 256) | 1u);
        note(s, "connect_flags=0x%02x (reserved bit)", s->raw.connect_flags);
        break;
    case 2:
        k->protocol_level = MQS_LF_PICK(&g->r, levels);
        note(s, "protocol_level=%u", k->protocol_level);
        break;
    case 3:
        if (mqs_lf_rng_chance(&g->r, 30)) {
            const char *n = MQS_LF_PICK(&g->r, names);
            k->protocol_name = cstr(g, n, NULL);
            note(s, "protocol_name=\"%s\"", n);
        }
        break;
    case 4:
        k->client_id.len = 0;
        k->clean_session = mqs_lf_rng_chance(&g->r, 50);
        note(s, "empty client_id clean_session=%d", k->clean_session);
        break;
    case 5:
        k->keepalive = MQS_LF_PICK(&g->r, keepalives);
        note(s, "keepalive=%u", k->keepalive);
        break;
    case 6:
        k->has_password = true;
        k->has_username = mqs_lf_rng_chance(&g->r, 30);
        if (!k->password.ptr)
            k->password = cstr(g, "pw", NULL);
        if (k->has_username && !k->username.ptr)
            k->username = cstr(g, "user", NULL);
        note(s, "password flag (user name flag %d)", k->has_username);
        break;
    case 7:
        k->will_flag = true;
        k->will_qos = (uint8_t)mqs_lf_rng_below(&g->r, 4);
        if (!k->will_topic.ptr) {
            k->will_topic = cstr(g, g->c->prefix, "wm");
            k->will_payload = cstr(g, "will", NULL);
        }
        note(s, "will qos=%u", k->will_qos);
        break;
    default:
        mutate_string(g, s);
        break;
    }
}

static void mutate_length(gen *g, mqs_lf_step *s, size_t body)
{
    static const long long sizes[] = {0, 1, 2, 127, 128, 16383, 16384, 2097151, 268435455};
    uint32_t how = mqs_lf_rng_below(&g->r, 4);
    if (how == 0) {
        s->raw.remaining_length = MQS_LF_PICK(&g->r, sizes);
    } else if (how == 1) {
        long long d = (long long)mqs_lf_rng_below(&g->r, 7) - 3;
        s->raw.remaining_length = (long long)body + (d == 0 ? 1 : d);
        if (s->raw.remaining_length < 0)
            s->raw.remaining_length = 0;
    } else {
        int need = body < 128 ? 1 : body < 16384 ? 2 : body < 2097152 ? 3 : 4;
        s->raw.rl_bytes = need + 1 + (int)mqs_lf_rng_below(&g->r, (uint32_t)(5 - need));
        note(s, "rl_bytes=%d", s->raw.rl_bytes);
        return;
    }
    note(s, "remaining_length=%lld", s->raw.remaining_length);
}

static void mutate_list(gen *g, mqs_lf_step *s)
{
    static const uint8_t qoses[] = {3, 0x80, 0x81, 0xff, 0x04, 2};
    mqs_packet *p = &s->pkt;
    uint32_t how = mqs_lf_rng_below(&g->r, 4);
    if (how == 0) {
        p->n_items = 0;
        note(s, "empty list");
    } else if (how == 1 && p->type == MQS_SUBSCRIBE) {
        size_t i = mqs_lf_rng_below(&g->r, (uint32_t)p->n_items);
        s->items[i].qos = MQS_LF_PICK(&g->r, qoses);
        note(s, "requested qos byte 0x%02x", s->items[i].qos);
    } else if (how == 2 && p->n_items > 0) {
        size_t n = p->n_items;
        while (p->n_items < MQS_LF_MAX_ITEMS && p->n_items < 20)
            s->items[p->n_items] = s->items[p->n_items % n], p->n_items++;
        note(s, "%zu filters", p->n_items);
    } else {
        mutate_string(g, s);
    }
}

static void mutate_fields(gen *g, mqs_lf_step *s, size_t body)
{
    static const uint16_t ids[] = {0, 1, 65535, 0x8000};
    mqs_packet *p = &s->pkt;
    uint32_t how = mqs_lf_rng_below(&g->r, 10);
    if (how == 0) {
        s->raw.fixed_flags = (int)mqs_lf_rng_below(&g->r, 16);
        note(s, "fixed_flags=0x%x", s->raw.fixed_flags);
    } else if (how == 1 && mqs_lf_rng_chance(&g->r, 40)) {
        s->raw.type = (int)mqs_lf_rng_below(&g->r, 16);
        note(s, "type=%d", s->raw.type);
    } else if (how == 2) {
        mutate_length(g, s, body);
    } else if (p->type == MQS_CONNECT) {
        mutate_connect(g, s);
    } else if (p->type == MQS_PUBLISH && how <= 5) {
        if (how == 3) {
            p->qos = (uint8_t)mqs_lf_rng_below(&g->r, 4);
            note(s, "qos=%u", p->qos);
        } else if (how == 4) {
            p->dup = !p->dup;
            note(s, "dup=%d", p->dup);
        } else {
            p->retain = !p->retain;
            note(s, "retain=%d", p->retain);
        }
        if (p->qos > 0 && p->packet_id == 0)
            p->packet_id = p->publish.packet_id = fresh_id(g, s->slot);
    } else if (how == 6 && p->type != MQS_PINGREQ && p->type != MQS_DISCONNECT) {
        p->packet_id = p->publish.packet_id = MQS_LF_PICK(&g->r, ids);
        note(s, "packet_id=%u", p->packet_id);
    } else if (p->type == MQS_SUBSCRIBE || p->type == MQS_UNSUBSCRIBE) {
        mutate_list(g, s);
    } else {
        mutate_string(g, s);
    }
}

/* Draws a byte edit; its offset is a fraction of the encoded length (fixed later). */
static void draw_edit(gen *g, mqs_lf_edit *e, uint32_t *where)
{
    static const uint8_t values[] = {0x00, 0xff, 0x7f, 0x80, 0xc0, '#', '+', '/', 0x01, 0x02};
    e->kind = (uint8_t)(1 + mqs_lf_rng_below(&g->r, 6));
    e->len = 1 + mqs_lf_rng_below(&g->r, 4);
    for (int i = 0; i < 4; i++)
        e->val[i] = mqs_lf_rng_chance(&g->r, 50) ? MQS_LF_PICK(&g->r, values)
                                                  : (uint8_t)mqs_lf_rng_below(&g->r, 256);
    *where = (uint32_t)(mqs_lf_rng_next(&g->r) >> 32);
}

static void describe_edit(mqs_lf_step *s)
{
    const mqs_lf_edit *e = &s->edit;
    switch (e->kind) {
    case MQS_LF_EDIT_TRUNCATE: note(s, "truncated to %u bytes", e->off); break;
    case MQS_LF_EDIT_DELETE: note(s, "%u bytes deleted at %u", e->len, e->off); break;
    case MQS_LF_EDIT_DUP: note(s, "%u bytes duplicated at %u", e->len, e->off); break;
    case MQS_LF_EDIT_SET: note(s, "byte %u set to 0x%02x", e->off, e->val[0]); break;
    case MQS_LF_EDIT_INSERT: note(s, "%u bytes inserted at %u", e->len, e->off); break;
    case MQS_LF_EDIT_REPEAT: note(s, "packet repeated"); break;
    default: break;
    }
}

size_t mqs_lf_apply_edit(const mqs_lf_edit *e, const uint8_t *b, size_t len, uint8_t *out, size_t cap)
{
    size_t off = e->off < len ? e->off : len, n = e->len, outlen = 0;
    if (off + n > len && (e->kind == MQS_LF_EDIT_DELETE || e->kind == MQS_LF_EDIT_DUP))
        n = len - off;
    switch (e->kind) {
    case MQS_LF_EDIT_TRUNCATE: outlen = off; break;
    case MQS_LF_EDIT_DELETE: outlen = len - n; break;
    case MQS_LF_EDIT_DUP: outlen = len + n; break;
    case MQS_LF_EDIT_INSERT: outlen = len + (n > 4 ? 4 : n); break;
    case MQS_LF_EDIT_REPEAT: outlen = 2 * len; break;
    default: outlen = len; break;
    }
    if (outlen > cap || outlen == 0)
        return 0;
    switch (e->kind) {
    case MQS_LF_EDIT_TRUNCATE: memcpy(out, b, off); break;
    case MQS_LF_EDIT_DELETE:
        memcpy(out, b, off);
        memcpy(out + off, b + off + n, len - off - n);
        break;
    case MQS_LF_EDIT_DUP:
        memcpy(out, b, off + n);
        memcpy(out + off + n, b + off, len - off);
        break;
    case MQS_LF_EDIT_INSERT:
        n = n > 4 ? 4 : n;
        memcpy(out, b, off);
        memcpy(out + off, e->val, n);
        memcpy(out + off + n, b + off, len - off);
        break;
    case MQS_LF_EDIT_REPEAT:
        memcpy(out, b, len);
        memcpy(out + len, b, len);
        break;
    default:
        memcpy(out, b, len);
        if (e->kind == MQS_LF_EDIT_SET && off < len)
            out[off] = e->val[0];
        break;
    }
    return outlen;
}

/* ---- encoding and the safety check ---- */

/* Encodes pkt+raw, applies the byte edit, and keeps the bytes in the arena. */
static int encode_step(gen *g, mqs_lf_step *s)
{
    uint8_t *buf = g->scratch;
    size_t n = 0;
    if (mqs_encode_unchecked(&s->pkt, g->c->version, &s->raw, buf, MQS_LF_MAX_BYTES, &n) != MQS_OK)
        return -1;
    size_t cap = n * 2 + 8;
    uint8_t *out = alloc(g, cap);
    if (!out)
        return -1;
    size_t len = n;
    if (s->edit.kind != MQS_LF_EDIT_NONE)
        len = mqs_lf_apply_edit(&s->edit, buf, n, out, cap);
    else
        memcpy(out, buf, n);
    if (len == 0)
        return -1;
    s->bytes = out;
    s->len = len;
    return 0;
}

/* Remaining Length of the plain encoding of pkt. */
static size_t body_length(gen *g, const mqs_lf_step *s)
{
    size_t total = 0;
    (void)mqs_encode_unchecked(&s->pkt, g->c->version, NULL, NULL, 0, &total);
    for (size_t vs = 1; vs <= 4 && total > vs; vs++) {
        size_t rl = total - 1 - vs;
        if (rl < ((size_t)1 << (7 * vs)))
            return rl;
    }
    return 0;
}

static bool has_prefix(const mqs_lf_case *c, mqs_str s)
{
    return s.len >= MQS_LF_PREFIX_LEN && memcmp(s.ptr, c->prefix, MQS_LF_PREFIX_LEN) == 0;
}

static bool cid_ok(const mqs_lf_case *c, mqs_str s)
{
    return s.len == 0 || (s.len >= MQS_LF_CID_LEN - 2 && memcmp(s.ptr, c->cid[0], MQS_LF_CID_LEN - 2) == 0);
}

static bool connect_safe(const mqs_lf_case *c, mqs_rd *r)
{
    mqs_str name, id, wt;
    uint8_t level = 0, flags = 0;
    uint16_t ka = 0;
    if (mqs_rd_str(r, &name) != MQS_OK || mqs_rd_u8(r, &level) != MQS_OK)
        return true;
    if (level == 5 && name.len == 4 && memcmp(name.ptr, "MQTT", 4) == 0)
        return false; /* an MQTT 5 CONNECT would change the whole session's rules */
    if (mqs_rd_u8(r, &flags) != MQS_OK || mqs_rd_u16(r, &ka) != MQS_OK || mqs_rd_str(r, &id) != MQS_OK)
        return true;
    if (!cid_ok(c, id))
        return false;
    if (!(flags & 0x04u) || mqs_rd_str(r, &wt) != MQS_OK)
        return true;
    return has_prefix(c, wt);
}

static bool list_safe(const mqs_lf_case *c, mqs_rd *r, bool with_qos)
{
    uint16_t id;
    uint8_t q;
    mqs_str f;
    if (mqs_rd_u16(r, &id) != MQS_OK)
        return true;
    while (mqs_rd_str(r, &f) == MQS_OK) {
        if (!has_prefix(c, f))
            return false;
        if (with_qos && mqs_rd_u8(r, &q) != MQS_OK)
            break;
    }
    return true;
}

bool mqs_lf_frame_safe(const mqs_lf_case *c, const uint8_t *frame, size_t len)
{
    size_t hdr = 0;
    uint8_t type = 0;
    uint32_t rl = 0;
    if (mqs_frame_peek(frame, len, MQS_LENIENT_NON_MINIMAL_RL, &type, NULL, &rl, &hdr, NULL) != MQS_OK)
        return true;
    mqs_rd r;
    mqs_rd_init(&r, frame, hdr + rl <= len ? hdr + rl : len);
    r.pos = hdr;
    mqs_str topic;
    switch (type) {
    case MQS_CONNECT: return connect_safe(c, &r);
    case MQS_PUBLISH: return mqs_rd_str(&r, &topic) != MQS_OK || has_prefix(c, topic);
    case MQS_SUBSCRIBE: return list_safe(c, &r, true);
    case MQS_UNSUBSCRIBE: return list_safe(c, &r, false);
    default: return true;
    }
}

/* Appends the step's bytes to the slot's simulated stream and checks every frame a
 * broker may act on. @return true when safe (the stream then keeps the bytes). */
static bool vet(gen *g, const mqs_lf_step *s)
{
    unsigned slot = s->slot;
    if (g->stream_len[slot] + s->len > STREAM_CAP)
        return false;
    mqs_lf_view v = g->view[slot];
    memcpy(g->stream[slot] + g->stream_len[slot], s->bytes, s->len);
    size_t len = g->stream_len[slot] + s->len;
    mqs_lf_frame *f = g->frame;
    while (mqs_lf_view_next(&v, g->stream[slot], len, f) == 1)
        if (mqs_lf_class_processed(f->cls) && !mqs_lf_frame_safe(g->c, f->bytes, f->len))
            return false;
    g->view[slot] = v;
    g->stream_len[slot] = len;
    return true;
}

static void reset_stream(gen *g, unsigned slot)
{
    g->stream_len[slot] = 0;
    mqs_lf_view_init(&g->view[slot]);
    g->open[slot] = false;
}

/* Mutates (maybe), encodes and vets a SEND step; falls back to the plain packet, and
 * drops the step when even that is unsafe. Draws the same numbers whatever happens. */
static void finish_send(gen *g, mqs_lf_step *s)
{
    mqs_lf_step plain = *s;
    size_t body = body_length(g, s);
    if (mqs_lf_rng_chance(&g->r, g->o->mutate_pct)) {
        unsigned k = 1 + mqs_lf_rng_below(&g->r, 2);
        for (unsigned i = 0; i < k; i++)
            mutate_fields(g, s, body);
    }
    bool edit = mqs_lf_rng_chance(&g->r, g->o->byte_pct);
    mqs_lf_edit e = {0, 0, 0, {0}};
    uint32_t where = 0;
    draw_edit(g, &e, &where);
    uint8_t n_split = 0;
    uint16_t split[3] = {0, 0, 0};
    if (mqs_lf_rng_chance(&g->r, 8)) {
        n_split = (uint8_t)(1 + mqs_lf_rng_below(&g->r, 3));
        for (unsigned i = 0; i < n_split; i++)
            split[i] = (uint16_t)(1 + mqs_lf_rng_below(&g->r, 6));
    }
    bool coalesce = mqs_lf_rng_chance(&g->r, 12);
    s->pkt.items = s->items;
    if (encode_step(g, s) == 0 && edit) {
        e.off = where % (uint32_t)(s->len > 1 ? s->len : 1);
        s->edit = e;
        describe_edit(s);
        if (encode_step(g, s) != 0)
            s->len = 0;
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        s->n_split = n_split;
        memcpy(s->split, split, sizeof s->split);
        s->coalesce = coalesce;
        if (s->len > 0 && vet(g, s)) {
            g->c->n_steps++;
            return;
        }
        *s = plain; /* unsafe or unencodable: the packet as generated */
        s->pkt.items = s->items;
        if (encode_step(g, s) != 0)
            return;
    }
}

/* ---- the script ---- */

static void add_sync(gen *g, unsigned slot)
{
    if (new_step(g, MQS_LF_SYNC, slot))
        g->c->n_steps++;
}

static void add_close(gen *g, unsigned slot, bool abrupt)
{
    mqs_lf_step *s = new_step(g, MQS_LF_CLOSE, slot);
    if (!s)
        return;
    s->abrupt = abrupt;
    g->c->n_steps++;
    reset_stream(g, slot);
}

static void add_connect(gen *g, unsigned slot)
{
    mqs_lf_step *s = new_step(g, MQS_LF_SEND, slot);
    if (!s)
        return;
    make_connect(g, s, slot);
    size_t before = g->c->n_steps;
    finish_send(g, s);
    g->open[slot] = true;
    if (g->c->n_steps > before && mqs_lf_rng_chance(&g->r, 85))
        add_sync(g, slot);
}

/* One action on an open slot. */
static void add_action(gen *g, unsigned slot)
{
    uint32_t r = mqs_lf_rng_below(&g->r, 100);
    if (r >= 74 && r < 88) {
        add_sync(g, slot);
        return;
    }
    if (r >= 88 && r < 96) {
        bool disconnect = r < 92;
        if (disconnect) {
            mqs_lf_step *s = new_step(g, MQS_LF_SEND, slot);
            if (!s)
                return;
            s->pkt.type = MQS_DISCONNECT;
            finish_send(g, s);
        }
        add_close(g, slot, !disconnect && mqs_lf_rng_chance(&g->r, 70));
        return;
    }
    mqs_lf_step *s = new_step(g, MQS_LF_SEND, slot);
    if (!s)
        return;
    size_t idx = g->c->n_steps;
    if (r < 30) {
        make_publish(g, s, slot);
    } else if (r < 38) {
        if (!make_retransmit(g, s, slot))
            make_publish(g, s, slot);
    } else if (r < 50) {
        make_list(g, s, slot, MQS_SUBSCRIBE);
    } else if (r < 55) {
        make_list(g, s, slot, MQS_UNSUBSCRIBE);
    } else if (r < 62) {
        s->pkt.type = MQS_PINGREQ;
    } else if (r < 71) {
        make_ack(g, s, slot);
    } else if (r < 73) {
        make_connect(g, s, slot); /* a second CONNECT [MQTT-3.1.0-2] */
    } else {
        make_odd(g, s);
    }
    bool qos2 = s->pkt.type == MQS_PUBLISH && s->pkt.qos == 2;
    finish_send(g, s);
    if (qos2 && g->c->n_steps > idx && g->c->steps[idx].pkt.qos == 2)
        g->last_qos2[slot] = (int)idx;
}

static void setup(gen *g, uint64_t seed, uint64_t number)
{
    mqs_lf_case *c = g->c;
    c->seed = seed;
    c->number = number;
    int v = g->o->version;
    c->version = v == MQS_V31 || v == MQS_V311 ? (mqs_version)v
                 : mqs_lf_rng_chance(&g->r, 10) ? MQS_V31
                                                : MQS_V311;
    unsigned max = g->o->max_clients;
    c->n_slots = (uint8_t)(1 + mqs_lf_rng_below(&g->r, max));
    c->n_identities = 0;
    for (unsigned i = 0; i < c->n_slots; i++) {
        mqs_lf_slot *s = &c->slots[i];
        if (i > 0 && mqs_lf_rng_chance(&g->r, 25)) {
            s->identity = c->slots[mqs_lf_rng_below(&g->r, i)].identity; /* takeover */
        } else {
            s->identity = c->n_identities++;
        }
        s->auto_ack = mqs_lf_rng_chance(&g->r, 60);
        g->next_id[i] = (uint16_t)(1 + mqs_lf_rng_below(&g->r, 200));
        g->last_qos2[i] = -1;
        reset_stream(g, i);
    }
}

/* Replaces every occurrence of `from` (n bytes) in the arena by `to`. */
static void replace_all(mqs_lf_case *c, const char *from, const char *to, size_t n)
{
    for (size_t i = 0; i + n <= c->arena_used; i++)
        if (c->arena[i] == (uint8_t)from[0] && !memcmp(c->arena + i, from, n)) {
            memcpy(c->arena + i, to, n);
            i += n - 1;
        }
}

/* Moves a case generated under the canonical names onto the real ones: every
 * string and encoded byte lives in the arena, and the names keep their lengths. */
static void rename_case(mqs_lf_case *c, const mqs_lf_names *names)
{
    char old_prefix[MQS_LF_PREFIX_LEN + 1], old_stem[MQS_LF_CID_LEN - 1];
    memcpy(old_prefix, c->prefix, sizeof old_prefix);
    memcpy(old_stem, c->cid[0], MQS_LF_CID_LEN - 2);
    mqs_lf_case_name(c, names);
    replace_all(c, old_prefix, c->prefix, MQS_LF_PREFIX_LEN);
    replace_all(c, old_stem, c->cid[0], MQS_LF_CID_LEN - 2); /* "mqf" + token + index */
}

int mqs_lf_generate(mqs_lf_case *c, uint64_t seed, uint64_t number, const mqs_lf_names *names,
                    const mqs_lf_gen_opts *o)
{
    if (!c || !names || !o || o->max_clients < 1 || o->max_clients > MQS_LF_MAX_SLOTS ||
        o->mutate_pct > 100 || o->byte_pct > 100)
        return -1;
    gen g;
    memset(&g, 0, sizeof g);
    memset(c, 0, offsetof(mqs_lf_case, arena));
    g.c = c;
    g.o = o;
    mqs_lf_rng_seed(&g.r, seed, number);
    /* Generate (and vet) with fixed names, so no decision depends on the run's
     * names; then put the real names in (same lengths). */
    mqs_lf_names canonical = {"zzzzzzzz", 36u * 36u * 36u * 36u - 1u};
    mqs_lf_case_name(c, &canonical);
    uint8_t *streams = malloc((size_t)STREAM_CAP * MQS_LF_MAX_SLOTS + MQS_LF_MAX_BYTES);
    g.frame = malloc(sizeof *g.frame);
    if (!streams || !g.frame) {
        free(streams);
        free(g.frame);
        return -1;
    }
    for (unsigned i = 0; i < MQS_LF_MAX_SLOTS; i++)
        g.stream[i] = streams + (size_t)i * STREAM_CAP;
    g.scratch = streams + (size_t)STREAM_CAP * MQS_LF_MAX_SLOTS;
    setup(&g, seed, number);
    unsigned target = 4 + mqs_lf_rng_below(&g.r, 22);
    for (unsigned k = 0; k < target && c->n_steps + 3 < MQS_LF_MAX_STEPS && !g.failed; k++) {
        unsigned slot = mqs_lf_rng_below(&g.r, c->n_slots);
        if (g.open[slot]) {
            add_action(&g, slot);
        } else if (mqs_lf_rng_chance(&g.r, 96)) {
            add_connect(&g, slot);
        } else { /* a packet before CONNECT [MQTT-3.1.0-1] */
            mqs_lf_step *s = new_step(&g, MQS_LF_SEND, slot);
            if (s) {
                make_publish(&g, s, slot);
                finish_send(&g, s);
                g.open[slot] = true;
            }
        }
    }
    free(streams);
    free(g.frame);
    rename_case(c, names);
    return g.failed && c->n_steps == 0 ? -1 : 0;
}

const char *mqs_lf_step_name(const mqs_lf_step *s)
{
    if (s->kind == MQS_LF_SYNC)
        return "SYNC";
    if (s->kind == MQS_LF_CLOSE)
        return s->abrupt ? "CLOSE (RST)" : "CLOSE (FIN)";
    return mqs_type_name(s->pkt.type);
}
