/* mqttspec codec, internal: rule checks shared by decode.c and encode.c.
 * The order of checks is documented in codec/RULES.md. */
#include "codec/check.h"

#include <string.h>

#include "codec/buf.h"
#include "codec/topic.h"
#include "codec/utf8.h"

/* Table 2.1 (direction), Table 2.2 (flags), and the fixed Remaining Lengths of
 * sections 3.2.1, 3.4.1-3.7.1, 3.11.1-3.14.1. */
static const mqs_type_info mqs_types[16] = {
    [MQS_CONNECT] = {true, false, MQS_VAR_LEN, 0x0, MQS_E_FLAGS_RESERVED},
    [MQS_CONNACK] = {false, true, 2, 0x0, MQS_E_FLAGS_RESERVED},
    [MQS_PUBLISH] = {true, true, MQS_VAR_LEN, 0x0, MQS_OK},
    [MQS_PUBACK] = {true, true, 2, 0x0, MQS_E_FLAGS_RESERVED},
    [MQS_PUBREC] = {true, true, 2, 0x0, MQS_E_FLAGS_RESERVED},
    [MQS_PUBREL] = {true, true, 2, 0x2, MQS_E_PUBREL_FLAGS},
    [MQS_PUBCOMP] = {true, true, 2, 0x0, MQS_E_FLAGS_RESERVED},
    [MQS_SUBSCRIBE] = {true, false, MQS_VAR_LEN, 0x2, MQS_E_SUBSCRIBE_FLAGS},
    [MQS_SUBACK] = {false, true, MQS_VAR_LEN, 0x0, MQS_E_FLAGS_RESERVED},
    [MQS_UNSUBSCRIBE] = {true, false, MQS_VAR_LEN, 0x2, MQS_E_UNSUBSCRIBE_FLAGS},
    [MQS_UNSUBACK] = {false, true, 2, 0x0, MQS_E_FLAGS_RESERVED},
    [MQS_PINGREQ] = {true, false, 0, 0x0, MQS_E_FLAGS_RESERVED},
    [MQS_PINGRESP] = {false, true, 0, 0x0, MQS_E_FLAGS_RESERVED},
    [MQS_DISCONNECT] = {true, false, 0, 0x0, MQS_E_DISCONNECT_FLAGS},
};

static const char *const mqs_type_names[16] = {
    "RESERVED", "CONNECT",     "CONNACK",  "PUBLISH", "PUBACK",  "PUBREC",
    "PUBREL",   "PUBCOMP",     "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK",
    "PINGREQ",  "PINGRESP",    "DISCONNECT", "RESERVED",
};

const char *mqs_type_name(int type)
{
    return type >= 0 && type < 16 ? mqs_type_names[type] : "RESERVED";
}

const mqs_type_info *mqs_type_info_get(int type)
{
    if (type < MQS_CONNECT || type > MQS_DISCONNECT)
        return NULL;
    return &mqs_types[type];
}

mqs_version mqs_connect_version(mqs_rd body)
{
    mqs_str name;
    if (mqs_rd_str(&body, &name) == MQS_OK && name.len == 6 && memcmp(name.ptr, "MQIsdp", 6) == 0)
        return MQS_V31;
    return MQS_V311;
}

int mqs_chk_dir(int type, mqs_dir dir)
{
    const mqs_type_info *t = mqs_type_info_get(type);
    if (t == NULL)
        return MQS_E_RESERVED_TYPE;
    if (dir == MQS_DIR_TO_SERVER && !t->to_server)
        return MQS_E_SENT_TO_SERVER;
    if (dir == MQS_DIR_TO_CLIENT && !t->to_client)
        return MQS_E_SENT_TO_CLIENT;
    return MQS_OK;
}

/* MQTT 3.1: DUP/QoS/RETAIN are defined for every type but "not used" outside
 * PUBLISH, PUBREL, SUBSCRIBE and UNSUBSCRIBE; the last three carry QoS 1. */
static int fixed_flags_v31(int type, uint8_t flags)
{
    unsigned qos = (flags >> 1) & 3u;
    if (type == MQS_PUBLISH)
        return qos == 3 ? MQS_E_PUBLISH_QOS3 : MQS_OK;
    if (type == MQS_PUBREL || type == MQS_SUBSCRIBE || type == MQS_UNSUBSCRIBE)
        return qos == 1 ? MQS_OK : MQS_E_V31_FLAGS_QOS;
    return MQS_OK;
}

int mqs_chk_fixed_flags(int type, uint8_t flags, mqs_version v)
{
    const mqs_type_info *t = mqs_type_info_get(type);
    if (t == NULL)
        return MQS_E_RESERVED_TYPE;
    if (v == MQS_V31)
        return fixed_flags_v31(type, flags);
    if (type == MQS_PUBLISH) {
        unsigned qos = (flags >> 1) & 3u;
        if (qos == 3)
            return MQS_E_PUBLISH_QOS3; /* [MQTT-3.3.1-4] */
        if (qos == 0 && (flags & 0x8u))
            return MQS_E_PUBLISH_DUP_QOS0; /* [MQTT-3.3.1-2] */
        return MQS_OK;
    }
    /* [MQTT-2.2.2-1], [MQTT-3.6.1-1], [MQTT-3.8.1-1], [MQTT-3.10.1-1], [MQTT-3.14.1-1] */
    return flags == t->flags ? MQS_OK : t->flag_status;
}

