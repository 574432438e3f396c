/* mqttspec codec: topic name/filter validation and matching (see topic.h). */
#include "codec/topic.h"

#include "codec/utf8.h"

static int topic_fail(int status, size_t off, size_t *err_off)
{
    if (err_off)
        *err_off = off;
    return status;
}

/* Empty check then UTF-8: the part names and filters share. */
static int topic_common(const uint8_t *s, size_t n, mqs_version v, size_t *err_off)
{
    if (n == 0)
        return topic_fail(MQS_E_TOPIC_EMPTY, 0, err_off); /* [MQTT-4.7.3-1] */
    return mqs_utf8_check_version(s, n, v, err_off);
}

int mqs_topic_name_check(const uint8_t *s, size_t n, mqs_version v, size_t *err_off)
{
    int st = topic_common(s, n, v, err_off);
    if (st != MQS_OK)
        return st;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '+' || s[i] == '#')
            return topic_fail(MQS_E_TOPIC_WILDCARD, i, err_off); /* [MQTT-4.7.1-1] */
    return MQS_OK;
}

int mqs_topic_filter_check(const uint8_t *s, size_t n, mqs_version v, size_t *err_off)
{
    int st = topic_common(s, n, v, err_off);
    if (st != MQS_OK)
        return st;
    for (size_t i = 0; i < n; i++) {
        bool level_start = i == 0 || s[i - 1] == '/';
        bool level_end = i + 1 == n || s[i + 1] == '/';
        if (s[i] == '#' && !(level_start && i + 1 == n))
            return topic_fail(MQS_E_FILTER_HASH, i, err_off); /* [MQTT-4.7.1-2] */
        if (s[i] == '+' && !(level_start && level_end))
            return topic_fail(MQS_E_FILTER_PLUS, i, err_off); /* [MQTT-4.7.1-3] */
    }
    return MQS_OK;
}

/* End of the level starting at i (index of the next '/' or n). */
static size_t level_end(const uint8_t *s, size_t n, size_t i)
{
    while (i < n && s[i] != '/')
        i++;
    return i;
}

static bool level_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

bool mqs_topic_match(const uint8_t *filter, size_t flen, const uint8_t *topic, size_t tlen)
{
    if (flen == 0 || tlen == 0)
        return false;
    /* [MQTT-4.7.2-1] wildcards at the start never match '$' topics */
    if (topic[0] == '$' && (filter[0] == '+' || filter[0] == '#'))
        return false;
    size_t f = 0, t = 0;
    for (;;) {
        size_t fe = level_end(filter, flen, f);
        if (fe - f == 1 && filter[f] == '#')
            return true; /* matches this level and everything below (or nothing) */
        size_t te = level_end(topic, tlen, t);
        if (!(fe - f == 1 && filter[f] == '+') && !level_equal(filter + f, fe - f, topic + t, te - t))
            return false;
        bool f_last = fe == flen, t_last = te == tlen;
        if (f_last || t_last) {
            if (f_last && t_last)
                return true;
            /* "a/#" matches "a": the filter may go on with exactly "/#" */
            return t_last && !f_last && flen - fe == 2 && filter[fe + 1] == '#';
        }
        f = fe + 1;
        t = te + 1;
    }
}
