/* mqttspec reference codec: MQTT 3.1 (MQIsdp/3) and 3.1.1 (MQTT/4) control packets.
 *
 * Pure C11, libc only: no malloc, no I/O, no global state.
 *
 * Decoding is zero-copy: every mqs_str in a decoded packet is a view into the
 * caller's input buffer, valid only while that buffer is alive and unmodified.
 * Multi-element lists (SUBSCRIBE filters, SUBACK codes, UNSUBSCRIBE filters)
 * are written to a caller array (pkt->items, capacity in pkt->n_items).
 *
 * Strictness: mqs_decode checks every rule a single packet can break and stops at
 * the first, in the fixed order documented per packet type in codec/RULES.md
 * (which also lists the rule id of every status and the MQTT 3.1 differences).
 * mqs_encode runs the same checks in the same order.
 */
#ifndef MQS_MQTT_H
#define MQS_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Protocol versions: the value is the CONNECT protocol level. */
typedef enum mqs_version {
    MQS_V31 = 3,  /* "MQIsdp", level 3 */
    MQS_V311 = 4, /* "MQTT", level 4 */
} mqs_version;

/** Control packet types (fixed header bits 7-4). 0 and 15 are reserved. */
typedef enum mqs_type {
    MQS_CONNECT = 1,
    MQS_CONNACK = 2,
    MQS_PUBLISH = 3,
    MQS_PUBACK = 4,
    MQS_PUBREC = 5,
    MQS_PUBREL = 6,
    MQS_PUBCOMP = 7,
    MQS_SUBSCRIBE = 8,
    MQS_SUBACK = 9,
    MQS_UNSUBSCRIBE = 10,
    MQS_UNSUBACK = 11,
    MQS_PINGREQ = 12,
    MQS_PINGRESP = 13,
    MQS_DISCONNECT = 14,
} mqs_type;

/** Which side sent the packet; decides which packet types are legal. */
typedef enum mqs_dir {
    MQS_DIR_ANY = 0,       /* accept a packet type from either side */
    MQS_DIR_TO_SERVER = 1, /* client -> server */
    MQS_DIR_TO_CLIENT = 2, /* server -> client */
} mqs_dir;

#define MQS_MAX_REMAINING_LENGTH 268435455u
#define MQS_MAX_CLIENT_ID_V31 23u

/** A byte view into the caller's buffer (not NUL-terminated). */
typedef struct mqs_str {
    const uint8_t *ptr;
    size_t len;
} mqs_str;

/** One list element: a SUBSCRIBE filter + requested QoS byte, an UNSUBSCRIBE
 *  filter (qos unused), or a SUBACK return code (in qos; filter unused). */
typedef struct mqs_item {
    mqs_str filter;
    uint8_t qos;
} mqs_item;

typedef struct mqs_connect {
    mqs_str protocol_name; /* "MQTT" or "MQIsdp" */
    uint8_t protocol_level;
    uint8_t flags; /* raw connect flags byte as on the wire */
    bool clean_session;
    bool will_flag;
    uint8_t will_qos;
    bool will_retain;
    bool has_username;
    bool has_password;
    uint16_t keepalive;
    mqs_str client_id;
    mqs_str will_topic;
    mqs_str will_payload;
    mqs_str username;
    mqs_str password;
} mqs_connect;

typedef struct mqs_connack {
    uint8_t flags;        /* raw acknowledge flags byte */
    bool session_present; /* bit 0 of flags (MQTT 3.1: an unused bit, not checked) */
    uint8_t return_code;
} mqs_connack;

typedef struct mqs_publish {
    mqs_str topic;
    uint16_t packet_id; /* 0 when qos == 0 (absent on the wire) */
    mqs_str payload;
} mqs_publish;

