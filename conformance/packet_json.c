/* mqttspec: packet <-> JSON mapping (see packet_json.h). */
#include "conformance/packet_json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "codec/format.h"
#include "codec/utf8.h"
#include "conformance/alloc.h"

/* ---- packet -> JSON ---- */

/* Printable: well-formed UTF-8 without U+0000, C0 controls (but tab, LF, CR) or DEL. */
static bool printable(mqs_str s)
{
    if (mqs_utf8_check(s.ptr, s.len, 0, NULL) != MQS_OK)
        return false;
    for (size_t i = 0; i < s.len; i++)
        if ((s.ptr[i] < 0x20 && s.ptr[i] != '\t' && s.ptr[i] != '\n' && s.ptr[i] != '\r') ||
            s.ptr[i] == 0x7f)
            return false;
    return true;
}

/* Adds name: "text", or name_hex: "hex" when the bytes are not printable. */
static bool add_str(cJSON *obj, const char *name, mqs_str s)
{
    char key[64];
    bool text = printable(s);
    size_t n = text ? s.len : 2 * s.len;
    char *buf = mqs_malloc(n + 1);
    if (buf == NULL)
        return false;
    if (text) {
        if (s.len)
            memcpy(buf, s.ptr, s.len);
        buf[s.len] = '\0';
    } else {
        mqs_format_hex(s.ptr, s.len, 0, buf, n + 1);
    }
    snprintf(key, sizeof key, text ? "%s" : "%s_hex", name);
    bool ok = cJSON_AddStringToObject(obj, key, buf) != NULL;
    mqs_free(buf);
    return ok;
}

static bool add_num(cJSON *obj, const char *name, double v)
{
    return cJSON_AddNumberToObject(obj, name, v) != NULL;
}

static bool add_bool(cJSON *obj, const char *name, bool v)
{
    return cJSON_AddBoolToObject(obj, name, v) != NULL;
}

static bool add_item(cJSON *arr, cJSON *item)
{
    if (item == NULL)
        return false;
    if (!cJSON_AddItemToArray(arr, item)) {
        cJSON_Delete(item);
        return false;
    }
    return true;
}

static bool connect_to_json(cJSON *o, const mqs_connect *c)
{
    bool ok = add_str(o, "protocol_name", c->protocol_name) &&
              add_num(o, "protocol_level", c->protocol_level) &&
              add_num(o, "connect_flags", c->flags) && add_bool(o, "clean_session", c->clean_session) &&
              add_num(o, "keepalive", c->keepalive) && add_str(o, "client_id", c->client_id);
    if (ok && c->will_flag) {
        cJSON *w = cJSON_AddObjectToObject(o, "will");
        ok = w && add_str(w, "topic", c->will_topic) && add_str(w, "payload", c->will_payload) &&
             add_num(w, "qos", c->will_qos) && add_bool(w, "retain", c->will_retain);
    }
    if (ok && c->has_username)
        ok = add_str(o, "username", c->username);
    if (ok && c->has_password)
        ok = add_str(o, "password", c->password);
    return ok;
}

static cJSON *list_entry(const mqs_packet *p, const mqs_item *it)
{
    if (p->type == MQS_SUBACK)
        return cJSON_CreateNumber(it->qos);
    if (p->type == MQS_UNSUBSCRIBE && printable(it->filter)) {
        char *s = mqs_strndup((const char *)it->filter.ptr, it->filter.len);
        cJSON *e = s ? cJSON_CreateString(s) : NULL;
        mqs_free(s);
        return e;
    }
    cJSON *e = cJSON_CreateObject();
    if (e && (!add_str(e, "filter", it->filter) ||
              (p->type == MQS_SUBSCRIBE && !add_num(e, "qos", it->qos)))) {
        cJSON_Delete(e);
        return NULL;
    }
    return e;
}

