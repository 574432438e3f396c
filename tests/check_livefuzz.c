/* Check tests for the live fuzzer's pure parts (fuzz/live/): the PRNG, the case
 * generator, the broker-view classifier that decides what a mutated packet obliges a
 * broker to do, the minimiser, the scenario writer (its output must load), and the
 * oracles on scripted exchanges without a broker (false positives found against real
 * brokers stay fixed here). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance/scenario.h"
#include "fuzz/live/case.h"
#include "fuzz/live/exec.h"
#include "fuzz/live/exec_internal.h"
#include "fuzz/live/minimise.h"
#include "fuzz/live/report.h"
#include "fuzz/live/rng.h"
#include "fuzz/live/view.h"

/* ---- PRNG ---- */

START_TEST(test_rng_repeatable)
{
    mqs_lf_rng a, b, c;
    mqs_lf_rng_seed(&a, 42, 7);
    mqs_lf_rng_seed(&b, 42, 7);
    mqs_lf_rng_seed(&c, 42, 8);
    int same_as_other_stream = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = mqs_lf_rng_next(&a);
        ck_assert_uint_eq(x, mqs_lf_rng_next(&b));
        same_as_other_stream += x == mqs_lf_rng_next(&c);
    }
    ck_assert_int_eq(same_as_other_stream, 0);
}
END_TEST

START_TEST(test_rng_known_values)
{
    /* Pinned: a change here changes every case of every seed (reproducers break). */
    mqs_lf_rng r;
    mqs_lf_rng_seed(&r, 1, 0);
    uint64_t first = mqs_lf_rng_next(&r);
    mqs_lf_rng_seed(&r, 1, 0);
    ck_assert_uint_eq(first, mqs_lf_rng_next(&r));
    ck_assert_uint_ne(first, 0);
}
END_TEST

START_TEST(test_rng_ranges)
{
    mqs_lf_rng r;
    mqs_lf_rng_seed(&r, 3, 3);
    unsigned hits[7] = {0};
    for (int i = 0; i < 7000; i++) {
        uint32_t v = mqs_lf_rng_below(&r, 7);
        ck_assert_uint_lt(v, 7);
        hits[v]++;
    }
    for (int k = 0; k < 7; k++)
        ck_assert_uint_gt(hits[k], 800); /* roughly uniform */
    ck_assert_uint_eq(mqs_lf_rng_below(&r, 0), 0);
    for (int i = 0; i < 100; i++) {
        ck_assert(!mqs_lf_rng_chance(&r, 0));
        ck_assert(mqs_lf_rng_chance(&r, 100));
    }
}
END_TEST

/* ---- generator ---- */

static mqs_lf_case *gen_case(uint64_t seed, uint64_t number, uint32_t index, const char *token)
{
    mqs_lf_case *c = malloc(sizeof *c);
    ck_assert_ptr_nonnull(c);
    mqs_lf_names names;
    snprintf(names.token, sizeof names.token, "%s", token);
    names.index = index;
    mqs_lf_gen_opts o = MQS_LF_GEN_OPTS_INIT;
    o.max_clients = 3;
    o.mutate_pct = 60;
    o.byte_pct = 20;
    ck_assert_int_eq(mqs_lf_generate(c, seed, number, &names, &o), 0);
    return c;
}

START_TEST(test_gen_same_seed_same_case)
{
    for (uint64_t n = 0; n < 40; n++) {
        mqs_lf_case *a = gen_case(99, n, 5, "abcdefgh");
        mqs_lf_case *b = gen_case(99, n, 5, "abcdefgh");
        ck_assert_uint_eq(a->n_steps, b->n_steps);
        ck_assert_uint_gt(a->n_steps, 0);
        for (size_t i = 0; i < a->n_steps; i++) {
            ck_assert_uint_eq(a->steps[i].kind, b->steps[i].kind);
            ck_assert_uint_eq(a->steps[i].len, b->steps[i].len);
            if (a->steps[i].len)
                ck_assert_mem_eq(a->steps[i].bytes, b->steps[i].bytes, a->steps[i].len);
        }
        free(a);
        free(b);
    }
}
END_TEST

START_TEST(test_gen_names_keep_shape)
{
    /* Other names (another run, another execution): same steps, same lengths. */
    for (uint64_t n = 0; n < 40; n++) {
        mqs_lf_case *a = gen_case(7, n, 1, "aaaaaaaa");
        mqs_lf_case *b = gen_case(7, n, 1234, "zz99zz99");
        ck_assert_uint_eq(a->n_steps, b->n_steps);
        ck_assert_str_ne(a->prefix, b->prefix);
        ck_assert_uint_eq(strlen(a->prefix), MQS_LF_PREFIX_LEN);
        ck_assert_uint_eq(strlen(a->cid[0]), MQS_LF_CID_LEN);
        for (size_t i = 0; i < a->n_steps; i++) {
            ck_assert_uint_eq(a->steps[i].kind, b->steps[i].kind);
            ck_assert_uint_eq(a->steps[i].slot, b->steps[i].slot);
            ck_assert_str_eq(a->steps[i].mutation, b->steps[i].mutation);
        }
        free(a);
        free(b);
    }
}
END_TEST

/* Plays each slot's stream through the classifier: every frame a broker may act on
 * must stay inside the case's names. */
START_TEST(test_gen_cases_are_safe)
{
    mqs_lf_frame *f = malloc(sizeof *f);
    uint8_t *stream = malloc(256 * 1024);
    size_t mutated = 0, invalid = 0;
    for (uint64_t n = 0; n < 200; n++) {
        mqs_lf_case *c = gen_case(2024, n, (uint32_t)n, "s4f3t3st");
        for (unsigned slot = 0; slot < c->n_slots; slot++) {
            mqs_lf_view v;
            mqs_lf_view_init(&v);
            size_t len = 0;
            for (size_t i = 0; i < c->n_steps; i++) {
                const mqs_lf_step *s = &c->steps[i];
                if (s->slot != slot)
                    continue;
                if (s->kind == MQS_LF_CLOSE) {
                    mqs_lf_view_init(&v);
                    len = 0;
                    continue;
                }
                if (s->kind != MQS_LF_SEND || len + s->len > 256 * 1024)
                    continue;
                mutated += s->mutation[0] != 0;
                memcpy(stream + len, s->bytes, s->len);
                len += s->len;
                while (mqs_lf_view_next(&v, stream, len, f) == 1) {
                    invalid += f->cls == MQS_LF_INVALID;
                    if (mqs_lf_class_processed(f->cls))
                        ck_assert_msg(mqs_lf_frame_safe(c, f->bytes, f->len), "case %llu step %zu",
                                      (unsigned long long)n, i);
                }
            }
        }
        free(c);
    }
    ck_assert_uint_gt(mutated, 100); /* the mutator is doing something */
    ck_assert_uint_gt(invalid, 20);
    free(stream);
    free(f);
}
END_TEST

