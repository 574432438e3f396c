/* Suite `report`: statement catalogue, coverage, report writers, compare. */
#include <check.h>
#include <string.h>

#include "conformance/catalogue.h"

START_TEST(catalogue_lookup)
{
    ck_assert_uint_eq(mqs_catalogue_count(), 141);
    const mqs_statement *s = mqs_catalogue_find("MQTT-3.1.2-3");
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s->section, "3.1.2.3");
    ck_assert_int_eq(s->observable, MQS_OBS_YES);
    ck_assert_str_eq(s->binds, "server");
    ck_assert_ptr_eq(mqs_catalogue_at(mqs_catalogue_index("MQTT-3.1.2-3")), s);
    ck_assert_str_eq(mqs_catalogue_at(0)->id, "MQTT-1.5.3-1");
    ck_assert_ptr_null(mqs_catalogue_at(mqs_catalogue_count()));
    ck_assert_ptr_null(mqs_catalogue_find("MQTT-9.9.9-9"));
    ck_assert_ptr_null(mqs_catalogue_find(NULL));
    ck_assert_ptr_null(mqs_catalogue_find("mqtt-3.1.2-3"));
    ck_assert_int_eq(mqs_catalogue_find("MQTT-2.3.1-2")->observable, MQS_OBS_NO);
    ck_assert_int_eq(mqs_catalogue_find("MQTT-3.1.0-1")->observable, MQS_OBS_PARTLY);
}
END_TEST

START_TEST(catalogue_counts)
{
    size_t n[MQS_OBS_COUNT] = {0};
    for (size_t i = 0; i < mqs_catalogue_count(); i++) {
        const mqs_statement *s = mqs_catalogue_at(i);
        ck_assert(s->observable >= MQS_OBS_NO && s->observable <= MQS_OBS_YES);
        ck_assert_int_gt((int)strlen(s->paraphrase), 0);
        n[s->observable]++;
    }
    ck_assert_uint_eq(n[MQS_OBS_YES], 84);
    ck_assert_uint_eq(n[MQS_OBS_PARTLY], 44);
    ck_assert_uint_eq(n[MQS_OBS_NO], 13);
}
END_TEST

START_TEST(catalogue_classify)
{
    ck_assert_int_eq(mqs_statement_id_classify("MQTT-4.7.1-1"), MQS_STID_CATALOGUE);
    ck_assert_int_eq(mqs_statement_id_classify("MQTT31-connect-idlen"), MQS_STID_OWN);
    ck_assert_int_eq(mqs_statement_id_classify("MQS-payload-16M"), MQS_STID_OWN);
    ck_assert_int_eq(mqs_statement_id_classify("MQS-"), MQS_STID_UNKNOWN);
    ck_assert_int_eq(mqs_statement_id_classify("MQS-a b"), MQS_STID_UNKNOWN);
    ck_assert_int_eq(mqs_statement_id_classify("MQTT-3.1.2-99"), MQS_STID_UNKNOWN);
    ck_assert_int_eq(mqs_statement_id_classify(""), MQS_STID_UNKNOWN);
    ck_assert_int_eq(mqs_statement_id_classify(NULL), MQS_STID_UNKNOWN);
    ck_assert_str_eq(mqs_observability_name(MQS_OBS_PARTLY), "partly");
    ck_assert_str_eq(mqs_observability_name(7), "unknown");
}
END_TEST

START_TEST(catalogue_uncovered)
{
    const char *id, *reason;
    size_t n = 0;
    while (mqs_catalogue_uncovered_at(n, &id, &reason)) {
        const mqs_statement *s = mqs_catalogue_find(id);
        ck_assert_ptr_nonnull(s);
        ck_assert_int_ne(s->observable, MQS_OBS_NO);
        ck_assert_str_eq(mqs_catalogue_uncovered_reason(id), reason);
        n++;
    }
    ck_assert_uint_gt(n, 0);
    ck_assert_ptr_null(mqs_catalogue_uncovered_reason("MQTT-3.1.2-3"));
    ck_assert_ptr_null(mqs_catalogue_uncovered_reason(NULL));
}
END_TEST

Suite *report_suite(void)
{
    Suite *s = suite_create("report");
    TCase *tc = tcase_create("catalogue");
    tcase_add_test(tc, catalogue_lookup);
    tcase_add_test(tc, catalogue_counts);
    tcase_add_test(tc, catalogue_classify);
    tcase_add_test(tc, catalogue_uncovered);
    suite_add_tcase(s, tc);
    return s;
}
