/* mqttspec codec: MQTT UTF-8 validation (see utf8.h). */
#include "codec/utf8.h"

/* Length of the sequence a lead byte starts and the allowed range of the second
 * byte (RFC 3629 table 4); 0 for bytes that cannot start a sequence. */
typedef struct mqs_utf8_lead {
    uint8_t len;
    uint8_t lo;
    uint8_t hi;
} mqs_utf8_lead;

static mqs_utf8_lead utf8_lead(uint8_t b)
{
    mqs_utf8_lead l = {0, 0x80, 0xbf};
    if (b < 0x80)
        l.len = 1;
    else if (b >= 0xc2 && b <= 0xdf)
        l.len = 2;
    else if (b == 0xe0)
        l = (mqs_utf8_lead){3, 0xa0, 0xbf}; /* no overlong 3-byte forms */
    else if (b == 0xed)
        l = (mqs_utf8_lead){3, 0x80, 0x9f}; /* no surrogates [MQTT-1.5.3-1] */
    else if (b >= 0xe1 && b <= 0xef)
        l.len = 3;
    else if (b == 0xf0)
        l = (mqs_utf8_lead){4, 0x90, 0xbf}; /* no overlong 4-byte forms */
    else if (b >= 0xf1 && b <= 0xf3)
        l.len = 4;
    else if (b == 0xf4)
        l = (mqs_utf8_lead){4, 0x80, 0x8f}; /* nothing above U+10FFFF */
    return l;
}

/* Length of the well-formed sequence at s[i], or 0 when it is ill-formed. */
static size_t utf8_seq(const uint8_t *s, size_t n, size_t i)
{
    mqs_utf8_lead l = utf8_lead(s[i]);
    if (l.len == 0 || l.len > n - i)
        return 0;
    if (l.len > 1 && (s[i + 1] < l.lo || s[i + 1] > l.hi))
        return 0;
    for (size_t k = 2; k < l.len; k++)
        if ((s[i + k] & 0xc0u) != 0x80u)
            return 0;
    return l.len;
}

int mqs_utf8_check(const uint8_t *s, size_t n, unsigned flags, size_t *err_off)
{
    size_t i = 0;
    while (i < n) {
        size_t k = utf8_seq(s, n, i);
        int st = MQS_OK;
        if (k == 0)
            st = MQS_E_UTF8_INVALID; /* [MQTT-1.5.3-1] */
        else if (s[i] == 0 && !(flags & MQS_UTF8_ALLOW_NUL))
            st = MQS_E_UTF8_NUL; /* [MQTT-1.5.3-2] */
        if (st != MQS_OK) {
            if (err_off)
                *err_off = i;
            return st;
        }
        i += k;
    }
    return MQS_OK;
}

int mqs_utf8_check_version(const uint8_t *s, size_t n, mqs_version v, size_t *err_off)
{
    if (v != MQS_V31)
        return mqs_utf8_check(s, n, 0, err_off);
    /* MQTT 3.1 asks for "UTF-encoded" strings: well-formedness only. */
    int st = mqs_utf8_check(s, n, MQS_UTF8_ALLOW_NUL, err_off);
    return st == MQS_OK ? MQS_OK : MQS_E_V31_UTF8_INVALID;
}

size_t mqs_utf8_count(const uint8_t *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if ((s[i] & 0xc0u) != 0x80u)
            count++;
    return count;
}
