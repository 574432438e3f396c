/* Check tests for codec/topic.c and codec/utf8.c. */
#include <check.h>
#include <string.h>

#include "codec/topic.h"
#include "codec/utf8.h"

#define B(s) (const uint8_t *)(s), (sizeof(s) - 1)

typedef struct match_case {
    const char *filter, *topic;
    bool match;
} match_case;

static const match_case matches[] = {
    {"a/b", "a/b", true},         {"a/b", "a/c", false},       {"a/b", "a/b/c", false},
    {"a/b/c", "a/b", false},      {"+", "a", true},            {"+", "a/b", false},
    {"+", "", false},             {"+", "/", false},           {"+/+", "/", true},
    {"/+", "/a", true},           {"a/+", "a/", true},         {"a/+", "a", false},
    {"a/+/c", "a/b/c", true},     {"a/+/c", "a/b/d", false},   {"#", "a", true},
    {"#", "a/b/c", true},         {"#", "/", true},            {"a/#", "a", true},
    {"a/#", "a/", true},          {"a/#", "a/b/c", true},      {"a/#", "ab", false},
    {"a/b/#", "a/b", true},       {"+/#", "a", true},          {"+/+/#", "a", false},
    {"#", "$SYS/x", false},       {"+/x", "$SYS/x", false},    {"+", "$SYS", false},
    {"$SYS/#", "$SYS/x", true},   {"$SYS/+", "$SYS/x", true},  {"a/$b", "a/$b", true},
    {"+/$b", "a/$b", true},       {"A", "a", false},           {"a//b", "a//b", true},
    {"a/+/b", "a//b", true},      {"a/+", "a/b/", false},      {"/#", "/a", true},
    {"/#", "a", false},           {"a/b/+", "a/b/", true},     {"+/+", "a", false},
};

START_TEST(test_match)
{
    const match_case *m = &matches[_i];
    bool got = mqs_topic_match((const uint8_t *)m->filter, strlen(m->filter),
                               (const uint8_t *)m->topic, strlen(m->topic));
    ck_assert_msg(got == m->match, "filter \"%s\" topic \"%s\": want %d", m->filter, m->topic,
                  m->match);
}
END_TEST

START_TEST(test_name_check)
{
    size_t off = 99;
    ck_assert_int_eq(mqs_topic_name_check(B("a/b"), MQS_V311, &off), MQS_OK);
    ck_assert_int_eq(mqs_topic_name_check(B("$SYS/x"), MQS_V311, &off), MQS_OK);
    ck_assert_int_eq(mqs_topic_name_check(B(""), MQS_V311, &off), MQS_E_TOPIC_EMPTY);
    ck_assert_int_eq(mqs_topic_name_check(B("a/+"), MQS_V311, &off), MQS_E_TOPIC_WILDCARD);
    ck_assert_uint_eq(off, 2);
    ck_assert_int_eq(mqs_topic_name_check(B("#"), MQS_V31, &off), MQS_E_TOPIC_WILDCARD);
    ck_assert_int_eq(mqs_topic_name_check(B("a\0"), MQS_V311, &off), MQS_E_UTF8_NUL);
    ck_assert_int_eq(mqs_topic_name_check(B("a\0"), MQS_V31, &off), MQS_OK);
    ck_assert_int_eq(mqs_topic_name_check(B("a\xff"), MQS_V31, &off), MQS_E_V31_UTF8_INVALID);
    ck_assert_int_eq(mqs_topic_name_check(B("a\xff"), MQS_V311, NULL), MQS_E_UTF8_INVALID);
}
END_TEST

