/* mqttspec run results: what the runner produces and the report writers consume.
 *
 * All strings and arrays are owned by the mqs_report (allocated with the suite
 * allocator, conformance/alloc.h) and freed by mqs_report_free().
 */
#ifndef MQS_RESULT_H
#define MQS_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Ordered by severity for the summary: a case's verdict is the worst one seen. */
typedef enum mqs_verdict {
    MQS_VERDICT_PASS = 0,
    MQS_VERDICT_INFO = 1,  /* an observation: allowed behaviour, which one the broker chose */
    MQS_VERDICT_SKIP = 2,  /* precondition not given (no credentials, no TLS, 3.1 refused) */
    MQS_VERDICT_WARN = 3,  /* a SHOULD broken, or non-strict behaviour */
    MQS_VERDICT_FAIL = 4,  /* a MUST broken */
    MQS_VERDICT_ERROR = 5, /* the case could not run */
} mqs_verdict;

#define MQS_VERDICT_COUNT 6

/** "PASS", "FAIL", ...; "UNKNOWN" outside the enum. */
const char *mqs_verdict_name(int v);

/** The inverse of mqs_verdict_name: @return the verdict, or -1 for any other string (or NULL). */
int mqs_verdict_from_name(const char *name);

/** One entry of a packet trace: bytes that crossed one client's connection,
 *  or an event (connect, close, timeout, note) with bytes == NULL. */
typedef struct mqs_trace_entry {
    int64_t t_ms;       /* milliseconds since the case started */
    char *client;       /* scenario client name */
    int dir;            /* 0 sent by mqttspec, 1 received from the broker, 2 event */
    uint8_t *bytes;     /* one whole MQTT packet (or the raw bytes sent), may be NULL */
    size_t len;
    char *text;         /* decoded one-line form, or the event text; never a password */
} mqs_trace_entry;

/** One scenario run on one protocol version over one transport. */
typedef struct mqs_case_result {
    char *id;          /* scenario id, e.g. "connect.reserved-flag" */
    char *title;
    char *area;        /* "connect", "qos", ... */
    char *level;       /* "MUST", "SHOULD", "INFO" */
    char *protocol;    /* "3.1" or "3.1.1" */
    char *transport;   /* "tcp", "tls", "ws", "wss" */
    char **statements; /* statement ids the scenario checks */
    size_t n_statements;
    mqs_verdict verdict;
    char *reason;       /* why it is not PASS (NULL for a plain PASS); for INFO the observation */
    char *failed_rule;  /* statement id the failure names, when one is known (may be NULL) */
    double duration_ms;
    mqs_trace_entry *trace;
    size_t n_trace;
} mqs_case_result;

/** A whole run. */
typedef struct mqs_report {
    char *tool_version;   /* mqttspec version */
    char *target;         /* "tcp://127.0.0.1:1883" style, no credentials */
    char *broker;         /* broker name/version if known (e.g. from $SYS), else NULL */
    char *started_at;     /* ISO 8601 UTC */
    double duration_ms;
    char **options;       /* "key=value" lines of the options used, secrets redacted */
    size_t n_options;
    char **protocols;     /* protocol versions run: "3.1", "3.1.1" */
    size_t n_protocols;
    char **transports;    /* transports run */
    size_t n_transports;
    mqs_case_result *cases;
    size_t n_cases;
    size_t counts[MQS_VERDICT_COUNT];
    bool interrupted; /* the run was stopped (Ctrl-C) before every case ran: cases
                       * holds those that started ("interrupted" in report.json) */
} mqs_report;

/** Frees everything r owns (not r itself, which the caller owns) and zeroes it;
 *  NULL is allowed. Fields left NULL/0 are fine, so a half-built report can be freed. */
void mqs_report_free(mqs_report *r);

/** Frees everything one case owns (not c itself) and zeroes it; NULL is allowed. */
void mqs_case_result_free(mqs_case_result *c);

#ifdef __cplusplus
}
#endif

#endif /* MQS_RESULT_H */
