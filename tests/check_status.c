/* Check tests for codec/status.c: the table is total, unique and consistent. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/status.h"

START_TEST(test_table_unique)
{
    size_t n = mqs_status_count();
    ck_assert_uint_gt(n, 40);
    for (size_t i = 0; i < n; i++) {
        int a = mqs_status_at(i);
        ck_assert_int_eq(mqs_status_from_name(mqs_status_name(a)), a);
        ck_assert_int_eq(mqs_status_from_name(mqs_status_name(a) + 4), a); /* without MQS_ */
        for (size_t k = i + 1; k < n; k++) {
            int b = mqs_status_at(k);
            ck_assert_int_ne(a, b);
            ck_assert_str_ne(mqs_status_name(a), mqs_status_name(b));
            const char *ra = mqs_status_rule(a), *rb = mqs_status_rule(b);
            if (ra && rb) /* one code per rule */
                ck_assert_msg(strcmp(ra, rb) != 0, "%s and %s share %s", mqs_status_name(a), mqs_status_name(b), ra);
        }
    }
}
END_TEST

START_TEST(test_rules_by_class)
{
    for (size_t i = 0; i < mqs_status_count(); i++) {
        int st = mqs_status_at(i);
        const char *rule = mqs_status_rule(st);
        if (mqs_status_is_malformed(st)) {
            ck_assert_ptr_nonnull(rule);
            ck_assert_msg(strncmp(rule, "MQTT-", 5) == 0 || strncmp(rule, "MQS-", 4) == 0 ||
                              strncmp(rule, "MQTT31-", 7) == 0,
                          "%s: %s", mqs_status_name(st), rule);
        } else {
            ck_assert_ptr_null(rule);
            ck_assert(st < 100 || st >= 900);
        }
        ck_assert_uint_gt(strlen(mqs_status_str(st)), 0);
    }
}
END_TEST

START_TEST(test_unknown_values)
{
    static const int unknown[] = {-1, 2, 9, 99, 899, 100000, -2147483647 - 1, 2147483647};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        ck_assert_str_eq(mqs_status_name(unknown[i]), "MQS_UNKNOWN");
        ck_assert_str_eq(mqs_status_str(unknown[i]), "unknown status");
        ck_assert_ptr_null(mqs_status_rule(unknown[i]));
        ck_assert(!mqs_status_is_malformed(unknown[i]));
    }
    ck_assert_int_eq(mqs_status_from_name("E_NOPE"), -1);
    ck_assert_int_eq(mqs_status_from_name(NULL), -1);
    ck_assert_int_eq(mqs_status_at(mqs_status_count()), -1);
    ck_assert_str_eq(mqs_status_name(MQS_OK), "MQS_OK");
    ck_assert_str_eq(mqs_status_rule(MQS_E_CONNECT_RESERVED_FLAG), "MQTT-3.1.2-3");
    ck_assert_str_eq(mqs_status_rule(MQS_E_SUBSCRIBE_QOS), "MQTT-3.8.3-4");
}
END_TEST

/* Every MQTT-x.y.z-n id in the table is a statement of conformance/statements-311.tsv. */
START_TEST(test_rules_are_statements)
{
    const char *dir = getenv("MQS_STATEMENTS_TSV");
    FILE *fp = fopen(dir ? dir : "conformance/statements-311.tsv", "r");
    ck_assert_ptr_nonnull(fp);
    static char ids[400][40];
    size_t n = 0;
    char line[4096];
    while (fgets(line, sizeof line, fp) && n < 400)
        if (strncmp(line, "MQTT-", 5) == 0 && sscanf(line, "%39[^\t]", ids[n]) == 1)
            n++;
    fclose(fp);
    ck_assert_uint_gt(n, 100);
    for (size_t i = 0; i < mqs_status_count(); i++) {
        const char *rule = mqs_status_rule(mqs_status_at(i));
        if (rule == NULL || strncmp(rule, "MQTT-", 5) != 0)
            continue;
        bool found = false;
        for (size_t k = 0; k < n && !found; k++)
            found = strcmp(ids[k], rule) == 0;
        ck_assert_msg(found, "%s: %s is not a 3.1.1 statement id", mqs_status_name(mqs_status_at(i)), rule);
    }
}
END_TEST

Suite *status_suite(void)
{
    Suite *s = suite_create("status");
    TCase *tc = tcase_create("table");
    tcase_add_test(tc, test_table_unique);
    tcase_add_test(tc, test_rules_by_class);
    tcase_add_test(tc, test_unknown_values);
    tcase_add_test(tc, test_rules_are_statements);
    suite_add_tcase(s, tc);
    return s;
}
