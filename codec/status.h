/* mqttspec status codes: one X-macro table, stable numbers, append only.
 *
 * X(name, value, rule_id, text)
 *   0-9     progress
 *   10-99   API misuse / caller errors
 *   100-899 malformed packet: one code per rule; rule_id is the MQTT 3.1.1
 *           statement id (OASIS Errata 01) or a stable mqttspec id "MQS-..."
 *           / "MQTT31-..." for rules without a statement id
 *   900+    internal
 * The numbers end up in JSON reports and corpora: never renumber.
 */
#ifndef MQS_STATUS_H
#define MQS_STATUS_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MQS_STATUS_MAP(X)                                                                                             \
    X(OK, 0, NULL, "success")                                                                                         \
    X(NEED_MORE, 1, NULL, "incomplete input")                                                                         \
    X(E_BAD_PARAM, 10, NULL, "invalid argument")                                                                      \
    X(E_BUFFER_TOO_SMALL, 11, NULL, "output buffer too small")                                                        \
    X(E_TOO_MANY_ITEMS, 12, NULL, "caller item array too small")                                                      \
    /* ---- fixed header and framing ---- */                                                                          \
    X(E_RESERVED_TYPE, 100, "MQS-RESERVED-TYPE", "reserved control packet type 0 or 15")                              \
    X(E_RL_TOO_LONG, 101, "MQS-RL-TOO-LONG", "Remaining Length encoded in more than 4 bytes")                         \
    X(E_RL_NON_MINIMAL, 102, "MQS-RL-NON-MINIMAL", "Remaining Length not encoded in the fewest bytes")                \
    X(E_SENT_TO_SERVER, 103, "MQS-DIR-TO-SERVER", "packet type only a server sends, received by a server")            \
    X(E_SENT_TO_CLIENT, 104, "MQS-DIR-TO-CLIENT", "packet type only a client sends, received by a client")            \
    X(E_FLAGS_RESERVED, 110, "MQTT-2.2.2-1", "reserved fixed header flags are not 0000")                              \
    X(E_PUBREL_FLAGS, 111, "MQTT-3.6.1-1", "PUBREL fixed header flags are not 0010")                                  \
    X(E_SUBSCRIBE_FLAGS, 112, "MQTT-3.8.1-1", "SUBSCRIBE fixed header flags are not 0010")                            \
    X(E_UNSUBSCRIBE_FLAGS, 113, "MQTT-3.10.1-1", "UNSUBSCRIBE fixed header flags are not 0010")                       \
    X(E_DISCONNECT_FLAGS, 114, "MQTT-3.14.1-1", "DISCONNECT fixed header flags are not 0000")                         \
    X(E_PUBLISH_QOS3, 115, "MQTT-3.3.1-4", "PUBLISH with QoS 3")                                                      \
    X(E_PUBLISH_DUP_QOS0, 116, "MQTT-3.3.1-2", "PUBLISH with DUP set and QoS 0")                                      \
    X(E_V31_FLAGS_QOS, 117, "MQTT31-QOS1", "MQTT 3.1 PUBREL/SUBSCRIBE/UNSUBSCRIBE without QoS 1 in the fixed header") \
    /* ---- lengths and structure ---- */                                                                             \
    X(E_FIXED_LENGTH, 120, "MQS-FIXED-LENGTH", "wrong Remaining Length for a fixed-size packet")                      \
    X(E_TRUNCATED, 121, "MQS-RL-SHORT", "packet ends before a required field")                                        \
    X(E_STRING_OVERRUN, 122, "MQS-STRING-OVERRUN", "string length runs past the end of the packet")                   \
    X(E_TRAILING_BYTES, 123, "MQS-TRAILING-BYTES", "bytes left after the last field of the packet")                   \
    X(E_PACKET_ID_ZERO, 124, "MQTT-2.3.1-1", "packet identifier is 0")                                                \
    /* ---- strings ---- */                                                                                           \
    X(E_UTF8_INVALID, 130, "MQTT-1.5.3-1", "ill-formed UTF-8 (bad sequence, overlong, surrogate or above U+10FFFF)")  \
    X(E_UTF8_NUL, 131, "MQTT-1.5.3-2", "string contains U+0000")                                                      \
    X(E_V31_UTF8_INVALID, 132, "MQTT31-UTF8", "MQTT 3.1 string is not well-formed UTF-8")                             \
    /* ---- topic names and filters ---- */                                                                           \
    X(E_TOPIC_EMPTY, 140, "MQTT-4.7.3-1", "zero-length topic name or topic filter")                                   \
    X(E_PUBLISH_TOPIC_WILDCARD, 141, "MQTT-3.3.2-2", "PUBLISH topic name contains a wildcard")                        \
    X(E_TOPIC_WILDCARD, 142, "MQTT-4.7.1-1", "topic name (will topic) contains a wildcard")                           \
    X(E_FILTER_HASH, 143, "MQTT-4.7.1-2", "'#' not alone or after '/', or not last in a topic filter")                \
    X(E_FILTER_PLUS, 144, "MQTT-4.7.1-3", "'+' does not occupy a whole topic filter level")                           \
    /* ---- CONNECT ---- */                                                                                           \
    X(E_CONNECT_PROTOCOL_NAME, 150, "MQTT-3.1.2-1", "CONNECT protocol name is neither MQTT nor MQIsdp")               \
    X(E_CONNECT_PROTOCOL_LEVEL, 151, "MQTT-3.1.2-2", "CONNECT protocol level does not match the protocol name")       \
    X(E_CONNECT_RESERVED_FLAG, 152, "MQTT-3.1.2-3", "CONNECT reserved flag (bit 0) is not 0")                         \
    X(E_CONNECT_WILL_QOS_NO_WILL, 153, "MQTT-3.1.2-13", "CONNECT will QoS is not 0 while the will flag is 0")         \
    X(E_CONNECT_WILL_QOS3, 154, "MQTT-3.1.2-14", "CONNECT will QoS is 3")                                             \
    X(E_CONNECT_WILL_RETAIN_NO_WILL, 155, "MQTT-3.1.2-15", "CONNECT will retain is set while the will flag is 0")     \
    X(E_CONNECT_PASSWORD_NO_USERNAME, 156, "MQTT-3.1.2-22", "CONNECT password flag set without the user name flag")   \
    X(E_CONNECT_CLIENT_ID_MISSING, 157, "MQTT-3.1.3-3", "CONNECT payload has no client identifier")                   \
    X(E_CONNECT_EMPTY_CLIENT_ID, 158, "MQTT-3.1.3-7", "CONNECT zero-length client identifier with clean session 0")   \
    X(E_CONNECT_WILL_MISSING, 159, "MQTT-3.1.2-9", "CONNECT will flag set but will topic or will message missing")    \
    X(E_CONNECT_USERNAME_MISSING, 160, "MQTT-3.1.2-19", "CONNECT user name flag set but no user name")                \
    X(E_CONNECT_PASSWORD_MISSING, 161, "MQTT-3.1.2-21", "CONNECT password flag set but no password")                  \
    X(E_V31_CLIENT_ID_LENGTH, 162, "MQTT31-CLIENT-ID", "MQTT 3.1 client identifier not 1 to 23 characters")           \
    /* ---- CONNACK ---- */                                                                                           \
    X(E_CONNACK_RESERVED, 170, "MQS-CONNACK-RESERVED", "CONNACK acknowledge flags bits 7-1 are not 0")                \
    X(E_CONNACK_RETURN_CODE, 171, "MQS-CONNACK-RC", "CONNACK return code above 5")                                    \
    X(E_CONNACK_SESSION_PRESENT, 172, "MQTT-3.2.2-4", "CONNACK session present with a non-zero return code")          \
    /* ---- SUBSCRIBE, SUBACK, UNSUBSCRIBE ---- */                                                                    \
    X(E_SUBSCRIBE_EMPTY, 180, "MQTT-3.8.3-3", "SUBSCRIBE without any topic filter")                                   \
    X(E_SUBSCRIBE_QOS, 181, "MQTT-3.8.3-4", "SUBSCRIBE requested QoS byte has reserved bits set or QoS 3")            \
    X(E_SUBACK_EMPTY, 182, "MQS-SUBACK-EMPTY", "SUBACK without any return code")                                      \
    X(E_SUBACK_RETURN_CODE, 183, "MQTT-3.9.3-2", "SUBACK return code other than 0x00, 0x01, 0x02, 0x80")              \
    X(E_V31_SUBACK_RETURN_CODE, 184, "MQTT31-SUBACK-RC", "MQTT 3.1 SUBACK return code other than 0, 1, 2")            \
    X(E_UNSUBSCRIBE_EMPTY, 185, "MQTT-3.10.3-2", "UNSUBSCRIBE without any topic filter")                              \
    /* ---- internal ---- */                                                                                          \
    X(E_INTERNAL, 900, NULL, "internal error")

typedef enum mqs_status {
#define MQS_STATUS_ENUM(name, value, rule, text) MQS_##name = value,
    MQS_STATUS_MAP(MQS_STATUS_ENUM)
#undef MQS_STATUS_ENUM
} mqs_status;

/** "MQS_OK" style name; "MQS_UNKNOWN" for values outside the table. Never NULL. */
const char *mqs_status_name(int status);
/** Human text; "unknown status" for values outside the table. Never NULL. */
const char *mqs_status_str(int status);
/** Statement id such as "MQTT-3.1.2-3", or NULL when the status has none. */
const char *mqs_status_rule(int status);
/** True for 100..899 codes that are in the table. */
bool mqs_status_is_malformed(int status);
/** Status value for a name with or without the MQS_ prefix; -1 when unknown. */
int mqs_status_from_name(const char *name);
/** Number of rows in the status table (for iterating with mqs_status_at). */
size_t mqs_status_count(void);
/** Value of the i-th row of the table (table order); -1 when i is out of range. */
int mqs_status_at(size_t i);

#ifdef __cplusplus
}
#endif

#endif /* MQS_STATUS_H */
