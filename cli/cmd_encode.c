/* mqttspec encode: the JSON form of `mqttspec decode` -> packet bytes as hex. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/input.h"
#include "codec/format.h"
#include "codec/mqtt.h"
#include "conformance/alloc.h"
#include "conformance/packet_json.h"

static const char encode_usage[] =
    "usage: mqttspec encode [options] [FILE|-]\n"
    "\n"
    "Reads packets in the JSON form `mqttspec decode` prints (one object per line, or\n"
    "one JSON array) from FILE or stdin and prints each packet as one line of hex.\n"
    "The encoder is canonical and validating: it refuses a packet mqttspec decode would\n"
    "call malformed. \"flags\" and \"connect_flags\" are kept when the result is valid.\n"
    "\n"
    "options:\n"
    "  --protocol 3.1|3.1.1   version for packets other than CONNECT (default 3.1.1;\n"
    "                         a CONNECT switches to its protocol_level)\n"
    "  --unchecked            write exactly what the JSON says (QoS 3, bad strings,\n"
    "                         packet id 0, any flags): for building malformed packets\n"
    "  -h, --help             this text\n"
    "\n"
    "exit: 0 all packets encoded; 1 a packet was refused (the rule is printed);\n"
    "2 bad usage or bad JSON.\n";

typedef struct encode_opts {
    mqs_version version;
    bool unchecked;
    const char *path;
} encode_opts;

static int usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "mqttspec encode: %s%s%s\ntry 'mqttspec encode --help'\n", msg,
            arg ? " " : "", arg ? arg : "");
    return MQS_EXIT_USAGE;
}

static int parse_args(int argc, char **argv, encode_opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(encode_usage, stdout);
            return MQS_EXIT_OK;
        } else if (!strcmp(a, "--protocol") && i + 1 < argc) {
            const char *v = argv[++i];
            if (strcmp(v, "3.1") && strcmp(v, "3.1.1"))
                return usage_error("--protocol takes 3.1 or 3.1.1, not", v);
            o->version = strcmp(v, "3.1") == 0 ? MQS_V31 : MQS_V311;
        } else if (!strcmp(a, "--unchecked")) {
            o->unchecked = true;
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage_error("unknown or incomplete option", a);
        } else if (o->path) {
            return usage_error("more than one input file:", a);
        } else {
            o->path = a;
        }
    }
    return -1;
}

/* Bytes for one packet into a new buffer; returns a codec status. */
static int encode_packet(const mqs_json_packet *jp, mqs_version v, bool unchecked, uint8_t **out,
                         size_t *n, mqs_diag *d)
{
    mqs_encode_raw raw = MQS_ENCODE_RAW_INIT;
    raw.fixed_flags = jp->flags;
    raw.connect_flags = jp->connect_flags;
    size_t need = 0;
    int st = unchecked ? mqs_encode_unchecked(&jp->pkt, v, &raw, NULL, 0, &need)
                       : mqs_encode(&jp->pkt, v, NULL, 0, &need, d);
    if (st != MQS_E_BUFFER_TOO_SMALL)
        return st;
    *out = mqs_malloc(need);
    if (*out == NULL)
        return MQS_E_INTERNAL;
    /* Given flags are kept, as long as the packet stays valid. */
    st = mqs_encode_unchecked(&jp->pkt, v, &raw, *out, need, n);
    if (st != MQS_OK || unchecked)
        return st;
    mqs_decode_opts o = {v, MQS_DIR_ANY, 0};
    mqs_packet p = {0};
    st = mqs_decode(*out, *n, &o, &p, d);
    return st == MQS_E_TOO_MANY_ITEMS ? MQS_OK : st;
}

static mqs_version packet_version(const mqs_json_packet *jp, mqs_version current)
{
    if (jp->pkt.type != MQS_CONNECT)
        return current;
    if (jp->pkt.connect.protocol_level == MQS_V31)
        return MQS_V31;
    if (jp->pkt.connect.protocol_level == 0 && jp->pkt.connect.protocol_name.len == 6)
        return MQS_V31; /* "MQIsdp" without a level */
    return MQS_V311;
}

