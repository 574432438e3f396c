/* mqttspec live fuzzer: playing a case against a broker (exec.h).
 *
 * Connections, writes (split and coalesced as the case says), reads, the waits for
 * answers that are due, the watcher, the liveness probe and the cleanup. The
 * judging lives in oracle.c. Every wait has a deadline; nothing sleeps.
 */
#include <errno.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/live/exec_internal.h"

#define READ_CHUNK 16384u
#define WATCH_CAP (256u * 1024u)

/* ---- log ---- */

const uint8_t *lf_log(mqs_lf_job *j, int kind, int ci, int step, const void *bytes, size_t len,
                      int status)
{
    if (j->n_events == MQS_LF_MAX_EVENTS) {
        j->res->log_truncated = true;
        return NULL;
    }
    mqs_lf_event *e = &j->events[j->n_events++];
    memset(e, 0, sizeof *e);
    e->kind = (uint8_t)kind;
    e->conn = (int8_t)ci;
    e->step = (int16_t)step;
    e->t_ms = mqs_now_ms() - j->t0;
    e->status = status;
    if (len == 0)
        return NULL;
    if (len > MQS_LF_LOG_BYTES - j->log_len) {
        j->res->log_truncated = true;
        return NULL;
    }
    memcpy(j->log + j->log_len, bytes, len);
    e->off = (uint32_t)j->log_len;
    e->len = (uint32_t)len;
    j->log_len += len;
    return j->log + e->off;
}

