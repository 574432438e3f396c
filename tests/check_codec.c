/* Check tests for the codec: the shared vectors (valid and malformed, both
 * versions), framing at every split, guard pages, encoder round trips and
 * refusals, raw builder overrides. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "codec/mqtt.h"
#include "tests/vectors.h"

static mqs_vec_table valid_vecs, malformed_vecs;

#define ITEM_CAP 16

/* ---- helpers ---- */

static int decode_vec(const mqs_vec *v, const uint8_t *bytes, mqs_packet *p, mqs_item *items,
                      mqs_diag *d)
{
    mqs_decode_opts o = {v->version, v->dir, 0};
    memset(p, 0, sizeof *p);
    p->items = items;
    p->n_items = ITEM_CAP;
    memset(d, 0, sizeof *d);
    return mqs_decode(bytes, v->len, &o, p, d);
}

static bool str_eq(mqs_str a, mqs_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* Field-by-field equality of two decoded packets (what an encoder must keep). */
static void assert_same_packet(const mqs_packet *a, const mqs_packet *b)
{
    ck_assert_uint_eq(a->type, b->type);
    ck_assert_uint_eq(a->packet_id, b->packet_id);
    if (a->type == MQS_PUBLISH) {
        ck_assert_int_eq(a->dup, b->dup);
        ck_assert_uint_eq(a->qos, b->qos);
        ck_assert_int_eq(a->retain, b->retain);
        ck_assert(str_eq(a->publish.topic, b->publish.topic));
        ck_assert(str_eq(a->publish.payload, b->publish.payload));
    }
    if (a->type == MQS_CONNECT) {
        const mqs_connect *x = &a->connect, *y = &b->connect;
        ck_assert(str_eq(x->client_id, y->client_id));
        ck_assert_int_eq(x->clean_session, y->clean_session);
        ck_assert_int_eq(x->will_flag, y->will_flag);
        ck_assert_uint_eq(x->will_qos, y->will_qos);
        ck_assert_int_eq(x->will_retain, y->will_retain);
        ck_assert(str_eq(x->will_topic, y->will_topic));
        ck_assert(str_eq(x->will_payload, y->will_payload));
        ck_assert_int_eq(x->has_username, y->has_username);
        ck_assert(str_eq(x->username, y->username));
        ck_assert_int_eq(x->has_password, y->has_password);
        ck_assert(str_eq(x->password, y->password));
        ck_assert_uint_eq(x->keepalive, y->keepalive);
        if (x->protocol_level != 0)
            ck_assert_uint_eq(x->protocol_level, y->protocol_level);
    }
    if (a->type == MQS_CONNACK) {
        ck_assert_int_eq(a->connack.session_present, b->connack.session_present);
        ck_assert_uint_eq(a->connack.return_code, b->connack.return_code);
    }
    ck_assert_uint_eq(a->n_items, b->n_items);
    for (size_t i = 0; i < a->n_items && i < ITEM_CAP; i++) {
        ck_assert(str_eq(a->items[i].filter, b->items[i].filter));
        ck_assert_uint_eq(a->items[i].qos, b->items[i].qos);
    }
}

/* ---- the vector tables ---- */

START_TEST(test_vectors_loaded)
{
    ck_assert_int_eq(valid_vecs.errors, 0);
    ck_assert_int_eq(malformed_vecs.errors, 0);
    ck_assert_uint_gt(valid_vecs.n, 50);
    ck_assert_uint_gt(malformed_vecs.n, 150);
}
END_TEST

START_TEST(test_valid_vector)
{
    const mqs_vec *v = &valid_vecs.v[_i];
    mqs_packet p;
    mqs_item items[ITEM_CAP];
    mqs_diag d;
    int st = decode_vec(v, v->bytes, &p, items, &d);
    ck_assert_msg(st == MQS_OK, "valid.tsv:%d (%s): %s at %zu (%s)", v->line, v->comment,
                  mqs_status_name(st), d.offset, d.field ? d.field : "");
}
END_TEST

START_TEST(test_malformed_vector)
{
    const mqs_vec *v = &malformed_vecs.v[_i];
    mqs_packet p;
    mqs_item items[ITEM_CAP];
    mqs_diag d;
    int st = decode_vec(v, v->bytes, &p, items, &d);
    ck_assert_msg(st == v->status && d.offset == v->offset,
                  "malformed.tsv:%d (%s): want %s at %zu, got %s at %zu (%s)", v->line, v->comment,
                  mqs_status_name(v->status), v->offset, mqs_status_name(st), d.offset,
                  d.field ? d.field : "");
    ck_assert(mqs_status_is_malformed(st));
    ck_assert_str_eq(mqs_status_rule(st), v->rule);
    ck_assert_int_eq(d.status, st);
    ck_assert_ptr_nonnull(d.field);
    ck_assert_uint_le(d.offset, v->len); /* == len: where a missing field should start */
}
END_TEST

/* One test per status of the table: every malformed status is reached by a
 * vector that decodes to exactly that status. */
START_TEST(test_status_reachable)
{
    int st = mqs_status_at((size_t)_i);
    if (!mqs_status_is_malformed(st))
        return;
    const mqs_vec *hit = NULL;
    for (size_t k = 0; k < malformed_vecs.n && !hit; k++)
        if (malformed_vecs.v[k].status == st)
            hit = &malformed_vecs.v[k];
    ck_assert_msg(hit != NULL, "no vector reaches %s", mqs_status_name(st));
    mqs_packet p;
    mqs_item items[ITEM_CAP];
    mqs_diag d;
    ck_assert_int_eq(decode_vec(hit, hit->bytes, &p, items, &d), st);
}
END_TEST

/* decode -> encode -> decode keeps every field; 3.1.1 output is byte-identical. */
START_TEST(test_roundtrip_vector)
{
    const mqs_vec *v = &valid_vecs.v[_i];
    mqs_packet p, q;
    mqs_item items[ITEM_CAP], items2[ITEM_CAP];
    mqs_diag d;
    uint8_t out[1024];
    size_t n = 0, need = 0;
    ck_assert_int_eq(decode_vec(v, v->bytes, &p, items, &d), MQS_OK);
    mqs_version ver = p.type == MQS_CONNECT ? (mqs_version)p.connect.protocol_level : v->version;
    ck_assert_int_eq(mqs_encoded_size(&p, ver, &need), MQS_OK);
    int st = mqs_encode(&p, ver, out, sizeof out, &n, &d);
    ck_assert_msg(st == MQS_OK, "valid.tsv:%d: encode %s", v->line, mqs_status_name(st));
    ck_assert_uint_eq(n, need);
    mqs_vec w = *v;
    w.len = n;
    ck_assert_int_eq(decode_vec(&w, out, &q, items2, &d), MQS_OK);
    assert_same_packet(&p, &q);
    if (v->version == MQS_V311 && ver == MQS_V311) {
        ck_assert_uint_eq(n, v->len);
        ck_assert_msg(memcmp(out, v->bytes, n) == 0, "valid.tsv:%d not canonical", v->line);
    }
}
END_TEST

/* Every valid vector through the framer, split at every byte. */
START_TEST(test_split_vector)
{
    const mqs_vec *v = &valid_vecs.v[_i];
    uint8_t store[1024];
    for (size_t cut = 0; cut <= v->len; cut++) {
        mqs_framer f;
        const uint8_t *frame = NULL;
        size_t flen = 0;
        mqs_framer_init(&f, store, sizeof store, 0);
        ck_assert_int_eq(mqs_framer_push(&f, v->bytes, cut), MQS_OK);
        if (cut < v->len) {
            ck_assert_int_eq(mqs_framer_next(&f, &frame, &flen, NULL), MQS_NEED_MORE);
            ck_assert_int_eq(mqs_framer_push(&f, v->bytes + cut, v->len - cut), MQS_OK);
        }
        ck_assert_int_eq(mqs_framer_next(&f, &frame, &flen, NULL), MQS_OK);
        ck_assert_uint_eq(flen, v->len);
        ck_assert(memcmp(frame, v->bytes, flen) == 0);
        ck_assert_int_eq(mqs_framer_next(&f, &frame, &flen, NULL), MQS_NEED_MORE);
    }
    /* byte by byte, and every prefix decodes to NEED_MORE */
    mqs_framer f;
    const uint8_t *frame = NULL;
    size_t flen = 0;
    mqs_framer_init(&f, store, sizeof store, 0);
    for (size_t i = 0; i < v->len; i++) {
        mqs_packet p;
        mqs_item items[ITEM_CAP];
        mqs_diag d;
        mqs_vec w = *v;
        w.len = i;
        ck_assert_int_eq(decode_vec(&w, v->bytes, &p, items, &d), MQS_NEED_MORE);
        ck_assert_int_eq(mqs_framer_next(&f, &frame, &flen, NULL), MQS_NEED_MORE);
        ck_assert_int_eq(mqs_framer_push(&f, v->bytes + i, 1), MQS_OK);
    }
    ck_assert_int_eq(mqs_framer_next(&f, &frame, &flen, NULL), MQS_OK);
    ck_assert_uint_eq(flen, v->len);
}
END_TEST

/* Memory whose end touches a PROT_NONE page: any over-read faults. */
static uint8_t *guard_base;
static size_t guard_page;

static void guard_setup(void)
{
    guard_page = (size_t)sysconf(_SC_PAGESIZE);
    guard_base = mmap(NULL, 2 * guard_page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                      -1, 0);
    ck_assert(guard_base != MAP_FAILED);
    ck_assert_int_eq(mprotect(guard_base + guard_page, guard_page, PROT_NONE), 0);
}

static void guard_teardown(void)
{
    munmap(guard_base, 2 * guard_page);
}

static const uint8_t *flush_copy(const uint8_t *bytes, size_t n)
{
    uint8_t *dst = guard_base + guard_page - n;
    memcpy(dst, bytes, n);
    return dst;
}

static void guard_check(const mqs_vec *v)
{
    for (size_t len = 0; len <= v->len && len <= guard_page; len++) {
        mqs_packet p;
        mqs_item items[ITEM_CAP];
        mqs_diag d;
        mqs_vec w = *v;
        w.len = len;
        int st = decode_vec(&w, flush_copy(v->bytes, len), &p, items, &d);
        if (len == v->len)
            ck_assert_int_eq(st, v->status);
        else
            ck_assert(st == MQS_NEED_MORE || mqs_status_is_malformed(st));
        st = mqs_frame_peek(flush_copy(v->bytes, len), len, 0, NULL, NULL, NULL, NULL, NULL);
        ck_assert(st == MQS_OK || st == MQS_NEED_MORE || mqs_status_is_malformed(st));
    }
}

START_TEST(test_guard_valid)
{
    guard_check(&valid_vecs.v[_i]);
}
END_TEST

START_TEST(test_guard_malformed)
{
    guard_check(&malformed_vecs.v[_i]);
}
END_TEST

/* ---- decoder specifics ---- */

START_TEST(test_decode_fields)
{
    /* CONNECT with will, user name, password */
    static const uint8_t c[] = {0x10, 0x21, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0xee, 0x00, 0x3c,
                                0x00, 0x02, 'i', 'd', 0x00, 0x03, 'w', '/', 't', 0x00, 0x02, 'b',
                                'y', 0x00, 0x04, 'u', 's', 'e', 'r', 0x00, 0x02, 'p', 'w'};
    mqs_packet p = {0};
    mqs_diag d;
    ck_assert_int_eq(mqs_decode(c, sizeof c, NULL, &p, &d), MQS_OK);
    ck_assert_uint_eq(p.type, MQS_CONNECT);
    ck_assert_uint_eq(p.connect.protocol_level, 4);
    ck_assert(p.connect.clean_session && p.connect.will_flag && p.connect.will_retain);
    ck_assert_uint_eq(p.connect.will_qos, 1);
    ck_assert(p.connect.has_username && p.connect.has_password);
    ck_assert_uint_eq(p.connect.keepalive, 60);
    ck_assert(p.connect.client_id.ptr == c + 14 && p.connect.client_id.len == 2); /* zero-copy */
    ck_assert(p.connect.will_topic.len == 3 && p.connect.will_payload.len == 2);
    ck_assert(p.connect.username.len == 4 && p.connect.password.len == 2);
    ck_assert_uint_eq(p.remaining_length, 0x21);

    static const uint8_t pub[] = {0x3b, 0x07, 0x00, 0x01, 't', 0x12, 0x34, 'h', 'i'};
    ck_assert_int_eq(mqs_decode(pub, sizeof pub, NULL, &p, &d), MQS_OK);
    ck_assert(p.dup && p.retain);
    ck_assert_uint_eq(p.qos, 1);
    ck_assert_uint_eq(p.packet_id, 0x1234);
    ck_assert_uint_eq(p.publish.packet_id, 0x1234);
    ck_assert(p.publish.payload.ptr == pub + 7 && p.publish.payload.len == 2);
}
END_TEST

START_TEST(test_decode_too_many_items)
{
    static const uint8_t sub[] = {0x82, 0x0e, 0x00, 0x01, 0x00, 0x01, 'a', 0x00, 0x00,
                                  0x01, 'b', 0x01, 0x00, 0x01, 'c', 0x02};
    static const uint8_t bad[] = {0x82, 0x0e, 0x00, 0x01, 0x00, 0x01, 'a', 0x00, 0x00,
                                  0x01, 'b', 0x01, 0x00, 0x01, '#', 0x03};
    mqs_item items[2];
    mqs_packet p = {.items = items, .n_items = 2};
    mqs_diag d;
    ck_assert_int_eq(mqs_decode(sub, sizeof sub, NULL, &p, &d), MQS_E_TOO_MANY_ITEMS);
    ck_assert_uint_eq(p.n_items, 3);
    ck_assert_uint_eq(items[1].qos, 1);
    ck_assert(items[1].filter.len == 1 && items[1].filter.ptr[0] == 'b');
    /* a later invalid item still wins over the small array */
    p.n_items = 2;
    ck_assert_int_eq(mqs_decode(bad, sizeof bad, NULL, &p, &d), MQS_E_SUBSCRIBE_QOS);
    ck_assert_uint_eq(d.offset, 15);
    /* no array at all */
    p.items = NULL;
    p.n_items = 0;
    ck_assert_int_eq(mqs_decode(sub, sizeof sub, NULL, &p, &d), MQS_E_TOO_MANY_ITEMS);
    ck_assert_uint_eq(p.n_items, 3);
}
END_TEST

START_TEST(test_decode_lenient_rl)
{
    static const uint8_t ping[] = {0xc0, 0x80, 0x00};
    static const uint8_t pub[] = {0x30, 0x85, 0x80, 0x00, 0x00, 0x01, 'a', 'x', 'y'};
    mqs_decode_opts lenient = {MQS_V311, MQS_DIR_ANY, MQS_LENIENT_NON_MINIMAL_RL};
    mqs_packet p = {0};
    mqs_diag d;
    ck_assert_int_eq(mqs_decode(ping, sizeof ping, NULL, &p, &d), MQS_E_RL_NON_MINIMAL);
    ck_assert_int_eq(mqs_decode(ping, sizeof ping, &lenient, &p, &d), MQS_OK);
    ck_assert_int_eq(mqs_decode(pub, sizeof pub, &lenient, &p, &d), MQS_OK);
    ck_assert_uint_eq(p.publish.payload.len, 2);
}
END_TEST

START_TEST(test_decode_bad_params)
{
    static const uint8_t two[] = {0xc0, 0x00, 0xc0, 0x00};
    mqs_packet p = {0};
    mqs_diag d;
    mqs_decode_opts bad_version = {7, MQS_DIR_ANY, 0};
    ck_assert_int_eq(mqs_decode(two, 4, NULL, &p, &d), MQS_E_BAD_PARAM); /* two frames */
    ck_assert_uint_eq(d.offset, 2);
    ck_assert_int_eq(mqs_decode(two, 2, NULL, NULL, &d), MQS_E_BAD_PARAM);
    ck_assert_int_eq(mqs_decode(NULL, 2, NULL, &p, &d), MQS_E_BAD_PARAM);
    ck_assert_int_eq(mqs_decode(two, 2, &bad_version, &p, &d), MQS_E_BAD_PARAM);
    ck_assert_int_eq(mqs_decode(NULL, 0, NULL, &p, NULL), MQS_NEED_MORE);
    ck_assert_int_eq(mqs_decode(two, 1, NULL, &p, NULL), MQS_NEED_MORE);
}
END_TEST

/* Remaining Length boundaries: 1, 2, 3 and 4 length bytes. */
START_TEST(test_decode_rl_boundaries)
{
    static const uint32_t sizes[] = {127, 128, 16383, 16384, 2097151, 2097152};
    static const size_t hdrs[] = {2, 3, 3, 4, 4, 5};
    static uint8_t buf[2097152 + 8], payload[2097152];
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        mqs_packet p = {.type = MQS_PUBLISH, .publish = {{(const uint8_t *)"t", 1}, 0, {payload, sizes[i] - 3}}};
        mqs_packet q = {0};
        size_t n = 0;
        ck_assert_int_eq(mqs_encode(&p, MQS_V311, buf, sizeof buf, &n, NULL), MQS_OK);
        ck_assert_uint_eq(n, hdrs[i] + sizes[i]);
        ck_assert_int_eq(mqs_decode(buf, n, NULL, &q, NULL), MQS_OK);
        ck_assert_uint_eq(q.remaining_length, sizes[i]);
        uint32_t rl = 0;
        size_t hdr = 0;
        ck_assert_int_eq(mqs_frame_peek(buf, n, 0, NULL, NULL, &rl, &hdr, NULL), MQS_OK);
        ck_assert_uint_eq(hdr, hdrs[i]);
    }
    static const uint8_t max_rl[] = {0x30, 0xff, 0xff, 0xff, 0x7f};
    uint32_t rl = 0;
    ck_assert_int_eq(mqs_frame_peek(max_rl, 5, 0, NULL, NULL, &rl, NULL, NULL), MQS_OK);
    ck_assert_uint_eq(rl, MQS_MAX_REMAINING_LENGTH);
}
END_TEST

