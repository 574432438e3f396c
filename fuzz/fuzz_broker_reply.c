/* broker_reply: the engine's receive path -- framing, strict decoding of what a
 * broker sends, expectation matching, trace and verdict -- fed what a hostile
 * broker sends. A fake broker thread on a loopback port answers every
 * connection the case opens with the input bytes (once the client's first
 * bytes arrived), then closes its side. Byte 0 picks the built-in scenario
 * (low 7 bits) and MQTT 3.1 (high bit, when the scenario runs on 3.1); the
 * rest are the broker's bytes. Deadlines are scaled down (timeout factor), so
 * a case takes milliseconds.
 * Invariants: mqs_case_run returns 0 with a verdict in the table, a reason
 * unless PASS, a well-formed trace whose received packets come from the
 * input; no crash, no leak (LeakSanitizer), no hang. */
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conformance/interp.h"
#include "conformance/scenario.h"
#include "fuzz/fuzz_common.h"

typedef struct mqs_fz_broker {
    int lfd;
    const uint8_t *reply;
    size_t len;
    atomic_bool stop;
} mqs_fz_broker;

static mqs_scenario_set mqs_fz_set;
static int mqs_fz_lfd = -1;
static uint16_t mqs_fz_port;

/* Waits up to ms for fd to be readable; true when it is. */
static bool mqs_fz_readable(int fd, int ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, ms) == 1;
}

/* One connection: wait for the client's first bytes, send the reply, close our
 * side, drain what the client still sends (so close() does not reset). */
static void mqs_fz_serve(mqs_fz_broker *b, int fd)
{
    uint8_t junk[4096];
    if (mqs_fz_readable(fd, 200) && read(fd, junk, sizeof junk) > 0) {
        size_t off = 0;
        while (off < b->len) {
            ssize_t n = send(fd, b->reply + off, b->len - off, MSG_NOSIGNAL);
            if (n <= 0)
                break;
            off += (size_t)n;
        }
    }
    shutdown(fd, SHUT_WR);
    for (int i = 0; i < 20 && !atomic_load(&b->stop) && mqs_fz_readable(fd, 10);)
        if (read(fd, junk, sizeof junk) <= 0)
            break;
    close(fd);
}

static void *mqs_fz_broker_main(void *arg)
{
    mqs_fz_broker *b = arg;
    while (!atomic_load(&b->stop)) {
        if (!mqs_fz_readable(b->lfd, 5))
            continue;
        int fd = accept(b->lfd, NULL, NULL);
        if (fd >= 0)
            mqs_fz_serve(b, fd);
    }
    return NULL;
}

/* Once: the built-in scenarios and a listening socket on 127.0.0.1:<any>. */
static void mqs_fz_setup(void)
{
    char err[256];
    signal(SIGPIPE, SIG_IGN);
    MQS_FZ_ASSERT(mqs_scenario_set_load(&mqs_fz_set, true, NULL, 0, NULL, 0, err, sizeof err) == 0);
    MQS_FZ_ASSERT(mqs_fz_set.n > 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    int one = 1;
    mqs_fz_lfd = socket(AF_INET, SOCK_STREAM, 0);
    MQS_FZ_ASSERT(mqs_fz_lfd >= 0);
    setsockopt(mqs_fz_lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    MQS_FZ_ASSERT(bind(mqs_fz_lfd, (struct sockaddr *)&a, sizeof a) == 0);
    MQS_FZ_ASSERT(listen(mqs_fz_lfd, 16) == 0);
    MQS_FZ_ASSERT(getsockname(mqs_fz_lfd, (struct sockaddr *)&a, &alen) == 0);
    mqs_fz_port = ntohs(a.sin_port);
}

static void mqs_fz_check_result(const mqs_case_result *r, size_t input_len)
{
    MQS_FZ_ASSERT(r->verdict >= MQS_VERDICT_PASS && r->verdict < MQS_VERDICT_COUNT);
    MQS_FZ_ASSERT(r->verdict == MQS_VERDICT_PASS || r->reason != NULL);
    MQS_FZ_ASSERT(r->id != NULL && r->protocol != NULL);
    for (size_t i = 0; i < r->n_trace; i++) {
        const mqs_trace_entry *t = &r->trace[i];
        MQS_FZ_ASSERT(t->dir >= 0 && t->dir <= 2 && t->text != NULL);
        MQS_FZ_ASSERT(t->len == 0 || t->bytes != NULL);
        if (t->dir == 1) /* received: a slice of what the broker sent */
            MQS_FZ_ASSERT(t->len <= input_len);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (mqs_fz_lfd < 0)
        mqs_fz_setup();
    const mqs_scenario *sc = mqs_fz_set.items[(data[0] & 0x7fu) % mqs_fz_set.n];
    unsigned proto = (data[0] & 0x80u) && (sc->protocols & MQS_PROTO_31) ? MQS_PROTO_31
                                                                         : MQS_PROTO_311;
    if (!(sc->protocols & proto))
        proto = MQS_PROTO_31;
    mqs_endpoint ep = {.transport = MQS_TR_TCP, .host = "127.0.0.1", .port = mqs_fz_port};
    mqs_case_opts o = {.ep = &ep, .proto = proto, .timeout_factor = 0.02, .token = "fuzz0tok"};
    if (mqs_case_requirement_missing(sc, &o, false) != NULL)
        return 0; /* needs credentials / TLS: nothing to receive */

    mqs_fz_broker b = {.lfd = mqs_fz_lfd, .reply = data + 1, .len = size - 1};
    atomic_init(&b.stop, false);
    pthread_t th;
    MQS_FZ_ASSERT(pthread_create(&th, NULL, mqs_fz_broker_main, &b) == 0);
    mqs_case_result r;
    memset(&r, 0, sizeof r);
    int rc = mqs_case_run(sc, &o, &r);
    atomic_store(&b.stop, true);
    pthread_join(th, NULL);
    MQS_FZ_ASSERT(rc == 0);
    mqs_fz_check_result(&r, size - 1);
    mqs_case_result_free(&r);
    return 0;
}