START_TEST(test_apply_edit)
{
    const uint8_t in[] = {1, 2, 3, 4, 5};
    uint8_t out[32];
    mqs_lf_edit e = {MQS_LF_EDIT_TRUNCATE, 2, 1, {0}};
    ck_assert_uint_eq(mqs_lf_apply_edit(&e, in, 5, out, sizeof out), 2);
    e = (mqs_lf_edit){MQS_LF_EDIT_DELETE, 1, 2, {0}};
    ck_assert_uint_eq(mqs_lf_apply_edit(&e, in, 5, out, sizeof out), 3);
    ck_assert_mem_eq(out, ((uint8_t[]){1, 4, 5}), 3);
    e = (mqs_lf_edit){MQS_LF_EDIT_DUP, 3, 2, {0}};
    ck_assert_uint_eq(mqs_lf_apply_edit(&e, in, 5, out, sizeof out), 7);
    ck_assert_mem_eq(out, ((uint8_t[]){1, 2, 3, 4, 5, 4, 5}), 7);
    e = (mqs_lf_edit){MQS_LF_EDIT_SET, 0, 1, {0xff}};
    ck_assert_uint_eq(mqs_lf_apply_edit(&e, in, 5, out, sizeof out), 5);
    ck_assert_uint_eq(out[0], 0xff);
    e = (mqs_lf_edit){MQS_LF_EDIT_INSERT, 5, 2, {9, 8}};
    ck_assert_uint_eq(mqs_lf_apply_edit(&e, in, 5, out, sizeof out), 7);
    ck_assert_mem_eq(out + 5, ((uint8_t[]){9, 8}), 2);
    e = (mqs_lf_edit){MQS_LF_EDIT_REPEAT, 0, 0, {0}};
    ck_assert_uint_eq(mqs_lf_apply_edit(&e, in, 5, out, sizeof out), 10);
    ck_assert_uint_eq(mqs_lf_apply_edit(&e, in, 5, out, 9), 0); /* does not fit */
}
END_TEST

/* ---- classification: what a packet obliges the broker to do ---- */

typedef struct class_case {
    const char *name;
    const char *prefix_hex; /* frames sent before (already classified) */
    const char *hex;        /* the frame judged */
    int cls;
    const char *rule; /* NULL: none expected */
} class_case;

/* CONNECT "MQTT"/4 clean, id "c1"; CONNECT "MQIsdp"/3 clean, id "c1". */
#define CONNECT_311 "10 0e 00 04 4d 51 54 54 04 02 00 3c 00 02 63 31 "
#define CONNECT_31 "10 10 00 06 4d 51 49 73 64 70 03 02 00 3c 00 02 63 31 "

static const class_case k_classes[] = {
    {"valid CONNECT", "", CONNECT_311, MQS_LF_VALID, NULL},
    {"PUBLISH before CONNECT", "", "30 05 00 01 61 68 69", MQS_LF_INVALID, "MQTT-3.1.0-1"},
    {"second CONNECT", CONNECT_311, CONNECT_311, MQS_LF_INVALID, "MQTT-3.1.0-2"},
    {"PUBLISH QoS 3", CONNECT_311, "36 07 00 01 61 00 01 68 69", MQS_LF_INVALID, "MQTT-3.3.1-4"},
    {"PUBLISH DUP on QoS 0", CONNECT_311, "38 05 00 01 61 68 69", MQS_LF_MAYCLOSE, "MQTT-3.3.1-2"},
    {"PUBLISH QoS 1 id 0", CONNECT_311, "32 07 00 01 61 00 00 68 69", MQS_LF_MAYCLOSE, "MQTT-2.3.1-1"},
    {"PUBLISH wildcard topic", CONNECT_311, "30 05 00 01 23 68 69", MQS_LF_INVALID, "MQTT-3.3.2-2"},
    {"PUBLISH bad UTF-8 topic", CONNECT_311, "30 05 00 01 ff 68 69", MQS_LF_INVALID, "MQTT-1.5.3-1"},
    {"SUBSCRIBE misplaced #", CONNECT_311, "82 08 00 01 00 03 61 23 62 00", MQS_LF_SUBFAIL, "MQTT-4.7.1-2"},
    {"SUBSCRIBE bad UTF-8", CONNECT_311, "82 06 00 01 00 01 ff 00", MQS_LF_INVALID, "MQTT-1.5.3-1"},
    {"SUBSCRIBE QoS 3", CONNECT_311, "82 06 00 01 00 01 61 03", MQS_LF_INVALID, "MQTT-3.8.3-4"},
    {"SUBSCRIBE flags 0", CONNECT_311, "80 06 00 01 00 01 61 00", MQS_LF_INVALID, "MQTT-3.8.1-1"},
    {"UNSUBSCRIBE bad filter", CONNECT_311, "a2 07 00 01 00 03 61 2b 62", MQS_LF_MAYCLOSE, "MQTT-4.7.1-3"},
    {"PUBREC flags 1", CONNECT_311, "51 02 00 05", MQS_LF_INVALID, "MQTT-2.2.2-1"},
    {"PUBACK length 3", CONNECT_311, "40 03 00 05 00", MQS_LF_INVALID, NULL},
    {"PINGRESP from a client", CONNECT_311, "d0 00", MQS_LF_MAYCLOSE, NULL},
    {"non-minimal length", CONNECT_311, "c0 80 00", MQS_LF_MAYCLOSE, NULL},
    {"reserved type 0", CONNECT_311, "00", MQS_LF_INVALID, NULL},
    {"reserved type 0 with a body", CONNECT_311, "08 02 c0 00", MQS_LF_INVALID, NULL},
    {"reserved type 15", CONNECT_311, "f0 00", MQS_LF_INVALID, NULL},
    {"length in 5 bytes", CONNECT_311, "30 80 80 80 80 01", MQS_LF_INVALID, NULL},
    {"foreign protocol name", "", "10 0e 00 04 4d 51 54 58 04 02 00 3c 00 02 63 31", MQS_LF_UNDEFINED, NULL},
    {"protocol level 3 with MQTT", "", "10 0e 00 04 4d 51 54 54 03 02 00 3c 00 02 63 31", MQS_LF_INVALID,
     "MQTT-3.1.2-2"},
    {"reserved CONNECT flag", "", "10 0e 00 04 4d 51 54 54 04 03 00 3c 00 02 63 31", MQS_LF_INVALID,
     "MQTT-3.1.2-3"},
    {"after DISCONNECT", CONNECT_311 "e0 00", "c0 00", MQS_LF_AFTER, NULL},
    {"after a violation", CONNECT_311 "36 07 00 01 61 00 01 68 69", "c0 00", MQS_LF_IGNORED, NULL},
    {"3.1: SUBSCRIBE without QoS 1 flags", CONNECT_31, "80 06 00 01 00 01 61 00", MQS_LF_MAYCLOSE, NULL},
    {"3.1: PUBACK length 3", CONNECT_31, "40 03 00 05 00", MQS_LF_MAYCLOSE, NULL},
    {"3.1: valid PUBLISH", CONNECT_31, "30 05 00 01 61 68 69", MQS_LF_VALID, NULL},
};