/* ---- framer ---- */

START_TEST(test_framer_stream)
{
    static const uint8_t stream[] = {0xc0, 0x00, 0x40, 0x02, 0x00, 0x07, 0x30, 0x03,
                                     0x00, 0x01, 'a', 0xd0, 0x00};
    static const size_t lens[] = {2, 4, 5, 2};
    for (size_t chunk = 1; chunk <= sizeof stream; chunk++) {
        uint8_t store[32];
        mqs_framer f;
        size_t got = 0, fed = 0;
        mqs_framer_init(&f, store, sizeof store, 0);
        while (got < 4) {
            const uint8_t *frame;
            size_t flen;
            int st = mqs_framer_next(&f, &frame, &flen, NULL);
            if (st == MQS_OK) {
                ck_assert_uint_eq(flen, lens[got++]);
                continue;
            }
            ck_assert_int_eq(st, MQS_NEED_MORE);
            ck_assert_uint_lt(fed, sizeof stream);
            size_t n = sizeof stream - fed < chunk ? sizeof stream - fed : chunk;
            ck_assert_int_eq(mqs_framer_push(&f, stream + fed, n), MQS_OK);
            fed += n;
        }
    }
}
END_TEST

START_TEST(test_framer_errors)
{
    uint8_t store[4];
    mqs_framer f;
    const uint8_t *frame;
    size_t flen;
    mqs_diag d;
    static const uint8_t big[] = {0x30, 0x10, 0x00};
    static const uint8_t toolong[] = {0x30, 0xff, 0xff, 0xff, 0xff};
    mqs_framer_init(&f, store, sizeof store, 0);
    ck_assert_int_eq(mqs_framer_push(&f, big, 3), MQS_OK);
    ck_assert_int_eq(mqs_framer_next(&f, &frame, &flen, &d), MQS_E_BUFFER_TOO_SMALL);
    ck_assert_int_eq(mqs_framer_push(&f, big, 3), MQS_E_BUFFER_TOO_SMALL);
    mqs_framer_init(&f, store, sizeof store, 0);
    ck_assert_int_eq(mqs_framer_push(&f, toolong, 4), MQS_OK);
    ck_assert_int_eq(mqs_framer_next(&f, &frame, &flen, &d), MQS_NEED_MORE);
    uint8_t store2[8];
    mqs_framer_init(&f, store2, sizeof store2, 0);
    ck_assert_int_eq(mqs_framer_push(&f, toolong, 5), MQS_OK);
    ck_assert_int_eq(mqs_framer_next(&f, &frame, &flen, &d), MQS_E_RL_TOO_LONG);
    ck_assert_uint_eq(d.offset, 4);
    ck_assert_int_eq(mqs_framer_next(&f, &frame, &flen, &d), MQS_E_RL_TOO_LONG); /* sticky */
    ck_assert_int_eq(mqs_framer_push(&f, NULL, 1), MQS_E_BAD_PARAM);
}
END_TEST

