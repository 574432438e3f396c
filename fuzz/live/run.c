/* mqttspec live fuzzer: jobs, folding, confirmation, minimisation, reports
 * (livefuzz.h).
 *
 * Pausing: a job holds a "shared" pass while it plays a case; confirming and
 * minimising a finding takes the "exclusive" pass, so the case runs alone and a
 * hang or a dropped connection cannot come from another job's traffic.
 */
#include <errno.h>
#include <fnmatch.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuzz/live/exec.h"
#include "fuzz/live/livefuzz.h"
#include "fuzz/live/minimise.h"
#include "fuzz/live/report.h"

#define MAX_SIGS 256
#define CONFIRM_TRIES 3
#define MAX_ATTEMPTS 4 /* investigations of one signature that did not confirm it */

extern char **environ;

static volatile sig_atomic_t g_stop;

void mqs_lf_stop(void)
{
    g_stop = 1;
}

typedef struct sig_entry {
    mqs_lf_finding first; /* the finding as first seen */
    uint64_t count;
    bool saved, unconfirmed;
    bool busy;             /* a job is investigating it */
    unsigned attempts;     /* investigations so far */
    int replayed;          /* 1 the scenario fails with the runner, 0 it passes, -1 unknown,
                              -2 not tried, -3 not tried: the broker is down */
    char replay_why[300];
    char stem[128];
} sig_entry;

typedef struct run {
    const mqs_lf_opts *o;
    mqs_lf_target t;
    pthread_mutex_t mu;    /* signatures, counters, pass state, output */
    pthread_cond_t cv;
    unsigned active;       /* jobs playing a case */
    bool exclusive;        /* a job wants (or has) the broker alone */
    unsigned gen;          /* broker generation: +1 per restart (under mu) */
    atomic_uint_fast64_t next_case, next_name, done, packets, findings, ignored;
    atomic_uint_fast64_t cut; /* cases cut short by mqs_lf_stop */
    atomic_bool stop;
    atomic_uint running;   /* job threads not finished */
    int64_t t_start, t_end;
    sig_entry sigs[MAX_SIGS];
    size_t n_sigs;
    unsigned unique, unconfirmed;
    unsigned restarts;     /* --restart runs (exclusive pass) */
    bool crashed;
    atomic_bool down;           /* crashed and not restarted: the broker is gone */
    atomic_bool restart_failed; /* --restart did not bring it back */
} run;

typedef struct job_ctx {
    run *r;
    unsigned index;
    pthread_t thread;
    mqs_lf_job *job;
    mqs_lf_case *c;
    mqs_lf_result res;
    bool skip[MQS_LF_MAX_STEPS];
    bool cancellable;      /* plays of new cases stop early on mqs_lf_stop (not investigations) */
} job_ctx;

/* ---- passes ---- */

/* @return the broker generation the case runs against. */
static unsigned shared_enter(run *r)
{
    pthread_mutex_lock(&r->mu);
    while (r->exclusive)
        pthread_cond_wait(&r->cv, &r->mu);
    r->active++;
    unsigned gen = r->gen;
    pthread_mutex_unlock(&r->mu);
    return gen;
}

static void shared_leave(run *r)
{
    pthread_mutex_lock(&r->mu);
    r->active--;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static void exclusive_enter(run *r)
{
    pthread_mutex_lock(&r->mu);
    while (r->exclusive)
        pthread_cond_wait(&r->cv, &r->mu);
    r->exclusive = true;
    while (r->active > 0)
        pthread_cond_wait(&r->cv, &r->mu);
    pthread_mutex_unlock(&r->mu);
}

static void exclusive_leave(run *r)
{
    pthread_mutex_lock(&r->mu);
    r->exclusive = false;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

/* The run ends: Ctrl-C (mqs_lf_stop), a crash that cannot be restarted, a failed start. */
static bool halted(run *r)
{
    return g_stop || atomic_load(&r->stop);
}

static bool should_stop(run *r)
{
    if (halted(r))
        return true;
    return r->t_end > 0 && mqs_now_ms() >= r->t_end;
}

/* mqs_lf_job_set_cancel: a new case stops at its next step once the run is asked to stop. */
static bool job_cancelled(void *ud)
{
    const job_ctx *jc = ud;
    return jc->cancellable && g_stop;
}

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000L * 1000L};
    nanosleep(&ts, NULL); /* not the hot path: a restart */
}