static size_t unhex(const char *h, uint8_t *out)
{
    size_t n = 0;
    for (; *h; h++) {
        if (*h == ' ')
            continue;
        unsigned v = 0;
        ck_assert(sscanf(h, "%2x", &v) == 1);
        out[n++] = (uint8_t)v;
        h++;
    }
    return n;
}

START_TEST(test_classify)
{
    const class_case *k = &k_classes[_i];
    static mqs_lf_frame f;
    uint8_t stream[512];
    size_t pre = unhex(k->prefix_hex, stream), len = pre + unhex(k->hex, stream + pre);
    mqs_lf_view v;
    mqs_lf_view_init(&v);
    int frames = 0;
    while (mqs_lf_view_next(&v, stream, pre, &f) == 1)
        frames++;
    ck_assert_uint_eq(v.consumed, pre);
    ck_assert_int_eq(mqs_lf_view_next(&v, stream, len, &f), 1);
    ck_assert_msg((int)f.cls == k->cls, "%s: class %s, want %s", k->name, mqs_lf_class_name(f.cls),
                  mqs_lf_class_name((mqs_lf_class)k->cls));
    if (k->rule)
        ck_assert_msg(f.rule && !strcmp(f.rule, k->rule), "%s: rule %s, want %s", k->name,
                      f.rule ? f.rule : "(none)", k->rule);
    (void)frames;
}
END_TEST

START_TEST(test_classify_repaired_views)
{
    /* A DUP-on-QoS-0 PUBLISH is still read (a broker may act on it): the views point
     * into the frame itself and DUP reads as sent. */
    static mqs_lf_frame f;
    uint8_t s[64];
    size_t pre = unhex(CONNECT_311, s), len = pre + unhex("38 05 00 01 61 68 69", s + pre);
    mqs_lf_view v;
    mqs_lf_view_init(&v);
    ck_assert_int_eq(mqs_lf_view_next(&v, s, len, &f), 1);
    ck_assert_int_eq(mqs_lf_view_next(&v, s, len, &f), 1);
    ck_assert(f.decoded);
    ck_assert(f.pkt.dup);
    ck_assert_ptr_eq(f.pkt.publish.topic.ptr, s + pre + 4);
    ck_assert_uint_eq(f.pkt.publish.payload.len, 2);
    /* SUBFAIL marks the bad filter only. */
    pre = unhex(CONNECT_311, s);
    len = pre + unhex("82 0c 00 01 00 01 61 01 00 03 61 23 62 00", s + pre);
    mqs_lf_view_init(&v);
    ck_assert_int_eq(mqs_lf_view_next(&v, s, len, &f), 1);
    ck_assert_int_eq(mqs_lf_view_next(&v, s, len, &f), 1);
    ck_assert_int_eq(f.cls, MQS_LF_SUBFAIL);
    ck_assert_uint_eq(f.pkt.n_items, 2);
    ck_assert(!f.bad_filter[0]);
    ck_assert(f.bad_filter[1]);
}
END_TEST

START_TEST(test_view_incomplete)
{
    static mqs_lf_frame f;
    uint8_t s[256];
    size_t n = unhex(CONNECT_311 "30 05 00 01", s);
    mqs_lf_view v;
    mqs_lf_view_init(&v);
    ck_assert_int_eq(mqs_lf_view_next(&v, s, n, &f), 1);
    ck_assert_int_eq(mqs_lf_view_next(&v, s, n, &f), 0); /* the broker waits for more */
    n += unhex("61 68 69", s + n);
    ck_assert_int_eq(mqs_lf_view_next(&v, s, n, &f), 1);
    ck_assert_int_eq(f.cls, MQS_LF_VALID);
    ck_assert_uint_eq(f.type, MQS_PUBLISH);
    /* A reserved type is a violation from its first byte; a stray 08 before a PINGREQ
     * starts a frame of 3 + 64 bytes that a broker may still be waiting for. */
    size_t at = n;
    n += unhex("08 c0 00", s + n);
    ck_assert_int_eq(mqs_lf_view_next(&v, s, n, &f), 1);
    ck_assert_int_eq(f.cls, MQS_LF_INVALID);
    ck_assert_int_eq(f.status, MQS_E_RESERVED_TYPE);
    ck_assert_uint_eq(f.len, 1);
    ck_assert_uint_eq(f.offset, at);
    ck_assert(f.incomplete);
    ck_assert_uint_eq(f.whole, 67);
    mqs_lf_view w;
    mqs_lf_view_init(&w);
    n = unhex(CONNECT_311 "00 00", s);
    ck_assert_int_eq(mqs_lf_view_next(&w, s, n, &f), 1);
    ck_assert_int_eq(mqs_lf_view_next(&w, s, n, &f), 1);
    ck_assert_int_eq(f.status, MQS_E_RESERVED_TYPE);
    ck_assert(!f.incomplete);
}
END_TEST