/* ---- encoder ---- */

static mqs_str S(const char *s)
{
    return (mqs_str){(const uint8_t *)s, strlen(s)};
}

/* mqs_encode refuses with the status and offset mqs_decode reports on the
 * bytes mqs_encode_unchecked writes for the same packet. */
static void assert_refused(const mqs_packet *p, mqs_version v, int want)
{
    uint8_t out[256];
    size_t n = 0;
    mqs_diag de = {0}, dd = {0};
    mqs_item items[ITEM_CAP];
    mqs_packet q = {.items = items, .n_items = ITEM_CAP};
    int st = mqs_encode(p, v, out, sizeof out, &n, &de);
    ck_assert_msg(st == want, "encode: want %s got %s", mqs_status_name(want), mqs_status_name(st));
    ck_assert_int_eq(mqs_encode_unchecked(p, v, NULL, out, sizeof out, &n), MQS_OK);
    mqs_decode_opts o = {v, MQS_DIR_ANY, 0};
    ck_assert_int_eq(mqs_decode(out, n, &o, &q, &dd), want);
    ck_assert_uint_eq(de.offset, dd.offset);
    ck_assert_str_eq(de.field, dd.field);
    /* a refusal comes before any buffer-size complaint */
    ck_assert_int_eq(mqs_encode(p, v, NULL, 0, &n, NULL), want);
    ck_assert_int_eq(mqs_encoded_size(p, v, &n), want);
}