static void log_note(mqs_lf_job *j, int ci, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void log_note(mqs_lf_job *j, int ci, const char *fmt, ...)
{
    char text[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    lf_log(j, MQS_LF_EV_NOTE, ci, j->cur_step, text, strlen(text), 0);
}

static int64_t deadline(const mqs_lf_job *j)
{
    return mqs_now_ms() + j->t->timeout_ms;
}

/* ---- job ---- */

mqs_lf_job *mqs_lf_job_new(const mqs_lf_target *t, unsigned index)
{
    mqs_lf_job *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->t = t;
    j->index = index;
    j->log = malloc(MQS_LF_LOG_BYTES);
    j->tx_pool = malloc((size_t)MQS_LF_MAX_CONNS * LF_TX_CAP);
    j->rx_pool = malloc((size_t)MQS_LF_MAX_CONNS * LF_RX_CAP);
    j->watch_buf = malloc(WATCH_CAP);
    j->gather_buf = malloc(LF_GATHER_CAP);
    if (!j->log || !j->tx_pool || !j->rx_pool || !j->watch_buf || !j->gather_buf) {
        mqs_lf_job_free(j);
        return NULL;
    }
    return j;
}

void mqs_lf_job_free(mqs_lf_job *j)
{
    if (!j)
        return;
    mqs_conn_close(j->watch, true);
    free(j->log);
    free(j->tx_pool);
    free(j->rx_pool);
    free(j->watch_buf);
    free(j->gather_buf);
    free(j);
}

void mqs_lf_job_set_cancel(mqs_lf_job *j, bool (*cancelled)(void *ud), void *ud)
{
    j->cancelled = cancelled;
    j->cancel_ud = ud;
}

/* ---- small MQTT client pieces (watcher, probe, cleanup) ---- */

static mqs_str view_of(const char *s)
{
    mqs_str v = {(const uint8_t *)s, s ? strlen(s) : 0};
    return v;
}

static int send_packet(mqs_conn *c, const mqs_packet *p, mqs_version v, int64_t dl)
{
    uint8_t buf[1024];
    size_t n = 0;
    if (mqs_encode(p, v, buf, sizeof buf, &n, NULL) != MQS_OK)
        return MQS_NET_ERROR;
    return mqs_conn_write(c, buf, n, dl);
}

static int send_connect(mqs_conn *c, const mqs_lf_target *t, const char *cid, bool clean, int64_t dl)
{
    mqs_packet p;
    memset(&p, 0, sizeof p);
    p.type = MQS_CONNECT;
    p.connect.clean_session = clean;
    p.connect.keepalive = 600;
    p.connect.client_id = view_of(cid);
    p.connect.has_username = t->username != NULL;
    p.connect.username = view_of(t->username);
    p.connect.has_password = t->password != NULL;
    p.connect.password = view_of(t->password);
    return send_packet(c, &p, MQS_V311, dl);
}

static int send_simple(mqs_conn *c, uint8_t type, int64_t dl)
{
    mqs_packet p;
    memset(&p, 0, sizeof p);
    p.type = type;
    return send_packet(c, &p, MQS_V311, dl);
}

/* Reads one whole packet of the wanted type (others are skipped) by the deadline. */
static int read_type(mqs_conn *c, mqs_framer *fr, uint8_t want, mqs_packet *out, int64_t dl)
{
    for (;;) {
        const uint8_t *frame = NULL;
        size_t flen = 0;
        int st = mqs_framer_next(fr, &frame, &flen, NULL);
        if (st == MQS_OK) {
            mqs_decode_opts o = {MQS_V311, MQS_DIR_TO_CLIENT, MQS_LENIENT_NON_MINIMAL_RL};
            out->items = NULL;
            out->n_items = 0;
            int ds = mqs_decode(frame, flen, &o, out, NULL);
            if ((ds == MQS_OK || ds == MQS_E_TOO_MANY_ITEMS) && out->type == want)
                return MQS_NET_OK;
            continue;
        }
        if (st != MQS_NEED_MORE)
            return MQS_NET_PROTOCOL;
        uint8_t buf[4096];
        size_t got = 0;
        int rc = mqs_conn_read(c, buf, sizeof buf, &got, dl);
        if (rc != MQS_NET_OK)
            return rc;
        if (mqs_framer_push(fr, buf, got) != MQS_OK)
            return MQS_NET_PROTOCOL;
    }
}

/* Opens a plain client session (clean or not) and waits for CONNACK 0. */
static mqs_conn *client_open(const mqs_lf_target *t, const char *cid, bool clean, mqs_framer *fr,
                             char *err, size_t errlen)
{
    int64_t dl = mqs_now_ms() + t->timeout_ms;
    mqs_conn *c = NULL;
    if (mqs_conn_open(t->ep, dl, NULL, NULL, &c, err, errlen) != MQS_NET_OK)
        return NULL;
    mqs_packet ack;
    int rc = send_connect(c, t, cid, clean, dl);
    if (rc == MQS_NET_OK)
        rc = read_type(c, fr, MQS_CONNACK, &ack, dl);
    if (rc != MQS_NET_OK || ack.connack.return_code != 0) {
        if (rc == MQS_NET_OK)
            snprintf(err, errlen, "CONNACK return code %u", ack.connack.return_code);
        else
            snprintf(err, errlen, "no CONNACK: %s", rc == MQS_NET_PROTOCOL ? "framing error" : mqs_conn_error(c));
        mqs_conn_close(c, true);
        return NULL;
    }
    return c;
}

int mqs_lf_probe(const mqs_lf_target *t, const char *client_id, char *err, size_t errlen)
{
    uint8_t store[8192];
    mqs_framer fr;
    mqs_framer_init(&fr, store, sizeof store, MQS_LENIENT_NON_MINIMAL_RL);
    mqs_conn *c = client_open(t, client_id, true, &fr, err, errlen);
    if (!c)
        return -1;
    int64_t dl = mqs_now_ms() + t->timeout_ms;
    mqs_packet resp;
    int rc = send_simple(c, MQS_PINGREQ, dl);
    if (rc == MQS_NET_OK)
        rc = read_type(c, &fr, MQS_PINGRESP, &resp, dl);
    if (rc != MQS_NET_OK) {
        snprintf(err, errlen, "no PINGRESP: %s", mqs_conn_error(c));
        mqs_conn_close(c, true);
        return -1;
    }
    (void)send_simple(c, MQS_DISCONNECT, dl);
    mqs_conn_close(c, false);
    return 0;
}

static int publish_empty_retained(mqs_conn *c, mqs_str topic, int64_t dl)
{
    mqs_packet p;
    memset(&p, 0, sizeof p);
    p.type = MQS_PUBLISH;
    p.retain = true;
    p.publish.topic = topic;
    uint8_t buf[70000];
    size_t n = 0;
    if (mqs_encode(&p, MQS_V311, buf, sizeof buf, &n, NULL) != MQS_OK)
        return MQS_NET_OK; /* not a topic a client can clear */
    return mqs_conn_write(c, buf, n, dl);
}

int mqs_lf_clear_retained(const mqs_lf_target *t, const char *root, const char *client_id,
                          int64_t wait_ms)
{
    uint8_t *store = malloc(WATCH_CAP);
    char err[256], filter[64];
    mqs_framer fr;
    if (!store)
        return -1;
    mqs_framer_init(&fr, store, WATCH_CAP, MQS_LENIENT_NON_MINIMAL_RL);
    mqs_conn *c = client_open(t, client_id, true, &fr, err, sizeof err);
    if (!c) {
        free(store);
        return -1;
    }
    snprintf(filter, sizeof filter, "%s#", root);
    mqs_item item = {view_of(filter), 0};
    mqs_packet sub;
    memset(&sub, 0, sizeof sub);
    sub.type = MQS_SUBSCRIBE;
    sub.packet_id = 1;
    sub.items = &item;
    sub.n_items = 1;
    int cleared = 0;
    int64_t end = mqs_now_ms() + wait_ms;
    if (send_packet(c, &sub, MQS_V311, end) == MQS_NET_OK) {
        mqs_packet p;
        while (read_type(c, &fr, MQS_PUBLISH, &p, end) == MQS_NET_OK)
            if (p.retain && p.publish.payload.len > 0 &&
                publish_empty_retained(c, p.publish.topic, end + t->timeout_ms) == MQS_NET_OK)
                cleared++;
    }
    (void)send_simple(c, MQS_DISCONNECT, mqs_now_ms() + t->timeout_ms);
    mqs_conn_close(c, false);
    free(store);
    return cleared;
}

/* ---- watcher ---- */

static void job_name(const mqs_lf_job *j, char tag, uint32_t n, char out[24])
{
    snprintf(out, 24, "mqf%.8s%c%02x%05x", j->t->token, tag, j->index & 0xffu, n & 0xfffffu);
}

static void watch_close(mqs_lf_job *j)
{
    mqs_conn_close(j->watch, true);
    j->watch = NULL;
}

static int watch_open(mqs_lf_job *j)
{
    char cid[24], err[256], filter[32];
    job_name(j, 'w', 0, cid);
    mqs_framer_init(&j->watch_rx, j->watch_buf, WATCH_CAP, MQS_LENIENT_NON_MINIMAL_RL);
    j->watch = client_open(j->t, cid, true, &j->watch_rx, err, sizeof err);
    if (!j->watch)
        return -1;
    mqs_conn_set_quickack(j->watch, true);
    snprintf(filter, sizeof filter, "mqf/%.8s/#", j->t->token);
    mqs_item item = {view_of(filter), 1}; /* QoS 1: its PUBACKs carry TCP ACKs at once */
    mqs_packet sub, ack;
    memset(&sub, 0, sizeof sub);
    sub.type = MQS_SUBSCRIBE;
    sub.packet_id = 1;
    sub.items = &item;
    sub.n_items = 1;
    int64_t dl = mqs_now_ms() + j->t->timeout_ms;
    if (send_packet(j->watch, &sub, MQS_V311, dl) != MQS_NET_OK ||
        read_type(j->watch, &j->watch_rx, MQS_SUBACK, &ack, dl) != MQS_NET_OK) {
        watch_close(j);
        return -1;
    }
    return 0;
}

/* One frame the watcher got: messages under this case's prefix are kept for the
 * effect check; *synced is set when the sync message came back. */
/* A PUBLISH the watcher cannot decode whose topic (read as far as it goes) is under
 * another case's prefix: the watcher subscribes to the whole run, so it also sees what
 * the other jobs' cases caused; those jobs report it. */
static bool foreign_topic(const mqs_lf_job *j, const uint8_t *frame, size_t len)
{
    size_t i = 1;
    while (i < len && i < 5 && (frame[i] & 0x80))
        i++;
    if ((frame[0] >> 4) != MQS_PUBLISH || i + 3 + MQS_LF_PREFIX_LEN > len)
        return false;
    size_t tl = (size_t)(frame[i + 1] << 8 | frame[i + 2]);
    return tl >= MQS_LF_PREFIX_LEN && memcmp(frame + i + 3, j->c->prefix, MQS_LF_PREFIX_LEN) != 0;
}

static void watch_frame(mqs_lf_job *j, const uint8_t *frame, size_t len, bool *synced, mqs_str sync_payload)
{
    mqs_packet p;
    memset(&p, 0, sizeof p);
    mqs_decode_opts o = {MQS_V311, MQS_DIR_TO_CLIENT, MQS_LENIENT_NON_MINIMAL_RL};
    mqs_diag d = {0, 0, NULL};
    int st = mqs_decode(frame, len, &o, &p, &d);
    if (st != MQS_OK) {
        if (j->c && st != MQS_E_TOO_MANY_ITEMS && !foreign_topic(j, frame, len)) {
            lf_log(j, MQS_LF_EV_RECV, -1, j->cur_step, frame, len, st);
            j->recv_event = (long)j->n_events - 1;
            const char *rule = mqs_status_rule(st);
            lf_finding(j, MQS_LF_OR_MALFORMED, rule ? rule : "MQTT-4.8.0-1", (uint8_t)(frame[0] >> 4), -1,
                       -1, "the watcher received a malformed %s: %s (byte %zu)",
                       mqs_type_name(frame[0] >> 4), mqs_status_str(st), d.offset);
            j->recv_event = -1;
        }
        return;
    }
    if (p.type != MQS_PUBLISH)
        return;
    if (p.qos == 1 && j->watch) { /* acknowledged at once: no delayed-ACK stalls (Nagle) */
        mqs_packet ack;
        memset(&ack, 0, sizeof ack);
        ack.type = MQS_PUBACK;
        ack.packet_id = p.packet_id;
        (void)send_packet(j->watch, &ack, MQS_V311, deadline(j));
    }
    if (sync_payload.len && p.publish.payload.len == sync_payload.len &&
        !memcmp(p.publish.payload.ptr, sync_payload.ptr, sync_payload.len)) {
        *synced = true;
        return;
    }
    if (!j->c || p.publish.topic.len < MQS_LF_PREFIX_LEN ||
        memcmp(p.publish.topic.ptr, j->c->prefix, MQS_LF_PREFIX_LEN) != 0 || j->n_seen == LF_MAX_MSGS)
        return;
    const uint8_t *copy = lf_log(j, MQS_LF_EV_RECV, -1, j->cur_step, frame, len, MQS_OK);
    if (p.qos > 1) { /* the watcher subscribed at QoS 1 [MQTT-3.8.4-6] */
        j->recv_event = copy ? (long)j->n_events - 1 : -1;
        j->detail = MQS_LF_BR_QOS;
        j->want_id = 1;
        lf_finding(j, MQS_LF_OR_BAD_REPLY, "MQTT-3.8.4-6", MQS_PUBLISH, -1, -1,
                   "the watcher (subscribed at QoS 1) received a PUBLISH at QoS %u", p.qos);
        j->recv_event = -1;
    }
    if (!copy)
        return;
    lf_seen *s = &j->seen[j->n_seen++];
    s->event = (long)j->n_events - 1;
    s->topic.ptr = copy + (p.publish.topic.ptr - frame);
    s->topic.len = p.publish.topic.len;
    s->payload.ptr = copy + (p.publish.payload.ptr - frame);
    s->payload.len = p.publish.payload.len;
}

/* Reads what the watcher has (waiting until dl). @return 1 read, 0 nothing, -1 gone. */
static int watch_pump(mqs_lf_job *j, int64_t dl, bool *synced, mqs_str sync_payload)
{
    if (!j->watch)
        return -1;
    uint8_t buf[READ_CHUNK];
    size_t got = 0;
    int rc = mqs_conn_read(j->watch, buf, sizeof buf, &got, dl);
    if (rc == MQS_NET_TIMEOUT)
        return 0;
    if (rc != MQS_NET_OK || mqs_framer_push(&j->watch_rx, buf, got) != MQS_OK) {
        watch_close(j);
        j->need_probe = true;
        return -1;
    }
    const uint8_t *frame = NULL;
    size_t flen = 0;
    int st;
    while ((st = mqs_framer_next(&j->watch_rx, &frame, &flen, NULL)) == MQS_OK)
        watch_frame(j, frame, flen, synced, sync_payload);
    if (st != MQS_NEED_MORE)
        watch_close(j);
    return 1;
}

/* Round trip through the broker: publish a marker on the run root, wait to get it
 * back, so that what the case caused has reached the watcher. */
static void watch_sync(mqs_lf_job *j)
{
    if (!j->watch)
        return;
    char topic[48], payload[32];
    snprintf(topic, sizeof topic, "mqf/%.8s/sync/%u", j->t->token, j->index);
    snprintf(payload, sizeof payload, "sync-%u-%u", j->index, ++j->sync_no);
    mqs_packet p;
    memset(&p, 0, sizeof p);
    p.type = MQS_PUBLISH;
    p.publish.topic = view_of(topic);
    p.publish.payload = view_of(payload);
    int64_t dl = deadline(j);
    bool synced = false;
    if (send_packet(j->watch, &p, MQS_V311, dl) != MQS_NET_OK) {
        watch_close(j);
        j->need_probe = true;
        return;
    }
    while (!synced && mqs_now_ms() < dl)
        if (watch_pump(j, dl, &synced, view_of(payload)) < 0)
            break;
    if (!synced) {
        log_note(j, -1, "the watcher did not get its sync message back within %lld ms",
                 (long long)j->t->timeout_ms);
        watch_close(j);
        j->need_probe = true;
    }
}

/* ---- case connections ---- */

/* Reads once on ci (waiting until dl) and judges the whole frames.
 * @return 1 data, 0 timeout, -1 the connection is gone. */
static int pump(mqs_lf_job *j, int ci, int64_t dl)
{
    lf_conn *c = &j->conns[ci];
    if (!c->conn || c->peer_closed || c->we_closed)
        return -1;
    uint8_t buf[READ_CHUNK];
    size_t got = 0;
    int rc = mqs_conn_read(c->conn, buf, sizeof buf, &got, dl);
    if (rc == MQS_NET_TIMEOUT)
        return 0;
    if (rc != MQS_NET_OK) {
        lf_log(j, MQS_LF_EV_PEER_CLOSED, ci, j->cur_step, mqs_net_rc_str(rc), strlen(mqs_net_rc_str(rc)), 0);
        lf_on_peer_closed(j, ci);
        return -1;
    }
    if (c->rx_broken)
        return 1;
    if (mqs_framer_push(&c->rx, buf, got) != MQS_OK) {
        log_note(j, ci, "a packet from the broker is larger than %u bytes: not judged", LF_RX_CAP);
        c->rx_broken = true;
        return 1;
    }
    const uint8_t *frame = NULL;
    size_t flen = 0;
    mqs_diag d = {0, 0, NULL};
    int st;
    while ((st = mqs_framer_next(&c->rx, &frame, &flen, &d)) == MQS_OK) {
        const uint8_t *copy = lf_log(j, MQS_LF_EV_RECV, ci, j->cur_step, frame, flen, 0);
        j->recv_event = copy ? (long)j->n_events - 1 : -1;
        lf_on_frame(j, ci, copy ? copy : frame, flen);
        j->recv_event = -1;
    }
    if (st != MQS_NEED_MORE && !c->undefined) {
        size_t avail = c->rx.len - c->rx.consumed;
        lf_log(j, MQS_LF_EV_RECV, ci, j->cur_step, c->rx.buf + c->rx.consumed, avail > 5 ? 5 : avail, st);
        j->recv_event = (long)j->n_events - 1;
        const char *rule = mqs_status_rule(st);
        lf_finding(j, MQS_LF_OR_MALFORMED, rule ? rule : "MQTT-4.8.0-1", (uint8_t)(avail ? c->rx.buf[c->rx.consumed] >> 4 : 0),
                   ci, j->cur_step, "the broker sent an unframeable packet: %s", mqs_status_str(st));
        j->recv_event = -1;
        c->rx_broken = true;
    }
    return 1;
}

static void drain_all(mqs_lf_job *j)
{
    for (size_t i = 0; i < j->n_conns; i++)
        while (pump(j, (int)i, mqs_now_ms()) == 1) {
        }
    bool synced = false;
    mqs_str none = {NULL, 0};
    while (j->watch && watch_pump(j, mqs_now_ms(), &synced, none) == 1) {
    }
}

/* The model's side of a new connection of slot (conn_open; lf_offline_conn in tests).
 * @return its index (not counted in j->n_conns yet), -1 when there are too many. */
static int conn_init(mqs_lf_job *j, unsigned slot)
{
    if (j->n_conns == MQS_LF_MAX_CONNS)
        return -1;
    int ci = (int)j->n_conns;
    lf_conn *c = &j->conns[ci];
    memset(c, 0, sizeof *c);
    c->slot = (uint8_t)slot;
    c->identity = j->c->slots[slot].identity;
    c->connack = -1;
    c->version = MQS_V311;
    c->dead_from = SIZE_MAX;
    c->tx = j->tx_pool + (size_t)ci * LF_TX_CAP;
    c->rxbuf = j->rx_pool + (size_t)ci * LF_RX_CAP;
    mqs_framer_init(&c->rx, c->rxbuf, LF_RX_CAP, 0);
    mqs_lf_view_init(&c->view);
    return ci;
}

/* Counts connection ci in and logs its opening. */
static void conn_opened(mqs_lf_job *j, int ci)
{
    const lf_conn *c = &j->conns[ci];
    unsigned slot = c->slot;
    j->n_conns++;
    mqs_lf_conn_info *info = &j->res->conns[ci];
    info->slot = (uint8_t)slot;
    info->identity = c->identity;
    info->version = j->c->version;
    info->connack = -1;
    info->viol_event = -1;
    j->res->n_conns = j->n_conns;
    j->slot_conn[slot] = ci;
    lf_log(j, MQS_LF_EV_OPEN, ci, j->cur_step, NULL, 0, 0);
}

static int conn_open(mqs_lf_job *j, unsigned slot)
{
    int ci = conn_init(j, slot);
    if (ci < 0)
        return -1;
    lf_conn *c = &j->conns[ci];
    char err[256];
    if (mqs_conn_open(j->t->ep, deadline(j), NULL, NULL, &c->conn, err, sizeof err) != MQS_NET_OK) {
        log_note(j, ci, "client %c cannot connect: %s", 'a' + slot, err);
        j->need_probe = true;
        return -1;
    }
    mqs_conn_set_quickack(c->conn, true);
    conn_opened(j, ci);
    return ci;
}

static void conn_close(mqs_lf_job *j, int ci, bool abrupt)
{
    lf_conn *c = &j->conns[ci];
    if (!c->conn)
        return;
    if (c->disconnect_sent && !c->peer_closed && !c->we_closed) {
        /* After DISCONNECT the broker should close: wait for it, so that our close
         * cannot reset the connection before the broker read the DISCONNECT. */
        int64_t dl = mqs_now_ms() + (j->t->timeout_ms < 1000 ? j->t->timeout_ms : 1000);
        while (pump(j, ci, dl) == 1) {
        }
        abrupt = false;
    }
    if (c->must_close && c->late && !c->peer_closed && !c->we_closed) {
        /* It answered something after the violation: a close may be on its way. */
        while (mqs_now_ms() < c->late_ms + LF_LATE_CLOSE_MS && pump(j, ci, c->late_ms + LF_LATE_CLOSE_MS) >= 0) {
        }
    }
    if (!c->peer_closed && !c->we_closed) {
        lf_on_we_close(j, ci);
        lf_log(j, MQS_LF_EV_CLOSED, ci, j->cur_step, abrupt ? "RST" : "FIN", 3, 0);
    }
    mqs_conn_close(c->conn, abrupt);
    c->conn = NULL;
}

/* True when writing bytes on ci keeps every frame a broker may act on inside the
 * case's names (the generator checked the case as generated; dropped steps in a
 * minimised case can join bytes differently). */
static bool safe_to_write(mqs_lf_job *j, int ci, const uint8_t *bytes, size_t len)
{
    lf_conn *c = &j->conns[ci];
    if (len > LF_TX_CAP - c->tx_len)
        return true; /* not judged beyond the buffer; these bytes are never acted on as new frames */
    memcpy(c->tx + c->tx_len, bytes, len);
    mqs_lf_view v = c->view;
    mqs_lf_frame *f = &j->scratch;
    while (mqs_lf_view_next(&v, c->tx, c->tx_len + len, f) == 1)
        if (mqs_lf_class_processed(f->cls) && !mqs_lf_frame_safe(j->c, f->bytes, f->len))
            return false;
    return true;
}

/* Writes bytes in chunks; each chunk is fed to the model once written. */
static void write_bytes(mqs_lf_job *j, int ci, int step, const uint8_t *b, size_t len,
                        const uint16_t *split, unsigned n_split)
{
    lf_conn *c = &j->conns[ci];
    size_t off = 0;
    for (unsigned k = 0; off < len; k++) {
        size_t n = k < n_split && split[k] < len - off ? split[k] : len - off;
        if (k < n_split && split[k] == 0)
            n = len - off;
        int rc = mqs_conn_write(c->conn, b + off, n, deadline(j));
        if (rc != MQS_NET_OK) {
            /* The broker closed: what it sent before is still to be read and judged;
             * the next read reports the close. */
            log_note(j, ci, "write failed: %s", mqs_conn_error(c->conn));
            c->write_failed = true;
            return;
        }
        lf_log(j, MQS_LF_EV_SENT, ci, step, b + off, n, 0);
        lf_on_sent(j, ci, b + off, n);
        off += n;
    }
}

void lf_send_auto(mqs_lf_job *j, int ci, uint8_t type, uint16_t id)
{
    lf_conn *c = &j->conns[ci];
    if (!c->conn || c->peer_closed || c->we_closed || c->write_failed)
        return;
    mqs_packet p;
    memset(&p, 0, sizeof p);
    p.type = type;
    p.packet_id = id;
    uint8_t buf[8];
    size_t n = 0;
    if (mqs_encode_unchecked(&p, c->version, NULL, buf, sizeof buf, &n) != MQS_OK)
        return;
    if (!safe_to_write(j, ci, buf, n))
        return;
    write_bytes(j, ci, -1, buf, n, NULL, 0);
}

/* ---- steps ---- */

/* Waits until ci owes nothing required (or, after a violation, until it is closed). */
static void sync_conn(mqs_lf_job *j, int ci)
{
    lf_conn *c = &j->conns[ci];
    if (!c->conn || c->peer_closed || c->we_closed || c->abandoned || c->undefined)
        return;
    int64_t start = mqs_now_ms(), dl = start + j->t->timeout_ms;
    if (c->must_close) /* a close comes at once or not at all: a third of the answer time */
        dl = start + (j->t->timeout_ms / 3 > 300 ? j->t->timeout_ms / 3 : 300);
    const lf_due *due = NULL;
    if (c->must_close && !c->close_probed && !c->write_failed) {
        /* A PINGREQ after the violation: a broker that answers it has not closed (no
         * need to wait out the deadline); one that closed never reads it. */
        static const uint8_t pingreq[] = {0xc0, 0x00};
        c->close_probed = true;
        write_bytes(j, ci, -1, pingreq, sizeof pingreq, NULL, 0);
    }
    bool late = false; /* the deadline is now LF_LATE_CLOSE_MS after an answer to the PINGREQ */
    for (;;) {
        if (!c->must_close && !lf_required_due(c, &due))
            break;
        int r = pump(j, ci, dl);
        if (r < 0)
            break;
        if (r == 1 && c->alive_after_violation && !late) {
            late = true;
            int64_t soon = mqs_now_ms() + LF_LATE_CLOSE_MS;
            dl = soon < dl ? soon : dl;
        }
        if (r == 1)
            continue;
        long long waited = (long long)(mqs_now_ms() - start);
        if (c->must_close && !c->alive_after_violation && c->tx_len < c->viol_whole) {
            /* A reserved type whose frame is not all here: the broker may be reading it. */
            log_note(j, ci, "the broker waits for the rest of a reserved-type frame: not judged");
        } else if (c->must_close) {
            lf_late_reply(j, ci);
            lf_finding(j, MQS_LF_OR_NO_CLOSE, c->viol_rule, c->viol_type, ci, c->viol_step,
                       "the connection of client %c stayed open %s after a %s that breaks %s (%s)",
                       'a' + c->slot, c->alive_after_violation ? "(it answered a PINGREQ sent)" : "until the deadline",
                       mqs_type_name(c->viol_type), c->viol_rule,
                       c->viol_status ? mqs_status_str(c->viol_status) : "protocol violation");
            (void)waited;
        } else if (lf_required_due(c, &due)) {
            mqs_lf_finding *f = j->res->findings + j->res->n_findings;
            size_t before = j->res->n_findings;
            lf_finding(j, MQS_LF_OR_HANG, lf_due_rule(due->type), due->type, ci, due->step,
                       "no %s (packet id %u) from the broker within %lld ms on client %c",
                       mqs_type_name(due->type), due->id, waited, 'a' + c->slot);
            if (j->res->n_findings > before) {
                f->want_type = due->type;
                f->want_id = due->id;
            }
        }
        j->need_probe = true;
        c->abandoned = true;
        break;
    }
    lf_log(j, MQS_LF_EV_SYNC, ci, j->cur_step, NULL, 0, 0);
}

/* The bytes of step i, joined with the following steps it is coalesced with.
 * @return the index of the last step used. */
static size_t gather(const mqs_lf_case *c, const bool *skip, size_t i, uint8_t *buf, size_t cap,
                     size_t *len)
{
    *len = 0;
    for (;;) {
        const mqs_lf_step *s = &c->steps[i];
        if (s->len <= cap - *len) {
            memcpy(buf + *len, s->bytes, s->len);
            *len += s->len;
        }
        size_t next = i + 1;
        while (next < c->n_steps && skip && skip[next])
            next++;
        if (!s->coalesce || s->n_split || next >= c->n_steps || c->steps[next].kind != MQS_LF_SEND ||
            c->steps[next].slot != s->slot || c->steps[next].n_split)
            return i;
        i = next;
    }
}

static size_t play_send(mqs_lf_job *j, const bool *skip, size_t i)
{
    const mqs_lf_step *s = &j->c->steps[i];
    uint8_t *buf = j->gather_buf;
    size_t len = 0, last = gather(j->c, skip, i, buf, LF_GATHER_CAP, &len);
    int ci = j->slot_conn[s->slot];
    if (ci < 0)
        ci = conn_open(j, s->slot);
    if (ci < 0)
        return last;
    lf_conn *c = &j->conns[ci];
    if (!c->conn || c->peer_closed || c->abandoned || c->write_failed) {
        lf_log(j, MQS_LF_EV_SKIPPED, ci, (int)i, "connection closed", 17, 0);
        return last;
    }
    if (!safe_to_write(j, ci, buf, len)) {
        lf_log(j, MQS_LF_EV_SKIPPED, ci, (int)i, "unsafe", 6, 0);
        return last;
    }
    write_bytes(j, ci, (int)i, buf, len, s->split, s->n_split);
    return last;
}

static void play_close(mqs_lf_job *j, const mqs_lf_step *s)
{
    int ci = j->slot_conn[s->slot];
    if (ci < 0)
        return;
    lf_conn *c = &j->conns[ci];
    drain_all(j);
    conn_close(j, ci, s->abrupt && !c->disconnect_sent);
    j->slot_conn[s->slot] = -1;
}

/* Two accepted connections of one client id cannot both stay open [MQTT-3.1.4-2]. */
static void check_takeover(mqs_lf_job *j)
{
    for (unsigned id = 0; id < j->c->n_identities; id++) {
        int64_t dl = deadline(j);
        for (;;) {
            int open[MQS_LF_MAX_CONNS], n = 0;
            for (size_t i = 0; i < j->n_conns; i++) {
                const lf_conn *c = &j->conns[i];
                if (c->identity == id && c->connect_sent && c->connack == 0 && c->conn && !c->peer_closed &&
                    !c->we_closed) /* a valid CONNECT with this client id, accepted */
                    open[n++] = (int)i;
            }
            if (n < 2)
                break;
            if (mqs_now_ms() >= dl) {
                lf_finding(j, MQS_LF_OR_TAKEOVER, "MQTT-3.1.4-2", MQS_CONNECT, open[0], -1,
                           "%d connections with the same client id were accepted and stayed open",
                           n);
                break;
            }
            for (int k = 0; k < n; k++)
                (void)pump(j, open[k], mqs_now_ms() + (k == 0 ? 5 : 0));
        }
    }
}

/* ---- cleanup ---- */

static void clear_retained(mqs_lf_job *j)
{
    if (!j->watch)
        return;
    int64_t dl = deadline(j);
    for (size_t i = 0; i < j->n_frames; i++) {
        const lf_frame_rec *r = &j->frames[i];
        if (r->type == MQS_PUBLISH && r->decoded && r->retain && mqs_lf_class_processed(r->cls) &&
            r->payload.len > 0 && publish_empty_retained(j->watch, r->topic, dl) != MQS_NET_OK)
            return;
    }
    for (size_t i = 0; i < j->n_conns; i++) {
        const lf_conn *c = &j->conns[i];
        if (c->will && c->will_retain && publish_empty_retained(j->watch, c->will_topic, dl) != MQS_NET_OK)
            return;
    }
}

static void end_session_of(mqs_lf_job *j, const char *cid)
{
    uint8_t store[4096];
    char err[256];
    mqs_framer fr;
    mqs_framer_init(&fr, store, sizeof store, MQS_LENIENT_NON_MINIMAL_RL);
    mqs_conn *c = client_open(j->t, cid, true, &fr, err, sizeof err);
    if (!c)
        return;
    (void)send_simple(c, MQS_DISCONNECT, deadline(j));
    mqs_conn_close(c, false);
}

/* Sessions left by clean_session=0: a clean session with the same id ends them
 * (the case's ids, and mutated ids a broker may have accepted). */
static void clear_sessions(mqs_lf_job *j)
{
    for (unsigned id = 0; id < j->c->n_identities; id++)
        if (j->ident[id].clean0_used)
            end_session_of(j, j->c->cid[id]);
    for (size_t i = 0; i < j->n_conns; i++) {
        const lf_conn *c = &j->conns[i];
        char cid[128];
        if (c->identity < MQS_LF_MAX_SLOTS || !j->ident[c->identity].clean0_used || c->connack != 0 ||
            c->client_id.len == 0 || c->client_id.len >= sizeof cid || memchr(c->client_id.ptr, 0, c->client_id.len))
            continue;
        memcpy(cid, c->client_id.ptr, c->client_id.len);
        cid[c->client_id.len] = '\0';
        end_session_of(j, cid);
    }
}

static void probe(mqs_lf_job *j)
{
    char cid[24], err[256];
    job_name(j, 'p', ++j->probe_no, cid);
    j->res->probed = true;
    if (j->t->pid > 0 && kill(j->t->pid, 0) != 0 && errno == ESRCH) {
        lf_finding(j, MQS_LF_OR_CRASH, "MQTT-4.8.0-1", 0, -1, -1,
                   "the broker process %d is gone", j->t->pid);
        return;
    }
    if (mqs_lf_probe(j->t, cid, err, sizeof err) == 0)
        return;
    lf_finding(j, MQS_LF_OR_CRASH, "MQTT-4.8.0-1", 0, -1, -1,
               "the broker stopped answering: a fresh CONNECT/PINGREQ probe failed (%s)", err);
}

/* ---- one case ---- */

static void reset(mqs_lf_job *j, const mqs_lf_case *c, mqs_lf_result *res)
{
    memset(res, 0, sizeof *res);
    j->c = c;
    j->res = res;
    j->t0 = mqs_now_ms();
    j->n_conns = j->n_frames = j->n_subs = j->n_msgs = j->n_dlvs = j->n_seen = 0;
    j->n_events = j->log_len = 0;
    j->next_session = 0;
    j->accept_seq = 0;
    j->need_probe = false;
    j->cur_step = -1;
    j->recv_event = -1;
    j->detail = 0;
    j->want_id = 0;
    j->want_type = 0;
    for (unsigned i = 0; i < MQS_LF_MAX_SLOTS; i++)
        j->slot_conn[i] = -1;
    for (unsigned i = 0; i < LF_MAX_IDENTS; i++) {
        memset(&j->ident[i], 0, sizeof j->ident[i]);
        j->ident[i].session = ++j->next_session;
    }
}

static void finish(mqs_lf_job *j)
{
    bool cut = j->res->interrupted; /* the end-of-case checks need the whole case */
    j->cur_step = -1;
    for (unsigned s = 0; s < j->c->n_slots && !cut; s++)
        if (j->slot_conn[s] >= 0)
            sync_conn(j, j->slot_conn[s]);
    if (!cut)
        check_takeover(j);
    for (size_t i = 0; i < j->n_conns; i++)
        conn_close(j, (int)i, !j->conns[i].disconnect_sent);
    if (!cut) {
        watch_sync(j);
        lf_check_effects(j);
    }
    if (j->need_probe || (j->t->pid > 0 && kill(j->t->pid, 0) != 0))
        probe(j);
    clear_retained(j);
    clear_sessions(j);
}

void lf_offline_watch(mqs_lf_job *j, const uint8_t *frame, size_t len)
{
    bool synced = false;
    mqs_str none = {NULL, 0};
    watch_frame(j, frame, len, &synced, none);
    j->res->n_events = j->n_events;
}

void lf_offline_begin(mqs_lf_job *j, const mqs_lf_case *c, mqs_lf_result *res)
{
    reset(j, c, res);
    res->events = j->events;
    res->log = j->log;
}

int lf_offline_conn(mqs_lf_job *j, unsigned slot)
{
    int ci = conn_init(j, slot);
    if (ci >= 0)
        conn_opened(j, ci);
    j->res->n_events = j->n_events;
    return ci;
}

int mqs_lf_exec(mqs_lf_job *j, const mqs_lf_case *c, const bool *skip, mqs_lf_result *res)
{
    reset(j, c, res);
    if (!j->watch && watch_open(j) != 0) {
        char cid[24], err[256];
        job_name(j, 'p', ++j->probe_no, cid);
        res->unreachable = mqs_lf_probe(j->t, cid, err, sizeof err) != 0;
        if (res->unreachable) {
            log_note(j, -1, "the broker cannot be reached: %s", err);
            res->events = j->events;
            res->n_events = j->n_events;
            res->log = j->log;
            return -1;
        }
        log_note(j, -1, "the watcher cannot subscribe; effects are not checked in this case");
    }
    for (size_t i = 0; i < c->n_steps; i++) {
        if (skip && skip[i])
            continue;
        if (j->cancelled && j->cancelled(j->cancel_ud)) {
            log_note(j, -1, "interrupted: steps %zu to %zu not played, end-of-case checks skipped", i,
                     c->n_steps - 1);
            res->interrupted = true;
            break;
        }
        const mqs_lf_step *s = &c->steps[i];
        j->cur_step = (int16_t)i;
        if (s->kind == MQS_LF_SEND) {
            i = play_send(j, skip, i);
        } else if (s->kind == MQS_LF_SYNC) {
            if (j->slot_conn[s->slot] >= 0)
                sync_conn(j, j->slot_conn[s->slot]);
        } else {
            play_close(j, s);
        }
        drain_all(j);
    }
    finish(j);
    res->events = j->events;
    res->n_events = j->n_events;
    res->log = j->log;
    res->ms = mqs_now_ms() - j->t0;
    j->c = NULL;
    return 0;
}
