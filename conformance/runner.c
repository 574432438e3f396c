/* The parallel runner: a pool of threads pulls cases from a shared index. */
#include "conformance/runner.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "conformance/alloc.h"
#include "conformance/expand.h"
#include "conformance/interp.h"

#define MQS_JOBS_MAX 256u

typedef struct job {
    const mqs_scenario *sc;
    unsigned proto;
    size_t ep;
} job;

typedef struct pool {
    const mqs_run_opts *o;
    job *jobs;
    size_t n;
    mqs_report *rep;
    atomic_size_t next;
    size_t done;
    pthread_mutex_t lock;
    char token[9];
    const char **skip31; /* per endpoint: why 3.1 cases are skipped, or NULL */
    bool *started;       /* per case: a worker took it (all of them unless cancelled) */
    const char **noqos2; /* per endpoint: why "qos2" cases are skipped, or NULL */
    atomic_bool oom;
} pool;

static bool selected(const mqs_scenario *sc, const mqs_run_opts *o)
{
    for (size_t i = 0; i < o->n_excludes; i++)
        if (mqs_scenario_matches(sc, o->excludes[i]))
            return false;
    if (!o->n_filters)
        return true;
    for (size_t i = 0; i < o->n_filters; i++)
        if (mqs_scenario_matches(sc, o->filters[i]))
            return true;
    return false;
}

/* Visits every selected case in report order; out may be NULL to count. */
static size_t plan(const mqs_scenario_set *set, const mqs_run_opts *o, job *out)
{
    static const unsigned protos[] = {MQS_PROTO_311, MQS_PROTO_31};
    size_t n = 0;
    for (size_t i = 0; i < set->n; i++) {
        const mqs_scenario *sc = set->items[i];
        if (!selected(sc, o))
            continue;
        for (size_t p = 0; p < 2; p++) {
            if (!(sc->protocols & o->protocols & protos[p]))
                continue;
            for (size_t e = 0; e < o->n_endpoints; e++, n++)
                if (out)
                    out[n] = (job){sc, protos[p], e};
        }
    }
    return n;
}

size_t mqs_run_count(const mqs_scenario_set *set, const mqs_run_opts *o)
{
    return plan(set, o, NULL);
}

static void run_one(pool *pl, size_t i)
{
    const job *j = &pl->jobs[i];
    const mqs_run_opts *o = pl->o;
    mqs_case_opts co = {
        .ep = &o->endpoints[j->ep],
        .proto = j->proto,
        .timeout_factor = o->timeout_factor,
        .username = o->username,
        .password = o->password,
        .no_anonymous = o->no_anonymous,
        .token = pl->token,
        .case_index = i,
        .cancelled = o->cancelled,
        .cancel_ud = o->cancel_ud,
    };
    co.skip_reason = mqs_case_requirement_missing(j->sc, &co, o->client_cert);
    if (!co.skip_reason && j->proto == MQS_PROTO_31)
        co.skip_reason = pl->skip31[j->ep];
    if (!co.skip_reason && (j->sc->requires & MQS_REQ_QOS2))
        co.skip_reason = pl->noqos2[j->ep];
    mqs_case_result *res = &pl->rep->cases[i];
    if (mqs_case_run(j->sc, &co, res) < 0)
        atomic_store(&pl->oom, true);
    pthread_mutex_lock(&pl->lock);
    pl->done++;
    if ((unsigned)res->verdict < MQS_VERDICT_COUNT)
        pl->rep->counts[res->verdict]++;
    if (o->progress)
        o->progress(o->progress_ud, res, pl->done, pl->n);
    pthread_mutex_unlock(&pl->lock);
}

static bool cancelled(const mqs_run_opts *o)
{
    return o->cancelled && o->cancelled(o->cancel_ud);
}

/* Runs the cases that may share the broker with others ("alone" ones wait, see run_pool). */
static void *worker(void *arg)
{
    pool *pl = arg;
    for (;;) {
        size_t i = atomic_fetch_add(&pl->next, 1);
        if (i >= pl->n || cancelled(pl->o))
            break;
        if (pl->jobs[i].sc->alone)
            continue;
        pl->started[i] = true;
        run_one(pl, i);
    }
    return NULL;
}