START_TEST(test_encode_refusals)
{
    mqs_item sub[2] = {{S("a/#"), 1}, {S("b+"), 0}};
    mqs_packet p = {.type = MQS_PUBLISH, .qos = 3, .packet_id = 1, .publish = {S("a"), 1, S("x")}};
    assert_refused(&p, MQS_V311, MQS_E_PUBLISH_QOS3);
    p.qos = 0;
    p.dup = true;
    assert_refused(&p, MQS_V311, MQS_E_PUBLISH_DUP_QOS0);
    p.dup = false;
    p.publish.topic = S("a/+");
    assert_refused(&p, MQS_V311, MQS_E_PUBLISH_TOPIC_WILDCARD);
    p.publish.topic = S("");
    assert_refused(&p, MQS_V31, MQS_E_TOPIC_EMPTY);
    p.publish.topic = (mqs_str){(const uint8_t *)"a\0", 2};
    assert_refused(&p, MQS_V311, MQS_E_UTF8_NUL);
    p.publish.topic = S("a");
    p.qos = 1;
    p.packet_id = p.publish.packet_id = 0;
    assert_refused(&p, MQS_V311, MQS_E_PACKET_ID_ZERO);

    mqs_packet s = {.type = MQS_SUBSCRIBE, .packet_id = 5, .items = sub, .n_items = 2};
    assert_refused(&s, MQS_V311, MQS_E_FILTER_PLUS);
    s.n_items = 0;
    assert_refused(&s, MQS_V311, MQS_E_SUBSCRIBE_EMPTY);
    s.n_items = 1;
    sub[0].qos = 3;
    assert_refused(&s, MQS_V311, MQS_E_SUBSCRIBE_QOS);
    s.dup = true;
    sub[0].qos = 0;
    assert_refused(&s, MQS_V311, MQS_E_SUBSCRIBE_FLAGS);

    mqs_item rc[1] = {{{NULL, 0}, 0x80}};
    mqs_packet sa = {.type = MQS_SUBACK, .packet_id = 5, .items = rc, .n_items = 1};
    assert_refused(&sa, MQS_V31, MQS_E_V31_SUBACK_RETURN_CODE);

    mqs_packet c = {.type = MQS_CONNECT, .connect = {.client_id = S(""), .keepalive = 10}};
    assert_refused(&c, MQS_V311, MQS_E_CONNECT_EMPTY_CLIENT_ID);
    assert_refused(&c, MQS_V31, MQS_E_V31_CLIENT_ID_LENGTH);
    c.connect.client_id = S("id");
    c.connect.will_qos = 1;
    assert_refused(&c, MQS_V311, MQS_E_CONNECT_WILL_QOS_NO_WILL);
    c.connect.will_flag = true;
    c.connect.will_topic = S("w/#");
    assert_refused(&c, MQS_V311, MQS_E_TOPIC_WILDCARD);
    c.connect.will_topic = S("w");
    c.connect.has_password = true;
    assert_refused(&c, MQS_V311, MQS_E_CONNECT_PASSWORD_NO_USERNAME);
    c.connect.has_username = true;
    c.connect.username = (mqs_str){(const uint8_t *)"\xed\xa0\x80", 3};
    assert_refused(&c, MQS_V311, MQS_E_UTF8_INVALID);

    mqs_packet a = {.type = MQS_CONNACK, .connack = {.session_present = true, .return_code = 2}};
    assert_refused(&a, MQS_V311, MQS_E_CONNACK_SESSION_PRESENT);
    a.connack.return_code = 9;
    assert_refused(&a, MQS_V311, MQS_E_CONNACK_RETURN_CODE);
    mqs_packet ack = {.type = MQS_PUBREL, .dup = true, .packet_id = 3};
    assert_refused(&ack, MQS_V311, MQS_E_PUBREL_FLAGS);
    mqs_packet ack0 = {.type = MQS_UNSUBACK};
    assert_refused(&ack0, MQS_V311, MQS_E_PACKET_ID_ZERO);
}
END_TEST