static int encode_object(const cJSON *obj, encode_opts *o, size_t index)
{
    mqs_json_packet jp;
    char err[256];
    if (mqs_packet_from_json(obj, &jp, err, sizeof err) != 0) {
        mqs_json_packet_free(&jp);
        fprintf(stderr, "mqttspec encode: packet %zu: %s\n", index, err);
        return MQS_EXIT_USAGE;
    }
    mqs_version v = packet_version(&jp, o->version);
    uint8_t *bytes = NULL;
    size_t n = 0;
    mqs_diag d = {0};
    int st = encode_packet(&jp, v, o->unchecked, &bytes, &n, &d);
    int rc = MQS_EXIT_OK;
    if (st == MQS_OK) {
        char *hex = mqs_malloc(2 * n + 1);
        if (hex) {
            mqs_format_hex(bytes, n, 0, hex, 2 * n + 1);
            printf("%s\n", hex);
        }
        mqs_free(hex);
        if (jp.pkt.type == MQS_CONNECT)
            o->version = v;
    } else if (st == MQS_E_BAD_PARAM || st == MQS_E_INTERNAL) {
        fprintf(stderr, "mqttspec encode: packet %zu: %s\n", index, mqs_status_str(st));
        rc = MQS_EXIT_USAGE;
    } else {
        const char *rule = mqs_status_rule(st);
        fprintf(stderr, "mqttspec encode: packet %zu refused: %s %s (%s, byte %zu)\n", index,
                rule ? rule : mqs_status_name(st), mqs_status_str(st), d.field ? d.field : "-",
                d.offset);
        rc = MQS_EXIT_FAIL;
    }
    mqs_free(bytes);
    mqs_json_packet_free(&jp);
    return rc;
}

/* A whole JSON document (object or array), else one object per non-empty line. */
static int encode_text(char *text, size_t len, encode_opts *o)
{
    const char *end = NULL;
    cJSON *all = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    size_t index = 0;
    int rc = MQS_EXIT_OK;
    if (all && end && strspn(end, " \t\r\n") == strlen(end)) {
        if (cJSON_IsArray(all)) {
            for (const cJSON *e = all->child; e && rc == MQS_EXIT_OK; e = e->next)
                rc = encode_object(e, o, index++);
        } else {
            rc = encode_object(all, o, index++);
        }
        cJSON_Delete(all);
        return rc;
    }
    cJSON_Delete(all);
    char *save = NULL;
    size_t lineno = 0;
    for (char *line = strtok_r(text, "\n", &save); line && rc == MQS_EXIT_OK;
         line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        if (strspn(line, " \t\r") == strlen(line))
            continue;
        cJSON *obj = cJSON_ParseWithLengthOpts(line, strlen(line), &end, 0);
        if (obj == NULL || strspn(end, " \t\r") != strlen(end)) {
            fprintf(stderr, "mqttspec encode: line %zu: not a JSON object (near byte %ld)\n",
                    lineno, obj ? (long)(end - line) : (long)(end ? end - line : 0));
            rc = MQS_EXIT_USAGE;
        } else {
            rc = encode_object(obj, o, index++);
        }
        cJSON_Delete(obj);
    }
    if (rc == MQS_EXIT_OK && index == 0)
        rc = usage_error("no packets in the input", NULL);
    return rc;
}

int mqs_cmd_encode(int argc, char **argv)
{
    encode_opts o = {.version = MQS_V311};
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0)
        return rc;
    bool use_stdin = o.path == NULL || strcmp(o.path, "-") == 0;
    FILE *fp = use_stdin ? stdin : fopen(o.path, "rb");
    if (fp == NULL)
        return usage_error("cannot open", o.path);
    size_t len = 0;
    uint8_t *text = mqs_read_all(fp, &len);
    if (!use_stdin)
        fclose(fp);
    if (text == NULL)
        return usage_error("cannot read the input", NULL);
    rc = encode_text((char *)text, len, &o);
    mqs_free(text);
    return rc;
}
