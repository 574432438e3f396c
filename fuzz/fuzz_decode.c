/* decode: one whole frame through mqs_decode. Byte 0 picks the version,
 * direction, leniency and item capacity (see mqs_fz_config_from); the rest is
 * the frame. Invariants: status in the table with a matching diag; a decoded
 * packet only points into the input; bytes past the frame are refused with
 * MQS_E_BAD_PARAM (and the frame alone is then decoded); a longer item array never changes the
 * verdict; the status's name maps back to it; a decoded packet formats to
 * text (snprintf contract); a packet type only comes from its side; a frame cut short is MQS_NEED_MORE; leniency only ever accepts more. */
#include "codec/format.h"
#include "fuzz/fuzz_common.h"

/* Packet types each side may send (MQTT 3.1.1 section 2.2.1, "Direction of flow"). */
#define MQS_FZ_BIT(t) (1u << (t))
static const unsigned mqs_fz_from_client =
    MQS_FZ_BIT(MQS_CONNECT) | MQS_FZ_BIT(MQS_PUBLISH) | MQS_FZ_BIT(MQS_PUBACK) |
    MQS_FZ_BIT(MQS_PUBREC) | MQS_FZ_BIT(MQS_PUBREL) | MQS_FZ_BIT(MQS_PUBCOMP) |
    MQS_FZ_BIT(MQS_SUBSCRIBE) | MQS_FZ_BIT(MQS_UNSUBSCRIBE) | MQS_FZ_BIT(MQS_PINGREQ) |
    MQS_FZ_BIT(MQS_DISCONNECT);
static const unsigned mqs_fz_from_server =
    MQS_FZ_BIT(MQS_CONNACK) | MQS_FZ_BIT(MQS_PUBLISH) | MQS_FZ_BIT(MQS_PUBACK) |
    MQS_FZ_BIT(MQS_PUBREC) | MQS_FZ_BIT(MQS_PUBREL) | MQS_FZ_BIT(MQS_PUBCOMP) |
    MQS_FZ_BIT(MQS_SUBACK) | MQS_FZ_BIT(MQS_UNSUBACK) | MQS_FZ_BIT(MQS_PINGRESP);

static void mqs_fz_check_packet(const mqs_packet *p, const mqs_decode_opts *o, const uint8_t *buf,
                                size_t len)
{
    MQS_FZ_ASSERT(p->type >= MQS_CONNECT && p->type <= MQS_DISCONNECT);
    if (o->dir == MQS_DIR_TO_SERVER)
        MQS_FZ_ASSERT(mqs_fz_from_client & MQS_FZ_BIT(p->type));
    if (o->dir == MQS_DIR_TO_CLIENT)
        MQS_FZ_ASSERT(mqs_fz_from_server & MQS_FZ_BIT(p->type));
    MQS_FZ_ASSERT(p->remaining_length < len);
    MQS_FZ_ASSERT(p->type != MQS_PUBLISH || p->qos <= 2);
    MQS_FZ_ASSERT(mqs_fz_view_inside(p->publish.topic, buf, len));
    MQS_FZ_ASSERT(mqs_fz_view_inside(p->publish.payload, buf, len));
    const mqs_connect *c = &p->connect;
    MQS_FZ_ASSERT(mqs_fz_view_inside(c->protocol_name, buf, len));
    MQS_FZ_ASSERT(mqs_fz_view_inside(c->client_id, buf, len));
    MQS_FZ_ASSERT(mqs_fz_view_inside(c->will_topic, buf, len));
    MQS_FZ_ASSERT(mqs_fz_view_inside(c->will_payload, buf, len));
    MQS_FZ_ASSERT(mqs_fz_view_inside(c->username, buf, len));
    MQS_FZ_ASSERT(mqs_fz_view_inside(c->password, buf, len));
    for (size_t i = 0; mqs_fz_has_items(p->type) && i < p->n_items; i++)
        MQS_FZ_ASSERT(mqs_fz_view_inside(p->items[i].filter, buf, len));
}

/* mqs_format_packet follows snprintf: needed length, NUL-terminated prefix. */
static void mqs_fz_check_format(const mqs_packet *p)
{
    size_t need = mqs_format_packet(p, NULL, 0);
    char *txt = malloc(need + 1);
    MQS_FZ_ASSERT(txt != NULL);
    MQS_FZ_ASSERT(mqs_format_packet(p, txt, need + 1) == need && strlen(txt) == need);
    size_t half = need / 2 + 1;
    MQS_FZ_ASSERT(mqs_format_packet(p, txt, half) == need && strlen(txt) == half - 1);
    free(txt);
}

