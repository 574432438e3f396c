/* roundtrip: decode -> mqs_encode -> decode. Byte 0 is the decode
 * configuration (see mqs_fz_config_from), the rest one frame (bytes past the
 * first frame are dropped).
 *
 * The invariant, for every frame the decoder accepts:
 *  1. the validating encoder re-encodes it (status OK) into exactly
 *     mqs_encoded_size bytes; one byte less gives MQS_E_BUFFER_TOO_SMALL and the
 *     size needed;
 *  2. the strict decoder accepts the result, as the same packet: field for field
 *     under 3.1.1; under 3.1 the raw flag bits 3.1 tolerates (see
 *     mqs_fz_packet_eq) may be normalised, every field derived from them may not;
 *  3. the encoding is a fixed point: re-encoding that packet gives the same bytes;
 *  4. the encoder is canonical: a 3.1.1 frame accepted without leniency comes
 *     back byte for byte; with leniency (a non-minimal Remaining Length) the
 *     body bytes are identical;
 *  5. the raw encoder with no overrides writes the same bytes, and with the
 *     length padded to 4 bytes writes a frame the lenient decoder reads as the
 *     same packet. */
#include "fuzz/fuzz_common.h"

/* Encodes p (checking the size contract); returns a malloc'd buffer. */
static uint8_t *mqs_fz_encode(const mqs_packet *p, mqs_version v, size_t *written)
{
    size_t need = 0;
    mqs_diag diag = {0};
    MQS_FZ_ASSERT(mqs_encoded_size(p, v, &need) == MQS_OK && need >= 2);
    uint8_t *out = malloc(need);
    MQS_FZ_ASSERT(out != NULL);
    *written = 0;
    MQS_FZ_ASSERT(mqs_encode(p, v, out, need - 1, written, &diag) == MQS_E_BUFFER_TOO_SMALL);
    MQS_FZ_ASSERT(*written == need);
    *written = 0;
    MQS_FZ_ASSERT(mqs_encode(p, v, out, need, written, &diag) == MQS_OK && *written == need);
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    mqs_fz_config cfg = mqs_fz_config_from(data[0]);
    const uint8_t *buf = data + 1;
    size_t len = size - 1;
    size_t hdr = 0;
    len = mqs_fz_first_frame(buf, len, cfg.opts.lenient, &hdr); /* only the first frame */
    mqs_item items[64], again[64], third[64];
    mqs_packet pkt = {.items = items, .n_items = 64};
    if (mqs_decode(buf, len, &cfg.opts, &pkt, NULL) != MQS_OK)
        return 0;
    mqs_version v = cfg.opts.version;
    if (pkt.type == MQS_CONNECT) /* a CONNECT is judged by its own protocol level */
        v = pkt.connect.protocol_level == MQS_V31 ? MQS_V31 : MQS_V311;

    size_t n = 0, n2 = 0;
    uint8_t *out = mqs_fz_encode(&pkt, v, &n);
    mqs_decode_opts strict = cfg.opts;
    strict.lenient = 0;
    mqs_packet back = {.items = again, .n_items = 64};
    MQS_FZ_ASSERT(mqs_decode(out, n, &strict, &back, NULL) == MQS_OK);
    MQS_FZ_ASSERT(mqs_fz_packet_eq(&pkt, &back, v == MQS_V311));

    uint8_t *out2 = mqs_fz_encode(&back, v, &n2);
    MQS_FZ_ASSERT(n2 == n && memcmp(out2, out, n) == 0);
    mqs_packet third_pkt = {.items = third, .n_items = 64};
    MQS_FZ_ASSERT(mqs_decode(out2, n2, &strict, &third_pkt, NULL) == MQS_OK);
    MQS_FZ_ASSERT(mqs_fz_packet_eq(&back, &third_pkt, true));

    uint8_t *raw = malloc(n + 3);
    size_t rn = 0;
    MQS_FZ_ASSERT(raw != NULL);
    MQS_FZ_ASSERT(mqs_encode_unchecked(&back, v, NULL, raw, n, &rn) == MQS_OK);
    MQS_FZ_ASSERT(rn == n && memcmp(raw, out, n) == 0);
    mqs_encode_raw pad = MQS_ENCODE_RAW_INIT;
    pad.rl_bytes = 4;
    MQS_FZ_ASSERT(mqs_encode_unchecked(&back, v, &pad, raw, n + 3, &rn) == MQS_OK);
    mqs_decode_opts lenient = strict;
    lenient.lenient = MQS_LENIENT_NON_MINIMAL_RL;
    MQS_FZ_ASSERT(mqs_decode(raw, rn, &lenient, &third_pkt, NULL) == MQS_OK);
    MQS_FZ_ASSERT(rn == n - (n - back.remaining_length) + 5);
    MQS_FZ_ASSERT(mqs_fz_packet_eq(&back, &third_pkt, true));
    free(raw);

    if (v == MQS_V311) {
        size_t hout = n - back.remaining_length;
        MQS_FZ_ASSERT(out[0] == buf[0]);
        MQS_FZ_ASSERT(memcmp(out + hout, buf + hdr, pkt.remaining_length) == 0);
        if (cfg.opts.lenient == 0)
            MQS_FZ_ASSERT(n == len && memcmp(out, buf, len) == 0);
    }
    free(out);
    free(out2);
    return 0;
}
