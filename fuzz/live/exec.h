/* mqttspec live fuzzer: running one case against a broker, with its oracles.
 *
 * A job (one thread) owns a watcher connection subscribed to the run's topic root
 * and the buffers for one case at a time. mqs_lf_exec() plays a case's steps,
 * judges every byte the broker sends, and reports findings:
 *
 *   crash        the broker stopped accepting connections (liveness probe: CONNECT,
 *                CONNACK, PINGREQ, PINGRESP) or the watched process (--pid) is gone
 *   hang         an answer that is due (CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP,
 *                SUBACK, UNSUBACK, PINGRESP) did not come within the deadline
 *   no-close     after a protocol violation the connection stayed open
 *   malformed    a packet from the broker that the strict decoder refuses
 *   bad-reply    an answer that does not match what was asked (packet id, SUBACK
 *                count, a CONNACK accepting an invalid CONNECT, anything sent after a
 *                violation, a PUBLISH on a topic the session never subscribed to)
 *   effect       a message published that no processed packet carried (a rejected or
 *                malformed packet had an effect), or a will after DISCONNECT
 *   qos2-dup     a QoS 2 message delivered twice to one session
 *   takeover     two connections of one client id both stayed open
 *   session      CONNACK session present contradicts clean session
 *
 * Everything that is judged follows the broker's view of the bytes (view.h), so a
 * mutation is held to exactly what the specification asks of a broker.
 */
#ifndef MQS_LF_EXEC_H
#define MQS_LF_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuzz/live/case.h"
#include "net/net.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mqs_lf_oracle {
    MQS_LF_OR_CRASH = 0,
    MQS_LF_OR_HANG,
    MQS_LF_OR_NO_CLOSE,
    MQS_LF_OR_MALFORMED,
    MQS_LF_OR_BAD_REPLY,
    MQS_LF_OR_EFFECT,
    MQS_LF_OR_QOS2_DUP,
    MQS_LF_OR_TAKEOVER,
    MQS_LF_OR_SESSION,
    MQS_LF_OR_COUNT
} mqs_lf_oracle;

/** "crash", "hang", ... */
const char *mqs_lf_oracle_name(int oracle);

/** What a check found. */
typedef struct mqs_lf_finding {
    int oracle;       /* mqs_lf_oracle */
    char rule[32];    /* the statement broken, e.g. "MQTT-3.3.1-4" */
    uint8_t ptype;    /* the packet type the finding is about (0 when none) */
    char text[320];   /* one line for people */
    int step;         /* step index the finding belongs to, -1 when none */
    size_t event;     /* log index at which it fired */
    int conn;         /* connection index, -1 when none */
    long trigger;     /* log index of the received frame that fired it, -1 (a timeout, the end) */
    uint8_t detail;   /* bad-reply: mqs_lf_bad_reply */
    uint8_t want_type; /* hang / bad-reply: the answer that was due (0: none) */
    uint16_t want_id;  /* its packet id (bad-reply QoS: the highest QoS allowed) */
} mqs_lf_finding;

/** Kinds of bad-reply findings (what a reproducer expects instead). */
typedef enum mqs_lf_bad_reply {
    MQS_LF_BR_UNSOLICITED = 0, /* an answer to nothing (or after a violation) */
    MQS_LF_BR_BEFORE_CONNACK,  /* something before CONNACK */
    MQS_LF_BR_ACCEPTED,        /* CONNACK 0 for an invalid CONNECT */
    MQS_LF_BR_SUBACK,          /* SUBACK codes: count, or a grant for an invalid filter */
    MQS_LF_BR_NO_SUB,          /* PUBLISH without a matching subscription */
    MQS_LF_BR_QOS,             /* delivered above the allowed QoS */
} mqs_lf_bad_reply;

/** Events of an execution, in order: the trace, and what reproducers are built from. */
typedef enum mqs_lf_event_kind {
    MQS_LF_EV_OPEN = 0,    /* a connection opened (conn) */
    MQS_LF_EV_SENT,        /* bytes written for a step (or an automatic ack: step -1) */
    MQS_LF_EV_RECV,        /* one whole frame from the broker */
    MQS_LF_EV_PEER_CLOSED, /* the broker closed the connection */
    MQS_LF_EV_CLOSED,      /* we closed it */
    MQS_LF_EV_SKIPPED,     /* a step not played (connection already gone / unsafe) */
    MQS_LF_EV_SYNC,        /* a wait for the answers due ended */
    MQS_LF_EV_NOTE,        /* text */
} mqs_lf_event_kind;