static bool list_to_json(cJSON *o, const mqs_packet *p)
{
    const char *name = p->type == MQS_SUBSCRIBE ? "subscriptions"
                       : p->type == MQS_SUBACK  ? "return_codes"
                                                : "filters";
    cJSON *arr = cJSON_AddArrayToObject(o, name);
    if (arr == NULL)
        return false;
    for (size_t i = 0; p->items && i < p->n_items; i++)
        if (!add_item(arr, list_entry(p, &p->items[i])))
            return false;
    return true;
}

static bool body_to_json(cJSON *o, const mqs_packet *p)
{
    switch (p->type) {
    case MQS_CONNECT:
        return connect_to_json(o, &p->connect);
    case MQS_CONNACK:
        return add_num(o, "ack_flags", p->connack.flags) &&
               add_bool(o, "session_present", p->connack.session_present) &&
               add_num(o, "return_code", p->connack.return_code);
    case MQS_PUBLISH:
        return add_bool(o, "dup", p->dup) && add_num(o, "qos", p->qos) &&
               add_bool(o, "retain", p->retain) &&
               (p->qos == 0 || add_num(o, "packet_id", p->packet_id)) &&
               add_str(o, "topic", p->publish.topic) && add_str(o, "payload", p->publish.payload);
    case MQS_SUBSCRIBE:
    case MQS_SUBACK:
    case MQS_UNSUBSCRIBE:
        return add_num(o, "packet_id", p->packet_id) && list_to_json(o, p);
    case MQS_PUBACK:
    case MQS_PUBREC:
    case MQS_PUBREL:
    case MQS_PUBCOMP:
    case MQS_UNSUBACK:
        return add_num(o, "packet_id", p->packet_id);
    default:
        return true;
    }
}