/* After a cancelled run: keeps only the cases that started, in report order. */
static void keep_started(pool *pl)
{
    mqs_report *rep = pl->rep;
    size_t kept = 0;
    for (size_t i = 0; i < rep->n_cases; i++) {
        if (!pl->started[i])
            continue;
        if (kept != i) {
            rep->cases[kept] = rep->cases[i];
            memset(&rep->cases[i], 0, sizeof rep->cases[i]);
        }
        kept++;
    }
    rep->interrupted = kept < rep->n_cases || cancelled(pl->o);
    rep->n_cases = kept;
}

static char *endpoint_text(const mqs_endpoint *ep)
{
    bool ws = ep->transport == MQS_TR_WS || ep->transport == MQS_TR_WSS;
    bool v6 = strchr(ep->host, ':') != NULL;
    return mqs_asprintf("%s://%s%s%s:%u%s", mqs_transport_name(ep->transport), v6 ? "[" : "",
                        ep->host, v6 ? "]" : "", ep->port,
                        ws ? (ep->ws_path ? ep->ws_path : "/mqtt") : "");
}

/* Appends "connection=DESCRIPTION" to the report's options: how the endpoint was
 * reached (transport, TLS version, cipher, verification, client certificate). */
static int add_connection(mqs_report *rep, const char *describe)
{
    char **grown = mqs_realloc(rep->options, (rep->n_options + 1) * sizeof *grown);
    if (!grown)
        return MQS_RUN_NOMEM;
    rep->options = grown;
    rep->options[rep->n_options] = mqs_asprintf("connection=%s", describe);
    return rep->options[rep->n_options++] ? MQS_RUN_OK : MQS_RUN_NOMEM;
}

/* Probes every endpoint: reachable (else error), broker version, QoS 2 subscriptions
 * granted, MQTT 3.1 accepted; records how each was reached in the report's options. */
static int probe_all(pool *pl, mqs_report *rep, char *err, size_t errlen)
{
    const mqs_run_opts *o = pl->o;
    char cid[24];
    mqs_make_client_id(pl->token, 1679615, 1294, cid); /* "zzzz" "zy": never a case's */
    for (size_t e = 0; e < o->n_endpoints; e++) {
        mqs_probe pr;
        mqs_probe_run(&o->endpoints[e], MQS_PROTO_311, o->username, o->password, o->timeout_factor,
                      cid, e == 0, &pr);
        if (pr.connack == -2) {
            char *t = endpoint_text(&o->endpoints[e]);
            snprintf(err, errlen, "cannot reach %s: %s", t ? t : "the broker", pr.err);
            mqs_free(t);
            return MQS_RUN_UNREACHABLE;
        }
        if (e == 0 && pr.broker[0] && !(rep->broker = mqs_strdup(pr.broker)))
            return MQS_RUN_NOMEM;
        if (pr.conn[0] && add_connection(rep, pr.conn) != MQS_RUN_OK)
            return MQS_RUN_NOMEM;
        if (pr.qos2_granted == 0 || pr.qos2_granted == 1) /* allowed (MQTT-3.8.4-5) */
            pl->noqos2[e] = pr.qos2_granted ? "the broker grants QoS 1 to a QoS 2 subscription"
                                            : "the broker grants QoS 0 to a QoS 2 subscription";
        if (pr.connack != 0 && o->notice) {
            char text[400];
            snprintf(text, sizeof text, "a plain MQTT 3.1.1 CONNECT%s got: %s%s",
                     o->username ? " with the given credentials" : "", pr.err,
                     pr.connack == 4 || pr.connack == 5
                         ? (o->username ? " (check --username/--password)"
                                        : " (the broker may need --username/--password)")
                         : "");
            o->notice(o->progress_ud, text);
        }
        if (!(o->protocols & MQS_PROTO_31))
            continue;
        mqs_probe_run(&o->endpoints[e], MQS_PROTO_31, o->username, o->password, o->timeout_factor,
                      cid, false, &pr);
        if (pr.connack == 1)
            pl->skip31[e] = "the broker refuses MQTT 3.1 (CONNACK 1 to an MQIsdp/3 CONNECT)";
        else if (pr.connack < 0)
            pl->skip31[e] = "the broker does not answer an MQTT 3.1 (MQIsdp/3) CONNECT";
    }
    return MQS_RUN_OK;
}