int mqs_chk_connect_flags(uint8_t flags, mqs_version v)
{
    bool will = flags & 0x04u;
    unsigned will_qos = (flags >> 3) & 3u;
    bool will_retain = flags & 0x20u;
    if (v == MQS_V311) {
        if (flags & 0x01u)
            return MQS_E_CONNECT_RESERVED_FLAG; /* [MQTT-3.1.2-3] */
        if (!will && will_qos != 0)
            return MQS_E_CONNECT_WILL_QOS_NO_WILL; /* [MQTT-3.1.2-13] */
        if (!will && will_retain)
            return MQS_E_CONNECT_WILL_RETAIN_NO_WILL; /* [MQTT-3.1.2-15] */
    }
    if (will && will_qos == 3)
        return MQS_E_CONNECT_WILL_QOS3; /* [MQTT-3.1.2-14] */
    if ((flags & 0x40u) && !(flags & 0x80u))
        return MQS_E_CONNECT_PASSWORD_NO_USERNAME; /* [MQTT-3.1.2-22], also 3.1 */
    return MQS_OK;
}

int mqs_chk_connack(uint8_t flags, uint8_t rc, mqs_version v, size_t *off)
{
    *off = 0;
    if (v == MQS_V311 && (flags & 0xfeu))
        return MQS_E_CONNACK_RESERVED; /* section 3.2.2.1: bits 7-1 MUST be 0 */
    if (rc > 5) {
        *off = 1;
        return MQS_E_CONNACK_RETURN_CODE; /* section 3.2.2.3: 6-255 reserved */
    }
    if (v == MQS_V311 && (flags & 0x01u) && rc != 0)
        return MQS_E_CONNACK_SESSION_PRESENT; /* [MQTT-3.2.2-4] */
    return MQS_OK;
}

/* Runs a byte-string validator and turns its data offset into a field offset. */
static int string_status(int st, size_t data_off, size_t *off)
{
    *off = st == MQS_OK ? 0 : 2 + data_off;
    return st;
}

int mqs_chk_utf8_field(mqs_str s, mqs_version v, size_t *off)
{
    size_t e = 0;
    int st = mqs_utf8_check_version(s.ptr, s.len, v, &e);
    return string_status(st, e, off);
}

int mqs_chk_client_id(mqs_str id, bool clean_session, mqs_version v, size_t *off)
{
    int st = mqs_chk_utf8_field(id, v, off); /* [MQTT-3.1.3-4] via [MQTT-1.5.3-1/2] */
    if (st != MQS_OK)
        return st;
    *off = 0;
    if (v == MQS_V31) {
        size_t chars = mqs_utf8_count(id.ptr, id.len);
        if (chars < 1 || chars > MQS_MAX_CLIENT_ID_V31)
            return MQS_E_V31_CLIENT_ID_LENGTH; /* MQTT 3.1: 1 to 23 characters */
        return MQS_OK;
    }
    if (id.len == 0 && !clean_session)
        return MQS_E_CONNECT_EMPTY_CLIENT_ID; /* [MQTT-3.1.3-7] */
    return MQS_OK;
}

int mqs_chk_will_topic(mqs_str topic, mqs_version v, size_t *off)
{
    size_t e = 0;
    int st = mqs_topic_name_check(topic.ptr, topic.len, v, &e);
    *off = st == MQS_OK || st == MQS_E_TOPIC_EMPTY ? 0 : 2 + e;
    return st;
}

int mqs_chk_publish_topic(mqs_str topic, mqs_version v, size_t *off)
{
    int st = mqs_chk_will_topic(topic, v, off);
    return st == MQS_E_TOPIC_WILDCARD ? MQS_E_PUBLISH_TOPIC_WILDCARD : st; /* [MQTT-3.3.2-2] */
}

int mqs_chk_filter(mqs_str filter, mqs_version v, size_t *off)
{
    size_t e = 0;
    int st = mqs_topic_filter_check(filter.ptr, filter.len, v, &e);
    *off = st == MQS_OK || st == MQS_E_TOPIC_EMPTY ? 0 : 2 + e;
    return st;
}

int mqs_chk_sub_qos(uint8_t qos_byte, mqs_version v)
{
    /* [MQTT-3.8.3-4] reserved bits 7-2 and QoS 3; MQTT 3.1 leaves bits 7-2 unused */
    if (v == MQS_V311 && (qos_byte & 0xfcu))
        return MQS_E_SUBSCRIBE_QOS;
    return (qos_byte & 3u) == 3 ? MQS_E_SUBSCRIBE_QOS : MQS_OK;
}

int mqs_chk_suback_rc(uint8_t rc, mqs_version v)
{
    if (rc <= 2)
        return MQS_OK;
    if (v == MQS_V31)
        return MQS_E_V31_SUBACK_RETURN_CODE; /* MQTT 3.1 has no failure code */
    return rc == 0x80 ? MQS_OK : MQS_E_SUBACK_RETURN_CODE; /* [MQTT-3.9.3-2] */
}

int mqs_chk_empty_list(int type, mqs_version v)
{
    if (type == MQS_SUBACK)
        return MQS_E_SUBACK_EMPTY; /* one return code per filter, and there is >= 1 */
    if (v == MQS_V31)
        return MQS_OK; /* MQTT 3.1 does not forbid it (v31-vs-v311.md row 17) */
    return type == MQS_SUBSCRIBE ? MQS_E_SUBSCRIBE_EMPTY   /* [MQTT-3.8.3-3] */
                                 : MQS_E_UNSUBSCRIBE_EMPTY; /* [MQTT-3.10.3-2] */
}