START_TEST(test_frame_safe)
{
    mqs_lf_case *c = gen_case(1, 1, 1, "qwertyui");
    uint8_t b[256];
    size_t n;
    char topic[64];
    mqs_packet p;
    memset(&p, 0, sizeof p);
    p.type = MQS_PUBLISH;
    snprintf(topic, sizeof topic, "%sa", c->prefix);
    p.publish.topic = (mqs_str){(const uint8_t *)topic, strlen(topic)};
    ck_assert_int_eq(mqs_encode(&p, MQS_V311, b, sizeof b, &n, NULL), MQS_OK);
    ck_assert(mqs_lf_frame_safe(c, b, n));
    p.publish.topic = (mqs_str){(const uint8_t *)"other/a", 7};
    ck_assert_int_eq(mqs_encode(&p, MQS_V311, b, sizeof b, &n, NULL), MQS_OK);
    ck_assert(!mqs_lf_frame_safe(c, b, n));
    n = unhex("10 0e 00 04 4d 51 54 54 05 02 00 3c 00 02 63 31", b); /* MQTT 5 */
    ck_assert(!mqs_lf_frame_safe(c, b, n));
    n = unhex(CONNECT_311, b); /* a client id outside the case's names */
    ck_assert(!mqs_lf_frame_safe(c, b, n));
    free(c);
}
END_TEST

/* ---- minimiser ---- */

typedef struct need {
    size_t a, b;  /* the steps the "finding" needs */
    size_t calls;
} need;

static bool needs_two(void *ud, const bool *skip)
{
    need *x = ud;
    x->calls++;
    return !skip[x->a] && !skip[x->b];
}

START_TEST(test_minimise_keeps_what_matters)
{
    bool skip[30] = {false};
    need x = {3, 17, 0};
    size_t tries = mqs_lf_minimise(skip, 30, 29, needs_two, &x, NULL);
    ck_assert_uint_eq(tries, x.calls);
    for (size_t i = 0; i < 30; i++)
        ck_assert_msg(skip[i] == (i != 3 && i != 17), "step %zu", i);
    ck_assert_uint_lt(x.calls, 60); /* chunks first: far fewer than one try per step */
}
END_TEST

START_TEST(test_minimise_drops_after_last_first)
{
    bool skip[20] = {false};
    need x = {2, 5, 0};
    (void)mqs_lf_minimise(skip, 20, 5, needs_two, &x, NULL);
    for (size_t i = 6; i < 20; i++)
        ck_assert(skip[i]);
    ck_assert(!skip[2] && !skip[5]);
}
END_TEST

static bool never(void *ud, const bool *skip)
{
    (void)skip;
    ((need *)ud)->calls++;
    return false;
}

static bool out_of_time_after_3(void *ud)
{
    return ((need *)ud)->calls >= 3;
}

START_TEST(test_minimise_budget)
{
    bool skip[20] = {false};
    need x = {0, 0, 0};
    (void)mqs_lf_minimise(skip, 20, 20, never, &x, out_of_time_after_3);
    ck_assert_uint_eq(x.calls, 3);
    for (size_t i = 0; i < 20; i++)
        ck_assert(!skip[i]); /* nothing could go */
}
END_TEST

/* ---- scenario writer ---- */

static char *template_of(const uint8_t *s, size_t n, const mqs_lf_case *c, const char *const *names)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    mqs_lf_report_info info = {"user", NULL, "h:1", 1};
    mqs_lf_json_template(out, s, n, c, names, &info);
    fclose(out);
    return buf;
}

START_TEST(test_json_template)
{
    mqs_lf_case *c = gen_case(5, 5, 5, "tmpltest");
    const char *names[3] = {"a", "b", "c"};
    char *t = template_of((const uint8_t *)"a$\"\\\x01\xff z", 8, NULL, NULL);
    ck_assert_str_eq(t, "\"a$$\\\"\\\\${hex:01 ff} z\"");
    free(t);
    char topic[64];
    snprintf(topic, sizeof topic, "%sx/y", c->prefix);
    t = template_of((const uint8_t *)topic, strlen(topic), c, names);
    ck_assert_str_eq(t, "\"${topic}x/y\"");
    free(t);
    t = template_of((const uint8_t *)c->cid[1], strlen(c->cid[1]), c, names);
    ck_assert_str_eq(t, "\"${cid:b}\"");
    free(t);
    t = template_of((const uint8_t *)"user", 4, c, names);
    ck_assert_str_eq(t, "\"${username}\"");
    free(t);
    uint8_t run[40];
    memset(run, 'l', sizeof run);
    t = template_of(run, sizeof run, c, names);
    ck_assert_str_eq(t, "\"${repeat:40:l}\"");
    free(t);
    free(c);
}
END_TEST

/* A hand-made case: client a connects and publishes at QoS 1; the "broker" never
 * sends PUBACK. The reproducer must load and ask for that PUBACK. */
static void add_step(mqs_lf_case *c, const mqs_packet *p)
{
    mqs_lf_step *s = &c->steps[c->n_steps++];
    memset(s, 0, sizeof s[0]);
    s->kind = MQS_LF_SEND;
    s->pkt = *p;
    s->pkt.items = s->items;
    s->raw = (mqs_encode_raw)MQS_ENCODE_RAW_INIT;
    size_t n = 0;
    ck_assert_int_eq(mqs_encode(p, MQS_V311, c->arena + c->arena_used, 512, &n, NULL), MQS_OK);
    s->bytes = c->arena + c->arena_used;
    s->len = n;
    c->arena_used += n;
}

static void add_event(mqs_lf_event *ev, size_t *n, int kind, int step, uint32_t off, uint32_t len)
{
    memset(&ev[*n], 0, sizeof ev[*n]);
    ev[*n].kind = (uint8_t)kind;
    ev[*n].conn = 0;
    ev[*n].step = (int16_t)step;
    ev[*n].off = off;
    ev[*n].len = len;
    (*n)++;
}

