/* roundtrip: decode -> mqs_encode -> decode. Byte 0 is the decode
 * configuration (see mqs_fz_config_from), the rest one frame.
 *
 * The invariant: every frame the strict decoder accepts is re-encoded by the
 * validating encoder (no status but OK), into exactly mqs_encoded_size bytes,
 * whose decode is the same packet field by field; and the encoder is canonical,
 * so the bytes are the input itself -- except for the one thing leniency lets
 * through, a non-minimal Remaining Length, which is re-encoded minimally (the
 * body bytes are still identical). A buffer one byte short gives
 * MQS_E_BUFFER_TOO_SMALL and the size needed. */
#include "fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    mqs_fz_config cfg = mqs_fz_config_from(data[0]);
    const uint8_t *buf = data + 1;
    size_t len = size - 1;
    mqs_item items[64], again[64];
    mqs_packet pkt = {.items = items, .n_items = 64};
    if (mqs_decode(buf, len, &cfg.opts, &pkt, NULL) != MQS_OK)
        return 0;
    mqs_version v = cfg.opts.version;
    if (pkt.type == MQS_CONNECT)
        v = pkt.connect.protocol_level == MQS_V31 ? MQS_V31 : MQS_V311;

    size_t need = 0, written = 0;
    mqs_diag diag = {0};
    MQS_FZ_ASSERT(mqs_encoded_size(&pkt, v, &need) == MQS_OK);
    uint8_t *out = malloc(need);
    MQS_FZ_ASSERT(out != NULL);
    MQS_FZ_ASSERT(mqs_encode(&pkt, v, out, need - 1, &written, &diag) == MQS_E_BUFFER_TOO_SMALL);
    MQS_FZ_ASSERT(written == need);
    written = 0;
    MQS_FZ_ASSERT(mqs_encode(&pkt, v, out, need, &written, &diag) == MQS_OK && written == need);

    mqs_packet back = {.items = again, .n_items = 64};
    mqs_decode_opts strict = cfg.opts;
    strict.lenient = 0;
    MQS_FZ_ASSERT(mqs_decode(out, written, &strict, &back, NULL) == MQS_OK);
    MQS_FZ_ASSERT(mqs_fz_packet_eq(&pkt, &back));

    size_t hin = len - pkt.remaining_length, hout = written - back.remaining_length;
    MQS_FZ_ASSERT(out[0] == buf[0]);
    MQS_FZ_ASSERT(memcmp(out + hout, buf + hin, pkt.remaining_length) == 0);
    if (cfg.opts.lenient == 0)
        MQS_FZ_ASSERT(written == len && memcmp(out, buf, len) == 0);
    free(out);
    return 0;
}
