/* frame: mqs_frame_peek and the incremental framer on arbitrary bytes.
 * mqs_frame_peek is checked against a reference Remaining Length decoder
 * written here, strict and lenient; the framer, fed the input in pieces into a
 * small buffer, must hand out frames that are consecutive slices of the input
 * whose headers frame_peek agrees with. Byte 0 of the input is part of the
 * stream; its low bits also pick the piece size. The trace formatters
 * (mqs_format_hex / hexdump) get the first bytes, under the snprintf contract. */
#include "codec/format.h"
#include "fuzz/fuzz_common.h"

/* Reference fixed-header decoder: MQTT 3.1.1 section 2.2.3 (at most four
 * length bytes, 7 bits each, least significant first). Returns MQS_OK,
 * MQS_NEED_MORE or -1 (more than four length bytes); *non_minimal is set when
 * the last length byte is 0 after a continuation (a shorter form exists). */
static int mqs_fz_ref_header(const uint8_t *b, size_t len, uint32_t *value, size_t *hdr,
                             bool *non_minimal)
{
    uint32_t v = 0;
    for (size_t i = 0; i < 4; i++) {
        if (len < i + 2)
            return MQS_NEED_MORE;
        uint8_t c = b[i + 1];
        v |= (uint32_t)(c & 0x7fu) << (7 * i);
        if ((c & 0x80u) == 0) {
            *value = v;
            *hdr = i + 2;
            *non_minimal = i > 0 && c == 0;
            return MQS_OK;
        }
    }
    return -1;
}

static void mqs_fz_check_peek(const uint8_t *data, size_t size, unsigned lenient)
{
    uint8_t type = 0xff, flags = 0xff;
    uint32_t rl = 0;
    size_t hdr = 0;
    mqs_diag diag = {0};
    int st = mqs_frame_peek(data, size, lenient, &type, &flags, &rl, &hdr, &diag);
    mqs_fz_check_status(st, &diag, size);
    uint32_t ref_rl = 0;
    size_t ref_hdr = 0;
    bool non_minimal = false;
    int ref = mqs_fz_ref_header(data, size, &ref_rl, &ref_hdr, &non_minimal);
    if (ref == MQS_OK && (!non_minimal || lenient)) {
        MQS_FZ_ASSERT(st == MQS_OK);
        MQS_FZ_ASSERT(hdr == ref_hdr && hdr >= 2 && hdr <= 5 && hdr <= size);
        MQS_FZ_ASSERT(rl == ref_rl && rl <= MQS_MAX_REMAINING_LENGTH);
        MQS_FZ_ASSERT(type == data[0] >> 4 && flags == (data[0] & 0x0f));
    } else if (ref == MQS_OK) {
        MQS_FZ_ASSERT(mqs_status_is_malformed(st) && diag.offset < size);
    } else if (ref == MQS_NEED_MORE) {
        /* Four continuation bytes already promise a fifth: either verdict is fine. */
        MQS_FZ_ASSERT(st == MQS_NEED_MORE || (size == 5 && mqs_status_is_malformed(st)));
    } else {
        MQS_FZ_ASSERT(mqs_status_is_malformed(st) && diag.offset < size);
    }
    /* Trailing bytes never change the header's verdict. */
    if (st == MQS_OK) {
        uint32_t rl2 = 0;
        size_t hdr2 = 0;
        MQS_FZ_ASSERT(mqs_frame_peek(data, hdr, lenient, NULL, NULL, &rl2, &hdr2, NULL) ==
                      MQS_OK);
        MQS_FZ_ASSERT(rl2 == rl && hdr2 == hdr);
    }
}

/* Pushes the input in pieces of `step` bytes into a framer of `cap` bytes and
 * checks every frame it hands out. */
static void mqs_fz_check_framer(const uint8_t *data, size_t size, unsigned lenient, size_t cap,
                                size_t step)
{
    uint8_t storage[300];
    mqs_framer f;
    mqs_framer_init(&f, storage, cap, lenient);
    size_t fed = 0, framed = 0;
    while (fed < size) {
        size_t n = size - fed < step ? size - fed : step;
        int st = mqs_framer_push(&f, data + fed, n);
        MQS_FZ_ASSERT(st == MQS_OK || st == MQS_E_BUFFER_TOO_SMALL);
        if (st != MQS_OK)
            return; /* a frame larger than the buffer: nothing appended */
        fed += n;
        MQS_FZ_ASSERT(f.len <= f.cap && f.consumed <= f.len);
        for (;;) {
            const uint8_t *frame = NULL;
            size_t flen = 0;
            mqs_diag diag = {0};
            st = mqs_framer_next(&f, &frame, &flen, &diag);
            mqs_fz_check_status(st, &diag, fed - framed);
            if (st == MQS_NEED_MORE)
                break;
            if (st != MQS_OK)
                return; /* the stream cannot be resynchronised */
            MQS_FZ_ASSERT(frame >= storage && flen <= cap && frame + flen <= storage + cap);
            MQS_FZ_ASSERT(framed + flen <= fed && memcmp(frame, data + framed, flen) == 0);
            uint32_t rl = 0;
            size_t hdr = 0;
            MQS_FZ_ASSERT(mqs_frame_peek(frame, flen, lenient, NULL, NULL, &rl, &hdr, NULL) ==
                          MQS_OK);
            MQS_FZ_ASSERT(hdr + rl == flen);
            framed += flen;
        }
    }
}

/* Formats up to 64 input bytes as hex and as a dump: needed length first, then a
 * full and a truncated write, both NUL-terminated. */
static void mqs_fz_check_hex(const uint8_t *data, size_t size)
{
    size_t n = size < 64 ? size : 64;
    char out[64 * 80];
    char sep = size ? (char)(data[0] & 1u ? ' ' : 0) : 0;
    size_t need = mqs_format_hex(data, n, sep, NULL, 0);
    MQS_FZ_ASSERT(need < sizeof out && mqs_format_hex(data, n, sep, out, sizeof out) == need);
    MQS_FZ_ASSERT(strlen(out) == need && need >= 2 * n);
    need = mqs_format_hexdump(data, n, NULL, 0);
    MQS_FZ_ASSERT(need < sizeof out && mqs_format_hexdump(data, n, out, sizeof out) == need);
    MQS_FZ_ASSERT(strlen(out) == need);
    MQS_FZ_ASSERT(mqs_format_hexdump(data, n, out, need / 2 + 1) == need);
    MQS_FZ_ASSERT(strlen(out) == need / 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mqs_fz_check_hex(data, size);
    mqs_fz_check_peek(data, size, 0);
    mqs_fz_check_peek(data, size, MQS_LENIENT_NON_MINIMAL_RL);
    size_t step = size ? (size_t)(data[0] & 7u) + 1 : 1;
    mqs_fz_check_framer(data, size, 0, 300, step);
    mqs_fz_check_framer(data, size, MQS_LENIENT_NON_MINIMAL_RL, 16, step);
    return 0;
}
