/* Scenario packets: building bytes (defaults, raw overrides, cleanup info, password
 * position) and matching decoded packets against expectations (with the reason). */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "codec/mqtt.h"
#include "conformance/alloc.h"
#include "conformance/pktspec.h"
#include "conformance/scenario.h"

static const char *const names[] = {"a"};
static const char *const cids[] = {"mqsclient"};

static mqs_vars vars(void)
{
    mqs_vars v = {"tok", "t/", names, cids, 1, NULL, NULL, NULL, NULL, 0};
    return v;
}

/* Loads a one-step scenario whose step 0 holds the packet. */
static mqs_scenario *one_step(const char *step)
{
    char json[4096];
    snprintf(json, sizeof json,
             "{\"id\": \"qos.t\", \"title\": \"t\", \"area\": \"qos\", \"statements\": [\"MQS-test\"], "
             "\"protocols\": [\"3.1\", \"3.1.1\"], \"level\": \"MUST\", \"clients\": [\"a\"], "
             "\"steps\": [%s]}",
             step);
    mqs_scenario *s;
    char err[512];
    int rc = mqs_scenario_load_buf("t", (const uint8_t *)json, strlen(json), &s, err, sizeof err);
    ck_assert_msg(rc == 0, "%s", err);
    return s;
}

static void hex(const mqs_buf *b, char *out, size_t cap)
{
    out[0] = 0;
    for (size_t i = 0; i < b->len && 2 * i + 2 < cap; i++)
        snprintf(out + 2 * i, cap - 2 * i, "%02x", b->p[i]);
}

typedef struct build_case {
    const char *step;
    mqs_version version;
    const char *user, *pass; /* run credentials */
    const char *want_hex;
} build_case;

static const build_case builds[] = {
    /* CONNECT defaults: MQTT/4, clean, keepalive 60, the client's id */
    {"{\"op\": \"connect\", \"client\": \"a\"}", MQS_V311, NULL, NULL,
     "101500044d5154540402003c00096d7173636c69656e74"},
    {"{\"op\": \"connect\", \"client\": \"a\"}", MQS_V31, NULL, NULL,
     "101700064d51497364700302003c00096d7173636c69656e74"},
    /* the run's credentials by default */
    {"{\"op\": \"connect\", \"client\": \"a\", \"client_id\": \"c\"}", MQS_V311, "u", "p",
     "101300044d51545404c2003c000163000175000170"},
    /* username: null means none, even with run credentials */
    {"{\"op\": \"connect\", \"client\": \"a\", \"client_id\": \"c\", \"username\": null}", MQS_V311,
     "u", "p", "100d00044d5154540402003c000163"},
    /* will, clean_session false, keepalive, connect_flags override */
    {"{\"op\": \"connect\", \"client\": \"a\", \"client_id\": \"c\", \"clean_session\": false, "
     "\"keepalive\": 5, \"will\": {\"topic\": \"w\", \"payload\": \"x\", \"qos\": 1, \"retain\": "
     "true}}",
     MQS_V311, NULL, NULL, "101300044d515454042c0005000163000177000178"},
    {"{\"op\": \"connect\", \"client\": \"a\", \"client_id\": \"c\", \"connect_flags\": 3}",
     MQS_V311, NULL, NULL, "100d00044d5154540403003c000163"},
    {"{\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"PUBLISH\", \"topic\": "
     "\"${topic}a\", "
     "\"payload\": \"hi\"}}",
     MQS_V311, NULL, NULL, "30070003742f616869"},
    {"{\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"PUBLISH\", \"qos\": 1, "
     "\"retain\": true, "
     "\"dup\": true, \"topic\": \"a\", \"packet_id\": 258, \"payload_size\": 3}}",
     MQS_V311, NULL, NULL, "3b080001610102616263"},
    {"{\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"SUBSCRIBE\", \"packet_id\": "
     "1, "
     "\"subscriptions\": [{\"filter\": \"a/#\", \"qos\": 2}, {\"filter\": \"b\", \"qos\": 0}]}}",
     MQS_V311, NULL, NULL, "820c00010003612f230200016200"},
    {"{\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"UNSUBSCRIBE\", \"packet_id\": "
     "2, "
     "\"filters\": [\"x\"]}}",
     MQS_V311, NULL, NULL,
     "a20500020001"
     "78"},
    {"{\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"PUBREL\", \"packet_id\": 5}}",
     MQS_V311, NULL, NULL, "62020005"},
    {"{\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"PINGREQ\"}, \"raw\": "
     "{\"fixed_flags\": 1, "
     "\"rl_bytes\": 2}}",
     MQS_V311, NULL, NULL, "c18000"},
    {"{\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"PUBACK\", \"packet_id\": 1}, "
     "\"raw\": {\"type\": 15, \"remaining_length\": 3}}",
     MQS_V311, NULL, NULL, "f0030001"},
};

