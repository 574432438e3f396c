/* Scenario files (conformance/SCENARIOS.md): the loaded, validated form.
 *
 * A loaded scenario owns all of its memory (one arena); free it with
 * mqs_scenario_free(). Strings marked "template" are kept unexpanded: the
 * interpreter expands them per run (conformance/expand.h); the loader has
 * already checked their syntax and that every ${cid:NAME} names a client.
 */
#ifndef MQS_SCENARIO_H
#define MQS_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Protocol bits of mqs_scenario.protocols and of run selections. */
#define MQS_PROTO_31 0x01u
#define MQS_PROTO_311 0x02u

/* Levels: what a failed step becomes. */
typedef enum mqs_level {
    MQS_LEVEL_MUST = 0,   /* FAIL */
    MQS_LEVEL_SHOULD = 1, /* WARN */
    MQS_LEVEL_INFO = 2,   /* INFO */
} mqs_level;

/* Preconditions (requires). */
#define MQS_REQ_CREDENTIALS 0x01u
#define MQS_REQ_BAD_CREDENTIALS 0x02u
#define MQS_REQ_TLS 0x04u
#define MQS_REQ_WS 0x08u
#define MQS_REQ_CLIENT_CERT 0x10u
#define MQS_REQ_NO_ANONYMOUS 0x20u
#define MQS_REQ_QOS2 0x40u /* the broker grants QoS 2 subscriptions (found by the run's probe) */

/** A number: absent, a literal, or a template ("${var:p}") expanded at run time. */
typedef struct mqs_sc_num {
    uint8_t kind; /* MQS_SC_ABSENT, MQS_SC_VALUE, MQS_SC_TEMPLATE */
    int64_t v;
    const char *tmpl;
    int64_t min, max; /* range checked at load (literal) and at run time (template) */
} mqs_sc_num;

/** A string: absent, JSON null (explicitly none), or a template. */
typedef struct mqs_sc_str {
    uint8_t kind; /* MQS_SC_ABSENT, MQS_SC_NULL, MQS_SC_VALUE */
    const char *tmpl;
} mqs_sc_str;

#define MQS_SC_ABSENT 0
#define MQS_SC_VALUE 1
#define MQS_SC_TEMPLATE 2
#define MQS_SC_NULL 3

/** A boolean: -1 absent, 0, 1. */
typedef int8_t mqs_sc_bool;

typedef struct mqs_sc_sub {
    mqs_sc_str filter;
    mqs_sc_num qos;
} mqs_sc_sub;

typedef struct mqs_sc_will {
    mqs_sc_str topic, payload;
    mqs_sc_num qos;
    mqs_sc_bool retain;
} mqs_sc_will;

/** Encoder overrides for deliberately broken packets (send.raw / connect.raw). */
typedef struct mqs_sc_raw {
    mqs_sc_num fixed_flags, type, connect_flags, remaining_length, rl_bytes;
} mqs_sc_raw;

/** A packet: what to send (send / connect), or what to match (expect). Every
 *  field may be absent. Which keys are legal depends on the context (loader). */
typedef struct mqs_sc_packet {
    int type; /* mqs_type 1..14, or 0 when absent (expect: any type) */
    mqs_sc_bool dup, retain, session_present, clean_session;
    mqs_sc_num qos, packet_id, return_code, payload_size, keepalive, protocol_level, connect_flags,
        flags;
    mqs_sc_str topic, payload, client_id, username, password, protocol_name;
    bool has_will;
    mqs_sc_will will;
    bool has_subs;
    mqs_sc_sub *subs;
    size_t n_subs;
    bool has_filters;
    mqs_sc_str *filters;
    size_t n_filters;
    bool has_return_codes;
    mqs_sc_num *return_codes;
    size_t n_return_codes;
    mqs_sc_raw raw;
    const struct mqs_sc_packet *not_match; /* expect: the packet must NOT match this too */
} mqs_sc_packet;

