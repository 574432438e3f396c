/* The scenario interpreter and oracle.
 *
 * One case runs on one thread: per client a connection, a receive buffer cut into
 * frames with mqs_frame_peek, and a queue of decoded packets. Every frame the broker
 * sends is decoded strictly (MQS_DIR_TO_CLIENT, the case's version) as soon as it is
 * read: a malformed one fails the case at once, naming its statement, whatever the
 * step expected. Steps then consume the queue. Every wait is bounded by the step's
 * timeout and the case deadline. The cleanup (retained topics, persistent sessions)
 * runs whatever the outcome, on connections of its own.
 *
 * Interruption (Ctrl-C): when the run's cancel callback says so, waits end within
 * MQS_CANCEL_POLL_MS (reads and sleeps are cut into slices that long), no further step
 * runs, the case is ERROR "interrupted ...", and the cleanup still runs.
 */
#include "conformance/interp.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "codec/mqtt.h"
#include "conformance/alloc.h"
#include "conformance/expand.h"
#include "conformance/pktspec.h"

#define MQS_READ_CHUNK 65536u
#define MQS_TRACE_MAX_ENTRIES 4000u
#define MQS_TRACE_MAX_BYTES 65536u             /* bytes kept per trace entry */
#define MQS_TRACE_TOTAL_BYTES (4u << 20)       /* bytes kept per case, all entries */
#define MQS_RX_FRAME_MAX (64u * 1024u * 1024u) /* largest packet accepted from a broker */
#define MQS_CLEANUP_MS 5000
#define MQS_SPLIT_PAUSE_MS 20
#define MQS_CLEANUP_CLIENT 1295u /* "zz": the cleanup connection's client index */

typedef struct rxpkt {
    uint8_t *bytes; /* the frame (owned); pkt views point into it */
    size_t len;
    mqs_packet pkt;
    mqs_item *items;
} rxpkt;

typedef struct client {
    const char *name;
    char cid[24];
    mqs_conn *conn;   /* open connection, or NULL */
    bool peer_closed; /* the broker closed it (conn is NULL then) */
    bool foreign;     /* a filtered expect_none ran: it gets traffic the scenario does not
                         control, whose malformed PUBLISHes are logged, not judged */
    char closed_how[160];
    mqs_framer fr;  /* cuts the bytes read into frames; storage grows to the largest frame */
    uint8_t *chunk; /* one read (MQS_READ_CHUNK bytes) */
    rxpkt *q;       /* decoded packets not yet consumed: q[head..n) */
    size_t head, n, cap;
} client;

typedef struct ctx {
    const mqs_scenario *sc;
    const mqs_case_opts *o;
    mqs_version version;
    client *cl;
    mqs_vars vars;
    char topic[64];
    const char **cids;
    int64_t t0, deadline;
    size_t step_no; /* 1-based step being run, 0 outside steps */
    /* outcome */
    bool stop;
    bool ended;       /* a one_of alternative with "end" was chosen: no further steps */
    bool interrupted; /* the run was cancelled while this case ran */
    mqs_verdict verdict;
    mqs_buf reason;
    const char *rule;
    mqs_verdict obs_verdict;
    mqs_buf observations;
    /* trace */
    mqs_trace_entry *tr;
    size_t ntr, captr;
    bool tr_full;
    size_t tr_bytes; /* bytes kept in the trace so far */
    /* what the case leaves on the broker */
    mqs_buf *retained; /* topics, exact bytes (may hold NUL or bad UTF-8) */
    size_t n_retained;
    mqs_buf *persistent; /* client ids, NUL-terminated */
    size_t n_persistent;
    bool oom;
} ctx;

/* ---- time ---- */

static int64_t scaled(const ctx *c, int64_t ms)
{
    double v = (double)ms * c->o->timeout_factor;
    return v > 3600000.0 ? 3600000 : (int64_t)v;
}

