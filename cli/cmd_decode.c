/* mqttspec decode: hex or raw MQTT bytes -> one JSON object per packet. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/input.h"
#include "codec/mqtt.h"
#include "conformance/alloc.h"
#include "conformance/packet_json.h"

static const char decode_usage[] =
    "usage: mqttspec decode [options] HEX...|-\n"
    "\n"
    "Decodes MQTT 3.1/3.1.1 control packets and prints each as one JSON object per\n"
    "line. HEX may contain spaces, ':' or ',' between bytes and 0x prefixes; several\n"
    "arguments are joined. '-' reads stdin: hex text, or raw bytes when it is not hex.\n"
    "\n"
    "options:\n"
    "  --protocol 3.1|3.1.1   version for packets other than CONNECT (default 3.1.1;\n"
    "                         a CONNECT in the stream switches to its own version)\n"
    "  --dir any|to-server|to-client\n"
    "                         who sent the bytes (default any)\n"
    "  --lenient-rl           accept a non-minimal Remaining Length encoding\n"
    "  --raw / --hex          force how stdin is read\n"
    "  -h, --help             this text\n"
    "\n"
    "exit: 0 the input is whole, well-formed packets; 1 a packet is malformed or the\n"
    "input ends inside a packet (a JSON line with \"error\" says which rule, where);\n"
    "2 bad usage or bad hex.\n";

typedef struct decode_opts {
    mqs_decode_opts dec;
    int stdin_mode; /* 0 auto, 1 raw, 2 hex */
    bool use_stdin;
} decode_opts;

static int usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "mqttspec decode: %s%s%s\n%s", msg, arg ? " " : "", arg ? arg : "",
            "try 'mqttspec decode --help'\n");
    return MQS_EXIT_USAGE;
}

/* Parses options; collects hex arguments into *bytes. Returns -1 to go on, else an exit code. */
static int parse_args(int argc, char **argv, decode_opts *o, uint8_t **bytes, size_t *len)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        long bad = 0;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(decode_usage, stdout);
            return MQS_EXIT_OK;
        } else if (!strcmp(a, "--protocol") && i + 1 < argc) {
            const char *v = argv[++i];
            if (strcmp(v, "3.1") && strcmp(v, "3.1.1"))
                return usage_error("--protocol takes 3.1 or 3.1.1, not", v);
            o->dec.version = strcmp(v, "3.1") == 0 ? MQS_V31 : MQS_V311;
        } else if (!strcmp(a, "--dir") && i + 1 < argc) {
            const char *v = argv[++i];
            if (!strcmp(v, "any"))
                o->dec.dir = MQS_DIR_ANY;
            else if (!strcmp(v, "to-server"))
                o->dec.dir = MQS_DIR_TO_SERVER;
            else if (!strcmp(v, "to-client"))
                o->dec.dir = MQS_DIR_TO_CLIENT;
            else
                return usage_error("--dir takes any, to-server or to-client, not", v);
        } else if (!strcmp(a, "--lenient-rl")) {
            o->dec.lenient |= MQS_LENIENT_NON_MINIMAL_RL;
        } else if (!strcmp(a, "--raw") || !strcmp(a, "--hex")) {
            o->stdin_mode = a[2] == 'r' ? 1 : 2;
        } else if (!strcmp(a, "-")) {
            o->use_stdin = true;
        } else if (a[0] == '-' && a[1] == '-') {
            return usage_error("unknown or incomplete option", a);
        } else if (mqs_hex_append(a, strlen(a), bytes, len, &bad) != 0) {
            if (bad < 0)
                return usage_error("out of memory", NULL);
            fprintf(stderr, "mqttspec decode: bad hex in argument '%s' at character %ld\n", a,
                    bad + 1);
            return MQS_EXIT_USAGE;
        }
    }
    return -1;
}

static int read_stdin(const decode_opts *o, uint8_t **bytes, size_t *len)
{
    size_t n = 0;
    long bad = 0;
    uint8_t *in = mqs_read_all(stdin, &n);
    if (in == NULL) {
        fprintf(stderr, "mqttspec decode: cannot read stdin\n");
        return MQS_EXIT_USAGE;
    }
    bool hex = o->stdin_mode == 2 || (o->stdin_mode == 0 && mqs_looks_like_hex(in, n));
    int rc = -1;
    if (!hex) {
        uint8_t *grown = mqs_realloc(*bytes, *len + n + 1);
        if (grown) {
            memcpy(grown + *len, in, n);
            *bytes = grown;
            *len += n;
        } else {
            rc = usage_error("out of memory", NULL);
        }
    } else if (mqs_hex_append((const char *)in, n, bytes, len, &bad) != 0) {
        fprintf(stderr, "mqttspec decode: bad hex on stdin at byte %ld\n", bad + 1);
        rc = MQS_EXIT_USAGE;
    }
    mqs_free(in);
    return rc;
}

static void print_json(cJSON *o)
{
    char *s = o ? cJSON_PrintUnformatted(o) : NULL;
    if (s)
        printf("%s\n", s);
    else
        fprintf(stderr, "mqttspec decode: out of memory\n");
    cJSON_free(s);
    cJSON_Delete(o);
}

