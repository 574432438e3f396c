/* stream: the framer + decoder fed a byte stream in one piece, in three pieces
 * cut where bytes 0 and 1 say, and in tiny pieces (one byte, or 1..8 bytes for
 * streams over 512 bytes) must produce exactly the
 * same frames (same offsets, same bytes), the same decode verdicts and the same
 * final state (waiting for more, or the same framing error). Byte 2 is the
 * decode configuration (mqs_fz_config_from); the stream starts at byte 3. */
#include "fuzz/fuzz_common.h"

typedef struct mqs_fz_event {
    int status;   /* mqs_framer_next: MQS_OK or a framing error (the last event) */
    size_t start; /* frame offset in the stream */
    size_t len;
    int decoded; /* mqs_decode status of the frame */
    size_t decode_off;
} mqs_fz_event;

typedef struct mqs_fz_run {
    mqs_fz_event *ev;
    size_t n_ev;
    size_t framed; /* stream bytes handed out as frames */
} mqs_fz_run;

/* End of the piece starting at pos: every `step` bytes, or at the cuts. */
static size_t mqs_fz_next_cut(size_t pos, size_t n, size_t step, size_t c1, size_t c2)
{
    if (step)
        return pos + step < n ? pos + step : n;
    if (c1 > pos)
        return c1;
    return c2 > pos ? c2 : n;
}

/* Frames a chunk's worth of buffered bytes; false once the framer failed. */
static bool mqs_fz_drain(mqs_framer *f, const uint8_t *s, const mqs_fz_config *cfg,
                         mqs_fz_run *r)
{
    for (;;) {
        const uint8_t *frame = NULL;
        size_t flen = 0;
        mqs_diag diag = {0};
        int st = mqs_framer_next(f, &frame, &flen, &diag);
        mqs_fz_check_status(st, &diag, f->len);
        if (st == MQS_NEED_MORE)
            return true;
        mqs_fz_event *e = &r->ev[r->n_ev++];
        memset(e, 0, sizeof *e);
        e->status = st;
        e->start = r->framed;
        if (st != MQS_OK) {
            e->decode_off = diag.offset;
            return false;
        }
        MQS_FZ_ASSERT(frame >= f->buf && flen <= f->cap && frame + flen <= f->buf + f->cap);
        MQS_FZ_ASSERT(memcmp(frame, s + r->framed, flen) == 0);
        mqs_item items[64];
        mqs_packet pkt = {.items = items, .n_items = 64};
        mqs_diag dd = {0};
        e->len = flen;
        e->decoded = mqs_decode(frame, flen, &cfg->opts, &pkt, &dd);
        e->decode_off = dd.offset;
        MQS_FZ_ASSERT(e->decoded != MQS_NEED_MORE);
        r->framed += flen;
    }
}

static void mqs_fz_stream(const uint8_t *s, size_t n, size_t step, size_t c1, size_t c2,
                          const mqs_fz_config *cfg, mqs_fz_run *r)
{
    uint8_t *storage = malloc(n + 1); /* room for the whole stream: push never fails */
    MQS_FZ_ASSERT(storage != NULL);
    mqs_framer f;
    mqs_framer_init(&f, storage, n + 1, cfg->opts.lenient);
    r->n_ev = 0;
    r->framed = 0;
    for (size_t pos = 0; pos < n;) {
        size_t end = mqs_fz_next_cut(pos, n, step, c1, c2);
        MQS_FZ_ASSERT(mqs_framer_push(&f, s + pos, end - pos) == MQS_OK);
        pos = end;
        if (!mqs_fz_drain(&f, s, cfg, r))
            break;
    }
    free(storage);
}

static void mqs_fz_same(const mqs_fz_run *a, const mqs_fz_run *b)
{
    MQS_FZ_ASSERT(a->n_ev == b->n_ev && a->framed == b->framed);
    for (size_t i = 0; i < a->n_ev; i++) {
        const mqs_fz_event *x = &a->ev[i], *y = &b->ev[i];
        MQS_FZ_ASSERT(x->status == y->status && x->start == y->start && x->len == y->len);
        MQS_FZ_ASSERT(x->decoded == y->decoded && x->decode_off == y->decode_off);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    mqs_fz_config cfg = mqs_fz_config_from(data[2]);
    const uint8_t *s = data + 3;
    size_t n = size - 3;
    size_t c1 = (data[0] * (n + 1)) >> 8, c2 = (data[1] * (n + 1)) >> 8;
    if (c1 > c2) {
        size_t t = c1;
        c1 = c2;
        c2 = t;
    }
    size_t max_ev = n / 2 + 2; /* every frame is at least 2 bytes, plus one error */
    mqs_fz_run whole = {malloc(max_ev * sizeof(mqs_fz_event)), 0, 0};
    mqs_fz_run cut = {malloc(max_ev * sizeof(mqs_fz_event)), 0, 0};
    MQS_FZ_ASSERT(whole.ev != NULL && cut.ev != NULL);

    mqs_fz_stream(s, n, n ? n : 1, 0, 0, &cfg, &whole);
    mqs_fz_stream(s, n, 0, c1, c2, &cfg, &cut);
    mqs_fz_same(&whole, &cut);
    /* Tiny pieces: one byte at a time for short streams, 1..8 bytes for longer ones
     * (one framer call per piece: byte-by-byte on 4 KiB inputs costs 4096 calls). */
    size_t step = n <= 512 ? 1 : (size_t)((data[0] ^ data[1]) & 7u) + 1;
    mqs_fz_stream(s, n, step, 0, 0, &cfg, &cut);
    mqs_fz_same(&whole, &cut);
    free(whole.ev);
    free(cut.ev);
    return 0;
}