cJSON *mqs_packet_to_json(const mqs_packet *pkt)
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    if (!cJSON_AddStringToObject(o, "type", mqs_type_name(pkt->type)) ||
        !add_num(o, "flags", pkt->flags) || !body_to_json(o, pkt)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* ---- JSON -> packet ---- */

int mqs_type_from_name(const char *name)
{
    for (int t = MQS_CONNECT; t <= MQS_DISCONNECT; t++)
        if (name && strcmp(name, mqs_type_name(t)) == 0)
            return t;
    return -1;
}

typedef struct mqs_jread {
    mqs_json_packet *out;
    size_t arena_used, arena_cap;
    char *err;
    size_t errlen;
} mqs_jread;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int jfail(mqs_jread *j, const char *fmt, ...)
{
    if (j->err && j->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(j->err, j->errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Bytes every string in the tree can need (an upper bound for the arena). */
static size_t strings_size(const cJSON *n)
{
    size_t total = 0;
    for (const cJSON *c = n; c; c = c->next) {
        if (cJSON_IsString(c) && c->valuestring)
            total += strlen(c->valuestring);
        total += strings_size(c->child);
    }
    return total;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Copies text (or decodes hex) into the arena and points *s at it. */
static int take_bytes(mqs_jread *j, const char *key, const char *text, bool hex, mqs_str *s)
{
    size_t n = strlen(text);
    uint8_t *dst = j->out->arena + j->arena_used;
    if (hex) {
        if (n % 2)
            return jfail(j, "\"%s\": odd number of hex digits", key);
        for (size_t i = 0; i < n; i += 2) {
            int hi = hexval((unsigned char)text[i]), lo = hexval((unsigned char)text[i + 1]);
            if (hi < 0 || lo < 0)
                return jfail(j, "\"%s\": not a hex string", key);
            dst[i / 2] = (uint8_t)(hi << 4 | lo);
        }
        n /= 2;
    } else if (n) {
        memcpy(dst, text, n);
    }
    if (n > 0xffffu && strcmp(key, "payload") != 0)
        return jfail(j, "\"%s\": longer than 65535 bytes", key);
    s->ptr = dst;
    s->len = n;
    j->arena_used += n;
    return 0;
}

/* Reads key or key_hex from obj into *s; *found tells whether either was there. */
static int get_str(mqs_jread *j, const cJSON *obj, const char *key, mqs_str *s, bool *found)
{
    char hkey[64];
    snprintf(hkey, sizeof hkey, "%s_hex", key);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(obj, key);
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(obj, hkey);
    if (found)
        *found = t || h;
    if (t && h)
        return jfail(j, "both \"%s\" and \"%s\" given", key, hkey);
    if (!t && !h)
        return 0;
    const cJSON *v = t ? t : h;
    if (!cJSON_IsString(v) || v->valuestring == NULL)
        return jfail(j, "\"%s\" must be a string", t ? key : hkey);
    return take_bytes(j, t ? key : hkey, v->valuestring, h != NULL, s);
}

/* Integer in [lo, hi]; absent keys leave *v alone. */
static int get_int(mqs_jread *j, const cJSON *obj, const char *key, long lo, long hi, long *v)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (n == NULL)
        return 0;
    if (!cJSON_IsNumber(n) || n->valuedouble != floor(n->valuedouble) || n->valuedouble < (double)lo ||
        n->valuedouble > (double)hi)
        return jfail(j, "\"%s\" must be an integer from %ld to %ld", key, lo, hi);
    *v = (long)n->valuedouble;
    return 0;
}

static int get_u8(mqs_jread *j, const cJSON *obj, const char *key, long hi, uint8_t *v)
{
    long x = *v;
    int rc = get_int(j, obj, key, 0, hi, &x);
    *v = (uint8_t)x;
    return rc;
}

static int get_bool(mqs_jread *j, const cJSON *obj, const char *key, bool *v)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (n == NULL)
        return 0;
    if (!cJSON_IsBool(n))
        return jfail(j, "\"%s\" must be true or false", key);
    *v = cJSON_IsTrue(n);
    return 0;
}

/* Keys a packet object may have; anything else is an error (no silent typos). */
static int check_keys(mqs_jread *j, const cJSON *obj, const char *const *keys)
{
    for (const cJSON *c = obj->child; c; c = c->next) {
        bool known = false;
        for (size_t i = 0; keys[i] && !known; i++)
            known = strcmp(c->string, keys[i]) == 0;
        if (!known)
            return jfail(j, "unknown key \"%s\"", c->string);
        for (const cJSON *d = c->next; d; d = d->next)
            if (strcmp(c->string, d->string) == 0)
                return jfail(j, "duplicate key \"%s\"", c->string);
    }
    return 0;
}

static int read_will(mqs_jread *j, const cJSON *w, mqs_connect *c)
{
    static const char *const keys[] = {"topic", "topic_hex", "payload", "payload_hex", "qos", "retain", NULL};
    if (!cJSON_IsObject(w))
        return jfail(j, "\"will\" must be an object");
    c->will_flag = true;
    if (check_keys(j, w, keys) || get_str(j, w, "topic", &c->will_topic, NULL) ||
        get_str(j, w, "payload", &c->will_payload, NULL) || get_u8(j, w, "qos", 3, &c->will_qos) ||
        get_bool(j, w, "retain", &c->will_retain))
        return -1;
    return 0;
}

static bool has_key(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(o, key) != NULL;
}

/* "connect_flags" supplies the bits no field describes (the reserved bit, or a
 * flag whose field is absent); the fields present win for their own bits. */
static int merge_connect_flags(const cJSON *o, mqs_connect *c, uint8_t given)
{
    unsigned mask = 0, fields = (c->clean_session ? 0x02u : 0u) | (c->will_flag ? 0x04u : 0u) |
                                (unsigned)(c->will_qos & 3u) << 3 | (c->will_retain ? 0x20u : 0u) |
                                (c->has_password ? 0x40u : 0u) | (c->has_username ? 0x80u : 0u);
    if (has_key(o, "clean_session"))
        mask |= 0x02u;
    else
        c->clean_session = given & 0x02u;
    if (c->will_flag)
        mask |= 0x3cu;
    if (c->has_username)
        mask |= 0x80u;
    if (c->has_password)
        mask |= 0x40u;
    return (int)((given & ~mask) | ((fields | (c->clean_session ? 0x02u : 0u)) & mask));
}

static int read_connect(mqs_jread *j, const cJSON *o, mqs_connect *c)
{
    long flags = -1;
    c->clean_session = true;
    if (get_str(j, o, "protocol_name", &c->protocol_name, NULL) ||
        get_u8(j, o, "protocol_level", 255, &c->protocol_level) ||
        get_int(j, o, "connect_flags", 0, 255, &flags) ||
        get_bool(j, o, "clean_session", &c->clean_session) ||
        get_str(j, o, "client_id", &c->client_id, NULL) ||
        get_str(j, o, "username", &c->username, &c->has_username) ||
        get_str(j, o, "password", &c->password, &c->has_password))
        return -1;
    long ka = c->keepalive;
    if (get_int(j, o, "keepalive", 0, 65535, &ka))
        return -1;
    c->keepalive = (uint16_t)ka;
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(o, "will");
    if (w && read_will(j, w, c))
        return -1;
    if (flags >= 0)
        j->out->connect_flags = merge_connect_flags(o, c, (uint8_t)flags);
    return 0;
}

static int read_entry(mqs_jread *j, int type, const cJSON *e, mqs_item *it)
{
    static const char *const keys[] = {"filter", "filter_hex", "qos", NULL};
    if (type == MQS_SUBACK) {
        if (!cJSON_IsNumber(e) || e->valuedouble != floor(e->valuedouble) || e->valuedouble < 0 ||
            e->valuedouble > 255)
            return jfail(j, "\"return_codes\" entries must be integers from 0 to 255");
        it->qos = (uint8_t)e->valuedouble;
        return 0;
    }
    if (type == MQS_UNSUBSCRIBE && cJSON_IsString(e))
        return take_bytes(j, "filters", e->valuestring, false, &it->filter);
    if (!cJSON_IsObject(e))
        return jfail(j, "list entries must be objects");
    bool found = false;
    if (check_keys(j, e, keys) || get_str(j, e, "filter", &it->filter, &found) ||
        get_u8(j, e, "qos", 255, &it->qos))
        return -1;
    return found ? 0 : jfail(j, "list entry without \"filter\"");
}

static int read_list(mqs_jread *j, const cJSON *o, mqs_packet *p)
{
    const char *name = p->type == MQS_SUBSCRIBE ? "subscriptions"
                       : p->type == MQS_SUBACK  ? "return_codes"
                                                : "filters";
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, name);
    if (arr == NULL)
        return 0;
    if (!cJSON_IsArray(arr))
        return jfail(j, "\"%s\" must be an array", name);
    size_t n = (size_t)cJSON_GetArraySize(arr), i = 0;
    j->out->items = mqs_calloc(n ? n : 1, sizeof *j->out->items);
    if (j->out->items == NULL)
        return jfail(j, "out of memory");
    p->items = j->out->items;
    p->n_items = n;
    for (const cJSON *e = arr->child; e; e = e->next)
        if (read_entry(j, p->type, e, &p->items[i++]))
            return -1;
    return 0;
}

/* "ack_flags" is the raw acknowledge flags byte; "session_present" wins for bit 0. */
static int read_connack(mqs_jread *j, const cJSON *o, mqs_connack *a)
{
    if (get_u8(j, o, "ack_flags", 255, &a->flags) ||
        get_bool(j, o, "session_present", &a->session_present) ||
        get_u8(j, o, "return_code", 255, &a->return_code))
        return -1;
    if (has_key(o, "session_present"))
        a->flags = (uint8_t)((a->flags & 0xfeu) | (a->session_present ? 1u : 0u));
    else
        a->session_present = a->flags & 0x01u;
    return 0;
}

static int read_body(mqs_jread *j, const cJSON *o, mqs_packet *p)
{
    long id = 0;
    if (get_int(j, o, "packet_id", 0, 65535, &id))
        return -1;
    p->packet_id = (uint16_t)id;
    switch (p->type) {
    case MQS_CONNECT:
        return read_connect(j, o, &p->connect);
    case MQS_CONNACK:
        return read_connack(j, o, &p->connack);
    case MQS_PUBLISH:
        p->publish.packet_id = p->packet_id;
        return get_bool(j, o, "dup", &p->dup) || get_u8(j, o, "qos", 3, &p->qos) ||
                       get_bool(j, o, "retain", &p->retain) ||
                       get_str(j, o, "topic", &p->publish.topic, NULL) ||
                       get_str(j, o, "payload", &p->publish.payload, NULL)
                   ? -1
                   : 0;
    case MQS_SUBSCRIBE:
    case MQS_SUBACK:
    case MQS_UNSUBSCRIBE:
        return get_bool(j, o, "dup", &p->dup) || read_list(j, o, p);
    case MQS_PUBREL:
        return get_bool(j, o, "dup", &p->dup);
    default:
        return 0;
    }
}

/* "flags" supplies the fixed header bits that "dup", "qos" and "retain" do not
 * give; the packet fields are then set from the merged nibble. */
static int merge_fixed_flags(const cJSON *o, mqs_packet *p, uint8_t given)
{
    unsigned mask = 0, fields = (p->dup ? 0x08u : 0u) | (unsigned)(p->qos & 3u) << 1 |
                                (p->retain ? 0x01u : 0u);
    if (has_key(o, "dup"))
        mask |= 0x08u;
    if (p->type == MQS_PUBLISH && has_key(o, "qos"))
        mask |= 0x06u;
    if (p->type == MQS_PUBLISH && has_key(o, "retain"))
        mask |= 0x01u;
    unsigned merged = (given & ~mask) | (fields & mask);
    p->dup = merged & 0x08u;
    if (p->type == MQS_PUBLISH) {
        p->qos = (uint8_t)((merged >> 1) & 3u);
        p->retain = merged & 0x01u;
    }
    return (int)merged;
}

static const char *const mqs_json_keys[] = {
    "type", "flags", "dup", "qos", "retain", "packet_id", "topic", "topic_hex", "payload",
    "payload_hex", "protocol_name", "protocol_name_hex", "protocol_level", "connect_flags",
    "clean_session", "keepalive", "client_id", "client_id_hex", "will", "username",
    "username_hex", "password", "password_hex", "ack_flags", "session_present", "return_code",
    "subscriptions", "filters", "return_codes", NULL};

int mqs_packet_from_json(const cJSON *obj, mqs_json_packet *out, char *err, size_t errlen)
{
    mqs_jread j = {.out = out, .err = err, .errlen = errlen};
    long flags = -1;
    memset(out, 0, sizeof *out);
    out->flags = out->connect_flags = -1;
    if (!cJSON_IsObject(obj))
        return jfail(&j, "a packet must be a JSON object");
    if (check_keys(&j, obj, mqs_json_keys))
        return -1;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(obj, "type");
    int type = cJSON_IsString(t) ? mqs_type_from_name(t->valuestring) : -1;
    if (type < 0)
        return jfail(&j, "\"type\" must be a packet type name such as \"PUBLISH\"");
    j.arena_cap = strings_size(obj);
    out->arena = mqs_malloc(j.arena_cap + 1);
    if (out->arena == NULL)
        return jfail(&j, "out of memory");
    out->pkt.type = (uint8_t)type;
    if (get_int(&j, obj, "flags", 0, 15, &flags) || read_body(&j, obj, &out->pkt))
        return -1;
    if (flags >= 0)
        out->flags = merge_fixed_flags(obj, &out->pkt, (uint8_t)flags);
    return 0;
}

void mqs_json_packet_free(mqs_json_packet *jp)
{
    if (jp == NULL)
        return;
    mqs_free(jp->items);
    mqs_free(jp->arena);
    jp->items = NULL;
    jp->arena = NULL;
}