static void sleep_ms(int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* ---- trace ---- */

static void trace_add(ctx *c, const char *client_name, int dir, const uint8_t *bytes, size_t len,
                      const char *text)
{
    if (c->tr_full)
        return;
    if (c->ntr + 1 >= MQS_TRACE_MAX_ENTRIES) {
        c->tr_full = true;
        client_name = NULL;
        dir = 2;
        bytes = NULL;
        text = "trace truncated: too many entries";
    }
    if (c->ntr == c->captr) {
        size_t cap = c->captr ? c->captr * 2 : 32;
        mqs_trace_entry *t = mqs_realloc(c->tr, cap * sizeof *t);
        if (!t) {
            c->oom = true;
            return;
        }
        c->tr = t;
        c->captr = cap;
    }
    mqs_trace_entry *e = &c->tr[c->ntr];
    memset(e, 0, sizeof *e);
    e->t_ms = mqs_now_ms() - c->t0;
    e->dir = dir;
    e->client = mqs_strdup(client_name ? client_name : "");
    e->text = mqs_strdup(text ? text : "");
    size_t keep = len > MQS_TRACE_MAX_BYTES ? MQS_TRACE_MAX_BYTES : len;
    if (c->tr_bytes + keep > MQS_TRACE_TOTAL_BYTES)
        keep = 0; /* the text stays; the case kept enough bytes already */
    c->tr_bytes += keep;
    if (bytes && keep) {
        e->bytes = mqs_malloc(keep);
        if (e->bytes) {
            memcpy(e->bytes, bytes, keep);
            e->len = keep;
        }
    }
    if (!e->client || !e->text || (bytes && keep && !e->bytes)) {
        mqs_free(e->client);
        mqs_free(e->text);
        mqs_free(e->bytes);
        c->oom = true;
        return;
    }
    c->ntr++;
}

static void trace_event(ctx *c, const char *client_name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void trace_event(ctx *c, const char *client_name, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    trace_add(c, client_name, 2, NULL, 0, text);
}

/* ---- outcome ---- */

/* Records the case's failure (the first one wins) and stops the steps. */
static void set_outcome(ctx *c, mqs_verdict v, const char *rule, const char *text)
{
    if (c->stop)
        return;
    c->stop = true;
    c->verdict = v;
    c->rule = rule;
    mqs_buf_free(&c->reason);
    if (c->step_no)
        mqs_buf_printf(&c->reason, "step %zu: ", c->step_no);
    mqs_buf_puts(&c->reason, text);
    mqs_buf_terminate(&c->reason);
    trace_event(c, NULL, "%s: %s", mqs_verdict_name((int)v),
                c->reason.p ? (const char *)c->reason.p : text);
}

static mqs_verdict level_verdict(int level)
{
    return level == MQS_LEVEL_SHOULD ? MQS_VERDICT_WARN
           : level == MQS_LEVEL_INFO ? MQS_VERDICT_INFO
                                     : MQS_VERDICT_FAIL;
}

/* A step's expectation was not met: FAIL / WARN / INFO by the step's level. */
static int step_fail(ctx *c, const mqs_sc_step *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int step_fail(ctx *c, const mqs_sc_step *s, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    int level = s && s->level >= 0 ? s->level : (int)c->sc->level;
    const char *rule = s && s->rule ? s->rule : c->sc->statements[0];
    set_outcome(c, level_verdict(level), rule, text);
    return -1;
}

/* The case could not run as written (or the broker went away): ERROR. */
static int case_error(ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int case_error(ctx *c, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    set_outcome(c, MQS_VERDICT_ERROR, NULL, text);
    return -1;
}

/* The broker sent a malformed packet: FAIL naming its rule, whatever the step's level. */
static int oracle_fail(ctx *c, const client *cl, int status, const mqs_diag *d, const char *what)
{
    const char *rule = mqs_status_rule(status);
    char text[600];
    snprintf(text, sizeof text,
             "the broker sent a malformed %s to client %s: %s%s%s%s (byte %zu%s%s)", what, cl->name,
             mqs_status_str(status), rule ? " [" : "", rule ? rule : "", rule ? "]" : "", d->offset,
             d->field ? ", " : "", d->field ? d->field : "");
    set_outcome(c, MQS_VERDICT_FAIL, rule ? rule : "MQS-malformed", text);
    return -1;
}

/* Has the run been cancelled? The first time it has, the case ends as ERROR
 * "interrupted" (unless it already has an outcome). */
static bool interrupted(ctx *c)
{
    if (!c->o->cancelled || !c->o->cancelled(c->o->cancel_ud))
        return false;
    if (!c->interrupted) {
        c->interrupted = true;
        char text[96];
        if (c->step_no)
            snprintf(text, sizeof text, "interrupted at step %zu (the run was stopped)",
                     c->step_no);
        else
            snprintf(text, sizeof text, "interrupted (the run was stopped)");
        size_t step = c->step_no;
        c->step_no = 0; /* the reason starts with "interrupted" */
        set_outcome(c, MQS_VERDICT_ERROR, NULL, text);
        c->step_no = step;
    }
    return true;
}

/* The end of the next slice of a wait until deadline: the deadline itself, or sooner
 * when the run can be cancelled (so that a Ctrl-C is seen within MQS_CANCEL_POLL_MS). */
static int64_t wait_slice(const ctx *c, int64_t deadline)
{
    int64_t slice = mqs_now_ms() + MQS_CANCEL_POLL_MS;
    return c->o->cancelled && deadline > slice ? slice : deadline;
}

/* Sleeps until the monotonic time until, in slices. @return 0, or -1 when interrupted. */
static int nap_until(ctx *c, int64_t until)
{
    for (;;) {
        if (interrupted(c))
            return -1;
        int64_t now = mqs_now_ms();
        if (now >= until)
            return 0;
        sleep_ms(wait_slice(c, until) - now);
    }
}

/* ---- receiving ---- */

static void rxpkt_free(rxpkt *r)
{
    mqs_free(r->bytes);
    mqs_free(r->items);
}

static void queue_clear(client *cl)
{
    for (size_t i = cl->head; i < cl->n; i++)
        rxpkt_free(&cl->q[i]);
    cl->head = cl->n = 0;
}

static int queue_push(ctx *c, client *cl, const rxpkt *r)
{
    if (cl->head == cl->n)
        cl->head = cl->n = 0;
    if (cl->n == cl->cap) {
        size_t cap = cl->cap ? cl->cap * 2 : 16;
        rxpkt *q = mqs_realloc(cl->q, cap * sizeof *q);
        if (!q) {
            c->oom = true;
            return -1;
        }
        cl->q = q;
        cl->cap = cap;
    }
    cl->q[cl->n++] = *r;
    return 0;
}

/* Decodes one frame as the broker's (strict, the case's version) into r (which owns a copy).
 * @return 0 decoded, 1 malformed but not judged (client->foreign; r is freed), -1 the case
 * ended (a malformed packet fails it; or out of memory). */
static int decode_frame(ctx *c, client *cl, const uint8_t *frame, size_t len, rxpkt *r)
{
    memset(r, 0, sizeof *r);
    r->bytes = mqs_malloc(len);
    if (!r->bytes) {
        c->oom = true;
        return case_error(c, "out of memory");
    }
    memcpy(r->bytes, frame, len);
    r->len = len;
    mqs_decode_opts opts = {c->version, MQS_DIR_TO_CLIENT, 0};
    mqs_diag d = {0, 0, NULL};
    size_t cap = 16;
    int st;
    for (;;) {
        mqs_free(r->items);
        r->items = mqs_calloc(cap, sizeof *r->items);
        if (!r->items) {
            rxpkt_free(r);
            c->oom = true;
            return case_error(c, "out of memory");
        }
        memset(&r->pkt, 0, sizeof r->pkt);
        r->pkt.items = r->items;
        r->pkt.n_items = cap;
        st = mqs_decode(r->bytes, len, &opts, &r->pkt, &d);
        if (st != MQS_E_TOO_MANY_ITEMS || r->pkt.n_items <= cap)
            break;
        cap = r->pkt.n_items;
    }
    if (st == MQS_OK)
        return 0;
    char what[64];
    uint8_t type = len ? (uint8_t)(frame[0] >> 4) : 0;
    snprintf(what, sizeof what, "%s packet", mqs_type_name(type));
    rxpkt_free(r);
    if (cl->foreign && type == MQS_PUBLISH) {
        /* Another client's message (a '#' subscriber sees the whole broker): its topic is
           what that client sent, not this scenario's business. */
        char text[300];
        snprintf(text, sizeof text, "malformed PUBLISH not judged (traffic of other clients): %s",
                 mqs_status_str(st));
        trace_add(c, cl->name, 1, frame, len, text);
        return 1;
    }
    trace_add(c, cl->name, 1, frame, len, "malformed packet");
    return oracle_fail(c, cl, st, &d, what);
}

/* Bytes read but not yet cut into a whole frame. */
static size_t rx_pending(const client *cl)
{
    return cl->fr.len - cl->fr.consumed;
}

/* Grows the framer's storage to hold at least need bytes. @return 0 or -1 (oom). */
static int rx_grow(client *cl, size_t need)
{
    size_t cap = cl->fr.cap ? cl->fr.cap : MQS_READ_CHUNK;
    while (cap < need)
        cap *= 2;
    if (cap == cl->fr.cap)
        return 0;
    uint8_t *p = mqs_realloc(cl->fr.buf, cap);
    if (!p)
        return -1;
    cl->fr.buf = p;
    cl->fr.cap = cap;
    return 0;
}

/* Queues one whole frame (decoded; a malformed one fails the case). */
static int take_frame(ctx *c, client *cl, const uint8_t *frame, size_t flen)
{
    rxpkt r;
    int rc = decode_frame(c, cl, frame, flen, &r);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    mqs_buf text = {0};
    mqs_packet_describe(&r.pkt, &text);
    mqs_buf_terminate(&text);
    trace_add(c, cl->name, 1, r.bytes, r.len, text.p ? (const char *)text.p : "");
    mqs_buf_free(&text);
    if (queue_push(c, cl, &r) < 0) {
        rxpkt_free(&r);
        return case_error(c, "out of memory");
    }
    return 0;
}

/* A frame larger than the framer's storage is coming: make room for it. */
static int make_room(ctx *c, client *cl)
{
    uint32_t rem = 0;
    size_t hdr = 0;
    mqs_frame_peek(cl->fr.buf + cl->fr.consumed, rx_pending(cl), 0, NULL, NULL, &rem, &hdr, NULL);
    size_t total = hdr + rem;
    if (total > MQS_RX_FRAME_MAX)
        return case_error(c,
                          "the broker announced a %zu-byte packet to client %s; mqttspec "
                          "accepts at most %u bytes",
                          total, cl->name, MQS_RX_FRAME_MAX);
    mqs_framer_push(&cl->fr, NULL, 0); /* moves the pending bytes to the front */
    if (rx_grow(cl, total) < 0) {
        c->oom = true;
        return case_error(c, "out of memory");
    }
    return 0;
}

/* Cuts every whole frame out of the framer into the queue. */
static int cut_frames(ctx *c, client *cl)
{
    for (;;) {
        const uint8_t *frame;
        size_t flen;
        mqs_diag d = {0, 0, NULL};
        int st = mqs_framer_next(&cl->fr, &frame, &flen, &d);
        if (st == MQS_NEED_MORE)
            return 0;
        if (st == MQS_E_BUFFER_TOO_SMALL)
            return make_room(c, cl);
        if (st != MQS_OK) {
            trace_add(c, cl->name, 1, cl->fr.buf + cl->fr.consumed, rx_pending(cl),
                      "unframeable bytes");
            return oracle_fail(c, cl, st, &d, "fixed header");
        }
        if (take_frame(c, cl, frame, flen) < 0)
            return -1;
    }
}

/* Appends what was read to the framer, growing its storage when needed. */
static int rx_push(ctx *c, client *cl, size_t got)
{
    if (mqs_framer_push(&cl->fr, cl->chunk, got) == MQS_OK)
        return 0;
    if (rx_grow(cl, cl->fr.len + got) < 0 || mqs_framer_push(&cl->fr, cl->chunk, got) != MQS_OK) {
        c->oom = true;
        return case_error(c, "out of memory");
    }
    return 0;
}

static void mark_closed(ctx *c, client *cl, const char *how)
{
    snprintf(cl->closed_how, sizeof cl->closed_how, "%s", how);
    mqs_conn_close(cl->conn, false);
    cl->conn = NULL;
    cl->peer_closed = true;
    trace_event(c, cl->name, "connection %s", how);
}

enum { EV_PACKET, EV_CLOSED, EV_TIMEOUT, EV_STOP };

/* The broker broke the WebSocket framing (a text frame [MQTT-6.0.0-1], or bad framing):
 * FAIL like a malformed packet, naming the rule when net's message cites one. */
static int ws_violation(ctx *c, client *cl)
{
    char text[600];
    const char *err = mqs_conn_error(cl->conn);
    snprintf(text, sizeof text, "the broker broke the WebSocket protocol on client %s: %s",
             cl->name, err);
    const char *rule = strstr(err, "[MQTT-6.0.0-1]") ? "MQTT-6.0.0-1" : NULL;
    mark_closed(c, cl, "failed: WebSocket protocol violation by the broker");
    set_outcome(c, MQS_VERDICT_FAIL, rule, text);
    return EV_STOP;
}

/* One read (waiting until deadline) into the queue. @return EV_PACKET (read something),
 * EV_CLOSED, EV_TIMEOUT or EV_STOP (case failed / errored / interrupted). */
static int pump(ctx *c, client *cl, int64_t deadline)
{
    size_t got = 0;
    int rc;
    for (;;) {
        int64_t until = wait_slice(c, deadline);
        rc = mqs_conn_read(cl->conn, cl->chunk, MQS_READ_CHUNK, &got, until);
        if (rc != MQS_NET_TIMEOUT || until == deadline)
            break;
        if (interrupted(c))
            return EV_STOP;
    }
    if (rc == MQS_NET_OK)
        return rx_push(c, cl, got) < 0 || cut_frames(c, cl) < 0 ? EV_STOP : EV_PACKET;
    if (rc == MQS_NET_TIMEOUT)
        return EV_TIMEOUT;
    if (rc == MQS_NET_PROTOCOL)
        return ws_violation(c, cl);
    char how[160];
    if (rc == MQS_NET_CLOSED)
        snprintf(how, sizeof how, "closed by the broker");
    else if (rc == MQS_NET_RESET)
        snprintf(how, sizeof how, "reset by the broker");
    else
        snprintf(how, sizeof how, "lost: %s", mqs_conn_error(cl->conn));
    size_t pending = rx_pending(cl);
    if (pending) {
        char note[96];
        snprintf(note, sizeof note, " (after %zu bytes of an incomplete packet)", pending);
        strncat(how, note, sizeof how - strlen(how) - 1);
        trace_add(c, cl->name, 1, cl->fr.buf + cl->fr.consumed, pending, "incomplete packet");
        cl->fr.len = cl->fr.consumed = 0;
    }
    mark_closed(c, cl, how);
    return EV_CLOSED;
}

/* The next thing that happens on cl before deadline: a queued packet (*out, not yet
 * consumed), the close of the connection, a timeout, or a stop. */
static int next_event(ctx *c, client *cl, int64_t deadline, rxpkt **out)
{
    for (;;) {
        if (cl->head < cl->n) {
            *out = &cl->q[cl->head];
            return EV_PACKET;
        }
        if (!cl->conn)
            return EV_CLOSED;
        int ev = pump(c, cl, deadline);
        if (ev != EV_PACKET)
            return ev;
    }
}

static void consume(client *cl)
{
    rxpkt_free(&cl->q[cl->head]);
    cl->head++;
}

/* Reads whatever is already there without waiting. */
static void drain(ctx *c, client *cl)
{
    while (cl->conn && !c->stop && pump(c, cl, mqs_now_ms()) == EV_PACKET) {
    }
}

static const char *describe_rx(const rxpkt *r, mqs_buf *b)
{
    mqs_buf_free(b);
    mqs_packet_describe(&r->pkt, b);
    mqs_buf_terminate(b);
    return b->p ? (const char *)b->p : "?";
}

/* ---- what the case leaves on the broker ---- */

/* Adds bytes to a cleanup list (retained topics or client ids), once; the copy is
 * NUL-terminated after its len bytes. */
static void remember(ctx *c, mqs_buf **list, size_t *n, const uint8_t *s, size_t len)
{
    for (size_t i = 0; i < *n; i++)
        if ((*list)[i].len == len && !memcmp((*list)[i].p, s, len))
            return;
    mqs_buf *grown = mqs_realloc(*list, (*n + 1) * sizeof *grown);
    if (!grown) {
        c->oom = true;
        return;
    }
    *list = grown;
    mqs_buf *b = &grown[*n];
    memset(b, 0, sizeof *b);
    if (mqs_buf_append(b, s, len) < 0 || mqs_buf_terminate(b) < 0) {
        mqs_buf_free(b);
        c->oom = true;
        return;
    }
    (*n)++;
}

/* A topic the cleanup can publish to: non-empty. Wildcards, U+0000 and bad UTF-8 are kept:
 * a broker that accepted such a retained PUBLISH may have stored it (aedes stores bad bytes
 * as U+FFFD, and the same bytes clear it); a broker that refuses the clearing PUBLISH
 * never stored one. */
static bool cleanable_topic(const uint8_t *t, size_t len)
{
    (void)t;
    return len > 0 && len <= 65535;
}

static void track_built(ctx *c, const mqs_built *b)
{
    if (b->has_retain_topic && cleanable_topic(b->retain_topic.p, b->retain_topic.len))
        remember(c, &c->retained, &c->n_retained, b->retain_topic.p, b->retain_topic.len);
    if (b->connect && !b->clean_session && b->client_id.len)
        remember(c, &c->persistent, &c->n_persistent, b->client_id.p, b->client_id.len);
}

/* Tracking for raw hex: a retained PUBLISH's topic, a CONNECT's session and will. */
static void track_hex(ctx *c, const uint8_t *bytes, size_t len)
{
    size_t off = 0;
    while (off < len) {
        uint8_t type, flags;
        uint32_t rem;
        size_t hdr;
        if (mqs_frame_peek(bytes + off, len - off, MQS_LENIENT_NON_MINIMAL_RL, &type, &flags, &rem,
                           &hdr, NULL) != MQS_OK ||
            len - off < hdr + rem)
            return;
        const uint8_t *body = bytes + off + hdr;
        if (type == MQS_PUBLISH && (flags & 1) && rem >= 2) {
            size_t tlen = (size_t)body[0] << 8 | body[1];
            if (tlen + 2 <= rem && cleanable_topic(body + 2, tlen))
                remember(c, &c->retained, &c->n_retained, body + 2, tlen);
        } else if (type == MQS_CONNECT) {
            mqs_packet p;
            memset(&p, 0, sizeof p);
            mqs_decode_opts opts = {c->version, MQS_DIR_TO_SERVER, MQS_LENIENT_NON_MINIMAL_RL};
            if (mqs_decode(bytes + off, hdr + rem, &opts, &p, NULL) == MQS_OK) {
                const mqs_connect *k = &p.connect;
                if (!k->clean_session && k->client_id.len)
                    remember(c, &c->persistent, &c->n_persistent, k->client_id.ptr,
                             k->client_id.len);
                if (k->will_flag && k->will_retain &&
                    cleanable_topic(k->will_topic.ptr, k->will_topic.len))
                    remember(c, &c->retained, &c->n_retained, k->will_topic.ptr, k->will_topic.len);
            }
        }
        off += hdr + rem;
    }
}

/* ---- sending ---- */

/* One line for bytes mqttspec sends: each frame decoded as a client's packet. */
static void describe_sent(ctx *c, const uint8_t *bytes, size_t len, mqs_buf *out)
{
    size_t off = 0;
    while (off < len) {
        uint8_t type, flags;
        uint32_t rem;
        size_t hdr;
        mqs_diag d = {0, 0, NULL};
        if (off)
            mqs_buf_puts(out, " + ");
        int st = mqs_frame_peek(bytes + off, len - off, 0, &type, &flags, &rem, &hdr, &d);
        if (st != MQS_OK || len - off < hdr + rem) {
            mqs_buf_printf(out, "%zu raw bytes (%s)", len - off,
                           st == MQS_OK || st == MQS_NEED_MORE ? "an incomplete packet"
                                                               : mqs_status_str(st));
            return;
        }
        mqs_item items[64];
        mqs_packet p;
        memset(&p, 0, sizeof p);
        p.items = items;
        p.n_items = sizeof items / sizeof items[0];
        mqs_decode_opts opts = {c->version, MQS_DIR_TO_SERVER, 0};
        st = mqs_decode(bytes + off, hdr + rem, &opts, &p, &d);
        if (st == MQS_OK) {
            mqs_packet_describe(&p, out);
        } else {
            const char *rule = mqs_status_rule(st);
            mqs_buf_printf(out, "malformed %s (%s%s%s%s, byte %zu)", mqs_type_name(type),
                           mqs_status_str(st), rule ? " [" : "", rule ? rule : "", rule ? "]" : "",
                           d.offset);
        }
        off += hdr + rem;
    }
}

/* A step's time in ms, scaled by --timeout unless the step is "exact" (protocol timing). */
static int64_t step_ms(const ctx *c, const mqs_sc_step *s, int64_t ms)
{
    return s && s->exact ? ms : scaled(c, ms);
}

/* A step's timeout, scaled (the number reasons show). */
static int64_t step_timeout(const ctx *c, const mqs_sc_step *s)
{
    if (s && s->timeout_ms >= 0)
        return step_ms(c, s, s->timeout_ms);
    bool close = s && (s->op == MQS_OP_EXPECT_CLOSED || s->expect.kind == MQS_EXP_CLOSED);
    return step_ms(c, s, close ? MQS_SC_DEFAULT_CLOSE_MS : MQS_SC_DEFAULT_STEP_MS);
}

static int64_t step_deadline(ctx *c, const mqs_sc_step *s)
{
    int64_t d = mqs_now_ms() + step_timeout(c, s);
    return d < c->deadline ? d : c->deadline;
}

/* After a wait ended without the event: ERROR when the case deadline cut it short. */
static bool past_case_deadline(ctx *c)
{
    if (mqs_now_ms() < c->deadline)
        return false;
    case_error(c, "the scenario deadline (%lld ms) passed",
               (long long)scaled(c, c->sc->timeout_ms));
    return true;
}

/* Byte ranges that hold a password, masked in the trace. */
typedef struct secret {
    size_t off, len;
} secret;

/* Writes bytes (in split chunks when asked), tracing them with the secrets masked. */
static int send_bytes(ctx *c, const mqs_sc_step *s, client *cl, const uint8_t *bytes, size_t len,
                      const secret *secrets, size_t n_secrets)
{
    mqs_buf text = {0};
    describe_sent(c, bytes, len, &text);
    if (s && s->n_split)
        mqs_buf_printf(&text, " (written in %zu+ chunks)", s->n_split);
    if (s && s->ws_text)
        mqs_buf_puts(&text, " (as WebSocket text frames)");
    if (s && s->ws_frame_max)
        mqs_buf_printf(&text, " (in WebSocket frames of at most %zu bytes)", s->ws_frame_max);
    mqs_buf_terminate(&text);
    uint8_t *shown = mqs_malloc(len);
    if (shown) {
        memcpy(shown, bytes, len);
        for (size_t i = 0; i < n_secrets; i++)
            if (secrets[i].len && secrets[i].off + secrets[i].len <= len)
                memset(shown + secrets[i].off, '*', secrets[i].len);
    }
    trace_add(c, cl->name, 0, shown, shown ? len : 0, text.p ? (const char *)text.p : "");
    mqs_free(shown);
    mqs_buf_free(&text);
    if (!cl->conn) {
        trace_event(c, cl->name, "not sent: the connection is already %s", cl->closed_how);
        return 0;
    }
    int64_t deadline = step_deadline(c, s);
    size_t off = 0;
    mqs_conn_set_ws_frame_max(cl->conn, s ? s->ws_frame_max : 0);
    for (size_t k = 0; off < len; k++) {
        size_t n = s && k < s->n_split ? s->split[k] : len - off;
        if (n > len - off)
            n = len - off;
        if (k > 0)
            sleep_ms(MQS_SPLIT_PAUSE_MS);
        int rc = s && s->ws_text ? mqs_conn_ws_send_text(cl->conn, bytes + off, n, deadline)
                                 : mqs_conn_write(cl->conn, bytes + off, n, deadline);
        if (rc == MQS_NET_TIMEOUT) {
            if (past_case_deadline(c))
                return -1;
            return step_fail(c, s,
                             "could not write %zu bytes to the broker within %lld ms "
                             "(it stopped reading)",
                             len, (long long)(deadline - mqs_now_ms()));
        }
        if (rc != MQS_NET_OK) {
            char how[160];
            snprintf(how, sizeof how, "closed by the broker (write failed: %s)",
                     mqs_conn_error(cl->conn));
            mark_closed(c, cl, how);
            return 0;
        }
        off += n;
    }
    mqs_conn_set_ws_frame_max(cl->conn, 0);
    return 0;
}

static void build_ctx(ctx *c, client *cl, mqs_build_ctx *b)
{
    b->vars = &c->vars;
    b->version = c->version;
    b->client_id = cl->cid;
    b->username = c->o->username;
    b->password = c->o->password;
}

/* Builds structured packets and sends them in one write. */
static int send_specs(ctx *c, const mqs_sc_step *s, client *cl, const mqs_sc_packet *specs,
                      size_t n)
{
    mqs_build_ctx bc;
    build_ctx(c, cl, &bc);
    mqs_buf bytes = {0};
    secret *sec = mqs_calloc(n, sizeof *sec);
    int rc = 0;
    if (!sec) {
        c->oom = true;
        rc = case_error(c, "out of memory");
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        mqs_built info;
        memset(&info, 0, sizeof info);
        size_t start = bytes.len;
        char err[300];
        if (mqs_spec_build(&specs[i], &bc, &bytes, &info, err, sizeof err) < 0) {
            rc = case_error(c, "%s", err);
        } else {
            track_built(c, &info);
            sec[i] = (secret){start + info.secret_off, info.secret_len};
        }
        mqs_built_free(&info);
    }
    if (rc == 0)
        rc = send_bytes(c, s, cl, bytes.p, bytes.len, sec, n);
    mqs_free(sec);
    mqs_buf_free(&bytes);
    return rc;
}

static int send_spec(ctx *c, const mqs_sc_step *s, client *cl, const mqs_sc_packet *spec)
{
    return send_specs(c, s, cl, spec, 1);
}

/* Sends a packet with only a type (DISCONNECT, PINGREQ). */
static int send_simple(ctx *c, const mqs_sc_step *s, client *cl, int type)
{
    mqs_sc_packet spec;
    memset(&spec, 0, sizeof spec);
    spec.type = type;
    spec.dup = spec.retain = spec.session_present = spec.clean_session = -1;
    return send_spec(c, s, cl, &spec);
}

/* ---- expectations ---- */

static int need_conn(ctx *c, const client *cl)
{
    if (cl->conn || cl->peer_closed)
        return 0;
    return case_error(c, "client %s is not connected (add a connect or open step first)", cl->name);
}

static const char *spec_text(ctx *c, const mqs_sc_packet *spec, mqs_buf *b)
{
    mqs_buf_free(b);
    mqs_spec_describe(spec, &c->vars, b);
    mqs_buf_terminate(b);
    return b->p ? (const char *)b->p : "?";
}

static int do_saves(ctx *c, const mqs_sc_expect *e, const mqs_packet *p)
{
    for (size_t i = 0; i < e->n_saves; i++) {
        mqs_buf v = {0};
        int rc = mqs_spec_save_value(e->saves[i].field, p, &v);
        if (rc == 0)
            rc = mqs_vars_set(&c->vars, e->saves[i].name, v.p, v.len);
        mqs_buf_free(&v);
        if (rc < 0) {
            c->oom = true;
            return case_error(c, "out of memory");
        }
    }
    return 0;
}

/* Common failure for an expectation that saw the connection close or time out. */
static int wait_failed(ctx *c, const mqs_sc_step *s, const client *cl, int ev, const char *want)
{
    if (ev == EV_STOP)
        return -1;
    if (ev == EV_CLOSED)
        return step_fail(c, s, "connection %s while client %s waited for %s", cl->closed_how,
                         cl->name, want);
    if (past_case_deadline(c))
        return -1;
    if (rx_pending(cl))
        return step_fail(c, s,
                         "no whole packet within %lld ms on client %s (expected %s; got "
                         "%zu bytes of an incomplete packet)",
                         (long long)step_timeout(c, s), cl->name, want, rx_pending(cl));
    return step_fail(c, s, "no packet within %lld ms on client %s (expected %s)",
                     (long long)step_timeout(c, s), cl->name, want);
}

static int expect_packet(ctx *c, const mqs_sc_step *s, client *cl, const mqs_sc_expect *e)
{
    mqs_buf want = {0}, got = {0};
    const char *w = spec_text(c, &e->pkts[0], &want);
    int64_t deadline = step_deadline(c, s);
    rxpkt *r = NULL;
    int ev = next_event(c, cl, deadline, &r);
    int rc = 0;
    if (ev != EV_PACKET) {
        rc = wait_failed(c, s, cl, ev, w);
    } else {
        char why[300];
        int m = mqs_spec_match(&e->pkts[0], &r->pkt, &c->vars, why, sizeof why);
        if (m < 0)
            rc = case_error(c, "%s", why);
        else if (m == 0)
            rc = step_fail(c, s, "expected %s on client %s, got %s (%s)", w, cl->name,
                           describe_rx(r, &got), why);
        else
            rc = do_saves(c, e, &r->pkt);
        consume(cl);
    }
    mqs_buf_free(&want);
    mqs_buf_free(&got);
    return rc;
}

/* Kuhn's augmenting path: can packet i take a spec, moving others if needed? */
static bool augment(const uint8_t *ok, size_t n, size_t i, bool *seen, size_t *owner)
{
    for (size_t j = 0; j < n; j++) {
        if (!ok[i * n + j] || seen[j])
            continue;
        seen[j] = true;
        if (owner[j] == SIZE_MAX || augment(ok, n, owner[j], seen, owner)) {
            owner[j] = i;
            return true;
        }
    }
    return false;
}

/* The wait of an any_order step failed after `got` of its n packets: names the specs no
 * packet received so far matched (what is still missing) and how many arrived. */
static int any_order_short(ctx *c, const mqs_sc_step *s, const client *cl, int ev,
                           const mqs_sc_expect *e, const uint8_t *ok, size_t got, mqs_buf *one)
{
    size_t n = e->n_pkts;
    mqs_buf missing = {0};
    for (size_t j = 0, k = 0; j < n; j++) {
        bool matched = false;
        for (size_t i = 0; i < got; i++)
            matched |= ok[i * n + j] != 0;
        if (!matched)
            mqs_buf_printf(&missing, "%s%s", k++ ? "; " : "", spec_text(c, &e->pkts[j], one));
    }
    mqs_buf_printf(&missing, " (%zu of the %zu packets arrived)", got, n);
    mqs_buf_terminate(&missing);
    int rc = missing.p ? wait_failed(c, s, cl, ev, (const char *)missing.p)
                       : wait_failed(c, s, cl, ev, "?");
    mqs_buf_free(&missing);
    return rc;
}

/* Receives n packets; each must match some spec and all specs must be matched once. The
 * step's saves take their values from the packet paired with the first spec. */
static int expect_any_order(ctx *c, const mqs_sc_step *s, client *cl, const mqs_sc_expect *e)
{
    size_t n = e->n_pkts, ns = e->n_saves;
    uint8_t *ok = mqs_calloc(n * n, 1);
    bool *seen = mqs_calloc(n, sizeof *seen);
    size_t *owner = mqs_calloc(n, sizeof *owner);
    mqs_buf *vals = ns ? mqs_calloc(n * ns, sizeof *vals) : NULL; /* per packet, per save */
    mqs_buf want = {0}, got = {0}, one = {0};
    int rc = 0;
    if (!ok || !seen || !owner || (ns && !vals)) {
        c->oom = true;
        rc = case_error(c, "out of memory");
    }
    for (size_t j = 0; rc == 0 && j < n; j++) {
        mqs_buf_printf(&want, "%s%s", j ? "; " : "", spec_text(c, &e->pkts[j], &one));
        owner[j] = SIZE_MAX;
    }
    mqs_buf_terminate(&want);
    int64_t deadline = step_deadline(c, s);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rxpkt *r = NULL;
        int ev = next_event(c, cl, deadline, &r);
        if (ev != EV_PACKET) {
            if (i > 0)
                rc = any_order_short(c, s, cl, ev, e, ok, i, &one);
            else
                rc = wait_failed(c, s, cl, ev, (const char *)want.p);
            break;
        }
        bool any = false;
        char why[300];
        for (size_t j = 0; rc == 0 && j < n; j++) {
            int m = mqs_spec_match(&e->pkts[j], &r->pkt, &c->vars, why, sizeof why);
            if (m < 0)
                rc = case_error(c, "%s", why);
            ok[i * n + j] = m == 1;
            any |= m == 1;
        }
        if (rc == 0 && !any)
            rc = step_fail(c, s, "got %s on client %s, which matches none of: %s",
                           describe_rx(r, &got), cl->name, (const char *)want.p);
        for (size_t k = 0; rc == 0 && ok[i * n] && k < ns; k++)
            if (mqs_spec_save_value(e->saves[k].field, &r->pkt, &vals[i * ns + k]) < 0) {
                c->oom = true;
                rc = case_error(c, "out of memory");
            }
        consume(cl);
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        memset(seen, 0, n * sizeof *seen);
        if (!augment(ok, n, i, seen, owner))
            rc = step_fail(c, s, "the %zu packets on client %s cannot be paired with: %s", n,
                           cl->name, (const char *)want.p);
    }
    for (size_t k = 0; rc == 0 && k < ns; k++) {
        const mqs_buf *v = &vals[owner[0] * ns + k];
        if (mqs_vars_set(&c->vars, e->saves[k].name, v->p, v->len) < 0) {
            c->oom = true;
            rc = case_error(c, "out of memory");
        }
    }
    for (size_t i = 0; vals && i < n * ns; i++)
        mqs_buf_free(&vals[i]);
    mqs_free(vals);
    mqs_free(ok);
    mqs_free(seen);
    mqs_free(owner);
    mqs_buf_free(&want);
    mqs_buf_free(&got);
    mqs_buf_free(&one);
    return rc;
}

static int expect_closed(ctx *c, const mqs_sc_step *s, client *cl, uint16_t allow)
{
    int64_t deadline = step_deadline(c, s);
    mqs_buf got = {0};
    int rc = 0;
    for (;;) {
        rxpkt *r = NULL;
        int ev = next_event(c, cl, deadline, &r);
        if (ev == EV_CLOSED)
            break;
        if (ev == EV_STOP) {
            rc = -1;
            break;
        }
        if (ev == EV_TIMEOUT) {
            if (!past_case_deadline(c))
                rc = step_fail(c, s,
                               "the broker did not close the connection of client %s "
                               "within %lld ms",
                               cl->name, (long long)step_timeout(c, s));
            else
                rc = -1;
            break;
        }
        if (!(allow & (1u << r->pkt.type))) {
            rc = step_fail(c, s,
                           "expected the broker to close the connection of client %s, "
                           "got %s",
                           cl->name, describe_rx(r, &got));
            consume(cl);
            break;
        }
        consume(cl);
    }
    mqs_buf_free(&got);
    return rc;
}

/* No packet (or, with a filter in e->pkts[0], no packet matching it: others are
 * consumed and dropped) and no close for ms. */
static int expect_none(ctx *c, const mqs_sc_step *s, client *cl, const mqs_sc_expect *e)
{
    int64_t ms = e->ms, start = mqs_now_ms(), until = start + step_ms(c, s, ms);
    const mqs_sc_packet *filter = e->n_pkts ? &e->pkts[0] : NULL;
    if (until > c->deadline)
        until = c->deadline;
    if (filter)
        cl->foreign = true;
    for (;;) {
        rxpkt *r = NULL;
        int ev = next_event(c, cl, until, &r);
        if (ev == EV_TIMEOUT)
            return mqs_now_ms() < start + step_ms(c, s, ms) && past_case_deadline(c) ? -1 : 0;
        if (ev == EV_STOP)
            return -1;
        if (ev == EV_CLOSED)
            return step_fail(c, s, "connection %s while client %s expected silence for %lld ms",
                             cl->closed_how, cl->name, (long long)step_ms(c, s, ms));
        char why[300];
        int m = filter ? mqs_spec_match(filter, &r->pkt, &c->vars, why, sizeof why) : 1;
        if (m < 0) {
            consume(cl);
            return case_error(c, "%s", why);
        }
        if (m == 1)
            break;
        consume(cl); /* not the packet the step is about */
    }
    mqs_buf got = {0}, want = {0};
    rxpkt *r = &cl->q[cl->head];
    int rc = filter ? step_fail(c, s, "expected no %s on client %s for %lld ms, got %s",
                                spec_text(c, filter, &want), cl->name, (long long)step_ms(c, s, ms),
                                describe_rx(r, &got))
                    : step_fail(c, s, "expected no packet on client %s for %lld ms, got %s",
                                cl->name, (long long)step_ms(c, s, ms), describe_rx(r, &got));
    consume(cl);
    mqs_buf_free(&got);
    mqs_buf_free(&want);
    return rc;
}

/* Records which alternative of a one_of the broker chose. */
static void chose(ctx *c, const client *cl, const mqs_sc_expect *e, const mqs_sc_alt *a)
{
    mqs_buf label = {0};
    if (a->label)
        mqs_buf_puts(&label, a->label);
    else if (a->kind == MQS_EXP_PACKET)
        mqs_spec_describe(&a->pkt, &c->vars, &label);
    else
        mqs_buf_puts(&label, a->kind == MQS_EXP_CLOSED ? "closed the connection" : "sent nothing");
    mqs_buf_terminate(&label);
    const char *text = label.p ? (const char *)label.p : "";
    trace_event(c, cl->name, "the broker chose: %s", text);
    if (a->end) {
        /* A legal choice after which the rest of the scenario cannot be checked: say so. */
        c->ended = true;
        trace_event(c, cl->name, "the case ends here: the remaining steps need another choice");
        if (c->obs_verdict < MQS_VERDICT_INFO)
            c->obs_verdict = MQS_VERDICT_INFO;
        mqs_buf_printf(&c->observations, "%sstep %zu: %s (the remaining steps do not apply)",
                       c->observations.len ? "; " : "", c->step_no, text);
    } else if (e->observe) {
        if (c->obs_verdict < MQS_VERDICT_INFO)
            c->obs_verdict = MQS_VERDICT_INFO;
        mqs_buf_printf(&c->observations, "%sstep %zu: %s", c->observations.len ? "; " : "",
                       c->step_no, text);
    }
    mqs_buf_free(&label);
}

static const mqs_sc_alt *find_alt(const mqs_sc_expect *e, mqs_sc_expect_kind kind)
{
    for (size_t i = 0; i < e->n_alts; i++)
        if (e->alts[i].kind == kind)
            return &e->alts[i];
    return NULL;
}

/* A packet arrived during a one_of: the first packet alternative it matches, or NULL. */
static const mqs_sc_alt *match_alt(ctx *c, const mqs_sc_expect *e, const rxpkt *r, int *err)
{
    char why[300];
    for (size_t i = 0; i < e->n_alts; i++) {
        const mqs_sc_alt *a = &e->alts[i];
        if (a->kind != MQS_EXP_PACKET)
            continue;
        int m = mqs_spec_match(&a->pkt, &r->pkt, &c->vars, why, sizeof why);
        if (m < 0) {
            *err = case_error(c, "%s", why);
            return NULL;
        }
        if (m == 1)
            return a;
    }
    return NULL;
}

static void alts_text(ctx *c, const mqs_sc_step *s, const mqs_sc_expect *e, mqs_buf *out)
{
    mqs_buf one = {0};
    for (size_t i = 0; i < e->n_alts; i++) {
        const mqs_sc_alt *a = &e->alts[i];
        mqs_buf_puts(out, i ? " | " : "one of: ");
        if (a->kind == MQS_EXP_PACKET)
            mqs_buf_puts(out, spec_text(c, &a->pkt, &one));
        else if (a->kind == MQS_EXP_CLOSED)
            mqs_buf_puts(out, "the connection closed");
        else
            mqs_buf_printf(out, "no packet for %lld ms", (long long)step_ms(c, s, a->ms));
    }
    mqs_buf_terminate(out);
    mqs_buf_free(&one);
}

static int expect_one_of(ctx *c, const mqs_sc_step *s, client *cl, const mqs_sc_expect *e)
{
    const mqs_sc_alt *none = find_alt(e, MQS_EXP_NONE), *closed = find_alt(e, MQS_EXP_CLOSED);
    int64_t start = mqs_now_ms();
    int64_t deadline = none ? start + step_ms(c, s, none->ms) : step_deadline(c, s);
    if (deadline > c->deadline)
        deadline = c->deadline;
    mqs_buf want = {0}, got = {0};
    alts_text(c, s, e, &want);
    const char *w = (const char *)want.p;
    bool closing = false; /* a tolerated packet was seen: only "closed" can follow */
    int rc = 1;
    while (rc == 1) {
        rxpkt *r = NULL;
        int ev = next_event(c, cl, deadline, &r);
        if (ev == EV_STOP) {
            rc = -1;
        } else if (ev == EV_CLOSED && closed) {
            chose(c, cl, e, closed);
            rc = 0;
        } else if (ev == EV_TIMEOUT && none && !closing) {
            rc = mqs_now_ms() < start + step_ms(c, s, none->ms) && past_case_deadline(c) ? -1 : 0;
            if (rc == 0)
                chose(c, cl, e, none);
        } else if (ev == EV_TIMEOUT && closing && !past_case_deadline(c)) {
            rc = step_fail(c, s,
                           "the broker did not close the connection of client %s within "
                           "%lld ms (expected %s)",
                           cl->name, (long long)step_timeout(c, s), w);
        } else if (ev != EV_PACKET) {
            rc = wait_failed(c, s, cl, ev, w);
        } else {
            bool allowed = closed && (closed->allow & (1u << r->pkt.type));
            int err = 0;
            const mqs_sc_alt *a = closing ? NULL : match_alt(c, e, r, &err);
            if (err) {
                rc = -1;
            } else if (a) {
                chose(c, cl, e, a);
                rc = 0;
            } else if (allowed) {
                closing = true;
            } else {
                rc = step_fail(c, s, "expected %s on client %s, got %s", w, cl->name,
                               describe_rx(r, &got));
            }
            consume(cl);
        }
    }
    mqs_buf_free(&want);
    mqs_buf_free(&got);
    return rc;
}

static int run_expectation(ctx *c, const mqs_sc_step *s, client *cl, const mqs_sc_expect *e)
{
    if (e->kind == MQS_EXP_NOTHING)
        return 0;
    if (need_conn(c, cl) < 0)
        return -1;
    switch (e->kind) {
    case MQS_EXP_PACKET:
        return expect_packet(c, s, cl, e);
    case MQS_EXP_PACKETS:
        return expect_any_order(c, s, cl, e);
    case MQS_EXP_ONE_OF:
        return expect_one_of(c, s, cl, e);
    case MQS_EXP_CLOSED:
        return expect_closed(c, s, cl, e->allow);
    case MQS_EXP_NONE:
        return expect_none(c, s, cl, e);
    default:
        return 0;
    }
}

/* ---- steps ---- */

/* PUBLISHes a client received that no step consumed fail the case (allow_extra relaxes). */
static void check_leftovers(ctx *c, client *cl)
{
    if (c->stop || c->sc->allow_extra)
        return;
    for (size_t i = cl->head; i < cl->n; i++) {
        if (cl->q[i].pkt.type != MQS_PUBLISH)
            continue;
        mqs_buf got = {0};
        step_fail(c, NULL, "client %s received %s, which no step expected", cl->name,
                  describe_rx(&cl->q[i], &got));
        mqs_buf_free(&got);
        return;
    }
}

/* mqs_conn_open failed with rc. Without the client certificate ("client_cert": false) a
 * handshake the server ends is its answer: the client is closed by the broker, and the
 * step's expectation judges that. A failed upgrade fails a step that checks the
 * subprotocol [MQTT-6.0.0-4]. "must_accept" (a broker that must still be there, e.g.
 * after what crashed it) fails the step. Anything else: the case cannot run (ERROR). */
static int open_failed(ctx *c, const mqs_sc_step *s, client *cl, int rc, const char *err)
{
    bool refused = rc == MQS_NET_TLS || rc == MQS_NET_CLOSED || rc == MQS_NET_RESET;
    if (s && s->no_client_cert && refused) {
        char how[160];
        snprintf(how, sizeof how, "refused during the TLS handshake without a client certificate");
        trace_event(c, cl->name, "%s", err);
        mark_closed(c, cl, how);
        return 0;
    }
    if (s && s->ws_subprotocol && rc == MQS_NET_PROTOCOL)
        return step_fail(c, s, "the WebSocket upgrade of client %s failed: %s", cl->name, err);
    if (s && s->must_accept)
        return step_fail(c, s,
                         "the broker no longer accepts connections: client %s cannot connect: %s",
                         cl->name, err);
    return case_error(c, "client %s cannot connect: %s", cl->name, err);
}

/* [MQTT-6.0.0-4] the server returns the subprotocol the step names ("" = none). */
static int check_subprotocol(ctx *c, const mqs_sc_step *s, client *cl)
{
    const char *got = mqs_conn_ws_subprotocol(cl->conn);
    if (!strcmp(got, s->ws_subprotocol))
        return 0;
    return step_fail(c, s,
                     "the server returned the WebSocket subprotocol %s%s%s to client %s, "
                     "expected '%s'",
                     *got ? "'" : "", *got ? got : "none (no Sec-WebSocket-Protocol header)",
                     *got ? "'" : "", cl->name, s->ws_subprotocol);
}

static int open_conn(ctx *c, const mqs_sc_step *s, client *cl)
{
    if (cl->conn)
        drain(c, cl);
    if (c->stop)
        return -1;
    if (cl->conn)
        return case_error(c, "client %s is still connected (add a disconnect or close step)",
                          cl->name);
    check_leftovers(c, cl);
    queue_clear(cl);
    if (!cl->chunk && !(cl->chunk = mqs_malloc(MQS_READ_CHUNK))) {
        c->oom = true;
        return case_error(c, "out of memory");
    }
    if (!cl->fr.buf && rx_grow(cl, MQS_READ_CHUNK) < 0) {
        c->oom = true;
        return case_error(c, "out of memory");
    }
    mqs_framer_init(&cl->fr, cl->fr.buf, cl->fr.cap, 0);
    cl->peer_closed = false;
    char err[300];
    mqs_conn *conn = NULL;
    mqs_endpoint ep = *c->o->ep;
    if (s && s->no_client_cert)
        ep.tls.certfile = ep.tls.keyfile = NULL;
    int rc = mqs_conn_open(&ep, step_deadline(c, s), NULL, NULL, &conn, err, sizeof err);
    if (rc != MQS_NET_OK) {
        mqs_conn_close(conn, true);
        return open_failed(c, s, cl, rc, err);
    }
    cl->conn = conn;
    trace_event(c, cl->name, "connected (%s)", mqs_conn_describe(conn));
    if (c->stop)
        return -1;
    return s && s->ws_subprotocol ? check_subprotocol(c, s, cl) : 0;
}

/* Closes our side: DISCONNECT first when asked, then FIN or RST. */
static void close_conn(ctx *c, const mqs_sc_step *s, client *cl, bool disconnect, bool abrupt)
{
    if (disconnect && cl->conn)
        send_simple(c, s, cl, MQS_DISCONNECT);
    if (!cl->conn)
        return;
    mqs_conn_close(cl->conn, abrupt);
    cl->conn = NULL;
    trace_event(c, cl->name, "mqttspec closed the connection (%s)", abrupt ? "RST" : "FIN");
}

static int step_ping(ctx *c, const mqs_sc_step *s, client *cl)
{
    if (need_conn(c, cl) < 0 || send_simple(c, s, cl, MQS_PINGREQ) < 0)
        return -1;
    mqs_sc_packet resp;
    memset(&resp, 0, sizeof resp);
    resp.type = MQS_PINGRESP;
    resp.dup = resp.retain = resp.session_present = resp.clean_session = -1;
    mqs_sc_expect e;
    memset(&e, 0, sizeof e);
    e.kind = MQS_EXP_PACKET;
    e.pkts = &resp;
    e.n_pkts = 1;
    return expect_packet(c, s, cl, &e);
}

static int step_send(ctx *c, const mqs_sc_step *s, client *cl)
{
    if (need_conn(c, cl) < 0)
        return -1;
    if (s->has_pkt)
        return send_spec(c, s, cl, &s->pkt);
    if (s->n_pkts)
        return send_specs(c, s, cl, s->pkts, s->n_pkts);
    track_hex(c, s->hex, s->hex_len);
    return send_bytes(c, s, cl, s->hex, s->hex_len, NULL, 0);
}

static int step_wait(ctx *c, const mqs_sc_step *s)
{
    int64_t until = mqs_now_ms() + step_ms(c, s, s->ms);
    if (until > c->deadline) {
        if (nap_until(c, c->deadline) < 0)
            return -1;
        return past_case_deadline(c) ? -1 : 0;
    }
    return nap_until(c, until);
}

static int run_step(ctx *c, const mqs_sc_step *s)
{
    client *cl = s->client >= 0 ? &c->cl[s->client] : NULL;
    if (s->note)
        trace_event(c, cl ? cl->name : NULL, "step %zu: %s", c->step_no, s->note);
    switch (s->op) {
    case MQS_OP_CONNECT:
        if (open_conn(c, s, cl) < 0 || send_spec(c, s, cl, &s->pkt) < 0)
            return -1;
        return run_expectation(c, s, cl, &s->expect);
    case MQS_OP_OPEN:
        return open_conn(c, s, cl);
    case MQS_OP_SEND:
        return step_send(c, s, cl);
    case MQS_OP_EXPECT:
    case MQS_OP_EXPECT_NONE:
    case MQS_OP_EXPECT_CLOSED:
        return run_expectation(c, s, cl, &s->expect);
    case MQS_OP_DISCONNECT:
        if (need_conn(c, cl) < 0)
            return -1;
        drain(c, cl);
        check_leftovers(c, cl);
        close_conn(c, s, cl, true, false);
        return c->stop ? -1 : 0;
    case MQS_OP_CLOSE:
        if (need_conn(c, cl) < 0)
            return -1;
        drain(c, cl);
        check_leftovers(c, cl);
        close_conn(c, s, cl, false, s->abrupt);
        return c->stop ? -1 : 0;
    case MQS_OP_WAIT:
        return step_wait(c, s);
    case MQS_OP_PING:
        return step_ping(c, s, cl);
    }
    return 0;
}

/* ---- a minimal client for cleanup and probes, whatever state a case left ---- */

typedef struct mini {
    const mqs_endpoint *ep;
    mqs_version version;
    const char *username, *password;
    int64_t deadline;
    mqs_conn *conn;
    mqs_buf rx;
    int net_rc; /* the last failed write or read (MQS_NET_*), 0 when none */
} mini;

/* Sends p, validated by mqs_encode, or encoded as it is when as_is (a cleanup PUBLISH to a
 * topic the case sent malformed). */
static int mini_send_as(mini *m, const mqs_packet *p, bool as_is)
{
    uint8_t buf[70000];
    size_t n = 0;
    int st = as_is ? mqs_encode_unchecked(p, m->version, NULL, buf, sizeof buf, &n)
                   : mqs_encode(p, m->version, buf, sizeof buf, &n, NULL);
    if (st != MQS_OK)
        return -1;
    m->net_rc = mqs_conn_write(m->conn, buf, n, m->deadline);
    return m->net_rc == MQS_NET_OK ? 0 : -1;
}

static int mini_send(mini *m, const mqs_packet *p)
{
    return mini_send_as(m, p, false);
}

/* Waits for a packet of type want (others are skipped); out's views point into m->rx
 * until the next call; a SUBACK's codes go to items (capacity cap).
 * @return 0, -1 (closed, timeout, malformed, more codes than cap). */
static int mini_wait_items(mini *m, int want, mqs_packet *out, mqs_item *items, size_t cap)
{
    size_t used = 0;
    for (;;) {
        if (used) {
            memmove(m->rx.p, m->rx.p + used, m->rx.len - used);
            m->rx.len -= used;
            used = 0;
        }
        uint8_t type, flags;
        uint32_t rem;
        size_t hdr;
        int st = mqs_frame_peek(m->rx.p, m->rx.len, MQS_LENIENT_NON_MINIMAL_RL, &type, &flags, &rem,
                                &hdr, NULL);
        if (st == MQS_OK && m->rx.len >= hdr + rem) {
            used = hdr + rem;
            if (type != want)
                continue;
            mqs_decode_opts opts = {m->version, MQS_DIR_TO_CLIENT, MQS_LENIENT_NON_MINIMAL_RL};
            memset(out, 0, sizeof *out);
            out->items = items;
            out->n_items = cap;
            return mqs_decode(m->rx.p, used, &opts, out, NULL) == MQS_OK ? 0 : -1;
        }
        if (st != MQS_OK && st != MQS_NEED_MORE)
            return -1;
        uint8_t chunk[4096];
        size_t got = 0;
        m->net_rc = mqs_conn_read(m->conn, chunk, sizeof chunk, &got, m->deadline);
        if (m->net_rc != MQS_NET_OK || mqs_buf_append(&m->rx, chunk, got) < 0)
            return -1;
    }
}

static int mini_wait(mini *m, int want, mqs_packet *out)
{
    return mini_wait_items(m, want, out, NULL, 0);
}

/* Opens a connection and sends CONNECT (clean session 1, client id cid).
 * @return the CONNACK return code, -1 when no CONNACK came (err set), -2 when the
 *         connection could not be opened or failed below MQTT: a TLS error after the
 *         handshake (TLS 1.3 refuses a missing client certificate there) or a WebSocket
 *         violation (err set). */
static int mini_connect(mini *m, const char *cid, char *err, size_t errlen)
{
    if (mqs_conn_open(m->ep, m->deadline, NULL, NULL, &m->conn, err, errlen) != MQS_NET_OK) {
        m->conn = NULL;
        return -2;
    }
    mqs_packet p;
    memset(&p, 0, sizeof p);
    p.type = MQS_CONNECT;
    mqs_connect *k = &p.connect;
    const char *name = m->version == MQS_V31 ? "MQIsdp" : "MQTT";
    k->protocol_name = (mqs_str){(const uint8_t *)name, strlen(name)};
    k->protocol_level = (uint8_t)m->version;
    k->clean_session = true;
    k->keepalive = 30;
    k->client_id = (mqs_str){(const uint8_t *)cid, strlen(cid)};
    if (m->username) {
        k->has_username = true;
        k->username = (mqs_str){(const uint8_t *)m->username, strlen(m->username)};
        if (m->password) {
            k->has_password = true;
            k->password = (mqs_str){(const uint8_t *)m->password, strlen(m->password)};
        }
    }
    mqs_packet ack;
    if (mini_send(m, &p) < 0 || mini_wait(m, MQS_CONNACK, &ack) < 0) {
        bool below = m->net_rc == MQS_NET_TLS || m->net_rc == MQS_NET_PROTOCOL;
        if (below || m->net_rc != MQS_NET_OK)
            snprintf(err, errlen, "%s%s%s", below ? "" : "no CONNACK (", mqs_conn_error(m->conn),
                     below ? "" : ")");
        else
            snprintf(err, errlen, "no CONNACK (not an MQTT reply)");
        return below ? -2 : -1;
    }
    if (ack.connack.return_code)
        snprintf(err, errlen, "CONNACK return code %u", ack.connack.return_code);
    return ack.connack.return_code;
}

static void mini_close(mini *m)
{
    if (m->conn) {
        mqs_packet p;
        memset(&p, 0, sizeof p);
        p.type = MQS_DISCONNECT;
        mini_send(m, &p);
        mqs_conn_close(m->conn, false);
    }
    m->conn = NULL;
    mqs_buf_free(&m->rx);
}

static mini mini_for(const ctx *c, int64_t deadline)
{
    mini m = {c->o->ep, c->version, c->o->username, c->o->password, deadline, NULL, {0}, 0};
    return m;
}

static void cleanup_sessions(ctx *c, int64_t deadline)
{
    for (size_t i = 0; i < c->n_persistent; i++) {
        mini m = mini_for(c, deadline);
        char err[300];
        const char *cid = (const char *)c->persistent[i].p;
        if (mini_connect(&m, cid, err, sizeof err) == 0)
            trace_event(c, "cleanup", "discarded the session of client id %s", cid);
        else
            trace_event(c, "cleanup", "could not discard the session of client id %s: %s",
                        cid, err);
        mini_close(&m);
    }
}

/* Clears each retained topic with an empty retained QoS 1 PUBLISH, on one connection. The
 * PUBLISH is encoded as the topic is (the case may have stored a malformed one); a broker
 * that refuses it (closes, or no PUBACK within a few seconds) has nothing stored there, so
 * the cleanup reconnects and goes on with the next topic. */
static void cleanup_retained(ctx *c, int64_t deadline)
{
    if (!c->n_retained)
        return;
    mini m = mini_for(c, deadline);
    char cid[24], err[300];
    mqs_make_client_id(c->o->token, c->o->case_index, MQS_CLEANUP_CLIENT, cid);
    for (size_t i = 0; i < c->n_retained; i++) {
        const mqs_buf *t = &c->retained[i];
        m.deadline = deadline;
        if (!m.conn && mini_connect(&m, cid, err, sizeof err) < 0) {
            trace_event(c, "cleanup", "could not clear retained messages: %s", err);
            break;
        }
        mqs_packet p, ack;
        memset(&p, 0, sizeof p);
        p.type = MQS_PUBLISH;
        p.qos = 1;
        p.retain = true;
        p.packet_id = p.publish.packet_id = (uint16_t)(i % 65535 + 1);
        p.publish.topic = (mqs_str){t->p, t->len};
        p.publish.payload = (mqs_str){(const uint8_t *)"", 0};
        int64_t per_topic = mqs_now_ms() + scaled(c, 3000);
        m.deadline = per_topic < deadline ? per_topic : deadline;
        bool ok = mini_send_as(&m, &p, true) == 0 && mini_wait(&m, MQS_PUBACK, &ack) == 0;
        mqs_buf tt = {0};
        mqs_escape_bytes(&tt, t->p, t->len);
        const char *shown = mqs_buf_terminate(&tt) == 0 ? (const char *)tt.p : "?";
        if (ok)
            trace_event(c, "cleanup", "cleared the retained message of %s", shown);
        else
            trace_event(c, "cleanup",
                        "the broker did not take an empty retained PUBLISH to %s (so it holds "
                        "nothing there)",
                        shown);
        mqs_buf_free(&tt);
        if (!ok)
            mini_close(&m);
        if (mqs_now_ms() >= deadline)
            break;
    }
    mini_close(&m);
}

/* ---- the case ---- */

void mqs_make_token(char out[9])
{
    static const char digits[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    uint8_t rnd[8] = {0};
    FILE *f = fopen("/dev/urandom", "rb");
    size_t got = f ? fread(rnd, 1, sizeof rnd, f) : 0;
    if (f)
        fclose(f);
    uint64_t mix = (uint64_t)mqs_now_ms() * 1000003u ^ (uint64_t)time(NULL) ^ (uint64_t)clock();
    for (size_t i = 0; i < 8; i++) {
        unsigned b = i < got ? rnd[i] : (unsigned)((mix >> (i * 8)) & 0xffu);
        out[i] = digits[b % 36u];
    }
    out[8] = '\0';
}

static void base36(size_t v, size_t width, char *out)
{
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    for (size_t i = width; i-- > 0;) {
        out[i] = digits[v % 36];
        v /= 36;
    }
    out[width] = '\0';
}

void mqs_make_client_id(const char *token, size_t case_index, size_t client_index, char out[24])
{
    char cs[5], cl[3];
    base36(case_index, 4, cs);
    base36(client_index, 2, cl);
    snprintf(out, 24, "mqs%.8s%s%s", token, cs, cl);
}

const char *mqs_case_requirement_missing(const mqs_scenario *sc, const mqs_case_opts *o,
                                         bool client_cert)
{
    unsigned r = sc->requires;
    mqs_transport t = o->ep->transport;
    if ((r & (MQS_REQ_CREDENTIALS | MQS_REQ_BAD_CREDENTIALS)) && (!o->username || !o->password))
        return "needs credentials: run with --username and --password";
    if ((r & MQS_REQ_NO_ANONYMOUS) && !o->no_anonymous)
        return "needs a broker that refuses anonymous clients: run with --no-anonymous";
    if ((r & MQS_REQ_TLS) && t != MQS_TR_TLS && t != MQS_TR_WSS)
        return "needs a TLS endpoint (mqtts:// or wss://)";
    if ((r & MQS_REQ_WS) && t != MQS_TR_WS && t != MQS_TR_WSS)
        return "needs a WebSocket endpoint (ws:// or wss://)";
    if ((r & MQS_REQ_CLIENT_CERT) && !client_cert)
        return "needs a client certificate (--cert/--key)";
    return NULL;
}

static int ctx_init(ctx *c, const mqs_scenario *sc, const mqs_case_opts *o)
{
    memset(c, 0, sizeof *c);
    c->sc = sc;
    c->o = o;
    c->version = o->proto == MQS_PROTO_31 ? MQS_V31 : MQS_V311;
    c->cl = mqs_calloc(sc->n_clients ? sc->n_clients : 1, sizeof *c->cl);
    c->cids = mqs_calloc(sc->n_clients ? sc->n_clients : 1, sizeof *c->cids);
    if (!c->cl || !c->cids)
        return -1;
    char cs[5];
    base36(o->case_index, 4, cs);
    snprintf(c->topic, sizeof c->topic, "mqs/%s/%s/", o->token, cs);
    for (size_t i = 0; i < sc->n_clients; i++) {
        c->cl[i].name = sc->clients[i];
        mqs_make_client_id(o->token, o->case_index, i, c->cl[i].cid);
        c->cids[i] = c->cl[i].cid;
    }
    c->vars.token = o->token;
    c->vars.topic = c->topic;
    c->vars.clients = sc->clients;
    c->vars.cids = c->cids;
    c->vars.n_clients = sc->n_clients;
    c->vars.username = o->username;
    c->vars.password = o->password;
    c->vars.bad_password = o->password ? "mqs-certainly-wrong-password" : NULL;
    c->t0 = mqs_now_ms();
    c->deadline = c->t0 + scaled(c, sc->timeout_ms);
    return 0;
}

static void ctx_free(ctx *c)
{
    for (size_t i = 0; c->cl && i < c->sc->n_clients; i++) {
        mqs_conn_close(c->cl[i].conn, true);
        queue_clear(&c->cl[i]);
        mqs_free(c->cl[i].q);
        mqs_free(c->cl[i].fr.buf);
        mqs_free(c->cl[i].chunk);
    }
    mqs_free(c->cl);
    mqs_free(c->cids);
    mqs_vars_free(&c->vars);
    for (size_t i = 0; i < c->n_retained; i++)
        mqs_buf_free(&c->retained[i]);
    for (size_t i = 0; i < c->n_persistent; i++)
        mqs_buf_free(&c->persistent[i]);
    mqs_free(c->retained);
    mqs_free(c->persistent);
    mqs_buf_free(&c->reason);
    mqs_buf_free(&c->observations);
    for (size_t i = 0; i < c->ntr; i++) {
        mqs_free(c->tr[i].client);
        mqs_free(c->tr[i].bytes);
        mqs_free(c->tr[i].text);
    }
    mqs_free(c->tr);
}

static void run_steps(ctx *c)
{
    for (size_t i = 0; i < c->sc->n_steps && !c->stop && !c->ended; i++) {
        const mqs_sc_step *s = &c->sc->steps[i];
        if (!(s->only & c->o->proto))
            continue;
        c->step_no = i + 1;
        if (interrupted(c))
            break;
        if (mqs_now_ms() >= c->deadline) {
            past_case_deadline(c);
            break;
        }
        run_step(c, s);
    }
    c->step_no = 0;
    /* Packets that arrived but no step consumed (after an "end" choice, the steps that
       would have consumed them did not run). */
    for (size_t i = 0; i < c->sc->n_clients && !c->stop && !c->ended; i++) {
        drain(c, &c->cl[i]);
        check_leftovers(c, &c->cl[i]);
    }
    /* DISCONNECT every open connection, so that no will fires after the case. */
    for (size_t i = 0; i < c->sc->n_clients; i++)
        close_conn(c, NULL, &c->cl[i], true, false);
    int64_t cleanup_deadline = mqs_now_ms() + scaled(c, MQS_CLEANUP_MS);
    cleanup_sessions(c, cleanup_deadline);
    cleanup_retained(c, cleanup_deadline);
}

static char *dup_or_flag(const char *s, bool *oom)
{
    char *d = mqs_strdup(s ? s : "");
    if (!d)
        *oom = true;
    return d;
}

/* Identity of the case in res. */
static bool fill_identity(const mqs_scenario *sc, const mqs_case_opts *o, mqs_case_result *res)
{
    bool oom = false;
    res->id = dup_or_flag(sc->id, &oom);
    res->title = dup_or_flag(sc->title, &oom);
    res->area = dup_or_flag(sc->area, &oom);
    res->level = dup_or_flag(mqs_level_name((int)sc->level), &oom);
    res->protocol = dup_or_flag(mqs_protocol_name(o->proto), &oom);
    res->transport = dup_or_flag(mqs_transport_name(o->ep->transport), &oom);
    res->statements = mqs_calloc(sc->n_statements ? sc->n_statements : 1, sizeof(char *));
    if (!res->statements)
        return false;
    for (size_t i = 0; i < sc->n_statements; i++)
        res->statements[i] = dup_or_flag(sc->statements[i], &oom);
    res->n_statements = sc->n_statements;
    return !oom;
}

/* Moves the outcome and the trace of c into res. */
static void fill_outcome(ctx *c, mqs_case_result *res)
{
    mqs_verdict v = c->stop ? c->verdict : MQS_VERDICT_PASS;
    const char *reason = c->stop ? (const char *)c->reason.p : NULL;
    if (!c->stop && c->obs_verdict > MQS_VERDICT_PASS) {
        mqs_buf_terminate(&c->observations);
        v = c->obs_verdict;
        reason = (const char *)c->observations.p;
    }
    if (c->oom) {
        v = MQS_VERDICT_ERROR;
        reason = "out of memory";
    }
    res->verdict = v;
    res->reason = reason ? mqs_strdup(reason) : NULL;
    res->failed_rule = c->stop && c->rule ? mqs_strdup(c->rule) : NULL;
    res->duration_ms = (double)(mqs_now_ms() - c->t0);
    res->trace = c->tr;
    res->n_trace = c->ntr;
    c->tr = NULL;
    c->ntr = 0;
}

int mqs_case_run(const mqs_scenario *sc, const mqs_case_opts *o, mqs_case_result *res)
{
    if (!fill_identity(sc, o, res)) {
        res->verdict = MQS_VERDICT_ERROR;
        return -1;
    }
    if (o->skip_reason) {
        res->verdict = MQS_VERDICT_SKIP;
        res->reason = mqs_strdup(o->skip_reason);
        return res->reason ? 0 : -1;
    }
    ctx c;
    int rc = 0;
    if (ctx_init(&c, sc, o) < 0) {
        res->verdict = MQS_VERDICT_ERROR;
        res->reason = mqs_strdup("out of memory");
        rc = -1;
    } else {
        run_steps(&c);
        fill_outcome(&c, res);
        rc = c.oom ? -1 : 0;
    }
    ctx_free(&c);
    return rc;
}

/* ---- probe ---- */

/* Sends SUBSCRIBE (packet id 1) for one filter at qos. @return 0 or -1. */
static int mini_subscribe(mini *m, const char *filter, uint8_t qos)
{
    mqs_item item = {{(const uint8_t *)filter, strlen(filter)}, qos};
    mqs_packet p;
    memset(&p, 0, sizeof p);
    p.type = MQS_SUBSCRIBE;
    p.packet_id = 1;
    p.items = &item;
    p.n_items = 1;
    return mini_send(m, &p);
}

static void probe_version(mini *m, mqs_probe *out)
{
    mqs_packet got;
    if (mini_subscribe(m, "$SYS/broker/version", 0) < 0 || mini_wait(m, MQS_PUBLISH, &got) < 0)
        return;
    size_t n = got.publish.payload.len < sizeof out->broker - 1 ? got.publish.payload.len
                                                                : sizeof out->broker - 1;
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = got.publish.payload.ptr[i];
        out->broker[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    out->broker[n] = '\0';
}

/* Subscribes at QoS 2 to mqs/CID (a topic nobody publishes to): the granted QoS. */
static int probe_qos2(mini *m, const char *cid)
{
    char topic[40];
    snprintf(topic, sizeof topic, "mqs/%s", cid);
    mqs_item code;
    mqs_packet got;
    if (mini_subscribe(m, topic, 2) < 0 || mini_wait_items(m, MQS_SUBACK, &got, &code, 1) < 0 ||
        got.packet_id != 1 || got.n_items != 1)
        return -1;
    return code.qos;
}

void mqs_probe_run(const mqs_endpoint *ep, unsigned proto, const char *username,
                   const char *password, double timeout_factor, const char *client_id,
                   bool want_version, mqs_probe *out)
{
    memset(out, 0, sizeof *out);
    int64_t now = mqs_now_ms();
    mini m = {ep,       proto == MQS_PROTO_31 ? MQS_V31 : MQS_V311, username,
              password, now + (int64_t)(3000.0 * timeout_factor),   NULL,
              {0},      0};
    out->connack = mini_connect(&m, client_id, out->err, sizeof out->err);
    if (m.conn)
        snprintf(out->conn, sizeof out->conn, "%s", mqs_conn_describe(m.conn));
    out->qos2_granted = -1;
    if (out->connack == 0) {
        m.deadline = mqs_now_ms() + (int64_t)(1000.0 * timeout_factor);
        out->qos2_granted = probe_qos2(&m, client_id);
    }
    if (out->connack == 0 && want_version) {
        m.deadline = mqs_now_ms() + (int64_t)(1000.0 * timeout_factor);
        probe_version(&m, out);
    }
    mini_close(&m);
}