/* ---- broker restarts ---- */

/* Runs the --restart command with /bin/sh in a process group of its own (a Ctrl-C on
 * the terminal does not reach it; its output goes to stderr, the summary stays clean)
 * and waits for it until end. A command still running at end, or when the run is
 * interrupted, gets SIGTERM, then SIGKILL, as a group. @return 0 when it exited with
 * status 0, else -1 (why says what happened). */
static int run_restart_command(const char *cmd, int64_t end, char *why, size_t cap)
{
    posix_spawnattr_t attr;
    posix_spawn_file_actions_t fa;
    sigset_t none;
    sigemptyset(&none);
    char sh[] = "sh", dash_c[] = "-c";
    char *argv[] = {sh, dash_c, (char *)cmd, NULL};
    pid_t pid = -1;
    int err = posix_spawnattr_init(&attr);
    if (!err) {
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
        posix_spawnattr_setpgroup(&attr, 0);
        posix_spawnattr_setsigmask(&attr, &none);
        err = posix_spawn_file_actions_init(&fa);
        if (!err) {
            posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO);
            err = posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, environ);
            posix_spawn_file_actions_destroy(&fa);
        }
        posix_spawnattr_destroy(&attr);
    }
    if (err) {
        snprintf(why, cap, "cannot run /bin/sh: %s", strerror(err));
        return -1;
    }
    int status = 0, sig = 0;
    int64_t kill_at = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid || (w < 0 && errno != EINTR))
            break;
        int64_t now = mqs_now_ms();
        if (!sig && (now >= end || g_stop)) {
            sig = SIGTERM;
            kill_at = now + 2000;
            (void)kill(-pid, SIGTERM);
        } else if (sig == SIGTERM && now >= kill_at) {
            sig = SIGKILL;
            (void)kill(-pid, SIGKILL);
        }
        pause_ms(20);
    }
    if (sig) {
        snprintf(why, cap, "%s", g_stop ? "interrupted while the restart command ran"
                                        : "the restart command did not finish in time (killed)");
        return -1;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFEXITED(status))
        snprintf(why, cap, "the restart command exited with status %d", WEXITSTATUS(status));
    else
        snprintf(why, cap, "the restart command was killed by signal %d",
                 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    return -1;
}

/* Probes the broker until it answers or end (or the run is interrupted). */
static bool wait_alive(run *r, int64_t end)
{
    char cid[24], err[256];
    snprintf(cid, sizeof cid, "mqf%.8srestart", r->t.token);
    while (mqs_now_ms() < end && !g_stop) {
        if (mqs_lf_probe(&r->t, cid, err, sizeof err) == 0)
            return true;
        pause_ms(100);
    }
    return false;
}

/* Runs --restart and waits until the broker answers a probe again, within
 * --restart-wait. The caller has the broker to itself (exclusive pass, or no job is
 * playing). A failure stops the run (r->restart_failed, a line on stderr); so does an
 * interruption. @return true when the broker answers again. */
static bool restart_broker(run *r)
{
    if (!r->o->restart || atomic_load(&r->restart_failed) || g_stop) {
        atomic_store(&r->down, true);
        return false;
    }
    pthread_mutex_lock(&r->mu);
    unsigned n = ++r->restarts;
    pthread_mutex_unlock(&r->mu);
    fprintf(stderr, "\rmqttspec fuzz: the broker crashed; restart %u: %s\n", n, r->o->restart);
    int64_t start = mqs_now_ms(), end = start + r->o->restart_wait_ms;
    char why[200] = "";
    bool ok = run_restart_command(r->o->restart, end, why, sizeof why) == 0;
    if (ok && !wait_alive(r, end)) {
        ok = false;
        if (!g_stop)
            snprintf(why, sizeof why, "the broker did not answer a CONNECT/PINGREQ probe within %lld s",
                     (long long)(r->o->restart_wait_ms / 1000));
    }
    r->t.pid = 0; /* a new process (or none): --pid no longer names it */
    atomic_store(&r->down, !ok);
    atomic_store(&r->restart_failed, !ok && !g_stop);
    if (ok) {
        pthread_mutex_lock(&r->mu);
        r->gen++;
        pthread_mutex_unlock(&r->mu);
    }
    if (ok)
        fprintf(stderr, "mqttspec fuzz: the broker answers again after %.1f s; fuzzing goes on\n",
                (double)(mqs_now_ms() - start) / 1000.0);
    else if (!g_stop)
        fprintf(stderr, "mqttspec fuzz: cannot restart the broker: %s; stopping\n", why);
    if (!ok)
        atomic_store(&r->stop, true);
    return ok;
}