START_TEST(test_encode_buffer_sizes)
{
    mqs_item sub[2] = {{S("a/+"), 1}, {S("#"), 2}};
    mqs_packet p = {.type = MQS_SUBSCRIBE, .packet_id = 9, .items = sub, .n_items = 2};
    static const uint8_t want[] = {0x82, 0x0c, 0x00, 0x09, 0x00, 0x03, 'a', '/', '+', 0x01, 0x00, 0x01, '#', 0x02};
    uint8_t out[32];
    size_t n = 0;
    for (size_t cap = 0; cap < sizeof want; cap++) {
        memset(out, 0xaa, sizeof out);
        ck_assert_int_eq(mqs_encode(&p, MQS_V311, cap ? out : NULL, cap, &n, NULL), MQS_E_BUFFER_TOO_SMALL);
        ck_assert_uint_eq(n, sizeof want);
        ck_assert_uint_eq(out[cap], 0xaa); /* nothing written past cap */
        ck_assert_int_eq(mqs_encode_unchecked(&p, MQS_V311, NULL, cap ? out : NULL, cap, &n), MQS_E_BUFFER_TOO_SMALL);
        ck_assert_uint_eq(n, sizeof want);
    }
    ck_assert_int_eq(mqs_encode(&p, MQS_V311, out, sizeof want, &n, NULL), MQS_OK);
    ck_assert_uint_eq(n, sizeof want);
    ck_assert(memcmp(out, want, n) == 0);
}
END_TEST