/** A decoded or to-be-encoded control packet. */
typedef struct mqs_packet {
    uint8_t type;              /* mqs_type */
    uint8_t flags;             /* fixed header bits 3-0 as on the wire */
    bool dup;                  /* PUBLISH (and 3.1 PUBREL/SUBSCRIBE/UNSUBSCRIBE) */
    uint8_t qos;               /* PUBLISH QoS from the flags */
    bool retain;               /* PUBLISH */
    uint32_t remaining_length; /* decoded value; ignored by mqs_encode */
    uint16_t packet_id;        /* PUBACK..PUBCOMP, SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK;
                                  PUBLISH keeps it in publish.packet_id too */
    mqs_connect connect;
    mqs_connack connack;
    mqs_publish publish;
    mqs_item *items; /* caller array for SUBSCRIBE/SUBACK/UNSUBSCRIBE lists */
    size_t n_items;  /* in: capacity of items; out: number of list entries */
} mqs_packet;

/** Where and why a packet broke a rule (filled by every decoder and checker). */
typedef struct mqs_diag {
    int status;        /* mqs_status */
    size_t offset;     /* byte index of the violation in the frame */
    const char *field; /* static string, e.g. "CONNECT.flags" */
} mqs_diag;

/** Decoder options. Zero-initialise for strict MQTT 3.1.1 in either direction. */
typedef struct mqs_decode_opts {
    mqs_version version; /* 0 means MQS_V311; a CONNECT always decodes by its own name/level */
    mqs_dir dir;
    unsigned lenient; /* MQS_LENIENT_* bits to relax individual checks */
} mqs_decode_opts;

#define MQS_LENIENT_NON_MINIMAL_RL 0x01u /* accept a non-minimal Remaining Length encoding */

/* ---- framing ---- */

/** Looks at the start of a byte stream and reports the fixed header.
 * @param[in]  buf, len   bytes received so far
 * @param[out] type       packet type nibble (may be 0 or 15; frame_peek does not judge it)
 * @param[out] flags      low nibble of byte 0
 * @param[out] rem_len    Remaining Length
 * @param[out] hdr_len    fixed header size (2..5)
 * @return MQS_OK, MQS_NEED_MORE, or MQS_E_RL_TOO_LONG (5th length byte has
 *         continuation bit / exceeds 4 bytes), MQS_E_RL_NON_MINIMAL only when
 *         strict (pass lenient bits). Any pointer may be NULL except buf (when len>0). */
int mqs_frame_peek(const uint8_t *buf, size_t len, unsigned lenient, uint8_t *type, uint8_t *flags,
                   uint32_t *rem_len, size_t *hdr_len, mqs_diag *diag);

/** Incremental framer: append bytes, pop whole frames. No allocation: the
 *  caller owns the storage. */
typedef struct mqs_framer {
    uint8_t *buf;
    size_t cap;
    size_t len;
    size_t consumed; /* bytes of buf already handed out as frames */
    unsigned lenient;
} mqs_framer;

void mqs_framer_init(mqs_framer *f, uint8_t *storage, size_t cap, unsigned lenient);
/** Appends bytes. @return MQS_OK or MQS_E_BUFFER_TOO_SMALL (nothing appended). */
int mqs_framer_push(mqs_framer *f, const uint8_t *data, size_t len);
/** Next whole frame, as a view into the framer's storage valid until the next push.
 * @return MQS_OK (*frame, *frame_len set), MQS_NEED_MORE, or a framing error
 *         (the stream cannot be resynchronised after an error). A frame larger than
 *         cap returns MQS_E_BUFFER_TOO_SMALL. */
int mqs_framer_next(mqs_framer *f, const uint8_t **frame, size_t *frame_len, mqs_diag *diag);

/* ---- decode ---- */

