/* topic: topic name / filter validation and matching. Byte 0 says how many of
 * the following bytes form the filter; the rest is the topic name. Validation
 * is checked against a character-by-character reference and matching against a
 * naive level-by-level matcher, both written here (MQTT 3.1.1 section 4.7). */
#include "codec/topic.h"
#include "codec/utf8.h"
#include "fuzz/fuzz_common.h"

/* What names and filters check first: not empty [MQTT-4.7.3-1], then UTF-8. */
static int mqs_fz_ref_string(const uint8_t *s, size_t n, mqs_version v, size_t *off)
{
    *off = 0;
    if (n == 0)
        return MQS_E_TOPIC_EMPTY;
    return mqs_utf8_check_version(s, n, v, off);
}

static int mqs_fz_ref_name(const uint8_t *s, size_t n, mqs_version v, size_t *off)
{
    int st = mqs_fz_ref_string(s, n, v, off);
    if (st != MQS_OK)
        return st;
    for (size_t i = 0; i < n; i++) {
        *off = i;
        if (s[i] == '+' || s[i] == '#')
            return MQS_E_TOPIC_WILDCARD;
    }
    return MQS_OK;
}

static int mqs_fz_ref_filter(const uint8_t *s, size_t n, mqs_version v, size_t *off)
{
    int st = mqs_fz_ref_string(s, n, v, off);
    if (st != MQS_OK)
        return st;
    for (size_t i = 0; i < n; i++) {
        bool starts_level = i == 0 || s[i - 1] == '/';
        bool ends_level = i + 1 == n || s[i + 1] == '/';
        *off = i;
        if (s[i] == '#' && !(starts_level && i + 1 == n))
            return MQS_E_FILTER_HASH;
        if (s[i] == '+' && !(starts_level && ends_level))
            return MQS_E_FILTER_PLUS;
    }
    return MQS_OK;
}

/* Length of the level starting at s[0..n): up to the next '/' or the end. */
static size_t mqs_fz_level(const uint8_t *s, size_t n)
{
    size_t k = 0;
    while (k < n && s[k] != '/')
        k++;
    return k;
}

/* Naive matcher: walk both level by level. '#' matches what is left (even
 * nothing: "a/#" matches "a"), '+' any one level; wildcards in the first level
 * never match a name starting with '$'. */
static bool mqs_fz_ref_match(const uint8_t *f, size_t fn, const uint8_t *t, size_t tn)
{
    if (tn > 0 && t[0] == '$' && fn > 0 && (f[0] == '+' || f[0] == '#'))
        return false;
    size_t fi = 0, ti = 0;
    bool topic_left = true; /* a name always has at least one (maybe empty) level */
    for (;;) {
        size_t fl = mqs_fz_level(f + fi, fn - fi);
        if (fl == 1 && f[fi] == '#')
            return true;
        if (!topic_left)
            return false;
        size_t tl = mqs_fz_level(t + ti, tn - ti);
        if (!(fl == 1 && f[fi] == '+') && (fl != tl || memcmp(f + fi, t + ti, fl) != 0))
            return false;
        fi += fl;
        ti += tl;
        topic_left = ti < tn; /* a '/' follows this level */
        if (fi == fn)
            return !topic_left;
        fi++; /* skip the '/' */
        ti += topic_left ? 1u : 0u;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t rest = size - 1, fn = data[0] <= rest ? data[0] : data[0] % (rest + 1);
    /* Copies of exact length, so any over-read is caught. */
    uint8_t *f = malloc(fn ? fn : 1), *t = malloc(rest - fn ? rest - fn : 1);
    MQS_FZ_ASSERT(f != NULL && t != NULL);
    memcpy(f, data + 1, fn);
    memcpy(t, data + 1 + fn, rest - fn);
    size_t tn = rest - fn;

    bool valid[2] = {false, false};
    for (int i = 0; i < 2; i++) {
        mqs_version v = i ? MQS_V31 : MQS_V311;
        size_t off = (size_t)-1, ref_off = (size_t)-1;
        int st = mqs_topic_filter_check(f, fn, v, &off);
        MQS_FZ_ASSERT(st == mqs_fz_ref_filter(f, fn, v, &ref_off));
        MQS_FZ_ASSERT(st == MQS_OK || off == ref_off);
        if (i == 0)
            valid[0] = st == MQS_OK;
        st = mqs_topic_name_check(t, tn, v, &off);
        MQS_FZ_ASSERT(st == mqs_fz_ref_name(t, tn, v, &ref_off));
        MQS_FZ_ASSERT(st == MQS_OK || off == ref_off);
        if (i == 0)
            valid[1] = st == MQS_OK;
    }
    bool match = mqs_topic_match(f, fn, t, tn); /* any input: no crash, no over-read */
    if (valid[0] && valid[1])
        MQS_FZ_ASSERT(match == mqs_fz_ref_match(f, fn, t, tn));
    if (valid[1]) /* a valid name is a filter matching itself */
        MQS_FZ_ASSERT(mqs_topic_match(t, tn, t, tn));
    free(f);
    free(t);
    return 0;
}
