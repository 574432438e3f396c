/* mqttspec codec benchmark (`make bench`): decode and encode throughput of a
 * realistic mixed stream, printed beside memcpy of the same bytes.
 *
 * The stream repeats one "round" of traffic as a broker sees it on a busy
 * connection: 8 QoS 0 PUBLISH with 16-byte payloads, 4 QoS 1 PUBLISH with 256-byte
 * payloads each followed by its PUBACK, 1 QoS 2 PUBLISH with a 4 KiB payload and
 * its PUBREC/PUBREL/PUBCOMP, and a PINGREQ/PINGRESP pair. Usage:
 *   build/bench_codec [SECONDS_PER_MEASUREMENT]   (default 0.5)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec/mqtt.h"

#define STREAM_TARGET (4u << 20) /* about 4 MiB of packets */

typedef struct bench_stream {
    uint8_t *bytes;
    size_t len, cap;
    mqs_packet *pkts; /* the packets the stream was encoded from */
    size_t n, pkt_cap;
} bench_stream;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_codec: %s\n", what);
    exit(1);
}

static void add(bench_stream *s, const mqs_packet *p)
{
    size_t n = 0;
    if (s->n == s->pkt_cap)
        die("too many packets");
    if (mqs_encode(p, MQS_V311, s->bytes + s->len, s->cap - s->len, &n, NULL) != MQS_OK)
        die("cannot encode the stream");
    s->len += n;
    s->pkts[s->n++] = *p;
}

static void add_publish(bench_stream *s, uint8_t qos, uint16_t id, const uint8_t *payload, size_t n)
{
    static const char topic[] = "sensors/building-7/floor-3/room-12/temperature";
    mqs_packet p = {.type = MQS_PUBLISH, .qos = qos, .packet_id = qos ? id : 0};
    p.publish.topic = (mqs_str){(const uint8_t *)topic, sizeof topic - 1};
    p.publish.payload = (mqs_str){payload, n};
    add(s, &p);
}

static void add_ack(bench_stream *s, uint8_t type, uint16_t id)
{
    mqs_packet p = {.type = type, .packet_id = id};
    add(s, &p);
}

static void build_stream(bench_stream *s, const uint8_t *payload)
{
    uint16_t id = 1;
    s->cap = STREAM_TARGET + 65536;
    s->pkt_cap = STREAM_TARGET / 64;
    s->bytes = malloc(s->cap);
    s->pkts = malloc(s->pkt_cap * sizeof *s->pkts);
    if (s->bytes == NULL || s->pkts == NULL)
        die("out of memory");
    while (s->len < STREAM_TARGET) {
        for (int i = 0; i < 8; i++)
            add_publish(s, 0, 0, payload, 16);
        for (int i = 0; i < 4; i++, id = (uint16_t)(id % 65535 + 1)) {
            add_publish(s, 1, id, payload, 256);
            add_ack(s, MQS_PUBACK, id);
        }
        add_publish(s, 2, id, payload, 4096);
        add_ack(s, MQS_PUBREC, id);
        add_ack(s, MQS_PUBREL, id);
        add_ack(s, MQS_PUBCOMP, id);
        id = (uint16_t)(id % 65535 + 1);
        add_ack(s, MQS_PINGREQ, 0);
        add_ack(s, MQS_PINGRESP, 0);
    }
}

/* One pass of each operation; returns a value that depends on the work done. */
static size_t decode_pass(const bench_stream *s)
{
    size_t pos = 0, sum = 0;
    while (pos < s->len) {
        uint32_t rl = 0;
        size_t hdr = 0;
        mqs_packet p = {0};
        if (mqs_frame_peek(s->bytes + pos, s->len - pos, 0, NULL, NULL, &rl, &hdr, NULL) != MQS_OK ||
            mqs_decode(s->bytes + pos, hdr + rl, NULL, &p, NULL) != MQS_OK)
            die("decode failed");
        sum += p.packet_id + p.publish.payload.len;
        pos += hdr + rl;
    }
    return sum;
}

static size_t encode_pass(const bench_stream *s, uint8_t *out)
{
    size_t pos = 0;
    for (size_t i = 0; i < s->n; i++) {
        size_t n = 0;
        if (mqs_encode(&s->pkts[i], MQS_V311, out + pos, s->cap - pos, &n, NULL) != MQS_OK)
            die("encode failed");
        pos += n;
    }
    if (pos != s->len)
        die("encode produced a different stream");
    return pos;
}

static size_t memcpy_pass(const bench_stream *s, uint8_t *out)
{
    memcpy(out, s->bytes, s->len);
    return out[s->len / 2];
}

typedef enum bench_op { OP_MEMCPY, OP_DECODE, OP_ENCODE } bench_op;

/* Repeats an operation for at least `seconds`; returns passes per second. */
static double measure(bench_op op, const bench_stream *s, uint8_t *out, double seconds,
                      volatile size_t *sink)
{
    size_t passes = 0;
    double start = now(), elapsed;
    do {
        *sink += op == OP_MEMCPY   ? memcpy_pass(s, out)
                 : op == OP_DECODE ? decode_pass(s)
                                   : encode_pass(s, out);
        passes++;
        elapsed = now() - start;
    } while (elapsed < seconds);
    return (double)passes / elapsed;
}

int main(int argc, char **argv)
{
    static const char *const names[] = {"memcpy", "decode", "encode"};
    static uint8_t payload[4096];
    double seconds = argc > 1 ? atof(argv[1]) : 0.5;
    bench_stream s = {0};
    volatile size_t sink = 0;
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i * 31u + 7u);
    build_stream(&s, payload);
    uint8_t *out = malloc(s.cap);
    if (out == NULL || seconds <= 0)
        die(out ? "usage: bench_codec [SECONDS_PER_MEASUREMENT]" : "out of memory");

    printf("mqttspec codec benchmark: %zu packets, %.2f MiB per pass "
           "(PUBLISH 16 B / 256 B / 4 KiB payloads, acks, pings), %.2f s per measurement\n\n",
           s.n, (double)s.len / (1 << 20), seconds);
    printf("%-8s %12s %14s %10s\n", "", "MB/s", "packets/s", "vs memcpy");
    double base = 0;
    for (int op = OP_MEMCPY; op <= OP_ENCODE; op++) {
        double rate = measure((bench_op)op, &s, out, seconds, &sink);
        double mbps = rate * (double)s.len / 1e6;
        if (op == OP_MEMCPY)
            base = mbps;
        printf("%-8s %12.1f %14.0f %9.3fx\n", names[op], mbps, rate * (double)s.n, mbps / base);
    }
    printf("\n(MB = 10^6 bytes; \"vs memcpy\" = throughput / memcpy throughput of the same bytes)\n");
    free(out);
    free(s.bytes);
    free(s.pkts);
    return sink == 42 ? 2 : 0; /* keeps the work observable */
}