/** Decodes exactly one whole frame (fixed header included).
 * A CONNECT is judged by its own protocol name (MQIsdp: 3.1 rules, else 3.1.1)
 * whatever opts->version says; other packets by opts->version.
 * @param[in]  buf, len  one frame; len must equal header + Remaining Length
 * @param[in]  opts      may be NULL (strict 3.1.1, any direction)
 * @param[in,out] pkt    items/n_items set by the caller (items may be NULL with n_items 0);
 *                       every other field is overwritten. Strings are views into buf.
 * @param[out] diag      may be NULL; status, frame offset and field of a violation
 * @return MQS_OK, MQS_NEED_MORE (len shorter than the frame), a malformed-packet
 *         status naming the broken rule (mqs_status_is_malformed), MQS_E_TOO_MANY_ITEMS
 *         when the packet is otherwise valid but pkt->items is too small (n_items then
 *         holds the count), or MQS_E_BAD_PARAM (pkt NULL, unknown version, or len
 *         longer than the frame: diag->offset is where the frame ends). */
int mqs_decode(const uint8_t *buf, size_t len, const mqs_decode_opts *opts, mqs_packet *pkt,
               mqs_diag *diag);

/* ---- encode ---- */

/** Bytes mqs_encode() would write. @return MQS_OK or the validation status. */
int mqs_encoded_size(const mqs_packet *pkt, mqs_version v, size_t *n);

/** Validating canonical encoder: flags computed from the fields (pkt->flags ignored;
 *  dup sets DUP on PUBLISH, PUBREL, SUBSCRIBE, UNSUBSCRIBE), CONNECT protocol name and
 *  level from v, minimal Remaining Length. Content mqs_decode would reject is refused
 *  with the same status, and diag gets the offset the decoder would report. The
 *  content is checked before the buffer size: MQS_E_BUFFER_TOO_SMALL (buf may be NULL
 *  with cap 0) means the packet is valid and sets *written to the size needed.
 *  @return MQS_OK, a malformed-packet status, MQS_E_BUFFER_TOO_SMALL or MQS_E_BAD_PARAM
 *          (NULL pkt, bad version, a string longer than 65535 bytes or NULL with a
 *          length, items NULL with n_items > 0, a body over 268435455 bytes). On an
 *          error the buffer contents are unspecified. */
int mqs_encode(const mqs_packet *pkt, mqs_version v, uint8_t *buf, size_t cap, size_t *written,
               mqs_diag *diag);

/** Overrides for deliberately broken packets; MQS_ENCODE_RAW_INIT leaves all alone. */
typedef struct mqs_encode_raw {
    int fixed_flags;            /* -1: canonical; else low nibble written as given */
    int type;                   /* -1: pkt->type; else this nibble (0..15) */
    int connect_flags;          /* -1: computed from the fields; else this byte */
    long long remaining_length; /* -1: the true length; else this value is written */
    int rl_bytes;               /* 0: minimal; else pad the length to this many bytes (1..5) */
} mqs_encode_raw;

#define MQS_ENCODE_RAW_INIT {-1, -1, -1, -1, 0}

/** Encodes exactly what it is told, with no validation (QoS 3, bad UTF-8, packet id 0,
 *  empty lists ...). raw may be NULL. Flags come from the fields as in mqs_encode unless
 *  overridden; a CONNECT uses connect.protocol_name/level when set (ptr non-NULL /
 *  level non-zero), else the canonical pair for v; a CONNACK writes
 *  connack.flags | session_present. MQS_E_BUFFER_TOO_SMALL sets *written to the size
 *  needed; MQS_E_BAD_PARAM for what cannot be written (see mqs_encode, and raw values
 *  out of range: type/flags > 15, rl_bytes > 5 or too few for the length). */
int mqs_encode_unchecked(const mqs_packet *pkt, mqs_version v, const mqs_encode_raw *raw,
                         uint8_t *buf, size_t cap, size_t *written);

/** Name of a packet type ("CONNECT"), or "RESERVED" for 0/15 and out of range. */
const char *mqs_type_name(int type);

#ifdef __cplusplus
}
#endif

#endif /* MQS_MQTT_H */
