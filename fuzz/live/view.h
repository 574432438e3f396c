/* mqttspec live fuzzer: the broker's view of what a client sent.
 *
 * The fuzzer never trusts its own intent: it cuts the bytes it wrote on a
 * connection into frames exactly as a broker must (the codec's framing), and asks
 * the strict decoder (dir = to-server) about each frame. The class of a frame says
 * what the specification lets a broker do with it, which is what the oracles hold
 * the broker to:
 *
 *   VALID      a well-formed packet in a valid place: the broker processes it
 *              (and answers it where an answer is due).
 *   MAYCLOSE   the specification lets the broker either process it or close the
 *              connection: a fault only the sender is told to avoid (non-minimal
 *              Remaining Length, DUP on QoS 0, packet id 0, a server-only packet
 *              type), an MQTT 3.1 leniency, an UNSUBSCRIBE with an invalid filter.
 *   SUBFAIL    a SUBSCRIBE whose only fault is an invalid topic filter: the broker
 *              closes, or answers SUBACK with 0x80 for each invalid filter.
 *   INVALID    a protocol violation: the broker must close the connection and must
 *              not act on this packet or on anything after it [MQTT-4.8.0-1].
 *   UNDEFINED  a CONNECT with a foreign protocol name: the broker may speak another
 *              protocol from here on [MQTT-3.1.2-1]; nothing more is judged.
 *   IGNORED    a frame after the connection ended in the broker's view (after an
 *              INVALID frame): it must have no effect.
 *   AFTER      a frame after DISCONNECT: the broker should have closed; it may have
 *              acted on it (no oracle either way).
 *
 * Pure: no I/O, no allocation. Frames are views into the caller's stream buffer.
 */
#ifndef MQS_LF_VIEW_H
#define MQS_LF_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/mqtt.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mqs_lf_class {
    MQS_LF_VALID = 0,
    MQS_LF_MAYCLOSE = 1,
    MQS_LF_SUBFAIL = 2,
    MQS_LF_INVALID = 3,
    MQS_LF_UNDEFINED = 4,
    MQS_LF_IGNORED = 5,
    MQS_LF_AFTER = 6,
} mqs_lf_class;

#define MQS_LF_VIEW_ITEMS 64 /* list entries a frame may carry (more: INVALID-sized lists are rare) */

/** Where a connection is, in the broker's view. */
typedef enum mqs_lf_phase {
    MQS_LF_PH_PRE = 0,   /* nothing processed yet: the first packet must be CONNECT */
    MQS_LF_PH_CONNECTED, /* a CONNECT was processed (accepted or not: the executor knows) */
    MQS_LF_PH_DEAD,      /* an INVALID frame: nothing after it is processed */
    MQS_LF_PH_FOREIGN,   /* UNDEFINED CONNECT: another protocol */
    MQS_LF_PH_GONE,      /* DISCONNECT processed */
} mqs_lf_phase;

/** Per-connection classifier state. Zero-initialise (mqs_lf_view_init). */
typedef struct mqs_lf_view {
    mqs_lf_phase phase;
    mqs_version version; /* of the processed CONNECT (3.1.1 until then) */
    size_t consumed;     /* stream bytes already cut into frames */
    bool stalled;        /* the rest of the stream is an incomplete frame (or cannot be framed) */
} mqs_lf_view;

/** One frame as the broker sees it. */
typedef struct mqs_lf_frame {
    const uint8_t *bytes; /* view into the stream */
    size_t len;
    size_t offset;        /* of the frame in the stream */
    mqs_lf_class cls;
    int status;           /* the decoder's status (MQS_OK for VALID) */
    const char *rule;     /* statement the frame breaks (INVALID, SUBFAIL, MAYCLOSE), or NULL */
    uint8_t type;         /* type nibble of the fixed header (0..15) */
    bool decoded;         /* pkt holds the (lenient where MAYCLOSE) decoded packet */
    bool incomplete;      /* INVALID reserved type whose frame (by its Remaining Length) has
                             not all been written: a broker may still wait for it ... */
    size_t whole;         /* ... until the stream holds this many bytes from offset (its
                             header and body; 5 while the Remaining Length is unfinished) */
    mqs_packet pkt;
    mqs_item items[MQS_LF_VIEW_ITEMS];
    bool bad_filter[MQS_LF_VIEW_ITEMS]; /* SUBFAIL/MAYCLOSE lists: which filters are invalid */
    uint8_t fix[32768];                 /* scratch: a repaired copy of the frame */
} mqs_lf_frame;

void mqs_lf_view_init(mqs_lf_view *v);

/** Cuts the next frame out of stream[v->consumed .. len) and classifies it.
 * @param[in,out] v   the connection's state (advanced past the frame)
 * @param[in] stream  every byte written on this connection so far (frames point into it)
 * @param[out] f      the frame, valid while stream is alive and unmodified
 * @return 1 a frame, 0 no whole frame yet (or the stream stalled: v->stalled) */
int mqs_lf_view_next(mqs_lf_view *v, const uint8_t *stream, size_t len, mqs_lf_frame *f);

/** Classifies one frame alone, for a connection in the given phase and version
 *  (the pure core of mqs_lf_view_next; phase/version are updated as a broker would). */
void mqs_lf_classify(const uint8_t *frame, size_t len, mqs_lf_phase *phase, mqs_version *version,
                     mqs_lf_frame *f);

/** True when a broker may act on a frame of this class (VALID, MAYCLOSE, SUBFAIL,
 *  UNDEFINED, AFTER). */
bool mqs_lf_class_processed(mqs_lf_class c);

/** "valid", "mayclose", ... */
const char *mqs_lf_class_name(mqs_lf_class c);

#ifdef __cplusplus
}
#endif

#endif /* MQS_LF_VIEW_H */
