/* mqttspec live fuzzer: cases, and the generator and mutator that make them.
 *
 * A case is a short MQTT session script for one to three client slots: packets to
 * send (each a structured packet, possibly mutated, encoded once), points where a
 * client waits for the answers due (SYNC), and connection closes. The same (seed,
 * case number) always gives the same script; only the names differ between
 * executions (the run token and a naming index: client ids and the topic prefix
 * keep their lengths, so mutations land on the same bytes).
 *
 * Names, like the conformance runner's: client ids "mqf" + token(8) + index(4) +
 * identity(2) (17 alphanumerics), topics under "mqf/" + token + "/" + index + "/"
 * (18 characters). Every packet a broker may act on stays inside that prefix and
 * those ids (the generator checks the broker's view of each connection and drops a
 * mutation that would leak out of them).
 */
#ifndef MQS_LF_CASE_H
#define MQS_LF_CASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/mqtt.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MQS_LF_MAX_SLOTS 3
#define MQS_LF_MAX_STEPS 40
#define MQS_LF_MAX_ITEMS 24
#define MQS_LF_ARENA (160u * 1024u)
#define MQS_LF_ROOT_LEN 13   /* "mqf/" + token + "/" */
#define MQS_LF_PREFIX_LEN 18 /* root + index(4) + "/" */
#define MQS_LF_CID_LEN 17
#define MQS_LF_MAX_BYTES 20000 /* one step's encoded bytes */

typedef enum mqs_lf_step_kind {
    MQS_LF_SEND = 0, /* write bytes (opening the slot's connection first when it has none) */
    MQS_LF_SYNC = 1, /* wait for the answers due on the slot (or for its close when one is due) */
    MQS_LF_CLOSE = 2 /* close the slot's connection: FIN, or RST when abrupt */
} mqs_lf_step_kind;

/** Raw byte edits made after encoding (they turn a step into hex in reproducers). */
typedef enum mqs_lf_edit_kind {
    MQS_LF_EDIT_NONE = 0,
    MQS_LF_EDIT_TRUNCATE, /* keep the first off bytes */
    MQS_LF_EDIT_DELETE,   /* remove len bytes at off (a field dropped) */
    MQS_LF_EDIT_DUP,      /* repeat len bytes at off (a field duplicated) */
    MQS_LF_EDIT_SET,      /* byte at off := val[0] */
    MQS_LF_EDIT_INSERT,   /* insert val[0..len) at off */
    MQS_LF_EDIT_REPEAT,   /* the whole packet twice */
} mqs_lf_edit_kind;

typedef struct mqs_lf_edit {
    uint8_t kind;
    uint32_t off, len;
    uint8_t val[4];
} mqs_lf_edit;

typedef struct mqs_lf_step {
    uint8_t kind; /* mqs_lf_step_kind */
    uint8_t slot;
    bool abrupt;        /* CLOSE: RST instead of FIN */
    bool coalesce;      /* SEND: written in one write() with the next SEND of this slot */
    uint8_t n_split;    /* SEND: first chunk sizes; the rest goes in one last chunk */
    uint16_t split[3];
    char mutation[80];  /* what was changed, "" when the packet is as generated */
    mqs_packet pkt;     /* what was encoded (strings point into the case arena) */
    mqs_item items[MQS_LF_MAX_ITEMS];
    mqs_encode_raw raw; /* encoder overrides (MQS_ENCODE_RAW_INIT when none) */
    mqs_lf_edit edit;   /* byte edit after encoding */
    const uint8_t *bytes; /* the final bytes (case arena) */
    size_t len;
} mqs_lf_step;

typedef struct mqs_lf_slot {
    uint8_t identity; /* client id index: slots sharing one take over from each other */
    bool auto_ack;    /* the client acknowledges what it receives (PUBACK/PUBREC/PUBCOMP) */
} mqs_lf_slot;

/** Names of one execution. */
typedef struct mqs_lf_names {
    char token[9];  /* the run's token: [a-z0-9]{8} */
    uint32_t index; /* naming index of this execution (4 base-36 digits, wraps) */
} mqs_lf_names;

typedef struct mqs_lf_gen_opts {
    unsigned max_clients;  /* 1..3 slots per case */
    int version;           /* 0: mostly 3.1.1, some 3.1; else MQS_V31 or MQS_V311 */
    const char *username;  /* put in every generated CONNECT when not NULL */
    const char *password;
    unsigned mutate_pct;   /* chance (%) that a packet gets structure-aware mutations */
    unsigned byte_pct;     /* chance (%) that a packet gets a raw byte edit */
} mqs_lf_gen_opts;

/** The defaults of `mqttspec fuzz`. */
#define MQS_LF_GEN_OPTS_INIT {2, 0, NULL, NULL, 30, 4}

typedef struct mqs_lf_case {
    uint64_t seed, number;
    mqs_version version;
    uint8_t n_slots;
    uint8_t n_identities;
    mqs_lf_slot slots[MQS_LF_MAX_SLOTS];
    char root[MQS_LF_ROOT_LEN + 1];     /* "mqf/<token>/" */
    char prefix[MQS_LF_PREFIX_LEN + 1]; /* "mqf/<token>/<index>/" */
    char cid[MQS_LF_MAX_SLOTS][MQS_LF_CID_LEN + 1];
    size_t n_steps;
    mqs_lf_step steps[MQS_LF_MAX_STEPS];
    size_t arena_used;
    uint8_t arena[MQS_LF_ARENA];
} mqs_lf_case;

/** Fills c (caller-allocated; large: put it on the heap) with case `number` of `seed`.
 *  Deterministic: the same seed, number and options give the same steps; names only
 *  change the name bytes. @return 0, or -1 when o is invalid or memory runs out. */
int mqs_lf_generate(mqs_lf_case *c, uint64_t seed, uint64_t number, const mqs_lf_names *names,
                    const mqs_lf_gen_opts *o);

/** Writes the naming of an execution: root, prefix and client ids of c from names. */
void mqs_lf_case_name(mqs_lf_case *c, const mqs_lf_names *names);

/** Applies a byte edit to bytes[0..len) into out (capacity cap). @return the new length,
 *  or 0 when it does not fit. */
size_t mqs_lf_apply_edit(const mqs_lf_edit *e, const uint8_t *bytes, size_t len, uint8_t *out,
                         size_t cap);

/** True when a frame a broker may act on stays inside the case's names: topics and
 *  filters under c->prefix, client id in the case's namespace (or empty), never an
 *  MQTT 5 CONNECT (protocol level 5). Looks at raw bytes, so it also judges frames
 *  the strict decoder refuses. */
bool mqs_lf_frame_safe(const mqs_lf_case *c, const uint8_t *frame, size_t len);

/** "SEND PUBLISH", "SYNC", "CLOSE" ... for traces. */
const char *mqs_lf_step_name(const mqs_lf_step *s);

#ifdef __cplusplus
}
#endif

#endif /* MQS_LF_CASE_H */