/* What an expectation (or one alternative of one_of) waits for. */
typedef enum mqs_sc_expect_kind {
    MQS_EXP_NOTHING = 0, /* connect with "expect": null: do not wait */
    MQS_EXP_PACKET,      /* the next packet matches pkts[0] */
    MQS_EXP_PACKETS,     /* the next n_pkts packets match pkts in any order */
    MQS_EXP_ONE_OF,      /* one of alts */
    MQS_EXP_CLOSED, /* the broker closes the connection (allow: packet types tolerated before) */
    MQS_EXP_NONE,   /* no packet for ms */
} mqs_sc_expect_kind;

/* Fields an expect can save as ${var:NAME}. */
typedef enum mqs_sc_field {
    MQS_FIELD_PACKET_ID = 0,
    MQS_FIELD_TOPIC,
    MQS_FIELD_PAYLOAD,
    MQS_FIELD_QOS,
    MQS_FIELD_RETURN_CODE,
    MQS_FIELD_SESSION_PRESENT,
} mqs_sc_field;

typedef struct mqs_sc_save {
    mqs_sc_field field;
    const char *name;
} mqs_sc_save;

typedef struct mqs_sc_alt {
    mqs_sc_expect_kind kind; /* PACKET, CLOSED or NONE */
    mqs_sc_packet pkt;
    uint16_t allow; /* CLOSED: bit (1 << type) per tolerated packet type */
    int64_t ms;     /* NONE */
    const char *label;
    bool end; /* chosen: the case ends after this step, verdict INFO (a legal choice that
                 makes the rest of the scenario inapplicable) */
} mqs_sc_alt;

typedef struct mqs_sc_expect {
    mqs_sc_expect_kind kind;
    mqs_sc_packet *pkts;
    size_t n_pkts;
    mqs_sc_alt *alts;
    size_t n_alts;
    bool observe;
    uint16_t allow; /* CLOSED */
    int64_t ms;     /* NONE */
    mqs_sc_save *saves;
    size_t n_saves;
} mqs_sc_expect;

typedef enum mqs_sc_op {
    MQS_OP_CONNECT = 0,
    MQS_OP_OPEN,
    MQS_OP_SEND,
    MQS_OP_EXPECT,
    MQS_OP_EXPECT_NONE,
    MQS_OP_EXPECT_CLOSED,
    MQS_OP_DISCONNECT,
    MQS_OP_CLOSE,
    MQS_OP_WAIT,
    MQS_OP_PING,
} mqs_sc_op;

typedef struct mqs_sc_step {
    mqs_sc_op op;
    int client;         /* index into mqs_scenario.clients, -1 when none */
    unsigned only;      /* MQS_PROTO_* bits the step runs for (all by default) */
    const char *note;   /* may be NULL */
    const char *rule;   /* statement a failure names; NULL: the scenario's first */
    int level;          /* mqs_level override, -1: the scenario's level */
    int64_t timeout_ms; /* -1: default (MQS_SC_DEFAULT_STEP_MS, or _CLOSE_MS for a close) */
    int64_t ms;         /* wait / expect_none */
    bool abrupt;        /* close */
    bool exact;         /* ms and timeout_ms are not scaled by --timeout */
    bool has_pkt;       /* send / connect: pkt holds the packet */
    mqs_sc_packet pkt;
    mqs_sc_packet *pkts; /* send "packets": several packets in one write */
    size_t n_pkts;
    const uint8_t *hex; /* send: exact bytes (when has_pkt is false) */
    size_t hex_len;
    size_t *split; /* send: chunk sizes */
    size_t n_split;
    bool ws_text;        /* send: as WebSocket text frames (the scenario requires ws) */
    size_t ws_frame_max; /* send: WebSocket frames of at most this many bytes, 0: one frame */
    bool no_client_cert; /* connect / open: TLS without the run's client certificate */
    bool must_accept;    /* connect / open: a connection that cannot be opened fails the step
                            (the broker went away), not ERROR */
    const char *ws_subprotocol; /* connect / open: the subprotocol the server must return */
    mqs_sc_expect expect; /* connect / expect / expect_none / expect_closed */
} mqs_sc_step;

