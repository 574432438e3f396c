/* Helpers shared by the codec fuzz harnesses: invariant checks that abort()
 * with a message, the decode configuration byte, and packet equality.
 * Header-only (static functions) so every harness stays a single object. */
#ifndef MQS_FUZZ_COMMON_H
#define MQS_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/mqtt.h"
#include "codec/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/** Aborts with the broken invariant's text: what the fuzzer reports as a crash. */
#define MQS_FZ_ASSERT(cond) ((cond) ? (void)0 : mqs_fz_fail(#cond, __FILE__, __LINE__))

__attribute__((noreturn, unused)) static void mqs_fz_fail(const char *what, const char *file,
                                                          int line)
{
    fprintf(stderr, "%s:%d: fuzz invariant broken: %s\n", file, line, what);
    abort();
}

/** True when status is a row of MQS_STATUS_MAP. */
__attribute__((unused)) static bool mqs_fz_status_known(int status)
{
    return strcmp(mqs_status_name(status), "MQS_UNKNOWN") != 0;
}

/** Checks a status and its diagnostic as every decoding entry point must
 *  leave them: status in the table, one of `allowed` progress codes or a
 *  malformed code that names a rule, diag matching it with an offset inside
 *  the input. */
__attribute__((unused)) static void mqs_fz_check_status(int st, const mqs_diag *d, size_t len)
{
    MQS_FZ_ASSERT(mqs_fz_status_known(st));
    if (st == MQS_OK || st == MQS_NEED_MORE)
        return;
    if (mqs_status_is_malformed(st)) {
        MQS_FZ_ASSERT(mqs_status_rule(st) != NULL);
        MQS_FZ_ASSERT(d->status == st);
        MQS_FZ_ASSERT(d->offset <= len);
        MQS_FZ_ASSERT(d->field != NULL);
    }
}

/** Byte 0 of the decode-style harnesses:
 *  bit 0    protocol version (0: 3.1.1, 1: 3.1)
 *  bits 1-2 direction (0 any, 1 to server, 2 to client, 3 any)
 *  bit 3    lenient: accept a non-minimal Remaining Length
 *  bits 4-7 capacity of the caller item array (0..15). */
typedef struct mqs_fz_config {
    mqs_decode_opts opts;
    size_t item_cap;
} mqs_fz_config;

__attribute__((unused)) static mqs_fz_config mqs_fz_config_from(uint8_t b)
{
    mqs_fz_config c;
    memset(&c, 0, sizeof c);
    c.opts.version = (b & 1u) ? MQS_V31 : MQS_V311;
    unsigned dir = (b >> 1) & 3u;
    c.opts.dir = dir == 1 ? MQS_DIR_TO_SERVER : dir == 2 ? MQS_DIR_TO_CLIENT : MQS_DIR_ANY;
    c.opts.lenient = (b & 8u) ? MQS_LENIENT_NON_MINIMAL_RL : 0u;
    c.item_cap = (size_t)(b >> 4);
    return c;
}

/** Length of the first frame of buf when its fixed header is complete and the
 *  frame ends before len (bytes follow it); len otherwise. *hdr gets the fixed
 *  header size (0 when unknown). */
__attribute__((unused)) static size_t mqs_fz_first_frame(const uint8_t *buf, size_t len,
                                                         unsigned lenient, size_t *hdr)
{
    uint32_t rl = 0;
    *hdr = 0;
    if (mqs_frame_peek(buf, len, lenient, NULL, NULL, &rl, hdr, NULL) == MQS_OK &&
        len - *hdr > rl)
        return *hdr + rl;
    return len;
}

/** True when a decoded view lies inside [buf, buf+len) (an empty view may
 *  also be NULL or point just past the end). */
__attribute__((unused)) static bool mqs_fz_view_inside(mqs_str s, const uint8_t *buf, size_t len)
{
    if (s.len == 0)
        return s.ptr == NULL || (s.ptr >= buf && s.ptr <= buf + len);
    return s.ptr != NULL && s.ptr >= buf && s.len <= len && s.ptr <= buf + len - s.len;
}

__attribute__((unused)) static bool mqs_fz_str_eq(mqs_str a, mqs_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/** True for the packet types that carry a list in pkt->items. */
__attribute__((unused)) static bool mqs_fz_has_items(uint8_t type)
{
    return type == MQS_SUBSCRIBE || type == MQS_SUBACK || type == MQS_UNSUBSCRIBE;
}

/** Field-by-field equality of two decoded packets (views compared by content,
 *  items by value for the list packets; remaining_length too: equal content
 *  gives an equal length). With raw_bits false the raw flag bytes that MQTT 3.1
 *  tolerates and the encoder rewrites canonically are not compared: fixed header
 *  flags of packets other than PUBLISH, the CONNECT flags byte (a credential
 *  flag without its field is cleared) and the CONNACK flags byte; the fields
 *  derived from them still are. */
__attribute__((unused)) static bool mqs_fz_packet_eq(const mqs_packet *a, const mqs_packet *b,
                                                     bool raw_bits)
{
    bool hdr_bits = raw_bits || a->type == MQS_PUBLISH;
    if (a->type != b->type || a->remaining_length != b->remaining_length ||
        a->packet_id != b->packet_id)
        return false;
    if (hdr_bits && (a->flags != b->flags || a->dup != b->dup || a->qos != b->qos ||
                     a->retain != b->retain))
        return false;
    const mqs_connect *ca = &a->connect, *cb = &b->connect;
    if ((raw_bits && ca->flags != cb->flags) ||
        !mqs_fz_str_eq(ca->protocol_name, cb->protocol_name) ||
        ca->protocol_level != cb->protocol_level || ca->clean_session != cb->clean_session ||
        ca->will_flag != cb->will_flag || ca->will_qos != cb->will_qos ||
        ca->will_retain != cb->will_retain || ca->has_username != cb->has_username ||
        ca->has_password != cb->has_password || ca->keepalive != cb->keepalive ||
        !mqs_fz_str_eq(ca->client_id, cb->client_id) ||
        !mqs_fz_str_eq(ca->will_topic, cb->will_topic) ||
        !mqs_fz_str_eq(ca->will_payload, cb->will_payload) ||
        !mqs_fz_str_eq(ca->username, cb->username) || !mqs_fz_str_eq(ca->password, cb->password))
        return false;
    if ((raw_bits && a->connack.flags != b->connack.flags) ||
        a->connack.session_present != b->connack.session_present ||
        a->connack.return_code != b->connack.return_code)
        return false;
    if (!mqs_fz_str_eq(a->publish.topic, b->publish.topic) ||
        a->publish.packet_id != b->publish.packet_id ||
        !mqs_fz_str_eq(a->publish.payload, b->publish.payload))
        return false;
    if (!mqs_fz_has_items(a->type))
        return true; /* n_items is only an output for the list packets */
    if (a->n_items != b->n_items)
        return false;
    for (size_t i = 0; i < a->n_items && a->items != NULL && b->items != NULL; i++) {
        if (!mqs_fz_str_eq(a->items[i].filter, b->items[i].filter) ||
            a->items[i].qos != b->items[i].qos)
            return false;
    }
    return true;
}

#endif /* MQS_FUZZ_COMMON_H */