/* After a case in which the broker crashed: restarts it, unless another job did since
 * that case started (generation gen). @return true when the broker is back. */
static bool recover(run *r, unsigned gen)
{
    exclusive_enter(r);
    pthread_mutex_lock(&r->mu);
    bool done = r->gen != gen && !atomic_load(&r->down);
    pthread_mutex_unlock(&r->mu);
    bool ok = done || restart_broker(r);
    exclusive_leave(r);
    return ok;
}

/* ---- one case ---- */

static int play(job_ctx *jc, uint64_t number, const bool *skip)
{
    run *r = jc->r;
    jc->cancellable = skip == NULL; /* a new case, not an investigation */
    mqs_lf_names names;
    memcpy(names.token, r->t.token, sizeof names.token);
    names.index = (uint32_t)atomic_fetch_add(&r->next_name, 1);
    if (mqs_lf_generate(jc->c, r->o->seed, number, &names, &r->o->gen) != 0)
        return -2;
    return mqs_lf_exec(jc->job, jc->c, skip, &jc->res);
}

static bool same_sig(const mqs_lf_finding *a, const mqs_lf_finding *b)
{
    return a->oracle == b->oracle && a->ptype == b->ptype && !strcmp(a->rule, b->rule);
}

/* Plays the case with jc->skip; true when the signature fires again. A crash found
 * this way restarts the broker (when it can) so minimising can go on. Exclusive pass. */
static bool fires(job_ctx *jc, uint64_t number, const mqs_lf_finding *want, mqs_lf_finding *got)
{
    if (atomic_load(&jc->r->down))
        return false;
    if (play(jc, number, jc->skip) < 0) { /* down before the case began: not its doing */
        (void)restart_broker(jc->r);
        return false;
    }
    for (size_t i = 0; i < jc->res.n_findings; i++)
        if (same_sig(&jc->res.findings[i], want)) {
            if (got)
                *got = jc->res.findings[i];
            if (want->oracle == MQS_LF_OR_CRASH)
                (void)restart_broker(jc->r);
            return true;
        }
    return false;
}

typedef struct min_ctx {
    job_ctx *jc;
    uint64_t number;
    const mqs_lf_finding *want;
    int64_t end;
} min_ctx;

static bool min_fires(void *ud, const bool *skip)
{
    min_ctx *m = ud;
    if (skip != m->jc->skip)
        memcpy(m->jc->skip, skip, sizeof m->jc->skip);
    return fires(m->jc, m->number, m->want, NULL);
}

static bool min_out_of_time(void *ud)
{
    const min_ctx *m = ud;
    return halted(m->jc->r) || mqs_now_ms() >= m->end;
}

/* Drops steps while the finding still fires, within the time budget (minimise.h). */
static void minimise(job_ctx *jc, uint64_t number, const mqs_lf_finding *want)
{
    min_ctx m = {jc, number, want, mqs_now_ms() + jc->r->o->minimise_ms};
    size_t n = jc->c->n_steps;
    size_t last = want->step >= 0 && (size_t)want->step < n ? (size_t)want->step : n;
    (void)mqs_lf_minimise(jc->skip, n, last, min_fires, &m, min_out_of_time);
}

/* ---- findings ---- */

static int mkdir_p(const char *path)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

