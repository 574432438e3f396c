/* mqttspec live fuzzer, internal: the state of one execution, shared by exec.c (the
 * I/O: connections, steps, waits, cleanup) and oracle.c (the model of what a broker
 * must do and the checks). Not a public header. */
#ifndef MQS_LF_EXEC_INTERNAL_H
#define MQS_LF_EXEC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/mqtt.h"
#include "fuzz/live/case.h"
#include "fuzz/live/exec.h"
#include "fuzz/live/view.h"
#include "net/net.h"

#define LF_TX_CAP (64u * 1024u)  /* bytes written per connection (broker view) */
#define LF_RX_CAP (128u * 1024u) /* framer storage per connection */
#define LF_MAX_DUES 96
#define LF_MAX_FRAMES 320
#define LF_MAX_SUBS 96
#define LF_MAX_MSGS 160
#define LF_MAX_IDS 64
#define LF_MAX_IDENTS (MQS_LF_MAX_SLOTS + MQS_LF_MAX_CONNS)
#define LF_GATHER_CAP (MQS_LF_MAX_STEPS * 2u * MQS_LF_MAX_BYTES)
/* After a protocol violation a broker may still answer what it had already read (a
 * pipeline: the PINGREQ sent after the violation, a packet that followed it) and close
 * a moment later; the specification asks for the close [MQTT-4.8.0-1], not for when
 * packets read behind the bad one stop being answered. A close this soon after such an
 * answer counts as a close. */
#define LF_LATE_CLOSE_MS 100

/** An answer the broker owes (or may send) on a connection. */
typedef struct lf_due {
    uint8_t type;
    uint16_t id;
    uint16_t count;    /* SUBACK: return codes expected */
    bool required;     /* false: allowed, not required */
    int16_t step;
    int16_t frame;     /* SUBSCRIBE frame it answers (index into ex->frames), -1 */
} lf_due;

/** A frame we wrote, as the broker saw it (views into the connection's tx buffer). */
typedef struct lf_frame_rec {
    int8_t conn;
    int16_t step;
    uint8_t cls, type;
    int status;
    const char *rule;
    const uint8_t *bytes;
    size_t len;
    bool decoded;
    uint8_t qos;
    bool retain;
    uint16_t id;
    mqs_str topic, payload;         /* PUBLISH */
    uint16_t first_sub, n_subs;     /* SUBSCRIBE / UNSUBSCRIBE: range in ex->subs */
} lf_frame_rec;

/** A topic filter from a SUBSCRIBE we sent. */
typedef struct lf_sub {
    uint8_t identity;
    mqs_str filter;
    uint8_t qos;
    bool bad;       /* an invalid filter (SUBFAIL) */
    bool processed; /* the frame was one a broker may act on */
} lf_sub;

/** A message content (topic + payload) and how many new messages carried it. */
typedef struct lf_msg {
    mqs_str topic, payload;
    uint32_t news;    /* QoS 2 acceptances as new messages (duplicates excluded) */
    uint32_t any;     /* processed PUBLISH frames with this content (any QoS) */
    uint8_t max_qos;  /* highest QoS it was published with */
} lf_msg;

/** QoS 2 deliveries of one content to one session. */
typedef struct lf_dlv {
    uint32_t session;
    int16_t msg;
    uint32_t count;
    uint16_t last_id;
    int8_t last_conn;
} lf_dlv;

/** Per client id state across the connections of a case. */
typedef struct lf_ident {
    uint32_t session;       /* current session key (changes when a session is discarded) */
    bool ever_accepted;
    bool connect_seen;      /* a processed CONNECT frame */
    bool tainted;           /* one of its connections broke the protocol: deliveries not judged */
    bool clean0_used;       /* a clean_session=0 CONNECT was sent: clean up afterwards */
    uint32_t clean0_connects; /* clean_session=0 CONNECTs sent with this id so far */
    uint16_t pending[LF_MAX_IDS]; /* QoS 2 ids received by the broker, not yet released */
    int16_t pending_msg[LF_MAX_IDS]; /* ... and the content each carried (ex->msgs index) */
    size_t n_pending;
    uint16_t outq2[LF_MAX_IDS]; /* QoS 2 ids the broker delivered to this client */
    size_t n_outq2;
} lf_ident;

