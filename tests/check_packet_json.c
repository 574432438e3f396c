/* Check tests for conformance/packet_json.c: packet <-> JSON, errors, allocation failures. */
#include <check.h>
#include <string.h>

#include "conformance/alloc.h"
#include "conformance/packet_json.h"

/* Decodes hex bytes, maps to JSON text (caller frees with cJSON_free). */
static char *json_of(const uint8_t *bytes, size_t n, mqs_version v)
{
    mqs_item items[8];
    mqs_packet p = {.items = items, .n_items = 8};
    mqs_decode_opts o = {v, MQS_DIR_ANY, 0};
    ck_assert_int_eq(mqs_decode(bytes, n, &o, &p, NULL), MQS_OK);
    cJSON *j = mqs_packet_to_json(&p);
    ck_assert_ptr_nonnull(j);
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return s;
}

START_TEST(test_to_json)
{
    static const uint8_t pub[] = {0x3b, 0x08, 0x00, 0x01, 'a', 0x00, 0x05, 0x00, 0xff, 'x'};
    char *s = json_of(pub, sizeof pub, MQS_V311);
    ck_assert_str_eq(s, "{\"type\":\"PUBLISH\",\"flags\":11,\"dup\":true,\"qos\":1,\"retain\":true,"
                        "\"packet_id\":5,\"topic\":\"a\",\"payload_hex\":\"00ff78\"}");
    cJSON_free(s);
    static const uint8_t unsub[] = {0xa2, 0x08, 0x00, 0x02, 0x00, 0x01, '#', 0x00, 0x01, 0x01};
    s = json_of(unsub, sizeof unsub, MQS_V31); /* 3.1: U+0001 is fine, but not printable */
    ck_assert_str_eq(s, "{\"type\":\"UNSUBSCRIBE\",\"flags\":2,\"packet_id\":2,\"filters\":[\"#\",{\"filter_hex\":\"01\"}]}");
    cJSON_free(s);
    static const uint8_t ack[] = {0x20, 0x02, 0x01, 0x00};
    s = json_of(ack, sizeof ack, MQS_V311);
    ck_assert_str_eq(s, "{\"type\":\"CONNACK\",\"flags\":0,\"ack_flags\":1,\"session_present\":true,\"return_code\":0}");
    cJSON_free(s);
}
END_TEST

static int from_text(const char *text, mqs_json_packet *jp, char *err)
{
    cJSON *j = cJSON_Parse(text);
    ck_assert_ptr_nonnull(j);
    int rc = mqs_packet_from_json(j, jp, err, 200);
    cJSON_Delete(j);
    return rc;
}

START_TEST(test_from_json)
{
    mqs_json_packet jp;
    char err[200] = "";
    ck_assert_int_eq(from_text("{\"type\":\"CONNECT\",\"client_id\":\"c\",\"will\":{\"topic\":\"w\",\"payload_hex\":\"0001\",\"qos\":2,\"retain\":true},"
                               "\"username\":\"u\",\"password_hex\":\"ff\",\"keepalive\":30}", &jp, err), 0);
    const mqs_connect *c = &jp.pkt.connect;
    ck_assert(c->clean_session && c->will_flag && c->will_retain && c->has_username && c->has_password);
    ck_assert_uint_eq(c->will_qos, 2);
    ck_assert_uint_eq(c->keepalive, 30);
    ck_assert(c->will_payload.len == 2 && c->will_payload.ptr[1] == 1);
    ck_assert(c->password.len == 1 && c->password.ptr[0] == 0xff);
    ck_assert_int_eq(jp.connect_flags, -1);
    mqs_json_packet_free(&jp);

    /* raw flags fill in what no field says; fields win for their own bits */
    ck_assert_int_eq(from_text("{\"type\":\"PUBLISH\",\"flags\":3,\"qos\":2,\"topic\":\"t\",\"packet_id\":1}", &jp, err), 0);
    ck_assert_int_eq(jp.flags, 5);
    ck_assert(jp.pkt.retain && jp.pkt.qos == 2);
    mqs_json_packet_free(&jp);
    ck_assert_int_eq(from_text("{\"type\":\"CONNECT\",\"connect_flags\":3,\"client_id\":\"c\",\"clean_session\":false}", &jp, err), 0);
    ck_assert_int_eq(jp.connect_flags, 1);
    mqs_json_packet_free(&jp);
    ck_assert_int_eq(from_text("{\"type\":\"SUBACK\",\"packet_id\":9,\"return_codes\":[0,128]}", &jp, err), 0);
    ck_assert_uint_eq(jp.pkt.n_items, 2);
    ck_assert_uint_eq(jp.pkt.items[1].qos, 128);
    mqs_json_packet_free(&jp);
}
END_TEST