static void save(job_ctx *jc, sig_entry *e, const mqs_lf_finding *f)
{
    run *r = jc->r;
    mqs_lf_report_info info = {r->o->username, r->o->password, r->o->target, e->count};
    char path[1400];
    if (mkdir_p(r->o->report_dir) != 0) {
        fprintf(stderr, "mqttspec fuzz: cannot create %s: %s\n", r->o->report_dir, strerror(errno));
        return;
    }
    mqs_lf_finding_stem(f, e->stem, sizeof e->stem);
    snprintf(path, sizeof path, "%s/%s.json", r->o->report_dir, e->stem);
    FILE *out = fopen(path, "w");
    if (!out || mqs_lf_write_scenario(out, jc->c, jc->skip, &jc->res, f, &info) != 0)
        fprintf(stderr, "mqttspec fuzz: cannot write %s\n", path);
    if (out)
        fclose(out);
    if (r->o->replay && atomic_load(&r->down)) {
        e->replayed = -3;
    } else if (r->o->replay) {
        char why[300] = "";
        e->replayed = r->o->replay(r->o->replay_ud, path, why, sizeof why);
        snprintf(e->replay_why, sizeof e->replay_why, "%s", why);
        if (f->oracle == MQS_LF_OR_CRASH && e->replayed != 0)
            (void)restart_broker(r); /* the replay crashed it again (or found it down) */
    }
    snprintf(path, sizeof path, "%s/%s.trace.txt", r->o->report_dir, e->stem);
    out = fopen(path, "w");
    if (!out || mqs_lf_write_trace(out, jc->c, jc->skip, &jc->res, f, &info) != 0)
        fprintf(stderr, "mqttspec fuzz: cannot write %s\n", path);
    if (out)
        fclose(out);
    e->saved = true;
}

static const char *replay_text(const sig_entry *e)
{
    switch (e->replayed) {
    case 1: return " [replay: FAIL, reproduces]";
    case 0: return " [replay: passed, did not reproduce]";
    case -1: return " [replay: could not run]";
    case -3: return " [not replayed: the broker is down]";
    default: return "";
    }
}

/* Keeps the trace of the execution that first showed a signature under
 * unconfirmed/ until it is confirmed (then it is removed). */
static void save_first_trace(job_ctx *jc, const sig_entry *e, char *path, size_t cap)
{
    run *r = jc->r;
    char dir[1100], stem[128];
    mqs_lf_report_info info = {r->o->username, r->o->password, r->o->target, 1};
    mqs_lf_finding_stem(&e->first, stem, sizeof stem);
    snprintf(dir, sizeof dir, "%s/unconfirmed", r->o->report_dir);
    path[0] = '\0';
    if (mkdir_p(dir) != 0)
        return;
    snprintf(path, cap, "%s/%s.trace.txt", dir, stem);
    FILE *out = fopen(path, "w");
    if (out) {
        (void)mqs_lf_write_trace(out, jc->c, NULL, &jc->res, &e->first, &info);
        fclose(out);
    }
}

/* How often a finding is played to confirm it: once after Ctrl-C. */
static int tries(void)
{
    return g_stop ? 1 : CONFIRM_TRIES;
}

/* Plays the minimised case until it shows the finding again, else the whole case, so
 * that the buffers hold an execution to save. @return true when one showed it. */
static bool refire(job_ctx *jc, uint64_t number, mqs_lf_finding *f)
{
    run *r = jc->r;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1)
            memset(jc->skip, 0, sizeof jc->skip);
        for (int t = 0; t < tries() && !atomic_load(&r->down); t++)
            if (fires(jc, number, f, f))
                return true;
    }
    return false;
}

/* A finding saved: its first trace leaves unconfirmed/ (and so does the directory when
 * that was the last one). */
static void drop_first_trace(const run *r, const char *first_trace)
{
    if (!first_trace[0])
        return;
    (void)remove(first_trace);
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/unconfirmed", r->o->report_dir);
    (void)rmdir(dir); /* only when empty */
}

/* Ends an investigation: the signature counts as confirmed or not (yet). */
static void settle(run *r, sig_entry *e, bool confirmed)
{
    pthread_mutex_lock(&r->mu);
    e->busy = false;
    if (confirmed && e->unconfirmed)
        r->unconfirmed--;
    else if (!confirmed && !e->unconfirmed)
        r->unconfirmed++;
    e->unconfirmed = !confirmed;
    pthread_mutex_unlock(&r->mu);
}

/* Prints and counts a saved finding. */
static void announce(run *r, const sig_entry *e, const mqs_lf_finding *f, uint64_t number)
{
    pthread_mutex_lock(&r->mu);
    r->unique++;
    fprintf(r->o->out, "\rfinding: %-9s %-14s %-11s %s\n", mqs_lf_oracle_name(f->oracle), f->rule,
            f->ptype ? mqs_type_name(f->ptype) : "-", f->text);
    fprintf(r->o->out, "         saved %s/%s.json (seed %llu, case %llu)%s\n", r->o->report_dir, e->stem,
            (unsigned long long)r->o->seed, (unsigned long long)number, replay_text(e));
    fflush(r->o->out);
    pthread_mutex_unlock(&r->mu);
}