typedef struct lf_conn {
    mqs_conn *conn;
    uint8_t slot, identity;
    bool peer_closed, we_closed, abandoned, rx_broken;
    bool write_failed;  /* a write failed: the close is read next */
    bool close_probed;  /* a PINGREQ was sent after the violation */
    bool alive_after_violation; /* ... and answered */
    bool late;          /* the broker sent a packet after the violation, judged once it is
                           known whether it closes (lf_late_reply) */
    long late_event;    /* the first such packet's RECV event (-1: not logged) */
    int64_t late_ms;    /* when it came */
    uint8_t late_type;
    uint16_t late_id;
    bool rejected;      /* CONNACK with a non-zero return code */
    bool must_close;    /* a protocol violation was written, or the CONNECT was rejected */
    const char *viol_rule;
    int viol_status;
    uint8_t viol_type;
    int16_t viol_step;
    bool mayclose;      /* a MAYCLOSE/SUBFAIL frame was written: later answers are optional */
    size_t viol_whole;  /* the violation is a reserved type whose frame ends at this tx
                           offset: until it is all written the broker may wait (0: none) */
    bool undefined;     /* foreign protocol: nothing judged */
    bool connect_sent;  /* a processable CONNECT frame */
    bool connect_invalid; /* the first frame was an INVALID CONNECT */
    bool clean;
    bool sp_zero;       /* CONNACK session present must be 0 [MQTT-3.2.2-1, -3] */
    uint32_t clean0_at_connect; /* the identity's clean0_connects right after this CONNECT */
    bool will;
    mqs_str client_id;  /* as sent in the CONNECT (foreign ids are cleaned up by it) */
    mqs_str will_topic, will_payload;
    bool will_retain;
    bool disconnect_sent; /* a processable DISCONNECT frame */
    bool disconnect_clean;     /* ... with only VALID frames before it */
    bool disconnect_confirmed; /* ... and the broker closed after it (it read it) */
    int connack;        /* -1 none */
    uint32_t accept_seq;
    uint32_t session;
    mqs_version version;
    mqs_lf_view view;
    uint8_t *tx;
    size_t tx_len;
    size_t dead_from;   /* tx offset from which nothing may be acted on (SIZE_MAX: none) */
    mqs_framer rx;
    uint8_t *rxbuf;
    lf_due dues[LF_MAX_DUES];
    size_t n_dues;
} lf_conn;

/** A message the watcher received. */
typedef struct lf_seen {
    mqs_str topic, payload;
    long event; /* its RECV event */
} lf_seen;

