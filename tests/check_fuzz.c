/* Check tests for what fuzzing found or must keep reaching: the parser-bug
 * class vectors (tests/vectors/parser-bugs.tsv: real bugs of other MQTT parsers,
 * one minimal input each), and regressions of fuzz findings that a decode
 * vector cannot express (encoder behaviour, scenario loader errors). */
#include <check.h>
#include <string.h>

#include "codec/mqtt.h"
#include "conformance/scenario.h"
#include "tests/vectors.h"

static mqs_vec_table bug_vecs;

START_TEST(test_bug_vectors_loaded)
{
    ck_assert_int_eq(bug_vecs.errors, 0);
    ck_assert_uint_gt(bug_vecs.n, 0);
}
END_TEST

/* Each vector decodes to its status; a malformed verdict also names the byte. */
START_TEST(test_bug_vector)
{
    const mqs_vec *v = &bug_vecs.v[_i];
    mqs_item items[16];
    mqs_packet p = {.items = items, .n_items = 16};
    mqs_diag d = {0};
    mqs_decode_opts o = {v->version, v->dir, 0};
    int st = mqs_decode(v->bytes, v->len, &o, &p, &d);
    ck_assert_msg(st == v->status, "line %d (%s): got %s, want %s", v->line, v->comment,
                  mqs_status_name(st), mqs_status_name(v->status));
    if (mqs_status_is_malformed(st)) {
        ck_assert_msg(d.offset == v->offset, "line %d: offset %zu, want %zu", v->line, d.offset,
                      v->offset);
        ck_assert_str_eq(mqs_status_rule(st), v->rule);
    }
}
END_TEST

/* fuzz_encode: a 3.1 CONNACK told session_present=1 was written 20 02 01 00,
 * which the 3.1 decoder read back as session_present=0. The codec now reports
 * the (unused in 3.1) bit as on the wire, so decode(encode(p)) == p again. */
START_TEST(test_v31_connack_session_present)
{
    mqs_packet a = {.type = MQS_CONNACK, .connack = {.session_present = true}};
    static const uint8_t want[] = {0x20, 0x02, 0x01, 0x00};
    uint8_t out[8];
    size_t n = 0;
    ck_assert_int_eq(mqs_encode(&a, MQS_V31, out, sizeof out, &n, NULL), MQS_OK);
    ck_assert_uint_eq(n, sizeof want);
    ck_assert(memcmp(out, want, n) == 0);
    mqs_packet b = {0};
    mqs_decode_opts o = {MQS_V31, MQS_DIR_TO_CLIENT, 0};
    ck_assert_int_eq(mqs_decode(out, n, &o, &b, NULL), MQS_OK);
    ck_assert(b.connack.session_present);
    a.connack.session_present = false;
    ck_assert_int_eq(mqs_encode(&a, MQS_V31, out, sizeof out, &n, NULL), MQS_OK);
    ck_assert_int_eq(mqs_decode(out, n, &o, &b, NULL), MQS_OK);
    ck_assert(!b.connack.session_present);
}
END_TEST

/* fuzz_scenario: loader errors quoted the input raw, so a key or a JSON excerpt
 * with a newline broke the "one line" error contract. */
START_TEST(test_loader_error_one_line)
{
    static const char *const inputs[] = {
        "{\"cli\\nents\": 1}",         /* unknown key holding an escaped newline */
        "{\n  \"id\": \"a\",\n  \"x\n", /* broken JSON: the excerpt spans lines */
        "{\"id\": \"\\u0007\"}",        /* a control character in a value */
    };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        char err[512];
        mqs_scenario *sc = NULL;
        int rc = mqs_scenario_load_buf("t.json", (const uint8_t *)inputs[i], strlen(inputs[i]),
                                       &sc, err, sizeof err);
        ck_assert_int_eq(rc, -1);
        ck_assert_ptr_null(sc);
        ck_assert_msg(strncmp(err, "t.json: ", 8) == 0, "%s", err);
        for (const char *c = err; *c; c++)
            ck_assert_msg((unsigned char)*c >= 0x20 && *c != 0x7f, "input %zu: control byte in "
                          "error", i);
    }
}
END_TEST

Suite *fuzz_suite(void)
{
    Suite *s = suite_create("fuzz");
    mqs_vec_load(&bug_vecs, "parser-bugs.tsv");
    TCase *tc = tcase_create("parser_bugs");
    tcase_add_test(tc, test_bug_vectors_loaded);
    tcase_add_loop_test(tc, test_bug_vector, 0, (int)bug_vecs.n);
    suite_add_tcase(s, tc);
    tc = tcase_create("findings");
    tcase_add_test(tc, test_v31_connack_session_present);
    tcase_add_test(tc, test_loader_error_one_line);
    suite_add_tcase(s, tc);
    return s;
}
