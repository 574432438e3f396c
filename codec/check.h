/* mqttspec codec, internal: the rule checks shared by the decoder and the
 * validating encoder, so both report the same status for the same content.
 * Not a public header: only the codec sources include it.
 *
 * Offsets returned through *off are relative to the start of the field
 * (for strings: the 2-byte length prefix); callers add the field position.
 */
#ifndef MQS_CHECK_H
#define MQS_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/buf.h"
#include "codec/mqtt.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MQS_VAR_LEN (-1) /* packet types whose Remaining Length varies */

/** Static facts about one packet type. */
typedef struct mqs_type_info {
    bool to_server;  /* a client may send it */
    bool to_client;  /* a server may send it */
    int fixed_len;   /* Remaining Length of fixed-size packets, else MQS_VAR_LEN */
    uint8_t flags;   /* MQTT 3.1.1 fixed header flags (PUBLISH: unused) */
    int flag_status; /* status when the 3.1.1 flags differ */
} mqs_type_info;

/** Facts for types 1..14; NULL for reserved or out-of-range types. */
const mqs_type_info *mqs_type_info_get(int type);

/** Version of a CONNECT judged by its protocol name: MQIsdp means 3.1, anything
 *  else is judged by the 3.1.1 rules. body: a cursor (by value) at the variable header. */
mqs_version mqs_connect_version(mqs_rd body);

int mqs_chk_dir(int type, mqs_dir dir);
int mqs_chk_fixed_flags(int type, uint8_t flags, mqs_version v);
int mqs_chk_connect_flags(uint8_t flags, mqs_version v);
int mqs_chk_connack(uint8_t flags, uint8_t rc, mqs_version v, size_t *off);
int mqs_chk_client_id(mqs_str id, bool clean_session, mqs_version v, size_t *off);
int mqs_chk_publish_topic(mqs_str topic, mqs_version v, size_t *off);
int mqs_chk_will_topic(mqs_str topic, mqs_version v, size_t *off);
int mqs_chk_utf8_field(mqs_str s, mqs_version v, size_t *off);
int mqs_chk_filter(mqs_str filter, mqs_version v, size_t *off);
int mqs_chk_sub_qos(uint8_t qos_byte, mqs_version v);
int mqs_chk_suback_rc(uint8_t rc, mqs_version v);
/** Empty SUBSCRIBE/UNSUBSCRIBE/SUBACK list: the status, or MQS_OK where allowed. */
int mqs_chk_empty_list(int type, mqs_version v);

#ifdef __cplusplus
}
#endif

#endif /* MQS_CHECK_H */