START_TEST(builds_bytes)
{
    const build_case *c = &builds[_i];
    mqs_scenario *s = one_step(c->step);
    mqs_vars v = vars();
    mqs_build_ctx bc = {&v, c->version, "mqsclient", c->user, c->pass};
    mqs_buf out = {0};
    mqs_built info;
    memset(&info, 0, sizeof info);
    char err[256], got[512];
    ck_assert_msg(mqs_spec_build(&s->steps[0].pkt, &bc, &out, &info, err, sizeof err) == 0, "%s",
                  err);
    hex(&out, got, sizeof got);
    /* the test table is hand-checked; compare with spaces-free hex */
    char want[512];
    size_t k = 0;
    for (const char *p = c->want_hex; *p && k + 1 < sizeof want; p++)
        if (*p != ' ')
            want[k++] = *p;
    want[k] = 0;
    ck_assert_msg(!strcmp(got, want), "case %d: got %s want %s", _i, got, want);
    mqs_built_free(&info);
    mqs_buf_free(&out);
    mqs_scenario_free(s);
}
END_TEST

START_TEST(built_info)
{
    mqs_scenario *s =
        one_step("{\"op\": \"connect\", \"client\": \"a\", \"clean_session\": false, "
                 "\"will\": {\"topic\": \"w/t\", \"payload\": \"x\", \"retain\": true}}");
    mqs_vars v = vars();
    mqs_build_ctx bc = {&v, MQS_V311, "mqsclient", "user", "pw12"};
    mqs_buf out = {0};
    mqs_built info;
    memset(&info, 0, sizeof info);
    char err[256];
    ck_assert_int_eq(mqs_spec_build(&s->steps[0].pkt, &bc, &out, &info, err, sizeof err), 0);
    ck_assert(info.connect);
    ck_assert(!info.clean_session);
    ck_assert_str_eq((const char *)info.client_id.p, "mqsclient");
    ck_assert(info.has_retain_topic);
    ck_assert_str_eq((const char *)info.retain_topic.p, "w/t");
    ck_assert_uint_eq(info.secret_len, 4);
    ck_assert(memcmp(out.p + info.secret_off, "pw12", 4) == 0);
    mqs_built_free(&info);
    mqs_buf_free(&out);
    mqs_scenario_free(s);

    s = one_step("{\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"PUBLISH\", "
                 "\"topic\": \"r\"}, "
                 "\"raw\": {\"fixed_flags\": 1}}");
    memset(&info, 0, sizeof info);
    ck_assert_int_eq(mqs_spec_build(&s->steps[0].pkt, &bc, &out, &info, err, sizeof err), 0);
    ck_assert(info.has_retain_topic); /* the RETAIN bit written, by the raw flags */
    ck_assert_str_eq((const char *)info.retain_topic.p, "r");
    ck_assert(!info.connect);
    mqs_built_free(&info);
    mqs_buf_free(&out);
    mqs_scenario_free(s);
}
END_TEST

START_TEST(build_errors)
{
    mqs_scenario *s =
        one_step("{\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"PUBACK\", "
                 "\"packet_id\": \"${var:nope}\"}}");
    mqs_vars v = vars();
    mqs_build_ctx bc = {&v, MQS_V311, "mqsclient", NULL, NULL};
    mqs_buf out = {0};
    char err[256];
    ck_assert_int_eq(mqs_spec_build(&s->steps[0].pkt, &bc, &out, NULL, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "${var:nope} is not defined"));
    mqs_vars_set(&v, "nope", (const uint8_t *)"70000", 5);
    ck_assert_int_eq(mqs_spec_build(&s->steps[0].pkt, &bc, &out, NULL, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "not an integer 0..65535"));
    mqs_vars_free(&v);
    mqs_buf_free(&out);
    mqs_scenario_free(s);
}
END_TEST

/* Decodes hex into a packet (items storage given). */
static void decode_hex(const char *h, uint8_t *buf, mqs_packet *p, mqs_item *items, size_t n_items)
{
    size_t n = strlen(h) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned x;
        sscanf(h + 2 * i, "%2x", &x);
        buf[i] = (uint8_t)x;
    }
    memset(p, 0, sizeof *p);
    p->items = items;
    p->n_items = n_items;
    mqs_decode_opts o = {MQS_V311, MQS_DIR_TO_CLIENT, 0};
    ck_assert_int_eq(mqs_decode(buf, n, &o, p, NULL), MQS_OK);
}

typedef struct match_case {
    const char *expect; /* an expect step */
    const char *packet_hex;
    int want;
    const char *why;
} match_case;

#define EXP(p) "{\"op\": \"expect\", \"client\": \"a\", \"packet\": " p "}"