static int fill_header(const mqs_run_opts *o, mqs_report *rep)
{
    static const unsigned protos[] = {MQS_PROTO_311, MQS_PROTO_31};
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    rep->tool_version = mqs_strdup(o->tool_version ? o->tool_version : "");
    rep->started_at = mqs_strdup(when);
    rep->protocols = mqs_calloc(2, sizeof(char *));
    rep->transports = mqs_calloc(o->n_endpoints ? o->n_endpoints : 1, sizeof(char *));
    if (!rep->tool_version || !rep->started_at || !rep->protocols || !rep->transports)
        return MQS_RUN_NOMEM;
    for (size_t p = 0; p < 2; p++)
        if (o->protocols & protos[p] &&
            !(rep->protocols[rep->n_protocols++] = mqs_strdup(mqs_protocol_name(protos[p]))))
            return MQS_RUN_NOMEM;
    mqs_buf target = {0};
    for (size_t e = 0; e < o->n_endpoints; e++) {
        char *t = endpoint_text(&o->endpoints[e]);
        if (!t || mqs_buf_printf(&target, "%s%s", e ? " " : "", t) < 0 ||
            !(rep->transports[rep->n_transports++] =
                  mqs_strdup(mqs_transport_name(o->endpoints[e].transport)))) {
            mqs_free(t);
            mqs_buf_free(&target);
            return MQS_RUN_NOMEM;
        }
        mqs_free(t);
    }
    mqs_buf_terminate(&target);
    rep->target = (char *)target.p;
    return rep->target ? MQS_RUN_OK : MQS_RUN_NOMEM;
}

static int run_pool(pool *pl)
{
    unsigned jobs = pl->o->jobs ? pl->o->jobs : 1;
    if (jobs > MQS_JOBS_MAX)
        jobs = MQS_JOBS_MAX;
    if (jobs > pl->n)
        jobs = pl->n ? (unsigned)pl->n : 1;
    pthread_t *t = mqs_calloc(jobs, sizeof *t);
    if (!t)
        return MQS_RUN_NOMEM;
    size_t started = 0;
    for (; started < jobs; started++)
        if (pthread_create(&t[started], NULL, worker, pl) != 0)
            break;
    if (started == 0)
        worker(pl); /* no thread could start: run them here */
    for (size_t i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    mqs_free(t);
    /* Scenarios marked "alone" see traffic of the whole broker (a '#' subscriber): they run
       last, one at a time, so that no other case's packets reach them. */
    for (size_t i = 0; i < pl->n && !cancelled(pl->o); i++)
        if (pl->jobs[i].sc->alone) {
            pl->started[i] = true;
            run_one(pl, i);
        }
    return MQS_RUN_OK;
}

int mqs_run(const mqs_scenario_set *set, const mqs_run_opts *o, mqs_report *rep, char *err,
            size_t errlen)
{
    int64_t t0 = mqs_now_ms();
    pool pl;
    memset(&pl, 0, sizeof pl);
    pl.o = o;
    pl.rep = rep;
    mqs_make_token(pl.token);
    int rc = fill_header(o, rep);
    if (rc != MQS_RUN_OK)
        return rc;
    pl.n = plan(set, o, NULL);
    pl.jobs = mqs_calloc(pl.n ? pl.n : 1, sizeof *pl.jobs);
    rep->cases = mqs_calloc(pl.n ? pl.n : 1, sizeof *rep->cases);
    pl.skip31 = mqs_calloc(o->n_endpoints ? o->n_endpoints : 1, sizeof *pl.skip31);
    pl.started = mqs_calloc(pl.n ? pl.n : 1, sizeof *pl.started);
    pl.noqos2 = mqs_calloc(o->n_endpoints ? o->n_endpoints : 1, sizeof *pl.noqos2);
    if (!pl.jobs || !rep->cases || !pl.skip31 || !pl.started || !pl.noqos2) {
        rc = MQS_RUN_NOMEM;
    } else {
        plan(set, o, pl.jobs);
        rep->n_cases = pl.n;
        rc = probe_all(&pl, rep, err, errlen);
    }
    if (rc == MQS_RUN_OK) {
        atomic_init(&pl.next, 0);
        atomic_init(&pl.oom, false);
        pthread_mutex_init(&pl.lock, NULL);
        rc = run_pool(&pl);
        pthread_mutex_destroy(&pl.lock);
        if (rc == MQS_RUN_OK && atomic_load(&pl.oom))
            rc = MQS_RUN_NOMEM;
        if (rc == MQS_RUN_OK && o->cancelled)
            keep_started(&pl);
    }
    rep->duration_ms = (double)(mqs_now_ms() - t0);
    mqs_free(pl.started);
    mqs_free(pl.jobs);
    mqs_free((void *)pl.skip31);
    mqs_free((void *)pl.noqos2);
    if (rc == MQS_RUN_NOMEM)
        snprintf(err, errlen, "out of memory");
    return rc;
}