struct mqs_lf_job {
    const mqs_lf_target *t;
    unsigned index;
    bool (*cancelled)(void *ud); /* mqs_lf_job_set_cancel */
    void *cancel_ud;
    /* watcher */
    mqs_conn *watch;
    mqs_framer watch_rx;
    uint8_t *watch_buf;
    uint32_t sync_no;
    uint32_t probe_no;
    /* current execution */
    const mqs_lf_case *c;
    mqs_lf_result *res;
    int64_t t0;
    lf_conn conns[MQS_LF_MAX_CONNS];
    size_t n_conns;
    int slot_conn[MQS_LF_MAX_SLOTS]; /* current connection of each slot, -1 */
    lf_ident ident[LF_MAX_IDENTS]; /* the case's client ids, then one per foreign-id connection */
    lf_frame_rec frames[LF_MAX_FRAMES];
    size_t n_frames;
    lf_sub subs[LF_MAX_SUBS];
    size_t n_subs;
    lf_msg msgs[LF_MAX_MSGS];
    size_t n_msgs;
    lf_dlv dlvs[LF_MAX_MSGS];
    size_t n_dlvs;
    lf_seen seen[LF_MAX_MSGS];
    size_t n_seen;
    uint32_t next_session;
    uint32_t accept_seq;
    bool need_probe;
    int16_t cur_step;
    long recv_event;   /* RECV event being judged, -1 */
    uint8_t detail;    /* next finding's detail (mqs_lf_bad_reply) */
    uint16_t want_id;  /* next finding's want_id */
    uint8_t want_type; /* next finding's want_type */
    /* log */
    mqs_lf_event events[MQS_LF_MAX_EVENTS];
    size_t n_events;
    uint8_t *log;
    size_t log_len;
    mqs_lf_frame scratch; /* classification scratch */
    uint8_t *tx_pool;     /* MQS_LF_MAX_CONNS * LF_TX_CAP */
    uint8_t *rx_pool;     /* MQS_LF_MAX_CONNS * LF_RX_CAP */
    uint8_t *gather_buf;  /* LF_GATHER_CAP: coalesced steps */
};

/* ---- oracle.c ---- */

/** Feeds bytes just written on connection ci to the broker-view model: classifies
 *  the new frames, records them, creates the answers due, updates sessions. */
void lf_on_sent(mqs_lf_job *j, int ci, const uint8_t *bytes, size_t len);

/** Judges one whole frame the broker sent on ci (a copy that lives for the case). */
void lf_on_frame(mqs_lf_job *j, int ci, const uint8_t *frame, size_t len);

/** The broker closed ci (or it broke): cancels the answers due. */
void lf_on_peer_closed(mqs_lf_job *j, int ci);

/** We close ci: a clean-session connection's session ends; a packet the broker sent
 *  after a violation and before this close is reported (lf_late_reply). */
void lf_on_we_close(mqs_lf_job *j, int ci);

/** The broker kept ci open after a violation (no close within the deadline, or past
 *  LF_LATE_CLOSE_MS after answering): what it sent after the violation is a finding
 *  (bad-reply). A close clears it (lf_on_peer_closed). */
void lf_late_reply(mqs_lf_job *j, int ci);

/** True when ci owes a required answer. */
bool lf_required_due(const lf_conn *c, const lf_due **first);

/** Checks everything the watcher saw (effects). Called once at the end of a case. */
void lf_check_effects(mqs_lf_job *j);

/** Records a finding (deduplicated within the execution by oracle + rule + type). */
void lf_finding(mqs_lf_job *j, int oracle, const char *rule, uint8_t ptype, int ci, int step,
                const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/** Statement a missing answer of this type breaks. */
const char *lf_due_rule(uint8_t type);

/* ---- exec.c ---- */

/** Logs an event (bytes copied into the log; len 0 for none). @return the copy or NULL. */
const uint8_t *lf_log(mqs_lf_job *j, int kind, int ci, int step, const void *bytes, size_t len,
                      int status);

/** Writes an automatic answer (acks) on ci: logged, fed to the model. */
void lf_send_auto(mqs_lf_job *j, int ci, uint8_t type, uint16_t id);

/* ---- tests: the model without a broker ---- */

/** Starts an execution of case c into res without any I/O: the Check tests then feed
 *  lf_on_sent (what a client wrote) and lf_on_frame (what the broker sent) and read
 *  res->findings. */
void lf_offline_begin(mqs_lf_job *j, const mqs_lf_case *c, mqs_lf_result *res);

/** Opens slot's next connection in the model only (no socket). @return its index. */
int lf_offline_conn(mqs_lf_job *j, unsigned slot);

/** Hands frame to the watcher as if it had read it (len bytes, one whole frame). */
void lf_offline_watch(mqs_lf_job *j, const uint8_t *frame, size_t len);

#endif /* MQS_LF_EXEC_INTERNAL_H */
