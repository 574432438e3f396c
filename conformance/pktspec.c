/* Scenario packets at run time: build, match, describe. */
#include "conformance/pktspec.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "conformance/alloc.h"

/* ---- numbers and strings of a spec ---- */

static int num_get(const mqs_sc_num *n, const mqs_vars *v, int64_t dflt, int64_t *out, char *err,
                   size_t errlen)
{
    if (n->kind == MQS_SC_VALUE) {
        *out = n->v;
        return 0;
    }
    if (n->kind == MQS_SC_TEMPLATE)
        return mqs_expand_int(n->tmpl, v, n->min, n->max, out, err, errlen);
    *out = dflt;
    return 0;
}

uint8_t mqs_spec_pattern_byte(size_t i)
{
    return (uint8_t)('a' + i % 26);
}

/* ---- describe ---- */

void mqs_escape_bytes(mqs_buf *out, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c == '"' || c == '\\')
            mqs_buf_printf(out, "\\%c", c);
        else if (c >= 0x20 && c < 0x7f)
            mqs_buf_append(out, &c, 1);
        else
            mqs_buf_printf(out, "\\x%02x", c);
    }
}

void mqs_describe_bytes(mqs_buf *out, const uint8_t *p, size_t n, size_t max)
{
    mqs_buf_puts(out, "\"");
    size_t shown = n > max ? max : n;
    mqs_escape_bytes(out, p, shown);
    mqs_buf_puts(out, "\"");
    if (n > shown)
        mqs_buf_printf(out, "...(%zu bytes)", n);
}

static void describe_str(mqs_buf *out, const char *key, mqs_str s)
{
    mqs_buf_printf(out, " %s=", key);
    mqs_describe_bytes(out, s.ptr, s.len, 48);
}

static void describe_items(mqs_buf *out, const mqs_packet *p, bool filters, bool qos)
{
    mqs_buf_puts(out, filters ? " [" : " codes=[");
    for (size_t i = 0; i < p->n_items && p->items; i++) {
        if (i)
            mqs_buf_puts(out, filters ? ", " : ",");
        if (filters)
            mqs_describe_bytes(out, p->items[i].filter.ptr, p->items[i].filter.len, 48);
        if (qos)
            mqs_buf_printf(out, filters ? " qos=%u" : "%u", p->items[i].qos);
    }
    mqs_buf_puts(out, "]");
}

static void describe_connect(const mqs_packet *p, mqs_buf *out)
{
    const mqs_connect *c = &p->connect;
    mqs_buf_puts(out, " ");
    mqs_describe_bytes(out, c->protocol_name.ptr, c->protocol_name.len, 16);
    mqs_buf_printf(out, "/%u", c->protocol_level);
    describe_str(out, "client_id", c->client_id);
    mqs_buf_printf(out, " clean=%d keepalive=%u", c->clean_session, c->keepalive);
    if (c->will_flag) {
        describe_str(out, "will_topic", c->will_topic);
        describe_str(out, "will_payload", c->will_payload);
        mqs_buf_printf(out, " will_qos=%u will_retain=%d", c->will_qos, c->will_retain);
    }
    if (c->has_username)
        describe_str(out, "username", c->username);
    if (c->has_password)
        mqs_buf_puts(out, " password=***");
}