/* Confirms, minimises and saves a new signature (the broker to ourselves). A crash is
 * saved as it was seen when the broker is down (no --restart, or it failed); after
 * Ctrl-C a finding is confirmed once and saved without minimising. */
static void investigate(job_ctx *jc, uint64_t number, sig_entry *e, const char *first_trace)
{
    run *r = jc->r;
    mqs_lf_finding f = e->first;
    memset(jc->skip, 0, sizeof jc->skip);
    if (f.oracle == MQS_LF_OR_CRASH && atomic_load(&r->down)) {
        save(jc, e, &f); /* the buffers still hold the execution that found it */
        drop_first_trace(r, first_trace);
        settle(r, e, true);
        announce(r, e, &f, number);
        return;
    }
    exclusive_enter(r);
    bool confirmed = false;
    for (int t = 0; t < tries() && !confirmed && !atomic_load(&r->down); t++)
        confirmed = fires(jc, number, &f, &f);
    bool shown = confirmed; /* the buffers hold an execution that shows it */
    if (confirmed && !halted(r)) {
        minimise(jc, number, &f);
        /* A crash whose restart failed while minimising was the last play: it shows it. */
        shown = atomic_load(&r->down) || refire(jc, number, &f);
    }
    if (shown)
        save(jc, e, &f);
    confirmed = shown;
    exclusive_leave(r);
    if (confirmed)
        drop_first_trace(r, first_trace);
    settle(r, e, confirmed);
    if (confirmed)
        announce(r, e, &f, number);
}

/* "oracle:rule:TYPE", the form --ignore matches. */
static void signature(const mqs_lf_finding *f, char *out, size_t cap)
{
    snprintf(out, cap, "%s:%s:%s", mqs_lf_oracle_name(f->oracle), f->rule,
             f->ptype ? mqs_type_name(f->ptype) : "-");
}

static bool ignored(const run *r, const mqs_lf_finding *f)
{
    char sig[96];
    signature(f, sig, sizeof sig);
    for (size_t i = 0; i < r->o->n_ignore; i++)
        if (fnmatch(r->o->ignore[i], sig, 0) == 0)
            return true;
    return false;
}

/* Counts a finding under its signature. @return the entry when the signature is
 * new or not confirmed yet (to investigate, marked busy), else NULL. */
static sig_entry *fold(run *r, const mqs_lf_finding *f)
{
    sig_entry *e = NULL;
    atomic_fetch_add(&r->findings, 1);
    pthread_mutex_lock(&r->mu);
    for (size_t k = 0; k < r->n_sigs; k++)
        if (same_sig(&r->sigs[k].first, f)) {
            e = &r->sigs[k];
            e->count++;
            /* Not confirmed yet: another case may show it alone (with several jobs, the
             * case that saw a crash first need not be the one that caused it). */
            bool again = !e->busy && !e->saved && e->unconfirmed && e->attempts < MAX_ATTEMPTS;
            if (again) {
                e->first = *f;
                e->busy = true;
                e->attempts++;
            }
            pthread_mutex_unlock(&r->mu);
            return again ? e : NULL;
        }
    if (r->n_sigs < MAX_SIGS) {
        e = &r->sigs[r->n_sigs++];
        memset(e, 0, sizeof *e);
        e->first = *f;
        e->count = 1;
        e->replayed = -2;
        e->busy = true;
        e->attempts = 1;
    }
    pthread_mutex_unlock(&r->mu);
    return e;
}

/* A case in which the broker crashed reports the crash alone: the answers that did
 * not come and the connections that broke are its consequences. @return true when
 * the execution holds a crash. */
static bool crash_only(mqs_lf_result *res)
{
    for (size_t i = 0; i < res->n_findings; i++)
        if (res->findings[i].oracle == MQS_LF_OR_CRASH) {
            if (i > 0)
                res->findings[0] = res->findings[i];
            res->n_findings = 1;
            return true;
        }
    return false;
}

