/* Check tests for codec/format.c. */
#include <check.h>
#include <string.h>

#include "codec/format.h"

static mqs_str S(const char *s)
{
    return (mqs_str){(const uint8_t *)s, strlen(s)};
}

static void assert_format(const mqs_packet *p, const char *want)
{
    char out[512];
    size_t n = mqs_format_packet(p, out, sizeof out);
    ck_assert_str_eq(out, want);
    ck_assert_uint_eq(n, strlen(want));
}

START_TEST(test_format_packets)
{
    mqs_packet pub = {.type = MQS_PUBLISH, .qos = 1, .packet_id = 7, .publish = {S("a/b"), 7, S("hello")}};
    assert_format(&pub, "PUBLISH qos=1 dup=0 retain=0 id=7 topic=\"a/b\" payload=5B \"hello\"");
    mqs_packet pub0 = {.type = MQS_PUBLISH, .retain = true, .publish = {S("t\"\\"), 0, {(const uint8_t *)"\x00\xff", 2}}};
    assert_format(&pub0, "PUBLISH qos=0 dup=0 retain=1 topic=\"t\\\"\\\\\" payload=2B \"\\x00\\xff\"");
    mqs_packet c = {.type = MQS_CONNECT, .connect = {.protocol_name = S("MQTT"), .protocol_level = 4, .clean_session = true, .keepalive = 60, .client_id = S("id"), .will_flag = true, .will_qos = 1, .will_topic = S("w"), .will_payload = S(""), .has_username = true, .username = S("u"), .has_password = true, .password = S("pw")}};
    assert_format(&c, "CONNECT \"MQTT\"/4 clean=1 keepalive=60 client_id=\"id\" will={qos=1 retain=0 topic=\"w\" payload=0B} username=\"u\" password=2B \"pw\"");
    mqs_item it[2] = {{S("a/+"), 1}, {S("#"), 0}};
    mqs_packet sub = {.type = MQS_SUBSCRIBE, .packet_id = 3, .items = it, .n_items = 2};
    assert_format(&sub, "SUBSCRIBE id=3 [\"a/+\" qos=1, \"#\" qos=0]");
    mqs_item rc[2] = {{{0}, 1}, {{0}, 0x80}};
    mqs_packet sa = {.type = MQS_SUBACK, .packet_id = 3, .items = rc, .n_items = 2};
    assert_format(&sa, "SUBACK id=3 [0x01, 0x80]");
    mqs_packet un = {.type = MQS_UNSUBSCRIBE, .packet_id = 4, .items = it, .n_items = 1};
    assert_format(&un, "UNSUBSCRIBE id=4 [\"a/+\"]");
    mqs_packet ack = {.type = MQS_CONNACK, .connack = {.session_present = true, .return_code = 0}};
    assert_format(&ack, "CONNACK session_present=1 rc=0");
    mqs_packet rel = {.type = MQS_PUBREL, .packet_id = 9};
    assert_format(&rel, "PUBREL id=9");
    mqs_packet ping = {.type = MQS_PINGREQ};
    assert_format(&ping, "PINGREQ");
    mqs_packet res = {.type = 15};
    assert_format(&res, "RESERVED");
}
END_TEST

START_TEST(test_format_truncation)
{
    char big[1000];
    memset(big, 'x', sizeof big);
    mqs_packet pub = {.type = MQS_PUBLISH, .publish = {S("t"), 0, {(const uint8_t *)big, sizeof big}}};
    char out[16];
    size_t need = mqs_format_packet(&pub, NULL, 0);
    ck_assert_uint_eq(need, strlen("PUBLISH qos=0 dup=0 retain=0 topic=\"t\" payload=1000B \"\"...") + 32);
    ck_assert_uint_eq(mqs_format_packet(&pub, out, sizeof out), need);
    ck_assert_uint_eq(strlen(out), sizeof out - 1);
    ck_assert_uint_eq(mqs_format_packet(&pub, out, 1), need);
    ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_format_hex)
{
    static const uint8_t b[] = {0x10, 0x0c, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x00, 0x41, 0x42, 0x43};
    char out[256];
    ck_assert_uint_eq(mqs_format_hex(b, 4, ' ', out, sizeof out), 11);
    ck_assert_str_eq(out, "10 0c 00 04");
    ck_assert_uint_eq(mqs_format_hex(b, 3, 0, out, sizeof out), 6);
    ck_assert_str_eq(out, "100c00");
    mqs_format_hexdump(b, sizeof b, out, sizeof out);
    ck_assert_str_eq(out, "0000   10 0c 00 04 4d 51 54 54  04 02 00 3c 00 00 41 42  |....MQTT...<..AB|\n"
                          "0010   43                                                |C|\n");
    ck_assert_uint_eq(mqs_format_hex(NULL, 0, ' ', out, sizeof out), 0);
    ck_assert_str_eq(out, "");
}
END_TEST

Suite *format_suite(void)
{
    Suite *s = suite_create("format");
    TCase *tc = tcase_create("format");
    tcase_add_test(tc, test_format_packets);
    tcase_add_test(tc, test_format_truncation);
    tcase_add_test(tc, test_format_hex);
    suite_add_tcase(s, tc);
    return s;
}
