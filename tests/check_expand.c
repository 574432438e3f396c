/* Template expansion: every variable form, errors, limits, allocation failures; and the
 * run's client ids and tokens. */
#include <check.h>
#include <ctype.h>
#include <string.h>

#include "conformance/alloc.h"
#include "conformance/expand.h"
#include "conformance/interp.h"

static const char *const names[] = {"pub", "sub"};
static const char *const cids[] = {"mqsabcdefgh000101", "mqsabcdefgh000102"};

static mqs_vars vars(void)
{
    mqs_vars v = {"abcdefgh", "mqs/abcdefgh/0001/", names, cids, 2, "alice", "secret", "bad", NULL,
                  0};
    return v;
}

typedef struct ex_case {
    const char *tmpl;
    const char *want; /* expected bytes (NUL-free here unless want_len given) */
    size_t want_len;
} ex_case;

static const ex_case good[] = {
    {"plain", "plain", 0},
    {"", "", 0},
    {"${topic}a/b", "mqs/abcdefgh/0001/a/b", 0},
    {"${cid:sub}", "mqsabcdefgh000102", 0},
    {"${token}", "abcdefgh", 0},
    {"${username}:${password}:${bad_password}", "alice:secret:bad", 0},
    {"$$SYS/x", "$SYS/x", 0},
    {"$SYS/x", "$SYS/x", 0},
    {"cost $5", "cost $5", 0},
    {"$${topic}", "${topic}", 0},
    {"a${hex:00 ff}b",
     "a\0\xff"
     "b",
     4},
    {"${hex:eda080}", "\xed\xa0\x80", 0},
    {"${repeat:3:ab}", "ababab", 0},
    {"${repeat:0:ab}", "", 0},
    {"${repeat:2:${hex:41}${repeat:2:z}}", "AzzAzz", 0},
    {"${var:p}", "42", 0},
};

START_TEST(expands)
{
    const ex_case *c = &good[_i];
    mqs_vars v = vars();
    ck_assert_int_eq(mqs_vars_set(&v, "p", (const uint8_t *)"41", 2), 0);
    ck_assert_int_eq(mqs_vars_set(&v, "p", (const uint8_t *)"42", 2), 0); /* replaced */
    mqs_buf out = {0};
    char err[256];
    ck_assert_msg(mqs_expand(c->tmpl, &v, &out, err, sizeof err) == 0, "%s: %s", c->tmpl, err);
    size_t want_len = c->want_len ? c->want_len : strlen(c->want);
    ck_assert_uint_eq(out.len, want_len);
    ck_assert(memcmp(out.p, c->want, want_len) == 0);
    ck_assert_uint_eq(v.n_saved, 1);
    char err2[256];
    ck_assert_msg(mqs_template_check(c->tmpl, names, 2, NULL, err2, sizeof err2) == 0, "%s", err2);
    mqs_buf_free(&out);
    mqs_vars_free(&v);
}
END_TEST

typedef struct err_case {
    const char *tmpl;
    const char *want;
    bool runtime_only; /* passes the load-time check, fails on expansion */
} err_case;

static const err_case bad[] = {
    {"${what}", "unknown variable ${what}", false},
    {"${cid:nobody}", "no client named 'nobody'", false},
    {"${hex:4}", "not a pair of hex digits", false},
    {"${hex:zz}", "not a pair of hex digits", false},
    {"${topic", "unterminated", false},
    {"${repeat:x:a}", "N must be an integer", false},
    {"${repeat:5}", "N must be an integer", false},
    {"${repeat:16777217:a}", "N must be an integer", false},
    {"${repeat:9000000:${repeat:9:ab}}", "expansion larger than", false},
    {"${var:a b}", "a variable name is", false},
    {"${var:missing}", "${var:missing} is not defined", true},
    {"${repeat:1:${repeat:1:${repeat:1:${repeat:1:${repeat:1:${repeat:1:${repeat:1:${repeat:1:"
     "${repeat:1:x}}}}}}}}}",
     "nested deeper", false},
};

START_TEST(errors)
{
    const err_case *c = &bad[_i];
    mqs_vars v = vars();
    mqs_buf out = {0};
    char err[256] = "";
    ck_assert_int_eq(mqs_expand(c->tmpl, &v, &out, err, sizeof err), -1);
    ck_assert_msg(strstr(err, c->want) != NULL, "%s: '%s' not in '%s'", c->tmpl, c->want, err);
    mqs_buf_free(&out);
    int rc = mqs_template_check(c->tmpl, names, 2, NULL, err, sizeof err);
    ck_assert_int_eq(rc, c->runtime_only ? 0 : -1);
}
END_TEST