/* The status table lookups are total and agree with each other. */
static void mqs_fz_check_status_table(void)
{
    size_t n = mqs_status_count();
    for (size_t i = 0; i < n; i++) {
        int st = mqs_status_at(i);
        MQS_FZ_ASSERT(st >= 0 && mqs_status_from_name(mqs_status_name(st)) == st);
        MQS_FZ_ASSERT(mqs_status_from_name(mqs_status_name(st) + 4) == st); /* no "MQS_" */
        MQS_FZ_ASSERT(mqs_status_is_malformed(st) == (st >= 100 && st <= 899));
        MQS_FZ_ASSERT(!mqs_status_is_malformed(st) || mqs_status_rule(st) != NULL);
    }
    MQS_FZ_ASSERT(mqs_status_at(n) == -1 && mqs_status_from_name("NO_SUCH") == -1);
    MQS_FZ_ASSERT(strcmp(mqs_status_str(-7), "unknown status") == 0);
    MQS_FZ_ASSERT(mqs_status_rule(-7) == NULL && !mqs_status_is_malformed(555));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (size == 1)
        mqs_fz_check_status_table(); /* once per short input: it is slow */
    mqs_fz_config cfg = mqs_fz_config_from(data[0]);
    const uint8_t *buf = data + 1;
    size_t len = size - 1;
    /* Bytes past the frame are a caller error; then decode the frame alone. */
    size_t hdr = 0, flen = mqs_fz_first_frame(buf, len, cfg.opts.lenient, &hdr);
    if (flen < len) {
        mqs_packet whole = {0};
        MQS_FZ_ASSERT(mqs_decode(buf, len, &cfg.opts, &whole, NULL) == MQS_E_BAD_PARAM);
        len = flen;
    }
    mqs_item items[15], more[64], other[64];
    mqs_packet pkt = {.items = items, .n_items = cfg.item_cap};
    mqs_diag diag = {0};
    /* Configuration 0 is the documented default: also reachable as opts == NULL. */
    int st = mqs_decode(buf, len, data[0] == 0 ? NULL : &cfg.opts, &pkt, &diag);
    mqs_fz_check_status(st, &diag, len);
    MQS_FZ_ASSERT(mqs_status_from_name(mqs_status_name(st)) == st);
    MQS_FZ_ASSERT(mqs_status_str(st) != NULL);
    MQS_FZ_ASSERT(st != MQS_E_BAD_PARAM && st != MQS_E_BUFFER_TOO_SMALL && st != MQS_E_INTERNAL);

    /* With room for every item the verdict is OK exactly where it was OK or
     * "too many items" before. */
    mqs_packet big = {.items = more, .n_items = 64};
    mqs_diag bdiag = {0};
    int bst = mqs_decode(buf, len, &cfg.opts, &big, &bdiag);
    if (st == MQS_E_TOO_MANY_ITEMS) {
        MQS_FZ_ASSERT(pkt.n_items > cfg.item_cap);
        MQS_FZ_ASSERT(bst == MQS_OK || (bst == MQS_E_TOO_MANY_ITEMS && big.n_items > 64));
    } else {
        MQS_FZ_ASSERT(bst == st && bdiag.offset == diag.offset);
    }
    if (st != MQS_OK)
        return 0;
    MQS_FZ_ASSERT(!mqs_fz_has_items(pkt.type) || pkt.n_items <= cfg.item_cap);
    mqs_fz_check_packet(&pkt, &cfg.opts, buf, len);
    mqs_fz_check_format(&pkt);
    MQS_FZ_ASSERT(mqs_fz_packet_eq(&pkt, &big, true));

    /* The same frame one byte short is never a packet. */
    mqs_packet cut = {.items = more, .n_items = 64};
    MQS_FZ_ASSERT(mqs_decode(buf, len - 1, &cfg.opts, &cut, NULL) == MQS_NEED_MORE);

    /* Leniency relaxes checks; it never rejects or changes a strict packet. */
    if (cfg.opts.lenient == 0) {
        mqs_decode_opts lo = cfg.opts;
        lo.lenient = MQS_LENIENT_NON_MINIMAL_RL;
        mqs_packet lp = {.items = other, .n_items = 64};
        MQS_FZ_ASSERT(mqs_decode(buf, len, &lo, &lp, NULL) == MQS_OK);
        MQS_FZ_ASSERT(mqs_fz_packet_eq(&lp, &big, true));
    }
    return 0;
}
