/* mqttspec codec: topic names and topic filters (MQTT 3.1.1 section 4.7).
 *
 * Pure functions over exact-length byte strings (not NUL-terminated).
 */
#ifndef MQS_TOPIC_H
#define MQS_TOPIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/mqtt.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Validates a topic name (PUBLISH topic, will topic). Checks, in this order:
 *  empty [MQTT-4.7.3-1], the version's UTF-8 rules (utf8.h), wildcards '+'/'#'
 *  [MQTT-4.7.1-1].
 * @param[out] err_off  may be NULL; index of the offending byte (0 when empty)
 * @return MQS_OK, MQS_E_TOPIC_EMPTY, MQS_E_UTF8_INVALID, MQS_E_UTF8_NUL,
 *         MQS_E_V31_UTF8_INVALID or MQS_E_TOPIC_WILDCARD */
int mqs_topic_name_check(const uint8_t *s, size_t n, mqs_version v, size_t *err_off);

/** Validates a topic filter (SUBSCRIBE/UNSUBSCRIBE). Checks, in this order:
 *  empty [MQTT-4.7.3-1], UTF-8, then left to right: '#' alone or after '/' and
 *  last [MQTT-4.7.1-2], '+' a whole level [MQTT-4.7.1-3].
 * @return MQS_OK, MQS_E_TOPIC_EMPTY, a UTF-8 status, MQS_E_FILTER_HASH or
 *         MQS_E_FILTER_PLUS */
int mqs_topic_filter_check(const uint8_t *s, size_t n, mqs_version v, size_t *err_off);

/** True when a valid topic filter matches a valid topic name (section 4.7):
 *  '+' matches exactly one level (possibly empty), '#' the parent level and any
 *  number of levels below, and a filter starting with a wildcard does not match a
 *  topic starting with '$' [MQTT-4.7.2-1]. Comparison is byte for byte
 *  [MQTT-4.7.3-4]. */
bool mqs_topic_match(const uint8_t *filter, size_t flen, const uint8_t *topic, size_t tlen);

#ifdef __cplusplus
}
#endif

#endif /* MQS_TOPIC_H */
