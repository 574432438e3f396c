/* mqttspec codec: MQTT UTF-8 string validation (MQTT 3.1.1 section 1.5.3).
 *
 * Standalone and pure: usable (and fuzzed) on exact-length buffers that are not
 * NUL-terminated. Code points the spec only says SHOULD NOT appear (controls,
 * non-characters) are accepted; U+FEFF is an ordinary character [MQTT-1.5.3-3].
 */
#ifndef MQS_UTF8_H
#define MQS_UTF8_H

#include <stddef.h>
#include <stdint.h>

#include "codec/mqtt.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MQS_UTF8_ALLOW_NUL 0x01u /* accept U+0000 (MQTT 3.1 has no such rule) */

/** Checks that s[0..n) is well-formed UTF-8 (RFC 3629: no overlong forms, no
 *  surrogates U+D800..DFFF, nothing above U+10FFFF) without U+0000.
 * @param[out] err_off  may be NULL; on failure the index of the first byte of
 *                      the offending sequence
 * @return MQS_OK, MQS_E_UTF8_INVALID [MQTT-1.5.3-1] or MQS_E_UTF8_NUL [MQTT-1.5.3-2] */
int mqs_utf8_check(const uint8_t *s, size_t n, unsigned flags, size_t *err_off);

/** The string rules of one protocol version: 3.1.1 as mqs_utf8_check; 3.1 asks
 *  for well-formed UTF-8 only and reports MQS_E_V31_UTF8_INVALID. */
int mqs_utf8_check_version(const uint8_t *s, size_t n, mqs_version v, size_t *err_off);

/** Number of code points in a string that passed mqs_utf8_check (counts the
 *  bytes that are not continuation bytes). */
size_t mqs_utf8_count(const uint8_t *s, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* MQS_UTF8_H */