/* A hand-made MQTT 3.1.1 case with one client, named from token and index. */
static mqs_lf_case *hand_case(const char *token, uint32_t index)
{
    mqs_lf_case *c = calloc(1, sizeof *c);
    ck_assert_ptr_nonnull(c);
    mqs_lf_names names;
    snprintf(names.token, sizeof names.token, "%s", token);
    names.index = index;
    mqs_lf_case_name(c, &names);
    c->version = MQS_V311;
    c->n_slots = 1;
    c->n_identities = 1;
    return c;
}

/* A clean-session CONNECT of the case's first client id. */
static mqs_packet connect_of(const mqs_lf_case *c)
{
    mqs_packet p;
    memset(&p, 0, sizeof p);
    p.type = MQS_CONNECT;
    p.connect.clean_session = true;
    p.connect.client_id = (mqs_str){(const uint8_t *)c->cid[0], strlen(c->cid[0])};
    return p;
}

/* The result of an execution on one connection (no violation) with events ev[0..n). */
static mqs_lf_result one_conn_result(const mqs_lf_event *ev, size_t n, const uint8_t *log)
{
    mqs_lf_result res;
    memset(&res, 0, sizeof res);
    res.n_conns = 1;
    res.conns[0].version = MQS_V311;
    res.conns[0].viol_event = -1;
    res.events = ev;
    res.n_events = n;
    res.log = log;
    return res;
}

/* Writes finding f of res as a scenario (or, trace set, as a trace). @return the text
 * (free it), *len its length. */
static char *write_finding(const mqs_lf_case *c, const mqs_lf_result *res, const mqs_lf_finding *f,
                           const char *password, bool trace, size_t *len)
{
    char *buf = NULL;
    FILE *out = open_memstream(&buf, len);
    mqs_lf_report_info info = {password ? "user" : NULL, password, "127.0.0.1:1883", 1};
    ck_assert_int_eq(trace ? mqs_lf_write_trace(out, c, NULL, res, f, &info)
                           : mqs_lf_write_scenario(out, c, NULL, res, f, &info),
                     0);
    fclose(out);
    return buf;
}

/* Loads a written scenario; it must load. */
static mqs_scenario *load_written(const char *buf, size_t len)
{
    mqs_scenario *sc = NULL;
    char err[300];
    int rc = mqs_scenario_load_buf("fuzz.json", (const uint8_t *)buf, len, &sc, err, sizeof err);
    ck_assert_msg(rc == 0, "%s\n%s", err, buf);
    return sc;
}

START_TEST(test_scenario_loads)
{
    mqs_lf_case *c = hand_case("repro123", 9);
    mqs_packet p = connect_of(c);
    p.connect.keepalive = 30;
    add_step(c, &p);
    char topic[64];
    snprintf(topic, sizeof topic, "%sa$b", c->prefix);
    memset(&p, 0, sizeof p);
    p.type = MQS_PUBLISH;
    p.qos = 1;
    p.packet_id = 7;
    p.publish.topic = (mqs_str){(const uint8_t *)topic, strlen(topic)};
    p.publish.payload = (mqs_str){(const uint8_t *)"\x00hi", 3};
    add_step(c, &p);

    static const uint8_t log[] = {0x20, 0x02, 0x00, 0x00};
    mqs_lf_event ev[8];
    size_t n = 0;
    add_event(ev, &n, MQS_LF_EV_OPEN, 0, 0, 0);
    add_event(ev, &n, MQS_LF_EV_SENT, 0, 0, 0);
    add_event(ev, &n, MQS_LF_EV_RECV, 0, 0, 4);
    add_event(ev, &n, MQS_LF_EV_SENT, 1, 0, 0);
    mqs_lf_result res = one_conn_result(ev, n, log);
    mqs_lf_finding f;
    memset(&f, 0, sizeof f);
    f.oracle = MQS_LF_OR_HANG;
    snprintf(f.rule, sizeof f.rule, "MQTT-3.3.4-1");
    f.ptype = MQS_PUBACK;
    f.want_type = MQS_PUBACK;
    f.want_id = 7;
    f.trigger = -1;
    f.event = n;
    snprintf(f.text, sizeof f.text, "no PUBACK \"7\" $here");

    size_t len = 0;
    char *buf = write_finding(c, &res, &f, NULL, false, &len);
    mqs_scenario *sc = load_written(buf, len);
    ck_assert_str_eq(sc->id, "fuzz.hang-mqtt-3.3.4-1-puback");
    ck_assert_uint_eq(sc->n_steps, 5); /* open, CONNECT, expect CONNACK, PUBLISH, expect PUBACK */
    ck_assert_int_eq(sc->steps[4].op, MQS_OP_EXPECT);
    ck_assert(strstr(buf, "\"${topic}a$$b\"") != NULL);
    ck_assert(strstr(buf, "${hex:00}hi") != NULL);
    mqs_scenario_free(sc);
    free(buf);
    free(c);
}
END_TEST

/* A crash reproducer sends every byte the execution sent, also after a protocol
 * violation (a broker that reads on may die of them), expects nothing that needs a
 * broker that closes, and ends by asking a fresh client to connect ("must_accept"). */