void mqs_packet_describe(const mqs_packet *p, mqs_buf *out)
{
    mqs_buf_puts(out, mqs_type_name(p->type));
    switch (p->type) {
    case MQS_CONNECT:
        describe_connect(p, out);
        break;
    case MQS_CONNACK:
        mqs_buf_printf(out, " rc=%u session_present=%d", p->connack.return_code,
                       p->connack.session_present);
        break;
    case MQS_PUBLISH:
        mqs_buf_printf(out, " qos=%u", p->qos);
        if (p->qos)
            mqs_buf_printf(out, " id=%u", p->packet_id);
        if (p->retain)
            mqs_buf_puts(out, " retain=1");
        if (p->dup)
            mqs_buf_puts(out, " dup=1");
        describe_str(out, "topic", p->publish.topic);
        describe_str(out, "payload", p->publish.payload);
        break;
    case MQS_PUBACK:
    case MQS_PUBREC:
    case MQS_PUBREL:
    case MQS_PUBCOMP:
    case MQS_UNSUBACK:
        mqs_buf_printf(out, " id=%u", p->packet_id);
        break;
    case MQS_SUBSCRIBE:
        mqs_buf_printf(out, " id=%u", p->packet_id);
        describe_items(out, p, true, true);
        break;
    case MQS_SUBACK:
        mqs_buf_printf(out, " id=%u", p->packet_id);
        describe_items(out, p, false, true);
        break;
    case MQS_UNSUBSCRIBE:
        mqs_buf_printf(out, " id=%u", p->packet_id);
        describe_items(out, p, true, false);
        break;
    default:
        break;
    }
}

static void describe_num(mqs_buf *out, const char *key, const mqs_sc_num *n, const mqs_vars *v)
{
    int64_t x;
    char err[8];
    if (!n->kind)
        return;
    if (num_get(n, v, 0, &x, err, sizeof err) == 0)
        mqs_buf_printf(out, " %s=%lld", key, (long long)x);
    else
        mqs_buf_printf(out, " %s=%s", key, n->tmpl);
}

static void describe_tmpl(mqs_buf *out, const char *key, const mqs_sc_str *s, const mqs_vars *v)
{
    if (s->kind != MQS_SC_VALUE)
        return;
    mqs_buf b = {0};
    char err[8];
    mqs_buf_printf(out, " %s=", key);
    if (mqs_expand(s->tmpl, v, &b, err, sizeof err) == 0)
        mqs_describe_bytes(out, b.p, b.len, 48);
    else
        mqs_buf_puts(out, s->tmpl);
    mqs_buf_free(&b);
}

void mqs_spec_describe(const mqs_sc_packet *spec, const mqs_vars *v, mqs_buf *out)
{
    mqs_buf_puts(out, spec->type ? mqs_type_name(spec->type) : "any packet");
    describe_num(out, "rc", &spec->return_code, v);
    if (spec->session_present >= 0)
        mqs_buf_printf(out, " session_present=%d", spec->session_present);
    describe_num(out, "qos", &spec->qos, v);
    describe_num(out, "id", &spec->packet_id, v);
    describe_num(out, "flags", &spec->flags, v);
    if (spec->retain >= 0)
        mqs_buf_printf(out, " retain=%d", spec->retain);
    if (spec->dup >= 0)
        mqs_buf_printf(out, " dup=%d", spec->dup);
    describe_tmpl(out, "topic", &spec->topic, v);
    describe_tmpl(out, "payload", &spec->payload, v);
    describe_num(out, "payload_size", &spec->payload_size, v);
    if (spec->has_return_codes) {
        mqs_buf_puts(out, " codes=[");
        for (size_t i = 0; i < spec->n_return_codes; i++) {
            int64_t x;
            char err[8];
            if (num_get(&spec->return_codes[i], v, 0, &x, err, sizeof err) == 0)
                mqs_buf_printf(out, "%s%lld", i ? "," : "", (long long)x);
            else
                mqs_buf_printf(out, "%s%s", i ? "," : "", spec->return_codes[i].tmpl);
        }
        mqs_buf_puts(out, "]");
    }
    if (spec->not_match) {
        mqs_buf_puts(out, " not(");
        mqs_spec_describe(spec->not_match, v, out);
        mqs_buf_puts(out, ")");
    }
}

/* ---- match ---- */