static int report_malformed(const mqs_diag *d, size_t start, size_t index)
{
    const char *rule = mqs_status_rule(d->status);
    const char *name = mqs_status_name(d->status) + 4; /* without MQS_ */
    cJSON *o = cJSON_CreateObject();
    if (o) {
        cJSON_AddStringToObject(o, "error", "malformed");
        cJSON_AddStringToObject(o, "status", name);
        cJSON_AddStringToObject(o, "rule", rule ? rule : "");
        cJSON_AddNumberToObject(o, "offset", (double)d->offset);
        cJSON_AddNumberToObject(o, "stream_offset", (double)(start + d->offset));
        cJSON_AddNumberToObject(o, "packet_index", (double)index);
        cJSON_AddStringToObject(o, "field", d->field ? d->field : "");
        cJSON_AddStringToObject(o, "message", mqs_status_str(d->status));
    }
    print_json(o);
    fprintf(stderr, "mqttspec decode: packet %zu at byte %zu is malformed: %s %s (%s, byte %zu of the packet)\n",
            index, start, rule ? rule : name, mqs_status_str(d->status), d->field ? d->field : "-",
            d->offset);
    return MQS_EXIT_FAIL;
}

static int report_incomplete(size_t start, size_t have, long need, size_t index)
{
    cJSON *o = cJSON_CreateObject();
    if (o) {
        cJSON_AddStringToObject(o, "error", "incomplete");
        cJSON_AddNumberToObject(o, "stream_offset", (double)start);
        cJSON_AddNumberToObject(o, "packet_index", (double)index);
        cJSON_AddNumberToObject(o, "have", (double)have);
        if (need >= 0)
            cJSON_AddNumberToObject(o, "needed", (double)need);
        cJSON_AddStringToObject(o, "message", "input ends inside a packet");
    }
    print_json(o);
    if (need >= 0)
        fprintf(stderr, "mqttspec decode: packet %zu at byte %zu is incomplete: %zu of %zu bytes\n",
                index, start, have, have + (size_t)need);
    else
        fprintf(stderr, "mqttspec decode: packet %zu at byte %zu is incomplete: the fixed header is cut\n",
                index, start);
    return MQS_EXIT_FAIL;
}

/* Decodes one whole frame, growing the item array when the packet has more entries. */
static int decode_one(const uint8_t *frame, size_t n, const mqs_decode_opts *o, mqs_diag *d,
                      mqs_version *next)
{
    mqs_item small[64];
    mqs_item *items = small;
    mqs_packet p = {.items = small, .n_items = 64};
    int st = mqs_decode(frame, n, o, &p, d);
    if (st == MQS_E_TOO_MANY_ITEMS) {
        items = mqs_calloc(p.n_items, sizeof *items);
        if (items == NULL)
            return MQS_E_INTERNAL;
        p.items = items;
        st = mqs_decode(frame, n, o, &p, d);
    }
    if (st == MQS_OK)
        print_json(mqs_packet_to_json(&p));
    if (st == MQS_OK && p.type == MQS_CONNECT) /* later packets follow its version */
        *next = (mqs_version)p.connect.protocol_level;
    if (items != small)
        mqs_free(items);
    return st;
}

static int decode_stream(const uint8_t *bytes, size_t len, decode_opts *o)
{
    size_t pos = 0, index = 0;
    while (pos < len) {
        uint32_t rl = 0;
        size_t hdr = 0;
        mqs_diag d = {0};
        int st = mqs_frame_peek(bytes + pos, len - pos, o->dec.lenient, NULL, NULL, &rl, &hdr, &d);
        if (st == MQS_NEED_MORE)
            return report_incomplete(pos, len - pos, -1, index);
        if (st != MQS_OK)
            return report_malformed(&d, pos, index);
        if (len - pos - hdr < rl)
            return report_incomplete(pos, len - pos, (long)(hdr + rl - (len - pos)), index);
        st = decode_one(bytes + pos, hdr + rl, &o->dec, &d, &o->dec.version);
        if (st == MQS_E_INTERNAL) {
            fprintf(stderr, "mqttspec decode: out of memory\n");
            return MQS_EXIT_USAGE;
        }
        if (st != MQS_OK)
            return report_malformed(&d, pos, index);
        pos += hdr + rl;
        index++;
    }
    return MQS_EXIT_OK;
}

int mqs_cmd_decode(int argc, char **argv)
{
    decode_opts o = {.dec = {MQS_V311, MQS_DIR_ANY, 0}};
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc = parse_args(argc, argv, &o, &bytes, &len);
    if (rc < 0 && o.use_stdin)
        rc = read_stdin(&o, &bytes, &len);
    if (rc < 0 && len == 0)
        rc = usage_error("no input: give HEX arguments or '-' for stdin", NULL);
    if (rc < 0)
        rc = decode_stream(bytes, len, &o);
    mqs_free(bytes);
    return rc;
}
