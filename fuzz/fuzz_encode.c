/* encode: packets built field by field from the input go through the
 * validating encoder, and its verdict is checked against the decoder's.
 *
 * The encoder's contract (codec/encode.c): a refusal carries the same status,
 * offset and field mqs_decode reports for the same bytes. So for every packet
 * the input describes:
 *  - mqs_encoded_size and mqs_encode agree on the status;
 *  - refused with a malformed-packet status: mqs_encode_unchecked writes the
 *    bytes anyway, and mqs_decode of them reports that status, offset and field;
 *  - accepted: mqs_decode accepts the bytes, with the same type, strings and
 *    list, and re-encoding the decoded packet gives the same bytes.
 * The empty input checks API misuse (MQS_E_BAD_PARAM, no crash).
 * Input layout: see mqs_fz_build (a cursor; missing bytes read as 0). Strings
 * are views into the input, so over-reads are caught. */
#include "fuzz/fuzz_common.h"

typedef struct mqs_fz_cur {
    const uint8_t *p;
    size_t n;
} mqs_fz_cur;

static uint8_t mqs_fz_u8(mqs_fz_cur *c)
{
    if (c->n == 0)
        return 0;
    c->n--;
    return *c->p++;
}

static uint16_t mqs_fz_u16(mqs_fz_cur *c)
{
    uint16_t hi = mqs_fz_u8(c);
    return (uint16_t)(hi << 8 | mqs_fz_u8(c));
}

/* A string: one length byte, then that many bytes (fewer if the input ends). */
static mqs_str mqs_fz_str(mqs_fz_cur *c)
{
    size_t n = mqs_fz_u8(c);
    mqs_str s = {c->p, n < c->n ? n : c->n};
    c->p += s.len;
    c->n -= s.len;
    return s;
}

static const uint8_t mqs_fz_mqtt[] = "MQTT", mqs_fz_mqisdp[] = "MQIsdp";

/* byte: type (low nibble) + version (bit 4) + dup (5) + retain (6); byte: qos;
 * u16 packet id; then per type: CONNECT flags byte, keepalive and five strings; CONNACK flags and code; PUBLISH topic and payload
 * (the rest); lists a count (0..15) and per item a string and a QoS byte. */
static mqs_version mqs_fz_build(mqs_fz_cur *c, mqs_packet *p, mqs_item *items, size_t cap)
{
    uint8_t b = mqs_fz_u8(c);
    mqs_version v = (b & 0x10u) ? MQS_V31 : MQS_V311;
    p->type = b & 0x0fu;
    p->dup = b & 0x20u;
    p->retain = b & 0x40u;
    p->qos = mqs_fz_u8(c) & 3u;
    p->packet_id = mqs_fz_u16(c);
    p->publish.packet_id = p->packet_id;
    if (p->type == MQS_CONNECT) {
        /* mqs_encode writes the name and level of the version it is given
         * (the fields are for the raw encoder): set them so both write the same. */
        mqs_connect *k = &p->connect;
        k->protocol_name = v == MQS_V31 ? (mqs_str){mqs_fz_mqisdp, 6} : (mqs_str){mqs_fz_mqtt, 4};
        k->protocol_level = (uint8_t)v;
        uint8_t f = mqs_fz_u8(c);
        k->clean_session = f & 0x02u;
        k->will_flag = f & 0x04u;
        k->will_qos = (uint8_t)((f >> 3) & 3u);
        k->will_retain = f & 0x20u;
        k->has_password = f & 0x40u;
        k->has_username = f & 0x80u;
        k->keepalive = mqs_fz_u16(c);
        k->client_id = mqs_fz_str(c);
        k->will_topic = mqs_fz_str(c);
        k->will_payload = mqs_fz_str(c);
        k->username = mqs_fz_str(c);
        k->password = mqs_fz_str(c);
    } else if (p->type == MQS_CONNACK) {
        p->connack.session_present = mqs_fz_u8(c) & 1u;
        p->connack.return_code = mqs_fz_u8(c);
    } else if (p->type == MQS_PUBLISH) {
        p->publish.topic = mqs_fz_str(c);
        p->publish.payload = (mqs_str){c->p, c->n};
    } else if (mqs_fz_has_items(p->type)) {
        p->items = items;
        p->n_items = mqs_fz_u8(c) % (cap + 1);
        for (size_t i = 0; i < p->n_items; i++) {
            items[i].filter = mqs_fz_str(c);
            items[i].qos = mqs_fz_u8(c);
        }
    }
    return v;
}

