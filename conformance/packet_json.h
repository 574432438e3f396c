/* mqttspec: the JSON form of an MQTT packet, shared by `mqttspec decode`,
 * `mqttspec encode` and the scenario engine.
 *
 * Fields (present only where the packet type has them):
 *   type ("PUBLISH"), flags (fixed header bits 3-0), dup, qos, retain, packet_id,
 *   topic, payload, protocol_name, protocol_level, connect_flags, clean_session,
 *   keepalive, client_id, will {topic, payload, qos, retain}, username, password,
 *   ack_flags (CONNACK byte 1 as on the wire), session_present, return_code,
 *   subscriptions [{filter, qos}], filters [..], return_codes [..].
 * On input, the named fields win over "flags", "connect_flags" and "ack_flags" for
 * the bits they describe; those raw values supply the remaining bits, so that
 * decode | encode reproduces the bytes exactly (also MQTT 3.1 packets with unused
 * bits set).
 * A string or binary field that is not printable UTF-8 appears as <name>_hex
 * (lower-case hex) instead; a filter in "filters" then is {"filter_hex": ".."}.
 * Allocation goes through conformance/alloc.h.
 */
#ifndef MQS_PACKET_JSON_H
#define MQS_PACKET_JSON_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "codec/mqtt.h"

#ifdef __cplusplus
extern "C" {
#endif

/** JSON object for a decoded packet (pkt->items must hold pkt->n_items entries).
 *  @return a new tree the caller frees with cJSON_Delete, or NULL when out of memory. */
cJSON *mqs_packet_to_json(const mqs_packet *pkt);

/** A packet read from JSON, owning its strings and list. */
typedef struct mqs_json_packet {
    mqs_packet pkt;
    int flags;         /* "flags" as given, -1 when absent */
    int connect_flags; /* "connect_flags" as given, -1 when absent */
    mqs_item *items;   /* owned */
    uint8_t *arena;    /* owned: bytes of every string field */
} mqs_json_packet;

/** Reads one packet object. Unknown keys, wrong types and out-of-range numbers are
 *  errors. String fields are copied, so obj may be freed afterwards.
 * @param[out] out  released with mqs_json_packet_free (also after an error)
 * @param[out] err  message on failure (may be NULL)
 * @return 0, or -1 with a message in err */
int mqs_packet_from_json(const cJSON *obj, mqs_json_packet *out, char *err, size_t errlen);

void mqs_json_packet_free(mqs_json_packet *jp);

/** Packet type for a name such as "PUBLISH" (case-sensitive); -1 when unknown. */
int mqs_type_from_name(const char *name);

#ifdef __cplusplus
}
#endif

#endif /* MQS_PACKET_JSON_H */