/* The findings of case number, played against broker generation gen. */
static void handle(job_ctx *jc, uint64_t number, unsigned gen)
{
    run *r = jc->r;
    sig_entry *fresh[MQS_LF_MAX_FINDINGS];
    char traces[MQS_LF_MAX_FINDINGS][1400];
    size_t n_fresh = 0;
    bool crash = crash_only(&jc->res);
    if (crash) {
        pthread_mutex_lock(&r->mu);
        r->crashed = true;
        pthread_mutex_unlock(&r->mu);
        if (!r->o->restart || g_stop) {
            atomic_store(&r->down, true);
            atomic_store(&r->stop, true);
        } else {
            (void)recover(r, gen); /* the buffers still hold the case */
        }
    }
    /* Every first trace is kept while the buffers still hold the execution that showed
     * it (investigating replays the case). */
    for (size_t i = 0; i < jc->res.n_findings; i++) {
        const mqs_lf_finding *f = &jc->res.findings[i];
        if (ignored(r, f)) {
                atomic_fetch_add(&r->ignored, 1);
                continue;
            }
        sig_entry *e = fold(r, f);
        if (!e)
            continue;
        save_first_trace(jc, e, traces[n_fresh], sizeof traces[n_fresh]);
        fresh[n_fresh++] = e;
    }
    for (size_t i = 0; i < n_fresh; i++)
        investigate(jc, number, fresh[i], traces[i]);
}

static void *job_main(void *arg)
{
    job_ctx *jc = arg;
    run *r = jc->r;
    while (!should_stop(r)) {
        uint64_t n = atomic_fetch_add(&r->next_case, 1);
        if (r->o->max_cases && n >= r->o->first_case + r->o->max_cases)
            break;
        unsigned gen = shared_enter(r);
        int rc = play(jc, n, NULL);
        shared_leave(r);
        if (rc == -2)
            continue;
        atomic_fetch_add(&r->done, 1);
        atomic_fetch_add(&r->packets, jc->res.sent_packets);
        if (rc < 0) { /* the broker cannot be reached any more */
            mqs_lf_finding *f = &jc->res.findings[0];
            memset(f, 0, sizeof *f);
            f->oracle = MQS_LF_OR_CRASH;
            snprintf(f->rule, sizeof f->rule, "MQTT-4.8.0-1");
            snprintf(f->text, sizeof f->text, "the broker can no longer be reached");
            f->trigger = -1;
            f->event = jc->res.n_events;
            jc->res.n_findings = 1;
        }
        if (jc->res.interrupted)
            atomic_fetch_add(&r->cut, 1);
        if (jc->res.n_findings)
            handle(jc, n, gen);
    }
    atomic_fetch_sub(&r->running, 1);
    return NULL;
}

/* ---- the run ---- */

static void progress(run *r)
{
    double secs = (double)(mqs_now_ms() - r->t_start) / 1000.0;
    uint64_t done = atomic_load(&r->done);
    fprintf(stderr, "\r%llu cases (%.0f/s), %llu packets, findings: %u saved, %llu seen   ",
            (unsigned long long)done, secs > 0 ? (double)done / secs : 0.0,
            (unsigned long long)atomic_load(&r->packets), r->unique,
            (unsigned long long)atomic_load(&r->findings));
}

static void summary(run *r, mqs_lf_summary *sum)
{
    FILE *out = r->o->out;
    fprintf(out, "%s%llu cases in %.1f s (%.0f cases/s, %llu packets) against %s, seed %llu\n",
            r->o->progress ? "\r" : "", (unsigned long long)sum->cases, sum->seconds,
            sum->seconds > 0 ? (double)sum->cases / sum->seconds : 0.0, (unsigned long long)sum->packets,
            r->o->target ? r->o->target : "?", (unsigned long long)r->o->seed);
    for (size_t i = 0; i < r->n_sigs; i++) {
        const sig_entry *e = &r->sigs[i];
        char sig[96];
        signature(&e->first, sig, sizeof sig);
        (void)sig;
        if (e->saved)
            fprintf(out, "  %-9s %-14s %-11s x%-5llu %s/%s.json%s\n", mqs_lf_oracle_name(e->first.oracle),
                    e->first.rule, e->first.ptype ? mqs_type_name(e->first.ptype) : "-",
                    (unsigned long long)e->count, r->o->report_dir, e->stem, replay_text(e));
        else if (e->unconfirmed)
            fprintf(out, "  %-9s %-14s %-11s x%-5llu not confirmed when replayed alone (trace in unconfirmed/): %s\n",
                    mqs_lf_oracle_name(e->first.oracle), e->first.rule,
                    e->first.ptype ? mqs_type_name(e->first.ptype) : "-", (unsigned long long)e->count,
                    e->first.text);
    }
    fprintf(out, "%u finding%s saved, %u not confirmed, %llu ignored (--ignore)%s\n", sum->unique,
            sum->unique == 1 ? "" : "s", sum->unconfirmed, (unsigned long long)sum->ignored,
            !sum->crashed                ? ""
            : sum->restart_failed        ? "; the broker went away and could not be restarted"
            : sum->down                  ? "; the broker went away"
                                         : "; the broker crashed");
    if (sum->restarts)
        fprintf(out, "%u restart%s of the broker (--restart)%s\n", sum->restarts, sum->restarts == 1 ? "" : "s",
                sum->restart_failed ? ", the last one failed" : "");
}

