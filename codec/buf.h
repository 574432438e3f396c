/* mqttspec codec: bounds-checked byte cursors.
 *
 * mqs_rd reads from a caller buffer and never reads past its end: every read
 * returns a status and leaves the cursor unchanged on failure. mqs_wr writes
 * into a caller buffer and keeps counting past its capacity without writing, so
 * one pass both fills a large enough buffer and measures the size needed.
 */
#ifndef MQS_BUF_H
#define MQS_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/mqtt.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Read cursor over [p, p + len). The bytes stay owned by the caller. */
typedef struct mqs_rd {
    const uint8_t *p;
    size_t len;
    size_t pos;
} mqs_rd;

/** Starts a read cursor over buf[0..len). */
void mqs_rd_init(mqs_rd *r, const uint8_t *buf, size_t len);
/** Bytes not yet read. */
size_t mqs_rd_left(const mqs_rd *r);
/** Reads one byte. @return MQS_OK or MQS_NEED_MORE (nothing left). */
int mqs_rd_u8(mqs_rd *r, uint8_t *v);
/** Reads a big-endian 16-bit value. @return MQS_OK or MQS_NEED_MORE. */
int mqs_rd_u16(mqs_rd *r, uint16_t *v);
/** Takes a view of the next n bytes. @return MQS_OK or MQS_NEED_MORE. */
int mqs_rd_bytes(mqs_rd *r, size_t n, const uint8_t **ptr);
/** Reads a 2-byte length prefix and a view of that many bytes (MQTT string or
 *  binary data). @return MQS_OK or MQS_NEED_MORE (the prefix or the bytes run past
 *  the end; the cursor is left unchanged). */
int mqs_rd_str(mqs_rd *r, mqs_str *s);
/** Reads an MQTT variable byte integer (Remaining Length).
 * @param[in] lenient MQS_LENIENT_NON_MINIMAL_RL accepts a non-minimal encoding
 * @param[out] err_pos on an error: cursor position of the offending byte
 * @return MQS_OK, MQS_NEED_MORE, MQS_E_RL_TOO_LONG (a 4th byte with the
 *         continuation bit), MQS_E_RL_NON_MINIMAL (last of several bytes is 0). */
int mqs_rd_varint(mqs_rd *r, unsigned lenient, uint32_t *v, size_t *err_pos);

/** Write cursor into [p, p + cap); p may be NULL with cap 0 to measure only. */
typedef struct mqs_wr {
    uint8_t *p;
    size_t cap;
    size_t pos; /* bytes written or counted so far; may exceed cap */
} mqs_wr;

void mqs_wr_init(mqs_wr *w, uint8_t *buf, size_t cap);
/** True when everything counted so far also fitted into the buffer. */
bool mqs_wr_fits(const mqs_wr *w);
void mqs_wr_u8(mqs_wr *w, uint8_t v);
void mqs_wr_u16(mqs_wr *w, uint16_t v);
void mqs_wr_bytes(mqs_wr *w, const uint8_t *src, size_t n);
/** Writes a 2-byte length prefix and the bytes. The length is written modulo
 *  65536: callers that need a valid string check len <= 65535 first. */
void mqs_wr_str(mqs_wr *w, mqs_str s);
/** Writes v as a variable byte integer of exactly nbytes bytes (1..5), padding
 *  with continuation bytes. The caller checks that v fits into nbytes. */
void mqs_wr_varint(mqs_wr *w, uint64_t v, int nbytes);
/** Fewest bytes (1..5) that encode v as a variable byte integer. */
int mqs_varint_size(uint64_t v);

#ifdef __cplusplus
}
#endif

#endif /* MQS_BUF_H */