static int why_set(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int why_set(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return 0;
}

/* 1 when the number matches (or is absent), 0 with why, -1 on expansion error. */
static int match_num(const char *key, const mqs_sc_num *n, int64_t got, const mqs_vars *v,
                     char *why, size_t whylen)
{
    int64_t want;
    if (!n->kind)
        return 1;
    if (num_get(n, v, 0, &want, why, whylen) < 0)
        return -1;
    if (want == got)
        return 1;
    return why_set(why, whylen, "%s is %lld, expected %lld", key, (long long)got, (long long)want);
}

static int match_bool(const char *key, mqs_sc_bool want, bool got, char *why, size_t whylen)
{
    if (want < 0 || (want != 0) == got)
        return 1;
    return why_set(why, whylen, "%s is %d, expected %d", key, got, want);
}

static int match_bytes(const char *key, const mqs_sc_str *s, mqs_str got, const mqs_vars *v,
                       char *why, size_t whylen)
{
    if (s->kind != MQS_SC_VALUE)
        return 1;
    mqs_buf want = {0};
    if (mqs_expand(s->tmpl, v, &want, why, whylen) < 0) {
        mqs_buf_free(&want);
        return -1;
    }
    int rc = want.len == got.len && (got.len == 0 || !memcmp(want.p, got.ptr, got.len));
    if (!rc) {
        mqs_buf d = {0};
        mqs_describe_bytes(&d, want.p, want.len, 48);
        mqs_buf_terminate(&d);
        if (want.len != got.len)
            why_set(why, whylen, "%s has %zu bytes, expected %zu: %s", key, got.len, want.len,
                    d.p ? (char *)d.p : "");
        else
            why_set(why, whylen, "%s differs, expected %s", key, d.p ? (char *)d.p : "");
        mqs_buf_free(&d);
    }
    mqs_buf_free(&want);
    return rc;
}

static int match_payload_size(const mqs_sc_num *n, mqs_str got, const mqs_vars *v, char *why,
                              size_t whylen)
{
    int64_t want;
    if (!n->kind)
        return 1;
    if (num_get(n, v, 0, &want, why, whylen) < 0)
        return -1;
    if ((int64_t)got.len != want)
        return why_set(why, whylen, "payload has %zu bytes, expected %lld", got.len,
                       (long long)want);
    for (size_t i = 0; i < got.len; i++)
        if (got.ptr[i] != mqs_spec_pattern_byte(i))
            return why_set(why, whylen,
                           "payload byte %zu is 0x%02x, expected 0x%02x (the "
                           "generated pattern)",
                           i, got.ptr[i], mqs_spec_pattern_byte(i));
    return 1;
}

static int match_codes(const mqs_sc_packet *spec, const mqs_packet *p, const mqs_vars *v, char *why,
                       size_t whylen)
{
    if (!spec->has_return_codes)
        return 1;
    if (p->n_items != spec->n_return_codes)
        return why_set(why, whylen, "%zu return codes, expected %zu", p->n_items,
                       spec->n_return_codes);
    for (size_t i = 0; i < p->n_items; i++) {
        char key[48];
        snprintf(key, sizeof key, "return code %zu", i + 1);
        int rc = match_num(key, &spec->return_codes[i], p->items[i].qos, v, why, whylen);
        if (rc != 1)
            return rc;
    }
    return 1;
}

int mqs_spec_match(const mqs_sc_packet *spec, const mqs_packet *p, const mqs_vars *v, char *why,
                   size_t whylen)
{
    if (spec->type && spec->type != p->type)
        return why_set(why, whylen, "packet type");
    int rc;
#define STEP(expr)                                                                                 \
    do {                                                                                           \
        if ((rc = (expr)) != 1)                                                                    \
            return rc;                                                                             \
    } while (0)
    STEP(match_num("flags", &spec->flags, p->flags, v, why, whylen));
    STEP(match_num("return code", &spec->return_code, p->connack.return_code, v, why, whylen));
    STEP(match_bool("session present", spec->session_present, p->connack.session_present, why,
                    whylen));
    STEP(match_num("qos", &spec->qos, p->qos, v, why, whylen));
    STEP(match_num("packet id", &spec->packet_id, p->packet_id, v, why, whylen));
    STEP(match_bool("retain", spec->retain, p->retain, why, whylen));
    STEP(match_bool("dup", spec->dup, p->dup, why, whylen));
    STEP(match_bytes("topic", &spec->topic, p->publish.topic, v, why, whylen));
    STEP(match_bytes("payload", &spec->payload, p->publish.payload, v, why, whylen));
    STEP(match_payload_size(&spec->payload_size, p->publish.payload, v, why, whylen));
    STEP(match_codes(spec, p, v, why, whylen));
#undef STEP
    if (spec->not_match) {
        char inner[8];
        rc = mqs_spec_match(spec->not_match, p, v, inner, sizeof inner);
        if (rc < 0)
            return mqs_spec_match(spec->not_match, p, v, why, whylen);
        if (rc == 1) {
            mqs_buf d = {0};
            mqs_spec_describe(spec->not_match, v, &d);
            mqs_buf_terminate(&d);
            why_set(why, whylen, "it matches the excluded %s", d.p ? (const char *)d.p : "");
            mqs_buf_free(&d);
            return 0;
        }
    }
    return 1;
}

int mqs_spec_save_value(mqs_sc_field f, const mqs_packet *p, mqs_buf *out)
{
    mqs_buf_terminate(out);
    switch (f) {
    case MQS_FIELD_PACKET_ID:
        return mqs_buf_printf(out, "%u", p->packet_id);
    case MQS_FIELD_TOPIC:
        return mqs_buf_append(out, p->publish.topic.ptr, p->publish.topic.len);
    case MQS_FIELD_PAYLOAD:
        return mqs_buf_append(out, p->publish.payload.ptr, p->publish.payload.len);
    case MQS_FIELD_QOS:
        return mqs_buf_printf(out, "%u", p->qos);
    case MQS_FIELD_RETURN_CODE:
        return mqs_buf_printf(out, "%u", p->connack.return_code);
    case MQS_FIELD_SESSION_PRESENT:
        return mqs_buf_printf(out, "%d", p->connack.session_present);
    }
    return -1;
}

/* ---- build ---- */

enum { S_TOPIC, S_PAYLOAD, S_CID, S_WTOPIC, S_WPAYLOAD, S_USER, S_PASS, S_PNAME, S_COUNT };

typedef struct pool {
    mqs_buf s[S_COUNT];
    mqs_buf *list; /* SUBSCRIBE / UNSUBSCRIBE filters */
    mqs_item *items;
    size_t n;
} pool;

static void pool_free(pool *pl)
{
    for (int i = 0; i < S_COUNT; i++)
        mqs_buf_free(&pl->s[i]);
    for (size_t i = 0; i < pl->n; i++)
        mqs_buf_free(&pl->list[i]);
    mqs_free(pl->list);
    mqs_free(pl->items);
}

/* Expands s (when given) into b and points *dst at it. */
static int ex(const mqs_sc_str *s, const mqs_vars *v, mqs_buf *b, mqs_str *dst, char *err,
              size_t errlen)
{
    if (s->kind != MQS_SC_VALUE)
        return 0;
    if (mqs_expand(s->tmpl, v, b, err, errlen) < 0)
        return -1;
    dst->ptr = b->p;
    dst->len = b->len;
    return 0;
}

static int literal(const char *text, mqs_buf *b, mqs_str *dst)
{
    if (mqs_buf_puts(b, text) < 0 || mqs_buf_terminate(b) < 0)
        return -1;
    dst->ptr = b->p;
    dst->len = b->len;
    return 0;
}

static int oom(char *err, size_t errlen)
{
    snprintf(err, errlen, "out of memory");
    return -1;
}

static int build_list(const mqs_sc_packet *spec, const mqs_vars *v, pool *pl, mqs_packet *pkt,
                      char *err, size_t errlen)
{
    size_t n = spec->has_subs      ? spec->n_subs
               : spec->has_filters ? spec->n_filters
                                   : spec->n_return_codes;
    pl->list = mqs_calloc(n ? n : 1, sizeof *pl->list);
    pl->items = mqs_calloc(n ? n : 1, sizeof *pl->items);
    if (!pl->list || !pl->items)
        return oom(err, errlen);
    pl->n = n;
    for (size_t i = 0; i < n; i++) {
        int64_t q = 0;
        if (spec->has_subs) {
            if (ex(&spec->subs[i].filter, v, &pl->list[i], &pl->items[i].filter, err, errlen) < 0 ||
                num_get(&spec->subs[i].qos, v, 0, &q, err, errlen) < 0)
                return -1;
        } else if (spec->has_filters) {
            if (ex(&spec->filters[i], v, &pl->list[i], &pl->items[i].filter, err, errlen) < 0)
                return -1;
        } else if (num_get(&spec->return_codes[i], v, 0, &q, err, errlen) < 0) {
            return -1;
        }
        pl->items[i].qos = (uint8_t)q;
    }
    pkt->items = pl->items;
    pkt->n_items = n;
    return 0;
}

static int build_publish(const mqs_sc_packet *spec, const mqs_vars *v, pool *pl, mqs_packet *pkt,
                         char *err, size_t errlen)
{
    int64_t size = -1;
    if (ex(&spec->topic, v, &pl->s[S_TOPIC], &pkt->publish.topic, err, errlen) < 0 ||
        ex(&spec->payload, v, &pl->s[S_PAYLOAD], &pkt->publish.payload, err, errlen) < 0 ||
        num_get(&spec->payload_size, v, -1, &size, err, errlen) < 0)
        return -1;
    if (size >= 0) {
        mqs_buf *b = &pl->s[S_PAYLOAD];
        uint8_t chunk[4096];
        for (size_t i = 0; i < sizeof chunk; i++)
            chunk[i] = mqs_spec_pattern_byte(i);
        /* Pieces of a multiple of 26 bytes keep the pattern continuous. */
        for (int64_t done = 0; done < size;) {
            size_t n = (size_t)(size - done) < 26 * 150 ? (size_t)(size - done) : 26 * 150;
            if (mqs_buf_append(b, chunk, n) < 0)
                return oom(err, errlen);
            done += (int64_t)n;
        }
        if (mqs_buf_terminate(b) < 0)
            return oom(err, errlen);
        pkt->publish.payload = (mqs_str){b->p, b->len};
    }
    return 0;
}

static int build_connect(const mqs_sc_packet *spec, const mqs_build_ctx *ctx, pool *pl,
                         mqs_packet *pkt, char *err, size_t errlen)
{
    mqs_connect *c = &pkt->connect;
    const mqs_vars *v = ctx->vars;
    int64_t level, keepalive, wqos = 0;
    const char *pname = ctx->version == MQS_V31 ? "MQIsdp" : "MQTT";
    if (num_get(&spec->protocol_level, v, ctx->version, &level, err, errlen) < 0 ||
        num_get(&spec->keepalive, v, 60, &keepalive, err, errlen) < 0)
        return -1;
    c->protocol_level = (uint8_t)level;
    c->keepalive = (uint16_t)keepalive;
    c->clean_session = spec->clean_session != 0;
    if (spec->protocol_name.kind == MQS_SC_VALUE) {
        if (ex(&spec->protocol_name, v, &pl->s[S_PNAME], &c->protocol_name, err, errlen) < 0)
            return -1;
    } else if (literal(pname, &pl->s[S_PNAME], &c->protocol_name) < 0) {
        return oom(err, errlen);
    }
    if (spec->client_id.kind == MQS_SC_VALUE) {
        if (ex(&spec->client_id, v, &pl->s[S_CID], &c->client_id, err, errlen) < 0)
            return -1;
    } else if (literal(ctx->client_id ? ctx->client_id : "", &pl->s[S_CID], &c->client_id) < 0) {
        return oom(err, errlen);
    }
    if (spec->has_will) {
        c->will_flag = true;
        c->will_retain = spec->will.retain > 0;
        if (ex(&spec->will.topic, v, &pl->s[S_WTOPIC], &c->will_topic, err, errlen) < 0 ||
            ex(&spec->will.payload, v, &pl->s[S_WPAYLOAD], &c->will_payload, err, errlen) < 0 ||
            num_get(&spec->will.qos, v, 0, &wqos, err, errlen) < 0)
            return -1;
        c->will_qos = (uint8_t)wqos;
        if (!c->will_payload.ptr && literal("", &pl->s[S_WPAYLOAD], &c->will_payload) < 0)
            return oom(err, errlen);
    }
    bool default_user = spec->username.kind == MQS_SC_ABSENT && ctx->username;
    if (default_user) {
        c->has_username = literal(ctx->username, &pl->s[S_USER], &c->username) == 0;
        if (ctx->password && spec->password.kind == MQS_SC_ABSENT)
            c->has_password = literal(ctx->password, &pl->s[S_PASS], &c->password) == 0;
    } else if (spec->username.kind == MQS_SC_VALUE) {
        if (ex(&spec->username, v, &pl->s[S_USER], &c->username, err, errlen) < 0)
            return -1;
        c->has_username = true;
    }
    if (spec->password.kind == MQS_SC_VALUE) {
        if (ex(&spec->password, v, &pl->s[S_PASS], &c->password, err, errlen) < 0)
            return -1;
        c->has_password = true;
    }
    if ((default_user && !c->has_username) || (c->has_password && !c->password.ptr))
        return oom(err, errlen);
    return 0;
}

static int build_raw(const mqs_sc_packet *spec, const mqs_vars *v, mqs_encode_raw *raw, char *err,
                     size_t errlen)
{
    int64_t ff, type, cf, rl, rlb, cf_step;
    if (num_get(&spec->raw.fixed_flags, v, -1, &ff, err, errlen) < 0 ||
        num_get(&spec->raw.type, v, -1, &type, err, errlen) < 0 ||
        num_get(&spec->raw.connect_flags, v, -1, &cf, err, errlen) < 0 ||
        num_get(&spec->connect_flags, v, -1, &cf_step, err, errlen) < 0 ||
        num_get(&spec->raw.remaining_length, v, -1, &rl, err, errlen) < 0 ||
        num_get(&spec->raw.rl_bytes, v, 0, &rlb, err, errlen) < 0)
        return -1;
    raw->fixed_flags = (int)ff;
    raw->type = (int)type;
    raw->connect_flags = (int)(cf >= 0 ? cf : cf_step);
    raw->remaining_length = rl;
    raw->rl_bytes = (int)rlb;
    return 0;
}

static int build_fields(const mqs_sc_packet *spec, const mqs_build_ctx *ctx, pool *pl,
                        mqs_packet *pkt, char *err, size_t errlen)
{
    int64_t qos, id;
    const mqs_vars *v = ctx->vars;
    pkt->type = (uint8_t)spec->type;
    if (num_get(&spec->qos, v, 0, &qos, err, errlen) < 0 ||
        num_get(&spec->packet_id, v, 1, &id, err, errlen) < 0)
        return -1;
    pkt->qos = (uint8_t)qos;
    pkt->dup = spec->dup > 0;
    pkt->retain = spec->retain > 0;
    pkt->packet_id = (uint16_t)id;
    if (spec->type == MQS_PUBLISH) {
        if (!spec->packet_id.kind && qos == 0)
            pkt->packet_id = 0;
        pkt->publish.packet_id = pkt->packet_id;
        if (build_publish(spec, v, pl, pkt, err, errlen) < 0)
            return -1;
    }
    if (spec->type == MQS_CONNECT && build_connect(spec, ctx, pl, pkt, err, errlen) < 0)
        return -1;
    if (spec->type == MQS_CONNACK) {
        int64_t rc;
        if (num_get(&spec->return_code, v, 0, &rc, err, errlen) < 0)
            return -1;
        pkt->connack.return_code = (uint8_t)rc;
        pkt->connack.session_present = spec->session_present > 0;
    }
    if ((spec->has_subs || spec->has_filters || spec->has_return_codes) &&
        build_list(spec, v, pl, pkt, err, errlen) < 0)
        return -1;
    return 0;
}

/* Records what the written bytes leave on the broker (cleanup) and where the password is. */
static int note_built(const mqs_packet *pkt, const mqs_encode_raw *raw, const uint8_t *bytes,
                      size_t len, mqs_built *info)
{
    info->type = (uint8_t)(raw->type >= 0 ? raw->type : pkt->type);
    uint8_t flags = len ? (uint8_t)(bytes[0] & 0x0f) : 0;
    if (info->type == MQS_PUBLISH && (flags & 1) && pkt->type == MQS_PUBLISH) {
        info->has_retain_topic = true;
        if (mqs_buf_append(&info->retain_topic, pkt->publish.topic.ptr, pkt->publish.topic.len) <
                0 ||
            mqs_buf_terminate(&info->retain_topic) < 0)
            return -1;
    }
    if (pkt->type != MQS_CONNECT || info->type != MQS_CONNECT)
        return 0;
    const mqs_connect *c = &pkt->connect;
    uint8_t cf = raw->connect_flags >= 0
                     ? (uint8_t)raw->connect_flags
                     : (uint8_t)((c->clean_session ? 0x02 : 0) | (c->will_flag ? 0x04 : 0) |
                                 (c->will_retain ? 0x20 : 0));
    info->connect = true;
    info->clean_session = (cf & 0x02) != 0;
    if (mqs_buf_append(&info->client_id, c->client_id.ptr, c->client_id.len) < 0 ||
        mqs_buf_terminate(&info->client_id) < 0)
        return -1;
    if (c->will_flag && (cf & 0x24) == 0x24) {
        info->has_retain_topic = true;
        if (mqs_buf_append(&info->retain_topic, c->will_topic.ptr, c->will_topic.len) < 0 ||
            mqs_buf_terminate(&info->retain_topic) < 0)
            return -1;
    }
    if (c->has_password && c->password.len <= len) {
        info->secret_len = c->password.len;
        info->secret_off = len - c->password.len;
    }
    return 0;
}

int mqs_spec_build(const mqs_sc_packet *spec, const mqs_build_ctx *ctx, mqs_buf *out,
                   mqs_built *info, char *err, size_t errlen)
{
    pool pl;
    memset(&pl, 0, sizeof pl);
    mqs_packet pkt;
    memset(&pkt, 0, sizeof pkt);
    mqs_encode_raw raw = MQS_ENCODE_RAW_INIT;
    int rc = -1;
    if (build_fields(spec, ctx, &pl, &pkt, err, errlen) < 0 ||
        build_raw(spec, ctx->vars, &raw, err, errlen) < 0)
        goto done;
    uint8_t probe[1];
    size_t need = 0;
    int st = mqs_encode_unchecked(&pkt, ctx->version, &raw, probe, 0, &need);
    if (st != MQS_OK && st != MQS_E_BUFFER_TOO_SMALL) {
        snprintf(err, errlen, "cannot encode %s: %s", mqs_type_name(spec->type),
                 mqs_status_str(st));
        goto done;
    }
    size_t start = out->len;
    if (need > 0) {
        uint8_t *p = mqs_realloc(out->p, out->len + need + 1);
        if (!p)
            goto oom;
        out->p = p;
        out->cap = out->len + need + 1;
        size_t written = 0;
        st = mqs_encode_unchecked(&pkt, ctx->version, &raw, out->p + out->len, need, &written);
        if (st != MQS_OK) {
            snprintf(err, errlen, "cannot encode %s: %s", mqs_type_name(spec->type),
                     mqs_status_str(st));
            goto done;
        }
        out->len += written;
        out->p[out->len] = 0;
    }
    if (info && note_built(&pkt, &raw, out->p + start, out->len - start, info) < 0)
        goto oom;
    rc = 0;
    goto done;
oom:
    rc = oom(err, errlen);
done:
    pool_free(&pl);
    return rc;
}

void mqs_built_free(mqs_built *b)
{
    mqs_buf_free(&b->client_id);
    mqs_buf_free(&b->retain_topic);
}
