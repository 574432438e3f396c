/* The single Check runner: every suite listed in tests/suites.def. */
#include <check.h>
#include <stdlib.h>

#define MQS_SUITE(name) Suite *name##_suite(void);
#include "tests/suites.def"
#undef MQS_SUITE

int main(void)
{
    SRunner *sr = srunner_create(NULL);
#define MQS_SUITE(name) srunner_add_suite(sr, name##_suite());
#include "tests/suites.def"
#undef MQS_SUITE
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