static const match_case matches[] = {
    {EXP("{\"type\": \"CONNACK\", \"return_code\": 0}"), "20020000", 1, NULL},
    {EXP("{\"type\": \"CONNACK\", \"return_code\": 0}"), "20020005", 0,
     "return code is 5, expected 0"},
    {EXP("{\"type\": \"CONNACK\", \"session_present\": true}"), "20020000", 0,
     "session present is 0, expected 1"},
    {EXP("{\"type\": \"SUBACK\", \"packet_id\": 1, \"return_codes\": [1]}"), "9003000101", 1, NULL},
    {EXP("{\"type\": \"SUBACK\", \"packet_id\": 1, \"return_codes\": [1]}"), "9003000180", 0,
     "return code 1 is 128, expected 1"},
    {EXP("{\"type\": \"SUBACK\", \"return_codes\": [1, 0]}"), "9003000101", 0,
     "1 return codes, expected 2"},
    {EXP("{\"type\": \"SUBACK\", \"packet_id\": 1}"),
     "30030001"
     "61",
     0, "packet type"},
    {EXP("{\"type\": \"PUBLISH\", \"topic\": \"${topic}a\", \"payload\": \"hi\", \"qos\": 0, "
         "\"retain\": false}"),
     "30070003742f616869", 1, NULL},
    {EXP("{\"type\": \"PUBLISH\", \"retain\": false}"), "31070003742f616869", 0,
     "retain is 1, expected 0"},
    {EXP("{\"type\": \"PUBLISH\", \"payload\": \"ho\"}"), "30070003742f616869", 0,
     "payload differs"},
    {EXP("{\"type\": \"PUBLISH\", \"topic\": \"t/ab\"}"), "30070003742f616869", 0,
     "topic has 3 bytes, expected 4"},
    {EXP("{\"type\": \"PUBLISH\", \"qos\": 1, \"packet_id\": 258, \"payload_size\": 3}"),
     "3208000161010261"
     "6263",
     1, NULL},
    {EXP("{\"type\": \"PUBLISH\", \"payload_size\": 3}"),
     "30060001"
     "61"
     "616264",
     0, "payload byte 2"},
    {EXP("{\"flags\": 2}"), "62020005", 1, NULL},
    {EXP("{\"type\": \"PUBREL\", \"flags\": 0}"), "62020005", 0, "flags is 2, expected 0"},
    {EXP("{}"), "d000", 1, NULL},
    {EXP("{\"type\": \"PUBACK\", \"not\": {\"packet_id\": 5}}"), "40020006", 1, NULL},
    {EXP("{\"type\": \"PUBACK\", \"not\": {\"packet_id\": 5}}"), "40020005", 0,
     "it matches the excluded PUBACK id=5"},
};

START_TEST(matching)
{
    const match_case *c = &matches[_i];
    mqs_scenario *s = one_step(c->expect);
    mqs_vars v = vars();
    uint8_t buf[256];
    mqs_item items[8];
    mqs_packet p;
    decode_hex(c->packet_hex, buf, &p, items, 8);
    char why[256] = "";
    int rc = mqs_spec_match(&s->steps[0].expect.pkts[0], &p, &v, why, sizeof why);
    ck_assert_msg(rc == c->want, "case %d: %d (%s)", _i, rc, why);
    if (c->why)
        ck_assert_msg(strstr(why, c->why) != NULL, "case %d: '%s' not in '%s'", _i, c->why, why);
    mqs_scenario_free(s);
}
END_TEST

START_TEST(describes)
{
    mqs_scenario *s =
        one_step(EXP("{\"type\": \"SUBACK\", \"packet_id\": 1, \"return_codes\": [1, 128]}"));
    mqs_vars v = vars();
    mqs_buf b = {0};
    mqs_spec_describe(&s->steps[0].expect.pkts[0], &v, &b);
    mqs_buf_terminate(&b);
    ck_assert_str_eq((const char *)b.p, "SUBACK id=1 codes=[1,128]");
    mqs_buf_free(&b);
    uint8_t buf[64];
    mqs_item items[4];
    mqs_packet p;
    decode_hex("9004000101"
               "80",
               buf, &p, items, 4);
    mqs_packet_describe(&p, &b);
    mqs_buf_terminate(&b);
    ck_assert_str_eq((const char *)b.p, "SUBACK id=1 codes=[1,128]");
    mqs_buf_free(&b);
    decode_hex("3207000161000701"
               "ff",
               buf, &p, items, 4);
    mqs_packet_describe(&p, &b);
    mqs_buf_terminate(&b);
    ck_assert_str_eq((const char *)b.p, "PUBLISH qos=1 id=7 topic=\"a\" payload=\"\\x01\\xff\"");
    mqs_buf_free(&b);
    mqs_scenario_free(s);
}
END_TEST

Suite *pktspec_suite(void)
{
    Suite *s = suite_create("pktspec");
    TCase *t = tcase_create("valid");
    tcase_add_loop_test(t, builds_bytes, 0, (int)(sizeof builds / sizeof builds[0]));
    tcase_add_test(t, built_info);
    tcase_add_loop_test(t, matching, 0, (int)(sizeof matches / sizeof matches[0]));
    tcase_add_test(t, describes);
    suite_add_tcase(s, t);
    t = tcase_create("malformed");
    tcase_add_test(t, build_errors);
    suite_add_tcase(s, t);
    return s;
}