typedef struct mqs_lf_event {
    uint8_t kind;
    int8_t conn;
    int16_t step;
    uint32_t off, len; /* bytes (or text) in the log buffer */
    int64_t t_ms;      /* since the start of the case */
    int status;        /* RECV: decoder status of the frame (MQS_OK when well-formed) */
} mqs_lf_event;

#define MQS_LF_MAX_CONNS 12
#define MQS_LF_MAX_EVENTS 2048
#define MQS_LF_LOG_BYTES (512u * 1024u)
#define MQS_LF_MAX_FINDINGS 8

/** A connection of the execution, for traces and reproducers. */
typedef struct mqs_lf_conn_info {
    uint8_t slot, identity;
    mqs_version version;
    int connack;      /* return code received, -1 none */
    long viol_event;  /* log index after which the broker must close (the send carrying a
                         protocol violation, or a refusing CONNACK), -1 none */
    uint16_t allow_mask; /* bit (1 << type): packets the broker may still send before it closes
                            (answers due before the violation, deliveries) */
    bool watcher;     /* the finding needs the watcher (effect) */
} mqs_lf_conn_info;

typedef struct mqs_lf_result {
    size_t n_findings;
    mqs_lf_finding findings[MQS_LF_MAX_FINDINGS];
    bool unreachable;      /* the broker could not be reached at all */
    bool interrupted;      /* cancelled (mqs_lf_job_set_cancel): steps from some point on not
                              played, the end-of-case checks skipped (the cleanup ran) */
    bool probed;           /* a liveness probe ran */
    size_t n_conns;
    mqs_lf_conn_info conns[MQS_LF_MAX_CONNS];
    size_t n_events;
    const mqs_lf_event *events; /* valid until the next mqs_lf_exec on the job */
    const uint8_t *log;
    bool log_truncated;
    size_t sent_packets;   /* frames written */
    int64_t ms;            /* duration */
} mqs_lf_result;

/** Where and how to reach the broker. Borrowed for the life of the jobs. */
typedef struct mqs_lf_target {
    const mqs_endpoint *ep;
    const char *username, *password;
    int64_t timeout_ms; /* how long an answer that is due may take */
    int pid;            /* broker process to watch, 0: none */
    char token[9];      /* the run token */
} mqs_lf_target;

typedef struct mqs_lf_job mqs_lf_job;

/** A job's state: watcher connection, per-case buffers. index names its watcher.
 *  @return NULL when out of memory. */
mqs_lf_job *mqs_lf_job_new(const mqs_lf_target *t, unsigned index);
void mqs_lf_job_free(mqs_lf_job *j);

/** Lets mqs_lf_exec stop early: before each step it asks cancelled(ud) (NULL: never).
 *  A cancelled case plays no further step, skips the end-of-case waits and checks
 *  (answers still due, takeovers, effects), still closes its connections and clears
 *  what it left on the broker, and sets res->interrupted. Findings made before the
 *  cancellation stay. */
void mqs_lf_job_set_cancel(mqs_lf_job *j, bool (*cancelled)(void *ud), void *ud);

/** Plays case c (steps with skip[i] set are left out; skip may be NULL) and fills res.
 *  @return 0 (findings in res), or -1 when the broker cannot be reached (res->unreachable). */
int mqs_lf_exec(mqs_lf_job *j, const mqs_lf_case *c, const bool *skip, mqs_lf_result *res);

/** Liveness probe: connects, CONNECT (clean session), CONNACK 0, PINGREQ/PINGRESP,
 *  DISCONNECT, all within t->timeout_ms. @return 0 alive, -1 not (reason in err). */
int mqs_lf_probe(const mqs_lf_target *t, const char *client_id, char *err, size_t errlen);

/** Publishes an empty retained message on every topic under root that still holds a
 *  retained message (subscribes to root# and listens for wait_ms). Run-end cleanup.
 *  @return the number of topics cleared, or -1 when the broker could not be reached. */
int mqs_lf_clear_retained(const mqs_lf_target *t, const char *root, const char *client_id,
                          int64_t wait_ms);

#ifdef __cplusplus
}
#endif

#endif /* MQS_LF_EXEC_H */