START_TEST(test_filter_check)
{
    static const char *ok[] = {"#", "+", "a/#", "+/+", "/#", "a/+/b", "+/", "/+", "//", "$SYS/#", "a b"};
    static const struct { const char *f; int st; size_t off; } bad[] = {
        {"a#", MQS_E_FILTER_HASH, 1},   {"#/", MQS_E_FILTER_HASH, 0},  {"a/#/b", MQS_E_FILTER_HASH, 2},
        {"a+", MQS_E_FILTER_PLUS, 1},   {"+a", MQS_E_FILTER_PLUS, 0},  {"a/b+/c", MQS_E_FILTER_PLUS, 3},
        {"+#", MQS_E_FILTER_PLUS, 0},   {"", MQS_E_TOPIC_EMPTY, 0},    {"a/\xc0\x80", MQS_E_UTF8_INVALID, 2},
    };
    size_t off = 0;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        ck_assert_msg(mqs_topic_filter_check((const uint8_t *)ok[i], strlen(ok[i]), MQS_V311, &off) == MQS_OK, "%s", ok[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int st = mqs_topic_filter_check((const uint8_t *)bad[i].f, strlen(bad[i].f), MQS_V311, &off);
        ck_assert_msg(st == bad[i].st && off == bad[i].off, "\"%s\": %s at %zu", bad[i].f, mqs_status_name(st), off);
    }
}
END_TEST

START_TEST(test_utf8)
{
    size_t off = 0;
    ck_assert_int_eq(mqs_utf8_check(B(""), 0, &off), MQS_OK);
    ck_assert_int_eq(mqs_utf8_check(B("\xef\xbb\xbf" "a"), 0, &off), MQS_OK); /* U+FEFF kept */
    ck_assert_int_eq(mqs_utf8_check(B("\x01\x1f\x7f\xc2\x80\xc2\x9f"), 0, &off), MQS_OK); /* controls */
    ck_assert_int_eq(mqs_utf8_check(B("\xef\xbf\xbf\xef\xb7\x90"), 0, &off), MQS_OK); /* non-characters */
    ck_assert_int_eq(mqs_utf8_check(B("\xed\x9f\xbf\xee\x80\x80"), 0, &off), MQS_OK); /* around surrogates */
    ck_assert_int_eq(mqs_utf8_check(B("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf"), 0, &off), MQS_OK);
    static const struct { const char *s; size_t n; size_t off; } bad[] = {
        {"\x80", 1, 0}, {"\xbf", 1, 0}, {"\xc0\x80", 2, 0}, {"\xc1\xbf", 2, 0}, {"\xc2", 1, 0},
        {"a\xc2" "a", 3, 1}, {"\xe0\x9f\xbf", 3, 0}, {"\xed\xa0\x80", 3, 0}, {"\xed\xbf\xbf", 3, 0},
        {"\xf0\x8f\xbf\xbf", 4, 0}, {"\xf4\x90\x80\x80", 4, 0}, {"\xf5\x80\x80\x80", 4, 0},
        {"\xff", 1, 0}, {"\xfe", 1, 0}, {"ab\xe2\x82", 4, 2}, {"\xf0\x90\x80", 3, 0},
        {"\xe2\x82\x28", 3, 0},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int st = mqs_utf8_check((const uint8_t *)bad[i].s, bad[i].n, 0, &off);
        ck_assert_msg(st == MQS_E_UTF8_INVALID && off == bad[i].off, "case %zu: %s at %zu", i, mqs_status_name(st), off);
        ck_assert_int_eq(mqs_utf8_check_version((const uint8_t *)bad[i].s, bad[i].n, MQS_V31, NULL), MQS_E_V31_UTF8_INVALID);
    }
    ck_assert_int_eq(mqs_utf8_check(B("ab\0"), 0, &off), MQS_E_UTF8_NUL);
    ck_assert_uint_eq(off, 2);
    ck_assert_int_eq(mqs_utf8_check(B("ab\0"), MQS_UTF8_ALLOW_NUL, &off), MQS_OK);
    ck_assert_uint_eq(mqs_utf8_count(B("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80")), 4);
}
END_TEST

Suite *topic_suite(void)
{
    Suite *s = suite_create("topic");
    TCase *tc = tcase_create("match");
    tcase_add_loop_test(tc, test_match, 0, (int)(sizeof matches / sizeof matches[0]));
    suite_add_tcase(s, tc);
    tc = tcase_create("validate");
    tcase_add_test(tc, test_name_check);
    tcase_add_test(tc, test_filter_check);
    tcase_add_test(tc, test_utf8);
    suite_add_tcase(s, tc);
    return s;
}