START_TEST(test_encode_every_type)
{
    mqs_item sub[1] = {{S("a/b"), 2}}, rc[2] = {{{NULL, 0}, 0}, {{NULL, 0}, 0x80}};
    mqs_packet pkts[] = {
        {.type = MQS_CONNECT, .connect = {.clean_session = true, .client_id = S("cid"), .keepalive = 30, .will_flag = true, .will_qos = 2, .will_topic = S("w"), .will_payload = S("bye"), .has_username = true, .username = S("u"), .has_password = true, .password = S("p")}},
        {.type = MQS_CONNACK, .connack = {.session_present = true}},
        {.type = MQS_PUBLISH, .qos = 2, .retain = true, .dup = true, .packet_id = 77, .publish = {S("x/y"), 77, S("payload")}},
        {.type = MQS_PUBACK, .packet_id = 1},
        {.type = MQS_PUBREC, .packet_id = 2},
        {.type = MQS_PUBREL, .packet_id = 3},
        {.type = MQS_PUBCOMP, .packet_id = 4},
        {.type = MQS_SUBSCRIBE, .packet_id = 5, .items = sub, .n_items = 1},
        {.type = MQS_SUBACK, .packet_id = 5, .items = rc, .n_items = 2},
        {.type = MQS_UNSUBSCRIBE, .packet_id = 6, .items = sub, .n_items = 1},
        {.type = MQS_UNSUBACK, .packet_id = 6},
        {.type = MQS_PINGREQ},
        {.type = MQS_PINGRESP},
        {.type = MQS_DISCONNECT},
    };
    for (size_t i = 0; i < sizeof pkts / sizeof pkts[0]; i++) {
        uint8_t out[128];
        size_t n = 0;
        mqs_item items[ITEM_CAP];
        mqs_packet q = {.items = items, .n_items = ITEM_CAP};
        mqs_diag d;
        int st = mqs_encode(&pkts[i], MQS_V311, out, sizeof out, &n, &d);
        ck_assert_msg(st == MQS_OK, "%s: %s", mqs_type_name(pkts[i].type), mqs_status_name(st));
        ck_assert_int_eq(mqs_decode(out, n, NULL, &q, &d), MQS_OK);
        if (pkts[i].type == MQS_UNSUBSCRIBE)
            items[0].qos = 2; /* UNSUBSCRIBE carries no QoS */
        assert_same_packet(&pkts[i], &q);
        if (pkts[i].type == MQS_CONNECT || pkts[i].type == MQS_SUBACK)
            continue; /* 3.1 CONNECT needs a short id (fine) but SUBACK 0x80 is 3.1.1 only */
        mqs_decode_opts o31 = {MQS_V31, MQS_DIR_ANY, 0};
        ck_assert_int_eq(mqs_encode(&pkts[i], MQS_V31, out, sizeof out, &n, &d), MQS_OK);
        ck_assert_int_eq(mqs_decode(out, n, &o31, &q, &d), MQS_OK);
    }
}
END_TEST