START_TEST(test_crash_scenario_sends_everything)
{
    mqs_lf_case *c = hand_case("crash123", 3);
    mqs_packet p = connect_of(c);
    add_step(c, &p);
    add_step(c, &p); /* a second CONNECT: a protocol violation [MQTT-3.1.0-2] */
    char filter[64];
    snprintf(filter, sizeof filter, "%sx", c->prefix);
    mqs_item item = {.filter = {(const uint8_t *)filter, strlen(filter)}, .qos = 0};
    memset(&p, 0, sizeof p);
    p.type = MQS_UNSUBSCRIBE;
    p.packet_id = 9;
    p.items = &item;
    p.n_items = 1;
    add_step(c, &p);
    c->steps[2].items[0] = item;

    static const uint8_t log[] = {0x20, 0x02, 0x00, 0x00, 0xb0, 0x02, 0x00, 0x09};
    mqs_lf_event ev[8];
    size_t n = 0;
    add_event(ev, &n, MQS_LF_EV_OPEN, 0, 0, 0);
    add_event(ev, &n, MQS_LF_EV_SENT, 0, 0, 0);
    add_event(ev, &n, MQS_LF_EV_RECV, 0, 0, 4);
    add_event(ev, &n, MQS_LF_EV_SENT, 1, 0, 0); /* the violation: event 3 */
    add_event(ev, &n, MQS_LF_EV_SENT, 2, 0, 0);
    add_event(ev, &n, MQS_LF_EV_RECV, 2, 4, 4); /* an UNSUBACK after it */
    add_event(ev, &n, MQS_LF_EV_PEER_CLOSED, -1, 0, 0);
    mqs_lf_result res = one_conn_result(ev, n, log);
    res.conns[0].viol_event = 3;
    mqs_lf_finding f;
    memset(&f, 0, sizeof f);
    f.oracle = MQS_LF_OR_CRASH;
    snprintf(f.rule, sizeof f.rule, "MQTT-4.8.0-1");
    f.trigger = -1;
    f.step = -1;
    f.conn = -1;
    f.event = n;
    snprintf(f.text, sizeof f.text, "the broker stopped answering");

    size_t len = 0;
    char *buf = write_finding(c, &res, &f, NULL, false, &len);
    mqs_scenario *sc = load_written(buf, len);
    ck_assert_str_eq(sc->id, "fuzz.crash-mqtt-4.8.0-1-none");
    /* open, CONNECT, expect CONNACK, CONNECT, UNSUBSCRIBE, wait, connect p, ping p */
    ck_assert_uint_eq(sc->n_steps, 8);
    static const mqs_sc_op want[] = {MQS_OP_OPEN, MQS_OP_SEND,  MQS_OP_EXPECT,  MQS_OP_SEND,
                                     MQS_OP_SEND, MQS_OP_WAIT, MQS_OP_CONNECT, MQS_OP_PING};
    for (size_t i = 0; i < sc->n_steps; i++)
        ck_assert_msg(sc->steps[i].op == want[i], "step %zu: op %d\n%s", i, (int)sc->steps[i].op, buf);
    ck_assert(sc->steps[6].must_accept);
    ck_assert(strstr(buf, "UNSUBACK") == NULL);
    mqs_scenario_free(sc);
    free(buf);
    free(c);
}
END_TEST

/* A malformed PUBLISH the watcher got (U+0000 in its topic): the reproducer's watcher
 * subscribes to that topic with '+' for the bad level, not to the whole case, so a will
 * a good broker publishes does not fail it. */
START_TEST(test_malformed_watch_filter)
{
    mqs_lf_case *c = hand_case("watch123", 4);
    uint8_t log[96];
    size_t tl = MQS_LF_PREFIX_LEN + 7, n = 0;
    log[n++] = 0x30;
    log[n++] = (uint8_t)(2 + tl + 1);
    log[n++] = 0;
    log[n++] = (uint8_t)tl;
    memcpy(log + n, c->prefix, MQS_LF_PREFIX_LEN);
    n += MQS_LF_PREFIX_LEN;
    memcpy(log + n, "c/\x00\xff" "d/e", 7);
    n += 7;
    log[n++] = 'p';
    mqs_lf_event ev[2];
    size_t ne = 0;
    add_event(ev, &ne, MQS_LF_EV_RECV, -1, 0, (uint32_t)n);
    ev[0].conn = -1;
    ev[0].status = MQS_E_UTF8_NUL;
    mqs_lf_result res = one_conn_result(ev, ne, log);
    res.n_conns = 0;
    mqs_lf_finding f;
    memset(&f, 0, sizeof f);
    f.oracle = MQS_LF_OR_MALFORMED;
    snprintf(f.rule, sizeof f.rule, "MQTT-1.5.3-2");
    f.ptype = MQS_PUBLISH;
    f.trigger = 0;
    f.conn = -1;
    f.step = -1;
    f.event = ne;
    snprintf(f.text, sizeof f.text, "the watcher received a malformed PUBLISH");
    size_t len = 0;
    char *buf = write_finding(c, &res, &f, NULL, false, &len);
    ck_assert_msg(strstr(buf, "\"filter\": \"${topic}c/+/e\"") != NULL, "%s", buf);
    mqs_scenario_free(load_written(buf, len));
    free(buf);
    free(c);
}
END_TEST

/* Traces are kept in reports/: the run's password never appears in them, neither in
 * the hex nor in the decoded CONNECT. */
START_TEST(test_trace_hides_password)
{
    mqs_lf_case *c = hand_case("secret12", 5);
    mqs_packet p = connect_of(c);
    p.connect.has_username = p.connect.has_password = true;
    p.connect.username = (mqs_str){(const uint8_t *)"user", 4};
    p.connect.password = (mqs_str){(const uint8_t *)"Hunter2xyz", 10};
    add_step(c, &p);
    mqs_lf_event ev[4];
    size_t n = 0;
    add_event(ev, &n, MQS_LF_EV_OPEN, 0, 0, 0);
    add_event(ev, &n, MQS_LF_EV_SENT, 0, 0, (uint32_t)c->steps[0].len);
    mqs_lf_result res = one_conn_result(ev, n, c->steps[0].bytes);
    mqs_lf_finding f;
    memset(&f, 0, sizeof f);
    f.oracle = MQS_LF_OR_HANG;
    snprintf(f.rule, sizeof f.rule, "MQTT-3.2.0-1");
    f.ptype = MQS_CONNACK;
    f.trigger = -1;
    f.event = n;
    size_t len = 0;
    char *buf = write_finding(c, &res, &f, "Hunter2xyz", true, &len);
    ck_assert_msg(strstr(buf, "Hunter2xyz") == NULL, "%s", buf);
    ck_assert_msg(strstr(buf, "48 75 6e 74") == NULL, "%s", buf); /* "Hunt" in hex */
    ck_assert_msg(strstr(buf, "**********") != NULL, "%s", buf);
    free(buf);
    free(c);
}
END_TEST

/* ---- oracles, without a broker (exec_internal.h's offline hooks) ---- */

/* One execution of a one-client case in the model only: what the client wrote goes
 * to lf_on_sent, what the "broker" answered to lf_on_frame. */
typedef struct offline {
    mqs_endpoint ep;
    mqs_lf_target t;
    mqs_lf_job *j;
    mqs_lf_case *c;
    mqs_lf_result res;
    int ci;
    uint8_t rx[16][256]; /* received frames live for the case */
    size_t n_rx;
} offline;

