/* Check tests for codec/buf.c: the bounds-checked cursors. */
#include <check.h>
#include <string.h>

#include "codec/buf.h"

START_TEST(test_reader_bounds)
{
    static const uint8_t b[] = {0x01, 0x02, 0x03, 0x00, 0x02, 'h', 'i', 0x00, 0x05, 'x'};
    mqs_rd r;
    uint8_t u8 = 0;
    uint16_t u16 = 0;
    const uint8_t *ptr = NULL;
    mqs_str s;
    mqs_rd_init(&r, b, sizeof b);
    ck_assert_int_eq(mqs_rd_u8(&r, &u8), MQS_OK);
    ck_assert_uint_eq(u8, 1);
    ck_assert_int_eq(mqs_rd_u16(&r, &u16), MQS_OK);
    ck_assert_uint_eq(u16, 0x0203);
    ck_assert_int_eq(mqs_rd_str(&r, &s), MQS_OK);
    ck_assert(s.len == 2 && memcmp(s.ptr, "hi", 2) == 0);
    size_t at = r.pos;
    ck_assert_int_eq(mqs_rd_str(&r, &s), MQS_NEED_MORE); /* length 5, 1 byte left */
    ck_assert_uint_eq(r.pos, at);                          /* cursor unchanged */
    ck_assert_int_eq(mqs_rd_bytes(&r, 4, &ptr), MQS_NEED_MORE);
    ck_assert_int_eq(mqs_rd_bytes(&r, 3, &ptr), MQS_OK);
    ck_assert_uint_eq(mqs_rd_left(&r), 0);
    ck_assert_int_eq(mqs_rd_u8(&r, &u8), MQS_NEED_MORE);
    ck_assert_int_eq(mqs_rd_u16(&r, &u16), MQS_NEED_MORE);
    mqs_rd_init(&r, NULL, 5); /* no buffer: nothing to read */
    ck_assert_uint_eq(mqs_rd_left(&r), 0);
}
END_TEST

START_TEST(test_varint)
{
    static const struct { uint8_t b[5]; size_t n; int st; uint32_t v; size_t pos; } cases[] = {
        {{0x00}, 1, MQS_OK, 0, 0},
        {{0x7f}, 1, MQS_OK, 127, 0},
        {{0x80, 0x01}, 2, MQS_OK, 128, 0},
        {{0xff, 0x7f}, 2, MQS_OK, 16383, 0},
        {{0x80, 0x80, 0x01}, 3, MQS_OK, 16384, 0},
        {{0xff, 0xff, 0xff, 0x7f}, 4, MQS_OK, 268435455, 0},
        {{0x80}, 1, MQS_NEED_MORE, 0, 0},
        {{0xff, 0xff, 0xff}, 3, MQS_NEED_MORE, 0, 0},
        {{0xff, 0xff, 0xff, 0xff}, 4, MQS_E_RL_TOO_LONG, 0, 3},
        {{0x80, 0x00}, 2, MQS_E_RL_NON_MINIMAL, 0, 1},
        {{0xff, 0x80, 0x00}, 3, MQS_E_RL_NON_MINIMAL, 0, 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mqs_rd r;
        uint32_t v = 0;
        size_t pos = 99;
        mqs_rd_init(&r, cases[i].b, cases[i].n);
        int st = mqs_rd_varint(&r, 0, &v, &pos);
        ck_assert_msg(st == cases[i].st, "case %zu: %s", i, mqs_status_name(st));
        if (st == MQS_OK) {
            ck_assert_uint_eq(v, cases[i].v);
            ck_assert_uint_eq(r.pos, cases[i].n);
        } else {
            ck_assert_uint_eq(r.pos, 0);
        }
        if (st != MQS_OK && st != MQS_NEED_MORE)
            ck_assert_uint_eq(pos, cases[i].pos);
    }
    static const uint8_t padded[] = {0x80, 0x80, 0x00};
    mqs_rd r;
    uint32_t v = 9;
    size_t pos = 0;
    mqs_rd_init(&r, padded, 3);
    ck_assert_int_eq(mqs_rd_varint(&r, MQS_LENIENT_NON_MINIMAL_RL, &v, &pos), MQS_OK);
    ck_assert_uint_eq(v, 0);
}
END_TEST

START_TEST(test_writer_counts)
{
    uint8_t out[8];
    mqs_wr w;
    memset(out, 0xee, sizeof out);
    mqs_wr_init(&w, out, 4);
    mqs_wr_u8(&w, 1);
    mqs_wr_u16(&w, 0x0203);
    mqs_wr_str(&w, (mqs_str){(const uint8_t *)"abc", 3}); /* does not fit: counted only */
    ck_assert_uint_eq(w.pos, 8);
    ck_assert(!mqs_wr_fits(&w));
    static const uint8_t want[] = {0x01, 0x02, 0x03, 0x00, 0xee};
    ck_assert(memcmp(out, want, sizeof want) == 0); /* nothing past cap */
    mqs_wr_init(&w, NULL, 0);
    mqs_wr_varint(&w, 268435455, 4);
    mqs_wr_bytes(&w, NULL, 0);
    ck_assert_uint_eq(w.pos, 4);
    mqs_wr_init(&w, out, sizeof out);
    mqs_wr_varint(&w, 5, 3);
    ck_assert(out[0] == 0x85 && out[1] == 0x80 && out[2] == 0x00);
    ck_assert_int_eq(mqs_varint_size(0), 1);
    ck_assert_int_eq(mqs_varint_size(128), 2);
    ck_assert_int_eq(mqs_varint_size(2097152), 4);
    ck_assert_int_eq(mqs_varint_size(268435456), 5);
}
END_TEST

Suite *buf_suite(void)
{
    Suite *s = suite_create("buf");
    TCase *tc = tcase_create("cursors");
    tcase_add_test(tc, test_reader_bounds);
    tcase_add_test(tc, test_varint);
    tcase_add_test(tc, test_writer_counts);
    suite_add_tcase(s, tc);
    return s;
}
