/* mqttspec codec: bounds-checked byte cursors (see buf.h). */
#include "codec/buf.h"

#include <string.h>

void mqs_rd_init(mqs_rd *r, const uint8_t *buf, size_t len)
{
    r->p = buf;
    r->len = buf ? len : 0;
    r->pos = 0;
}

size_t mqs_rd_left(const mqs_rd *r)
{
    return r->len - r->pos;
}

int mqs_rd_u8(mqs_rd *r, uint8_t *v)
{
    if (mqs_rd_left(r) < 1)
        return MQS_NEED_MORE;
    *v = r->p[r->pos++];
    return MQS_OK;
}

int mqs_rd_u16(mqs_rd *r, uint16_t *v)
{
    if (mqs_rd_left(r) < 2)
        return MQS_NEED_MORE;
    *v = (uint16_t)((unsigned)r->p[r->pos] << 8 | r->p[r->pos + 1]);
    r->pos += 2;
    return MQS_OK;
}

int mqs_rd_bytes(mqs_rd *r, size_t n, const uint8_t **ptr)
{
    if (mqs_rd_left(r) < n)
        return MQS_NEED_MORE;
    *ptr = r->p + r->pos;
    r->pos += n;
    return MQS_OK;
}

int mqs_rd_str(mqs_rd *r, mqs_str *s)
{
    size_t start = r->pos;
    uint16_t n;
    if (mqs_rd_u16(r, &n) != MQS_OK || mqs_rd_bytes(r, n, &s->ptr) != MQS_OK) {
        r->pos = start;
        return MQS_NEED_MORE;
    }
    s->len = n;
    return MQS_OK;
}

int mqs_rd_varint(mqs_rd *r, unsigned lenient, uint32_t *v, size_t *err_pos)
{
    size_t start = r->pos;
    uint32_t value = 0;
    for (unsigned i = 0; i < 4; i++) {
        uint8_t b;
        if (mqs_rd_u8(r, &b) != MQS_OK) {
            r->pos = start;
            return MQS_NEED_MORE;
        }
        value |= (uint32_t)(b & 0x7fu) << (7 * i);
        if ((b & 0x80u) == 0) {
            /* A last byte of 0 after other bytes adds nothing: a shorter form exists. */
            if (b == 0 && i > 0 && !(lenient & MQS_LENIENT_NON_MINIMAL_RL)) {
                *err_pos = r->pos - 1;
                r->pos = start;
                return MQS_E_RL_NON_MINIMAL;
            }
            *v = value;
            return MQS_OK;
        }
    }
    /* The 4th byte asks for a 5th: more than the 4 bytes allowed. */
    *err_pos = r->pos - 1;
    r->pos = start;
    return MQS_E_RL_TOO_LONG;
}

void mqs_wr_init(mqs_wr *w, uint8_t *buf, size_t cap)
{
    w->p = buf;
    w->cap = buf ? cap : 0;
    w->pos = 0;
}

bool mqs_wr_fits(const mqs_wr *w)
{
    return w->pos <= w->cap;
}

void mqs_wr_u8(mqs_wr *w, uint8_t v)
{
    if (w->pos < w->cap)
        w->p[w->pos] = v;
    w->pos++;
}

void mqs_wr_u16(mqs_wr *w, uint16_t v)
{
    mqs_wr_u8(w, (uint8_t)(v >> 8));
    mqs_wr_u8(w, (uint8_t)(v & 0xffu));
}

void mqs_wr_bytes(mqs_wr *w, const uint8_t *src, size_t n)
{
    if (n > 0 && w->pos <= w->cap && n <= w->cap - w->pos)
        memcpy(w->p + w->pos, src, n);
    w->pos += n;
}

void mqs_wr_str(mqs_wr *w, mqs_str s)
{
    mqs_wr_u16(w, (uint16_t)(s.len & 0xffffu));
    mqs_wr_bytes(w, s.ptr, s.len);
}

void mqs_wr_varint(mqs_wr *w, uint64_t v, int nbytes)
{
    for (int i = 0; i < nbytes; i++) {
        uint8_t b = (uint8_t)(v & 0x7fu);
        v >>= 7;
        if (i + 1 < nbytes)
            b |= 0x80u;
        mqs_wr_u8(w, b);
    }
}

int mqs_varint_size(uint64_t v)
{
    int n = 1;
    while (v > 127u && n < 5) {
        v >>= 7;
        n++;
    }
    return n;
}
