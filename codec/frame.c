/* mqttspec codec: fixed header peek and the incremental framer (see mqtt.h). */
#include <string.h>

#include "codec/buf.h"
#include "codec/mqtt.h"

static int frame_fail(mqs_diag *diag, int status, size_t offset)
{
    if (diag) {
        diag->status = status;
        diag->offset = offset;
        diag->field = "fixed_header.remaining_length";
    }
    return status;
}

int mqs_frame_peek(const uint8_t *buf, size_t len, unsigned lenient, uint8_t *type, uint8_t *flags,
                   uint32_t *rem_len, size_t *hdr_len, mqs_diag *diag)
{
    mqs_rd r;
    uint8_t b0;
    uint32_t rl = 0;
    size_t err_pos = 0;
    mqs_rd_init(&r, buf, len);
    if (mqs_rd_u8(&r, &b0) != MQS_OK)
        return frame_fail(diag, MQS_NEED_MORE, len);
    int st = mqs_rd_varint(&r, lenient, &rl, &err_pos);
    if (st != MQS_OK)
        return frame_fail(diag, st, st == MQS_NEED_MORE ? len : err_pos);
    if (type)
        *type = (uint8_t)(b0 >> 4);
    if (flags)
        *flags = (uint8_t)(b0 & 0x0fu);
    if (rem_len)
        *rem_len = rl;
    if (hdr_len)
        *hdr_len = r.pos;
    return frame_fail(diag, MQS_OK, 0);
}

void mqs_framer_init(mqs_framer *f, uint8_t *storage, size_t cap, unsigned lenient)
{
    f->buf = storage;
    f->cap = storage ? cap : 0;
    f->len = 0;
    f->consumed = 0;
    f->lenient = lenient;
}

int mqs_framer_push(mqs_framer *f, const uint8_t *data, size_t len)
{
    if (len > 0 && data == NULL)
        return MQS_E_BAD_PARAM;
    /* Frames handed out before this push are dropped: move the rest to the front. */
    if (f->consumed > 0) {
        memmove(f->buf, f->buf + f->consumed, f->len - f->consumed);
        f->len -= f->consumed;
        f->consumed = 0;
    }
    if (len > f->cap - f->len)
        return MQS_E_BUFFER_TOO_SMALL;
    if (len > 0)
        memcpy(f->buf + f->len, data, len);
    f->len += len;
    return MQS_OK;
}

int mqs_framer_next(mqs_framer *f, const uint8_t **frame, size_t *frame_len, mqs_diag *diag)
{
    const uint8_t *start = f->buf + f->consumed;
    size_t avail = f->len - f->consumed;
    uint32_t rl = 0;
    size_t hdr = 0;
    int st = mqs_frame_peek(start, avail, f->lenient, NULL, NULL, &rl, &hdr, diag);
    if (st != MQS_OK)
        return st;
    size_t total = hdr + (size_t)rl;
    if (total > f->cap)
        return frame_fail(diag, MQS_E_BUFFER_TOO_SMALL, 1);
    if (total > avail)
        return frame_fail(diag, MQS_NEED_MORE, avail);
    *frame = start;
    *frame_len = total;
    f->consumed += total;
    return MQS_OK;
}
