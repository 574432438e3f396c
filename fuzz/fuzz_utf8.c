/* utf8: mqs_utf8_check / mqs_utf8_check_version / mqs_utf8_count on the exact
 * input bytes (no NUL terminator, so an over-read is caught), against the
 * straightforward decoder below: verdict, status and error offset must agree. */
#include "codec/utf8.h"
#include "fuzz/fuzz_common.h"

/* Reference: decode one code point at a time per RFC 3629 (MQTT 3.1.1 section
 * 1.5.3): lead byte gives the length, continuation bytes are 10xxxxxx, the value
 * must need that length (no overlong form), be at most U+10FFFF and not a
 * surrogate; U+0000 is refused unless allow_nul. */
static int mqs_fz_ref_utf8(const uint8_t *s, size_t n, bool allow_nul, size_t *off, size_t *count)
{
    static const uint32_t min_for_len[5] = {0, 0, 0x80, 0x800, 0x10000};
    size_t i = 0, cps = 0;
    while (i < n) {
        uint8_t b = s[i];
        size_t len = b < 0x80 ? 1 : b >= 0xc0 && b < 0xe0 ? 2 : b >= 0xe0 && b < 0xf0 ? 3
                                 : b >= 0xf0 && b < 0xf8 ? 4 : 0;
        *off = i;
        if (len == 0 || len > n - i)
            return MQS_E_UTF8_INVALID;
        uint32_t cp = len == 1 ? b : (uint32_t)(b & (0x7fu >> len));
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0u) != 0x80u)
                return MQS_E_UTF8_INVALID;
            cp = (cp << 6) | (uint32_t)(s[i + k] & 0x3fu);
        }
        if (cp < min_for_len[len] || cp > 0x10ffffu || (cp >= 0xd800u && cp <= 0xdfffu))
            return MQS_E_UTF8_INVALID;
        if (cp == 0 && !allow_nul)
            return MQS_E_UTF8_NUL;
        i += len;
        cps++;
    }
    *count = cps;
    return MQS_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int allow_nul = 0; allow_nul <= 1; allow_nul++) {
        size_t off = (size_t)-1, ref_off = (size_t)-1, count = 0;
        int st = mqs_utf8_check(data, size, allow_nul ? MQS_UTF8_ALLOW_NUL : 0u, &off);
        int ref = mqs_fz_ref_utf8(data, size, allow_nul, &ref_off, &count);
        MQS_FZ_ASSERT(st == ref);
        if (st != MQS_OK)
            MQS_FZ_ASSERT(off == ref_off && off < size);
        else
            MQS_FZ_ASSERT(mqs_utf8_count(data, size) == count);

        /* The per-version entry point: 3.1.1 strict, 3.1 well-formedness only. */
        mqs_version v = allow_nul ? MQS_V31 : MQS_V311;
        size_t voff = (size_t)-1;
        int vst = mqs_utf8_check_version(data, size, v, &voff);
        if (!allow_nul)
            MQS_FZ_ASSERT(vst == st);
        else
            MQS_FZ_ASSERT(st == MQS_OK ? vst == MQS_OK : vst == MQS_E_V31_UTF8_INVALID);
        if (vst != MQS_OK)
            MQS_FZ_ASSERT(voff == off);
    }
    return 0;
}
