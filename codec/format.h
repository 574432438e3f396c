/* mqttspec codec: packets and bytes as readable text for traces and reports.
 *
 * All functions work like snprintf: they write at most cap bytes including a
 * terminating NUL (when cap > 0) and return the length the full text needs
 * (excluding the NUL), so a caller can size a buffer with a first call on
 * (NULL, 0). No allocation, no I/O.
 */
#ifndef MQS_FORMAT_H
#define MQS_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "codec/mqtt.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MQS_FORMAT_PREVIEW 32u /* payload bytes shown before "..." */

/** One line describing a decoded packet, e.g.
 *  `PUBLISH qos=1 dup=0 retain=0 id=7 topic="a/b" payload=5B "hello"`.
 *  Strings are quoted with non-printable bytes as \xNN; lists print
 *  pkt->n_items entries of pkt->items (the caller makes sure they exist). */
size_t mqs_format_packet(const mqs_packet *pkt, char *out, size_t cap);

/** Bytes as lower-case hex pairs separated by sep (no separator when sep is 0),
 *  e.g. "10 0c 00 04". */
size_t mqs_format_hex(const uint8_t *bytes, size_t n, char sep, char *out, size_t cap);

/** Classic 16-bytes-per-line dump with offsets and an ASCII column, each line
 *  ending in '\n': `0000  10 0c 00 04 4d 51 54 54  ...  |....MQTT|`. */
size_t mqs_format_hexdump(const uint8_t *bytes, size_t n, char *out, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* MQS_FORMAT_H */