START_TEST(credentials_missing)
{
    mqs_vars v = vars();
    v.username = v.password = v.bad_password = NULL;
    mqs_buf out = {0};
    char err[256];
    ck_assert_int_eq(mqs_expand("${password}", &v, &out, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "no credentials"));
    unsigned uses = 0;
    ck_assert_int_eq(
        mqs_template_check("${username}${bad_password}", names, 2, &uses, err, sizeof err), 0);
    ck_assert_uint_eq(uses, MQS_USES_USERNAME | MQS_USES_BAD_PASSWORD);
    mqs_buf_free(&out);
}
END_TEST

START_TEST(expand_int)
{
    mqs_vars v = vars();
    int64_t x = 0;
    char err[256];
    mqs_vars_set(&v, "id", (const uint8_t *)"65535", 5);
    mqs_vars_set(&v, "big", (const uint8_t *)"65536", 5);
    mqs_vars_set(&v, "neg", (const uint8_t *)"-1", 2);
    ck_assert_int_eq(mqs_expand_int("${var:id}", &v, 0, 65535, &x, err, sizeof err), 0);
    ck_assert_int_eq(x, 65535);
    ck_assert_int_eq(mqs_expand_int("${var:big}", &v, 0, 65535, &x, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "not an integer 0..65535"));
    ck_assert_int_eq(mqs_expand_int("${var:neg}", &v, 0, 65535, &x, err, sizeof err), -1);
    ck_assert_int_eq(mqs_expand_int("${topic}", &v, 0, 65535, &x, err, sizeof err), -1);
    mqs_vars_free(&v);
}
END_TEST

START_TEST(large_repeat)
{
    mqs_vars v = vars();
    mqs_buf out = {0};
    char err[256];
    ck_assert_int_eq(mqs_expand("${repeat:16777216:x}", &v, &out, err, sizeof err), 0);
    ck_assert_uint_eq(out.len, 16777216u);
    ck_assert(out.p[0] == 'x' && out.p[out.len - 1] == 'x' && out.p[out.len] == 0);
    mqs_buf_free(&out);
}
END_TEST

START_TEST(allocation_failures)
{
    for (long n = 0; n < 40; n++) {
        mqs_vars v = vars();
        mqs_buf out = {0};
        char err[256];
        mqs_alloc_fail_after(n);
        int rc = mqs_vars_set(&v, "p", (const uint8_t *)"1", 1);
        if (rc == 0)
            rc = mqs_expand("${repeat:50:${topic}}${var:p}", &v, &out, err, sizeof err);
        long injected = mqs_alloc_injected_failures();
        mqs_alloc_fail_after(-1);
        if (rc < 0)
            ck_assert_int_gt(injected, 0);
        else
            ck_assert_uint_eq(out.len, 50 * strlen("mqs/abcdefgh/0001/") + 1);
        mqs_buf_free(&out);
        mqs_vars_free(&v);
    }
}
END_TEST

START_TEST(ids)
{
    char token[9], token2[9], cid[24];
    mqs_make_token(token);
    mqs_make_token(token2);
    ck_assert_uint_eq(strlen(token), 8);
    ck_assert_str_ne(token, token2);
    for (size_t i = 0; i < 8; i++)
        ck_assert(islower((unsigned char)token[i]) || isdigit((unsigned char)token[i]));
    mqs_make_client_id(token, 1679615, 1295, cid);
    ck_assert_uint_le(strlen(cid), 23);
    for (size_t i = 0; cid[i]; i++)
        ck_assert(isalnum((unsigned char)cid[i]));
    char a[24], b[24];
    mqs_make_client_id(token, 5, 0, a);
    mqs_make_client_id(token, 5, 1, b);
    ck_assert_str_ne(a, b);
    mqs_make_client_id(token, 6, 0, b);
    ck_assert_str_ne(a, b);
}
END_TEST

Suite *expand_suite(void)
{
    Suite *s = suite_create("expand");
    TCase *t = tcase_create("valid");
    tcase_add_loop_test(t, expands, 0, (int)(sizeof good / sizeof good[0]));
    tcase_add_test(t, expand_int);
    tcase_add_test(t, large_repeat);
    tcase_add_test(t, ids);
    suite_add_tcase(s, t);
    t = tcase_create("malformed");
    tcase_add_loop_test(t, errors, 0, (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(t, credentials_missing);
    tcase_add_test(t, allocation_failures);
    suite_add_tcase(s, t);
    return s;
}