START_TEST(test_encode_unchecked_raw)
{
    uint8_t out[64];
    size_t n = 0;
    mqs_packet ping = {.type = MQS_PINGREQ};
    mqs_encode_raw raw = MQS_ENCODE_RAW_INIT;
    raw.rl_bytes = 4; /* non-minimal length */
    ck_assert_int_eq(mqs_encode_unchecked(&ping, MQS_V311, &raw, out, sizeof out, &n), MQS_OK);
    static const uint8_t padded[] = {0xc0, 0x80, 0x80, 0x80, 0x00};
    ck_assert_uint_eq(n, 5);
    ck_assert(memcmp(out, padded, 5) == 0);
    raw.rl_bytes = 5;
    ck_assert_int_eq(mqs_encode_unchecked(&ping, MQS_V311, &raw, out, sizeof out, &n), MQS_OK);
    ck_assert_uint_eq(n, 6);
    mqs_decode_opts o = {0};
    mqs_packet q = {0};
    ck_assert_int_eq(mqs_decode(out, n, &o, &q, NULL), MQS_E_RL_TOO_LONG);

    raw = (mqs_encode_raw)MQS_ENCODE_RAW_INIT;
    raw.type = 15;
    raw.fixed_flags = 0x3;
    raw.remaining_length = 9;
    ck_assert_int_eq(mqs_encode_unchecked(&ping, MQS_V311, &raw, out, sizeof out, &n), MQS_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(out[0], 0xf3);
    ck_assert_uint_eq(out[1], 9);
    raw.rl_bytes = 9;
    ck_assert_int_eq(mqs_encode_unchecked(&ping, MQS_V311, &raw, out, sizeof out, &n), MQS_E_BAD_PARAM);
    raw.rl_bytes = 1;
    raw.remaining_length = 300;
    ck_assert_int_eq(mqs_encode_unchecked(&ping, MQS_V311, &raw, out, sizeof out, &n), MQS_E_BAD_PARAM);

    /* CONNECT with flags that lie and a mismatched protocol pair */
    mqs_packet c = {.type = MQS_CONNECT, .connect = {.protocol_name = S("MQTT"), .protocol_level = 3, .client_id = S("x")}};
    raw = (mqs_encode_raw)MQS_ENCODE_RAW_INIT;
    raw.connect_flags = 0x03;
    ck_assert_int_eq(mqs_encode_unchecked(&c, MQS_V311, &raw, out, sizeof out, &n), MQS_OK);
    ck_assert_uint_eq(out[8], 3);
    ck_assert_uint_eq(out[9], 0x03);
    mqs_diag d;
    ck_assert_int_eq(mqs_decode(out, n, NULL, &q, &d), MQS_E_CONNECT_PROTOCOL_LEVEL);

    /* empty SUBSCRIBE, packet id 0 and a bad string, as told */
    mqs_item bad[1] = {{{(const uint8_t *)"\xff", 1}, 7}};
    mqs_packet s = {.type = MQS_SUBSCRIBE, .items = bad, .n_items = 1};
    ck_assert_int_eq(mqs_encode_unchecked(&s, MQS_V311, NULL, out, sizeof out, &n), MQS_OK);
    static const uint8_t want[] = {0x82, 0x06, 0x00, 0x00, 0x00, 0x01, 0xff, 0x07};
    ck_assert_uint_eq(n, sizeof want);
    ck_assert(memcmp(out, want, n) == 0);
    s.n_items = 0;
    ck_assert_int_eq(mqs_encode_unchecked(&s, MQS_V311, NULL, out, sizeof out, &n), MQS_OK);
    ck_assert_uint_eq(n, 4);
    /* unrepresentable input */
    mqs_item null_items[1] = {{{NULL, 3}, 0}};
    s.items = null_items;
    s.n_items = 1;
    ck_assert_int_eq(mqs_encode_unchecked(&s, MQS_V311, NULL, out, sizeof out, &n), MQS_E_BAD_PARAM);
    ck_assert_int_eq(mqs_encode(NULL, MQS_V311, out, sizeof out, &n, NULL), MQS_E_BAD_PARAM);
    ck_assert_int_eq(mqs_encode(&ping, (mqs_version)5, out, sizeof out, &n, NULL), MQS_E_BAD_PARAM);
    mqs_packet reserved = {.type = 0};
    ck_assert_int_eq(mqs_encode(&reserved, MQS_V311, out, sizeof out, &n, NULL), MQS_E_RESERVED_TYPE);
    ck_assert_int_eq(mqs_encode_unchecked(&reserved, MQS_V311, NULL, out, sizeof out, &n), MQS_OK);
    ck_assert_uint_eq(out[0], 0x00);
}
END_TEST

START_TEST(test_type_names)
{
    ck_assert_str_eq(mqs_type_name(MQS_CONNECT), "CONNECT");
    ck_assert_str_eq(mqs_type_name(MQS_DISCONNECT), "DISCONNECT");
    ck_assert_str_eq(mqs_type_name(0), "RESERVED");
    ck_assert_str_eq(mqs_type_name(15), "RESERVED");
    ck_assert_str_eq(mqs_type_name(-1), "RESERVED");
    ck_assert_str_eq(mqs_type_name(99), "RESERVED");
}
END_TEST

Suite *codec_suite(void)
{
    Suite *s = suite_create("codec");
    mqs_vec_load(&valid_vecs, "valid.tsv");
    mqs_vec_load(&malformed_vecs, "malformed.tsv");
    int nv = (int)valid_vecs.n, nm = (int)malformed_vecs.n;

    TCase *tc = tcase_create("vectors");
    tcase_add_test(tc, test_vectors_loaded);
    tcase_add_loop_test(tc, test_valid_vector, 0, nv);
    tcase_add_loop_test(tc, test_malformed_vector, 0, nm);
    tcase_add_loop_test(tc, test_status_reachable, 0, (int)mqs_status_count());
    suite_add_tcase(s, tc);

    tc = tcase_create("roundtrip");
    tcase_add_loop_test(tc, test_roundtrip_vector, 0, nv);
    tcase_add_test(tc, test_encode_every_type);
    tcase_add_test(tc, test_encode_refusals);
    tcase_add_test(tc, test_encode_buffer_sizes);
    tcase_add_test(tc, test_encode_unchecked_raw);
    suite_add_tcase(s, tc);

    tc = tcase_create("streaming");
    tcase_add_loop_test(tc, test_split_vector, 0, nv);
    tcase_add_test(tc, test_framer_stream);
    tcase_add_test(tc, test_framer_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("guard_page");
    tcase_add_checked_fixture(tc, guard_setup, guard_teardown);
    tcase_add_loop_test(tc, test_guard_valid, 0, nv);
    tcase_add_loop_test(tc, test_guard_malformed, 0, nm);
    suite_add_tcase(s, tc);

    tc = tcase_create("decode");
    tcase_add_test(tc, test_decode_fields);
    tcase_add_test(tc, test_decode_too_many_items);
    tcase_add_test(tc, test_decode_lenient_rl);
    tcase_add_test(tc, test_decode_bad_params);
    tcase_add_test(tc, test_decode_rl_boundaries);
    tcase_add_test(tc, test_type_names);
    tcase_set_timeout(tc, 30);
    suite_add_tcase(s, tc);
    return s;
}