typedef struct mqs_scenario {
    const char *file; /* where it was loaded from (display name) */
    const char *id, *title, *area, *notes;
    const char **statements;
    size_t n_statements;
    unsigned protocols; /* MQS_PROTO_* */
    mqs_level level;
    unsigned requires;  /* MQS_REQ_* */
    int64_t timeout_ms; /* scenario deadline before scaling */
    bool allow_extra;
    bool alone; /* run after every other case of the run, with no other case in parallel */
    const char **clients;
    size_t n_clients;
    mqs_sc_step *steps;
    size_t n_steps;
    struct mqs_arena *arena; /* owns everything above */
} mqs_scenario;

#define MQS_SC_DEFAULT_TIMEOUT_MS 20000
/* Default step timeouts: waiting for a packet, a CONNACK or a connection is generous (a
 * slow or loaded broker must not turn into a FAIL; the wait only lasts this long when the
 * broker really stays silent); waiting for the broker to close a connection is shorter. */
#define MQS_SC_DEFAULT_STEP_MS 10000
#define MQS_SC_DEFAULT_CLOSE_MS 3000
#define MQS_SC_MAX_MS 600000

/** Parses and validates one scenario from a buffer (need not be NUL-terminated).
 * @param[in]  name    display name for errors ("connect/basic.json")
 * @param[in]  buf,len the JSON text
 * @param[out] out     the scenario on success (free with mqs_scenario_free), else NULL
 * @param[out] err     on failure one line "NAME: PATH: reason"
 * @return 0, or -1 (invalid input or out of memory; err says which). Never crashes on
 *         any input. */
int mqs_scenario_load_buf(const char *name, const uint8_t *buf, size_t len, mqs_scenario **out,
                          char *err, size_t errlen);

/** Reads and loads a file. @return as mqs_scenario_load_buf (file errors included). */
int mqs_scenario_load_file(const char *path, mqs_scenario **out, char *err, size_t errlen);

void mqs_scenario_free(mqs_scenario *s);

/** A set of loaded scenarios (built-in and user files). */
typedef struct mqs_scenario_set {
    mqs_scenario **items;
    size_t n;
} mqs_scenario_set;

/** Adds the compiled-in scenarios. @return 0, or -1 with err (a built-in file is bad). */
int mqs_scenario_set_add_builtin(mqs_scenario_set *set, char *err, size_t errlen);
/** Adds one file. @return 0 or -1 with err. */
int mqs_scenario_set_add_file(mqs_scenario_set *set, const char *path, char *err, size_t errlen);
/** Adds every *.json below dir (recursively, sorted). @return 0 or -1 with err. */
int mqs_scenario_set_add_dir(mqs_scenario_set *set, const char *dir, char *err, size_t errlen);
/** Fails (-1, err) when two scenarios share an id; sorts the set by id. */
int mqs_scenario_set_finish(mqs_scenario_set *set, char *err, size_t errlen);
void mqs_scenario_set_free(mqs_scenario_set *set);

/** Loads the built-in scenarios (when builtin) plus files and directories, then
 *  finishes the set. @return 0, or -1 with one line in err (set holds what loaded). */
int mqs_scenario_set_load(mqs_scenario_set *set, bool builtin, const char *const *files,
                          size_t n_files, const char *const *dirs, size_t n_dirs, char *err,
                          size_t errlen);

/** Writes the scenarios matching any of the filters (all when n_filters is 0) as a JSON
 *  array: id, title, area, level, protocols, statements, requires, file.
 *  @return the number written, or -1 (out of memory / write error). */
long mqs_scenario_list_json(const mqs_scenario_set *set, const char *const *filters,
                            size_t n_filters, FILE *out);

/** True when the scenario matches a --filter pattern: an id glob ("connect.*"), an area
 *  ("connect"), or a statement id / glob ("MQTT-3.1.2-3", "MQTT-3.3.*"). */
bool mqs_scenario_matches(const mqs_scenario *s, const char *pattern);

const char *mqs_level_name(int level);             /* "MUST", "SHOULD", "INFO" */
const char *mqs_protocol_name(unsigned proto_bit); /* "3.1" / "3.1.1" */

#ifdef __cplusplus
}
#endif

#endif /* MQS_SCENARIO_H */