START_TEST(test_from_json_errors)
{
    static const struct { const char *json, *msg; } bad[] = {
        {"[]", "a packet must be a JSON object"},
        {"{\"type\":\"NOPE\"}", "\"type\" must be a packet type name such as \"PUBLISH\""},
        {"{\"type\":\"PUBLISH\",\"topc\":\"a\"}", "unknown key \"topc\""},
        {"{\"type\":\"PUBLISH\",\"topic\":\"a\",\"topic\":\"b\"}", "duplicate key \"topic\""},
        {"{\"type\":\"PUBLISH\",\"topic\":\"a\",\"topic_hex\":\"61\"}", "both \"topic\" and \"topic_hex\" given"},
        {"{\"type\":\"PUBLISH\",\"topic_hex\":\"6\"}", "\"topic_hex\": odd number of hex digits"},
        {"{\"type\":\"PUBLISH\",\"topic_hex\":\"zz\"}", "\"topic_hex\": not a hex string"},
        {"{\"type\":\"PUBLISH\",\"qos\":1.5}", "\"qos\" must be an integer from 0 to 3"},
        {"{\"type\":\"PUBLISH\",\"qos\":4}", "\"qos\" must be an integer from 0 to 3"},
        {"{\"type\":\"PUBLISH\",\"retain\":1}", "\"retain\" must be true or false"},
        {"{\"type\":\"PUBACK\",\"packet_id\":65536}", "\"packet_id\" must be an integer from 0 to 65535"},
        {"{\"type\":\"SUBSCRIBE\",\"subscriptions\":{}}", "\"subscriptions\" must be an array"},
        {"{\"type\":\"SUBSCRIBE\",\"subscriptions\":[{\"qos\":1}]}", "list entry without \"filter\""},
        {"{\"type\":\"SUBACK\",\"return_codes\":[256]}", "\"return_codes\" entries must be integers from 0 to 255"},
        {"{\"type\":\"CONNECT\",\"will\":[]}", "\"will\" must be an object"},
        {"{\"type\":\"CONNECT\",\"will\":{\"topic\":\"a\",\"x\":1}}", "unknown key \"x\""},
        {"{\"type\":\"PUBLISH\",\"flags\":16}", "\"flags\" must be an integer from 0 to 15"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mqs_json_packet jp;
        char err[200] = "";
        ck_assert_int_eq(from_text(bad[i].json, &jp, err), -1);
        ck_assert_str_eq(err, bad[i].msg);
        mqs_json_packet_free(&jp);
    }
}
END_TEST

/* Every allocation failing in turn: NULL or -1, never a crash or a leak (ASan). */
START_TEST(test_alloc_failures)
{
    static const uint8_t sub[] = {0x82, 0x08, 0x00, 0x01, 0x00, 0x03, 'a', '/', '+', 0x01};
    mqs_item items[4];
    mqs_packet p = {.items = items, .n_items = 4};
    ck_assert_int_eq(mqs_decode(sub, sizeof sub, NULL, &p, NULL), MQS_OK);
    const char *text = "{\"type\":\"SUBSCRIBE\",\"packet_id\":1,\"subscriptions\":[{\"filter\":\"a/+\",\"qos\":1}]}";
    cJSON *in = cJSON_Parse(text);
    for (long n = 0; n < 40; n++) {
        mqs_alloc_fail_after(n);
        cJSON *j = mqs_packet_to_json(&p);
        cJSON_Delete(j);
        mqs_json_packet jp;
        int rc = mqs_packet_from_json(in, &jp, NULL, 0);
        mqs_json_packet_free(&jp);
        mqs_alloc_fail_after(-1);
        if (j != NULL && rc == 0)
            break;
    }
    cJSON_Delete(in);
}
END_TEST

Suite *packet_json_suite(void)
{
    Suite *s = suite_create("packet_json");
    TCase *tc = tcase_create("json");
    tcase_add_test(tc, test_to_json);
    tcase_add_test(tc, test_from_json);
    tcase_add_test(tc, test_from_json_errors);
    tcase_add_test(tc, test_alloc_failures);
    suite_add_tcase(s, tc);
    return s;
}