static bool mqs_fz_field_eq(const char *a, const char *b)
{
    return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* The empty input: API misuse gives MQS_E_BAD_PARAM, never a crash. */
static void mqs_fz_check_misuse(void)
{
    uint8_t buf[64];
    size_t n = 0;
    mqs_packet p;
    memset(&p, 0, sizeof p);
    p.type = MQS_PINGREQ;
    mqs_decode_opts bad_v = {(mqs_version)9, MQS_DIR_ANY, 0};
    MQS_FZ_ASSERT(mqs_decode(NULL, 2, NULL, &p, NULL) == MQS_E_BAD_PARAM);
    MQS_FZ_ASSERT(mqs_decode(buf, 0, &bad_v, &p, NULL) == MQS_E_BAD_PARAM);
    MQS_FZ_ASSERT(mqs_encode(NULL, MQS_V311, buf, sizeof buf, &n, NULL) == MQS_E_BAD_PARAM);
    MQS_FZ_ASSERT(mqs_encode(&p, (mqs_version)9, buf, sizeof buf, &n, NULL) == MQS_E_BAD_PARAM);
    MQS_FZ_ASSERT(mqs_encode(&p, MQS_V311, NULL, 4, &n, NULL) == MQS_E_BAD_PARAM);
    mqs_encode_raw raw = MQS_ENCODE_RAW_INIT;
    raw.rl_bytes = 6;
    MQS_FZ_ASSERT(mqs_encode_unchecked(&p, MQS_V311, &raw, buf, sizeof buf, &n) ==
                  MQS_E_BAD_PARAM);
    raw.rl_bytes = 1;
    raw.remaining_length = 200; /* needs 2 length bytes */
    MQS_FZ_ASSERT(mqs_encode_unchecked(&p, MQS_V311, &raw, buf, sizeof buf, &n) ==
                  MQS_E_BAD_PARAM);
    p.type = 16;
    MQS_FZ_ASSERT(mqs_encode(&p, MQS_V311, buf, sizeof buf, &n, NULL) == MQS_E_BAD_PARAM);
    p.type = MQS_PUBLISH;
    p.publish.topic = (mqs_str){buf, 70000}; /* longer than a string can say */
    MQS_FZ_ASSERT(mqs_encode(&p, MQS_V311, buf, sizeof buf, &n, NULL) == MQS_E_BAD_PARAM);
    p.publish.topic = (mqs_str){(const uint8_t *)"a", 1};
    p.publish.payload = (mqs_str){NULL, 3};
    MQS_FZ_ASSERT(mqs_encode(&p, MQS_V311, buf, sizeof buf, &n, NULL) == MQS_E_BAD_PARAM);
    memset(&p, 0, sizeof p);
    p.type = MQS_SUBSCRIBE;
    p.packet_id = 1;
    p.n_items = 2; /* and no items array */
    MQS_FZ_ASSERT(mqs_encode(&p, MQS_V311, buf, sizeof buf, &n, NULL) == MQS_E_BAD_PARAM);
    memset(&p, 0, sizeof p);
    p.type = MQS_CONNECT;
    p.connect.will_qos = 4;
    MQS_FZ_ASSERT(mqs_encode(&p, MQS_V311, buf, sizeof buf, &n, NULL) == MQS_E_BAD_PARAM);
    mqs_framer f;
    mqs_framer_init(&f, buf, sizeof buf, 0);
    MQS_FZ_ASSERT(mqs_framer_push(&f, NULL, 3) == MQS_E_BAD_PARAM);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        mqs_fz_check_misuse();
    mqs_fz_cur c = {data, size};
    mqs_item items[15], back_items[16];
    mqs_packet p;
    memset(&p, 0, sizeof p);
    mqs_version v = mqs_fz_build(&c, &p, items, 15);

    size_t need = 0, n = 0;
    mqs_diag ed = {0};
    int sst = mqs_encoded_size(&p, v, &need);
    uint8_t *out = malloc(need ? need : 1);
    MQS_FZ_ASSERT(out != NULL);
    int st = mqs_encode(&p, v, out, need, &n, &ed);
    MQS_FZ_ASSERT(mqs_fz_status_known(st) && st == sst && st != MQS_E_BUFFER_TOO_SMALL);
    MQS_FZ_ASSERT(st == MQS_OK || st == MQS_E_BAD_PARAM || mqs_status_is_malformed(st));
    if (st == MQS_E_BAD_PARAM) {
        free(out);
        return 0; /* not writable at all (e.g. reserved type): nothing to compare */
    }
    if (st != MQS_OK) {
        /* The raw builder writes it anyway; the decoder must say the same. */
        size_t rn = 0;
        MQS_FZ_ASSERT(mqs_encode_unchecked(&p, v, NULL, NULL, 0, &rn) ==
                      MQS_E_BUFFER_TOO_SMALL);
        free(out);
        out = malloc(rn);
        MQS_FZ_ASSERT(out != NULL);
        MQS_FZ_ASSERT(mqs_encode_unchecked(&p, v, NULL, out, rn, &n) == MQS_OK && n == rn);
    }
    mqs_decode_opts o = {v, MQS_DIR_ANY, 0};
    mqs_packet q = {.items = back_items, .n_items = 16};
    mqs_diag dd = {0};
    int dst = mqs_decode(out, n, &o, &q, &dd);
    MQS_FZ_ASSERT(dst == st);
    if (st != MQS_OK) {
        MQS_FZ_ASSERT(dd.offset == ed.offset && mqs_fz_field_eq(dd.field, ed.field));
        free(out);
        return 0;
    }
    MQS_FZ_ASSERT(q.type == p.type && mqs_fz_str_eq(q.publish.topic, p.publish.topic));
    MQS_FZ_ASSERT(mqs_fz_str_eq(q.publish.payload, p.publish.payload));
    MQS_FZ_ASSERT(mqs_fz_str_eq(q.connect.client_id, p.connect.client_id));
    MQS_FZ_ASSERT(!mqs_fz_has_items(p.type) || q.n_items == p.n_items);
    size_t n2 = 0;
    uint8_t *again = malloc(n);
    MQS_FZ_ASSERT(again != NULL);
    MQS_FZ_ASSERT(mqs_encode(&q, v, again, n, &n2, NULL) == MQS_OK);
    MQS_FZ_ASSERT(n2 == n && memcmp(again, out, n) == 0);
    free(again);
    free(out);
    return 0;
}