static offline *offline_start(mqs_version v)
{
    offline *o = calloc(1, sizeof *o);
    ck_assert_ptr_nonnull(o);
    o->ep = (mqs_endpoint){.transport = MQS_TR_TCP, .host = "127.0.0.1", .port = 1};
    o->t.ep = &o->ep;
    o->t.timeout_ms = 100;
    memcpy(o->t.token, "oracle12", 9);
    o->j = mqs_lf_job_new(&o->t, 0);
    o->c = calloc(1, sizeof *o->c);
    ck_assert(o->j && o->c);
    mqs_lf_names names = {"oracle12", 1};
    mqs_lf_case_name(o->c, &names);
    o->c->version = v;
    o->c->n_slots = 1;
    o->c->n_identities = 1;
    lf_offline_begin(o->j, o->c, &o->res);
    o->ci = lf_offline_conn(o->j, 0);
    ck_assert_int_eq(o->ci, 0);
    return o;
}

static void offline_free(offline *o)
{
    mqs_lf_job_free(o->j);
    free(o->c);
    free(o);
}

/* "PREFIX" in a hex string stands for the bytes of the case's topic prefix. */
static size_t offline_bytes(const offline *o, const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (*hex && n < cap) {
        if (*hex == ' ') {
            hex++;
        } else if (!strncmp(hex, "PREFIX", 6)) {
            memcpy(out + n, o->c->prefix, MQS_LF_PREFIX_LEN);
            n += MQS_LF_PREFIX_LEN;
            hex += 6;
        } else if (!strncmp(hex, "CID", 3)) {
            size_t k = strlen(o->c->cid[0]);
            memcpy(out + n, o->c->cid[0], k);
            n += k;
            hex += 3;
        } else {
            unsigned x;
            ck_assert(sscanf(hex, "%2x", &x) == 1);
            out[n++] = (uint8_t)x;
            hex += 2;
        }
    }
    return n;
}

static void client_sends(offline *o, const char *hex)
{
    uint8_t b[512];
    size_t n = offline_bytes(o, hex, b, sizeof b);
    lf_on_sent(o->j, o->ci, b, n);
}

/* As exec.c's pump: logged as a RECV event, then judged. */
static void broker_sends(offline *o, const char *hex)
{
    ck_assert_uint_lt(o->n_rx, 16);
    uint8_t *b = o->rx[o->n_rx++];
    size_t n = offline_bytes(o, hex, b, 256);
    const uint8_t *copy = lf_log(o->j, MQS_LF_EV_RECV, o->ci, -1, b, n, 0);
    ck_assert_ptr_nonnull(copy);
    o->j->recv_event = (long)o->j->n_events - 1;
    lf_on_frame(o->j, o->ci, copy, n);
    o->j->recv_event = -1;
    o->res.n_events = o->j->n_events;
}

/* A valid 3.1.1 CONNECT (clean session, keepalive 60) of the case's client id, and
 * its CONNACK 0: 10 RL 00 04 MQTT 04 02 00 3c 00 11 CID (17 bytes). */
static void connected(offline *o)
{
    client_sends(o, "10 1d 0004 4d515454 04 02 003c 0011 CID");
    broker_sends(o, "20 02 00 00");
}

static const mqs_lf_finding *finding(const offline *o, int oracle, const char *rule)
{
    for (size_t i = 0; i < o->res.n_findings; i++)
        if (o->res.findings[i].oracle == oracle && (!rule || !strcmp(o->res.findings[i].rule, rule)))
            return &o->res.findings[i];
    return NULL;
}

/* A QoS 1 PUBLISH with ill-formed UTF-8 in its topic [MQTT-1.5.3-1] and packet id 0:
 * a broker that acts on it echoes id 0 in its PUBACK. The finding is that it acted on
 * the violation (bad-reply under MQTT-1.5.3-1), not a malformed PUBACK. */
START_TEST(test_oracle_id0_echo_after_violation)
{
    offline *o = offline_start(MQS_V311);
    connected(o);
    ck_assert_uint_eq(o->res.n_findings, 0);
    /* 32 RL | 00 18 PREFIX "a/" f4 90 80 80 (not UTF-8: above U+10FFFF) | id 0000 | "p" */
    client_sends(o, "32 1d 0018 PREFIX 612f f4908080 0000 70");
    broker_sends(o, "40 02 00 00");
    ck_assert_ptr_null(finding(o, MQS_LF_OR_MALFORMED, NULL));
    lf_on_we_close(o->j, o->ci); /* it kept the connection open: the answer is a finding */
    const mqs_lf_finding *f = finding(o, MQS_LF_OR_BAD_REPLY, "MQTT-1.5.3-1");
    ck_assert_msg(f != NULL, "%zu findings, first: %s", o->res.n_findings,
                  o->res.n_findings ? o->res.findings[0].text : "-");
    /* An id-0 PUBACK that answers nothing the client sent is still malformed. */
    offline_free(o);
    o = offline_start(MQS_V311);
    connected(o);
    broker_sends(o, "40 02 00 00");
    f = finding(o, MQS_LF_OR_MALFORMED, "MQTT-2.3.1-1");
    ck_assert_ptr_nonnull(f);
    offline_free(o);
}
END_TEST

/* A broker that answers what it had read behind a violation (the PINGREQ, a packet
 * that followed) and then closes has closed [MQTT-4.8.0-1]: no bad-reply. One that
 * keeps the connection open gets the bad-reply for the first such answer. */
START_TEST(test_oracle_late_close)
{
    offline *o = offline_start(MQS_V311);
    connected(o);
    client_sends(o, "82 00"); /* SUBSCRIBE without packet id or filters: a violation */
    client_sends(o, "62 02 00 05");                       /* PUBREL 5 */
    broker_sends(o, "70 02 00 05");                       /* PUBCOMP 5: read behind it */
    ck_assert_uint_eq(o->res.n_findings, 0);
    lf_on_peer_closed(o->j, o->ci);
    lf_on_we_close(o->j, o->ci);
    ck_assert_uint_eq(o->res.n_findings, 0);
    offline_free(o);

    o = offline_start(MQS_V311);
    connected(o);
    client_sends(o, "82 00");
    client_sends(o, "62 02 00 05");
    broker_sends(o, "70 02 00 05");
    broker_sends(o, "70 02 00 06"); /* only the first answer is reported */
    lf_late_reply(o->j, o->ci);     /* still open at the deadline */
    ck_assert_uint_eq(o->res.n_findings, 1);
    const mqs_lf_finding *f = finding(o, MQS_LF_OR_BAD_REPLY, NULL);
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(f->ptype, MQS_SUBSCRIBE);
    ck_assert_msg(strstr(f->text, "PUBCOMP (id 5)") != NULL, "%s", f->text);
    ck_assert_int_eq(f->trigger, (long)o->res.n_events - 2); /* the first PUBCOMP's RECV event */
    offline_free(o);
}
END_TEST