int mqs_lf_run(const mqs_lf_opts *o, mqs_lf_summary *sum)
{
    memset(sum, 0, sizeof *sum);
    run *r = calloc(1, sizeof *r);
    job_ctx *jobs = calloc(o->jobs, sizeof *jobs);
    if (!r || !jobs) {
        free(r);
        free(jobs);
        fprintf(stderr, "mqttspec fuzz: out of memory\n");
        return -1;
    }
    g_stop = 0;
    r->o = o;
    r->t.ep = o->ep;
    r->t.username = o->username;
    r->t.password = o->password;
    r->t.timeout_ms = o->timeout_ms;
    r->t.pid = o->pid;
    memcpy(r->t.token, o->token, sizeof r->t.token);
    r->t.token[8] = '\0';
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    atomic_init(&r->next_case, o->first_case);
    atomic_init(&r->next_name, 0);
    char cid[24], err[256];
    snprintf(cid, sizeof cid, "mqf%.8sstart", r->t.token);
    int rc = 0;
    if (mqs_lf_probe(&r->t, cid, err, sizeof err) != 0) {
        fprintf(stderr, "mqttspec fuzz: %s does not answer: %s\n", o->target ? o->target : "the broker", err);
        sum->unreachable = true;
        goto out;
    }
    r->t_start = mqs_now_ms();
    r->t_end = o->seconds > 0 ? r->t_start + (int64_t)(o->seconds * 1000.0) : 0;
    unsigned started = 0;
    atomic_init(&r->running, o->jobs);
    for (unsigned i = 0; i < o->jobs; i++) {
        job_ctx *jc = &jobs[i];
        jc->r = r;
        jc->index = i;
        jc->job = mqs_lf_job_new(&r->t, i);
        jc->c = malloc(sizeof *jc->c);
        if (jc->job)
            mqs_lf_job_set_cancel(jc->job, job_cancelled, jc);
        if (!jc->job || !jc->c || pthread_create(&jc->thread, NULL, job_main, jc) != 0) {
            fprintf(stderr, "mqttspec fuzz: cannot start job %u\n", i);
            mqs_lf_job_free(jc->job);
            free(jc->c);
            jc->job = NULL;
            jc->c = NULL;
            rc = -1;
            atomic_store(&r->stop, true);
            atomic_fetch_sub(&r->running, o->jobs - i);
            break;
        }
        started++;
    }
    while (atomic_load(&r->running) > 0) { /* the main thread only reports progress */
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
        if (o->progress)
            progress(r);
    }
    for (unsigned i = 0; i < started; i++) {
        pthread_join(jobs[i].thread, NULL);
        mqs_lf_job_free(jobs[i].job);
        free(jobs[i].c);
    }
    sum->cases = atomic_load(&r->done);
    sum->packets = atomic_load(&r->packets);
    sum->findings = atomic_load(&r->findings);
    sum->unique = r->unique;
    sum->unconfirmed = r->unconfirmed;
    sum->ignored = atomic_load(&r->ignored);
    sum->crashed = r->crashed;
    sum->restarts = r->restarts;
    sum->restart_failed = atomic_load(&r->restart_failed);
    sum->down = atomic_load(&r->down);
    sum->interrupted = g_stop != 0;
    sum->cut = atomic_load(&r->cut);
    sum->seconds = (double)(mqs_now_ms() - r->t_start) / 1000.0;
    if (!sum->down) {
        char root[32];
        snprintf(root, sizeof root, "mqf/%.8s/", r->t.token);
        snprintf(cid, sizeof cid, "mqf%.8sclean", r->t.token);
        (void)mqs_lf_clear_retained(&r->t, root, cid, 300);
    }
    summary(r, sum);
out:
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    free(jobs);
    free(r);
    return rc;
}