/* The watcher sees the whole run: a malformed PUBLISH under another case's prefix is
 * that case's finding (its own job reports it), not this one's. */
START_TEST(test_oracle_watcher_foreign_topic)
{
    offline *o = offline_start(MQS_V311);
    uint8_t b[64];
    char other[MQS_LF_PREFIX_LEN + 1];
    memcpy(other, o->c->prefix, sizeof other);
    other[MQS_LF_PREFIX_LEN - 2] = other[MQS_LF_PREFIX_LEN - 2] == 'z' ? 'y' : 'z'; /* another index */
    for (int mine = 0; mine < 2; mine++) {
        size_t n = 0;
        b[n++] = 0x30;
        b[n++] = (uint8_t)(2 + MQS_LF_PREFIX_LEN + 2 + 1);
        b[n++] = 0;
        b[n++] = MQS_LF_PREFIX_LEN + 2;
        memcpy(b + n, mine ? o->c->prefix : other, MQS_LF_PREFIX_LEN);
        n += MQS_LF_PREFIX_LEN;
        memcpy(b + n, "/#", 2); /* a wildcard in a topic name [MQTT-3.3.2-2] */
        n += 2;
        b[n++] = 'p';
        lf_offline_watch(o->j, b, n);
        ck_assert_uint_eq(o->res.n_findings, (size_t)mine);
    }
    ck_assert_ptr_nonnull(finding(o, MQS_LF_OR_MALFORMED, "MQTT-3.3.2-2"));
    offline_free(o);
}
END_TEST

/* Two connections of one client id send CONNECT (clean session 0) at once: the broker
 * may process the second first, so the first may find its session (session present 1).
 * Alone, a new client id's first CONNACK must say 0 [MQTT-3.2.2-3]. */
START_TEST(test_oracle_session_race)
{
    for (int race = 0; race < 2; race++) {
        offline *o = offline_start(MQS_V311);
        o->c->n_slots = 2; /* slot 1: a second connection of the same client id */
        int b = lf_offline_conn(o->j, 1);
        ck_assert_int_eq(b, 1);
        uint8_t buf[64];
        size_t n = offline_bytes(o, "10 1d 0004 4d515454 04 00 003c 0011 CID", buf, sizeof buf);
        lf_on_sent(o->j, o->ci, buf, n);
        if (race)
            lf_on_sent(o->j, b, buf, n);
        broker_sends(o, "20 02 01 00"); /* to the first: session present */
        ck_assert_msg(o->res.n_findings == (race ? 0u : 1u), "race %d: %zu findings", race, o->res.n_findings);
        if (!race)
            ck_assert_ptr_nonnull(finding(o, MQS_LF_OR_SESSION, "MQTT-3.2.2-3"));
        offline_free(o);
    }
}
END_TEST

/* A reserved type's violation remembers where its frame ends (a broker may wait for it
 * before it closes); a complete one does not. */
START_TEST(test_oracle_reserved_type_waits)
{
    offline *o = offline_start(MQS_V311);
    connected(o);
    client_sends(o, "08 c0 00");
    ck_assert(o->j->conns[0].must_close);
    ck_assert_uint_eq(o->j->conns[0].viol_whole, 31 + 67); /* after the 31-byte CONNECT */
    offline_free(o);
    o = offline_start(MQS_V311);
    connected(o);
    client_sends(o, "00 00 c0 00");
    ck_assert(o->j->conns[0].must_close);
    ck_assert_uint_eq(o->j->conns[0].viol_whole, 0);
    offline_free(o);
}
END_TEST

Suite *livefuzz_suite(void)
{
    Suite *s = suite_create("livefuzz");
    TCase *t = tcase_create("rng");
    tcase_add_test(t, test_rng_repeatable);
    tcase_add_test(t, test_rng_known_values);
    tcase_add_test(t, test_rng_ranges);
    suite_add_tcase(s, t);
    t = tcase_create("generator");
    tcase_set_timeout(t, 30);
    tcase_add_test(t, test_gen_same_seed_same_case);
    tcase_add_test(t, test_gen_names_keep_shape);
    tcase_add_test(t, test_gen_cases_are_safe);
    tcase_add_test(t, test_apply_edit);
    suite_add_tcase(s, t);
    t = tcase_create("classify");
    tcase_add_loop_test(t, test_classify, 0, (int)(sizeof k_classes / sizeof k_classes[0]));
    tcase_add_test(t, test_classify_repaired_views);
    tcase_add_test(t, test_view_incomplete);
    tcase_add_test(t, test_frame_safe);
    suite_add_tcase(s, t);
    t = tcase_create("minimise");
    tcase_add_test(t, test_minimise_keeps_what_matters);
    tcase_add_test(t, test_minimise_drops_after_last_first);
    tcase_add_test(t, test_minimise_budget);
    suite_add_tcase(s, t);
    t = tcase_create("scenario");
    tcase_add_test(t, test_json_template);
    tcase_add_test(t, test_scenario_loads);
    tcase_add_test(t, test_crash_scenario_sends_everything);
    tcase_add_test(t, test_malformed_watch_filter);
    tcase_add_test(t, test_trace_hides_password);
    suite_add_tcase(s, t);
    t = tcase_create("oracle");
    tcase_add_test(t, test_oracle_id0_echo_after_violation);
    tcase_add_test(t, test_oracle_late_close);
    tcase_add_test(t, test_oracle_watcher_foreign_topic);
    tcase_add_test(t, test_oracle_session_race);
    tcase_add_test(t, test_oracle_reserved_type_waits);
    suite_add_tcase(s, t);
    return s;
}
