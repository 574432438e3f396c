/* Scenario loader: strict JSON → mqs_scenario (conformance/SCENARIOS.md).
 *
 * cJSON rules (STYLE.md §9): cJSON_ParseWithLengthOpts with the end pointer for errors,
 * case-sensitive lookups only, unknown and duplicate keys rejected here, every number
 * type- and range-checked through valuedouble (never valueint). Every error names the
 * file, the JSON path and the reason. All memory lives in the scenario's arena.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "codec/mqtt.h"
#include "conformance/alloc.h"
#include "conformance/arena.h"
#include "conformance/catalogue.h"
#include "conformance/expand.h"
#include "conformance/scenario.h"

#define MQS_MAX_ITEMS 4096 /* longest array a scenario may hold */

typedef struct ld {
    const char *name;
    mqs_arena *arena;
    mqs_scenario *sc;
    char path[256];
    size_t path_len;
    char *err;
    size_t errlen;
    unsigned uses; /* MQS_USES_* of all templates */
    bool in_not;   /* parsing the inside of a "not": no nested "not" */
} ld;

/* ---- errors and paths ---- */

static int ld_fail(ld *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int ld_fail(ld *l, const char *fmt, ...)
{
    char reason[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    if (l->err && l->errlen) {
        snprintf(l->err, l->errlen, "%s: %s: %s", l->name, l->path_len ? l->path : "(top level)",
                 reason);
        /* Reasons quote the input (keys, excerpts): keep the message one printable line. */
        for (char *c = l->err; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                *c = '?';
    }
    return -1;
}

static int ld_oom(ld *l)
{
    return ld_fail(l, "out of memory");
}

/* Appends ".key" or "[i]" to the path; returns the old length for path_pop. */
static size_t path_key(ld *l, const char *key)
{
    size_t old = l->path_len;
    int n = snprintf(l->path + old, sizeof l->path - old, "%s%s", old ? "." : "", key);
    if (n > 0)
        l->path_len = old + (size_t)n < sizeof l->path ? old + (size_t)n : sizeof l->path - 1;
    return old;
}

static size_t path_index(ld *l, size_t i)
{
    size_t old = l->path_len;
    int n = snprintf(l->path + old, sizeof l->path - old, "[%zu]", i);
    if (n > 0)
        l->path_len = old + (size_t)n < sizeof l->path ? old + (size_t)n : sizeof l->path - 1;
    return old;
}

static void path_pop(ld *l, size_t old)
{
    l->path_len = old;
    l->path[old] = '\0';
}

static const char *json_type(const cJSON *j)
{
    if (cJSON_IsString(j))
        return "a string";
    if (cJSON_IsNumber(j))
        return "a number";
    if (cJSON_IsBool(j))
        return "a boolean";
    if (cJSON_IsNull(j))
        return "null";
    if (cJSON_IsArray(j))
        return "an array";
    if (cJSON_IsObject(j))
        return "an object";
    return "an invalid value";
}

/* ---- keys ---- */

static bool in_list(const char *key, const char *const *allowed)
{
    for (size_t i = 0; allowed[i]; i++)
        if (!strcmp(key, allowed[i]))
            return true;
    return false;
}

/* Rejects keys outside the allowed lists (NULL-terminated, up to three) and duplicates. */
static int check_keys(ld *l, const cJSON *obj, const char *const *a, const char *const *b,
                      const char *const *c)
{
    for (const cJSON *it = obj->child; it; it = it->next) {
        const char *key = it->string ? it->string : "";
        if (!in_list(key, a) && !(b && in_list(key, b)) && !(c && in_list(key, c))) {
            char list[200] = "";
            size_t used = 0;
            const char *const *lists[3] = {a, b, c};
            for (int k = 0; k < 3; k++)
                for (size_t i = 0; lists[k] && lists[k][i] && used < sizeof list; i++) {
                    int n = snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "",
                                     lists[k][i]);
                    used += n > 0 ? (size_t)n : 0;
                }
            return ld_fail(l, "unknown key \"%.40s\" (allowed here: %s)", key, list);
        }
        for (const cJSON *prev = obj->child; prev != it; prev = prev->next)
            if (!strcmp(prev->string ? prev->string : "", key))
                return ld_fail(l, "duplicate key \"%.40s\"", key);
    }
    return 0;
}

static const cJSON *get(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* ---- typed values (the path must already name the value) ---- */

static int want_int(ld *l, const cJSON *j, int64_t min, int64_t max, int64_t *out)
{
    if (!cJSON_IsNumber(j))
        return ld_fail(l, "expected an integer %lld..%lld, got %s", (long long)min, (long long)max,
                       json_type(j));
    double d = j->valuedouble;
    if (!isfinite(d) || floor(d) != d)
        return ld_fail(l, "expected an integer %lld..%lld, got %g", (long long)min, (long long)max,
                       d);
    if (d < (double)min || d > (double)max)
        return ld_fail(l, "%.17g is out of range %lld..%lld", d, (long long)min, (long long)max);
    *out = (int64_t)d;
    return 0;
}

static int want_bool(ld *l, const cJSON *j, bool *out)
{
    if (!cJSON_IsBool(j))
        return ld_fail(l, "expected true or false, got %s", json_type(j));
    *out = cJSON_IsTrue(j);
    return 0;
}

static int want_text(ld *l, const cJSON *j, bool allow_empty, const char **out)
{
    if (!cJSON_IsString(j) || !j->valuestring)
        return ld_fail(l, "expected a string, got %s", json_type(j));
    if (!allow_empty && !j->valuestring[0])
        return ld_fail(l, "must not be empty");
    *out = mqs_arena_strndup(l->arena, j->valuestring, strlen(j->valuestring));
    return *out ? 0 : ld_oom(l);
}

/* A template string: syntax checked against the scenario's clients. */
static int want_template(ld *l, const cJSON *j, const char **out)
{
    if (want_text(l, j, true, out) < 0)
        return -1;
    char why[200];
    if (mqs_template_check(*out, l->sc->clients, l->sc->n_clients, &l->uses, why, sizeof why) < 0)
        return ld_fail(l, "%s", why);
    return 0;
}

/* Child value helpers: each pushes the key onto the path. Absent keys leave out alone. */
static int opt_int(ld *l, const cJSON *obj, const char *key, int64_t min, int64_t max, int64_t *out)
{
    const cJSON *j = get(obj, key);
    if (!j)
        return 0;
    size_t p = path_key(l, key);
    int rc = want_int(l, j, min, max, out);
    path_pop(l, p);
    return rc;
}

static int opt_bool(ld *l, const cJSON *obj, const char *key, bool *out)
{
    const cJSON *j = get(obj, key);
    if (!j)
        return 0;
    size_t p = path_key(l, key);
    int rc = want_bool(l, j, out);
    path_pop(l, p);
    return rc;
}

static int opt_tbool(ld *l, const cJSON *obj, const char *key, mqs_sc_bool *out)
{
    bool b;
    const cJSON *j = get(obj, key);
    if (!j)
        return 0;
    if (opt_bool(l, obj, key, &b) < 0)
        return -1;
    *out = b ? 1 : 0;
    return 0;
}

static int opt_text(ld *l, const cJSON *obj, const char *key, bool allow_empty, const char **out)
{
    const cJSON *j = get(obj, key);
    if (!j)
        return 0;
    size_t p = path_key(l, key);
    int rc = want_text(l, j, allow_empty, out);
    path_pop(l, p);
    return rc;
}

/* A number field: a JSON integer or a template string such as "${var:p}". */
static int want_num(ld *l, const cJSON *j, int64_t min, int64_t max, mqs_sc_num *out)
{
    out->min = min;
    out->max = max;
    if (cJSON_IsString(j)) {
        if (!j->valuestring || !strstr(j->valuestring, "${"))
            return ld_fail(l,
                           "expected an integer %lld..%lld (or a string with ${var:NAME}), "
                           "got a plain string",
                           (long long)min, (long long)max);
        out->kind = MQS_SC_TEMPLATE;
        return want_template(l, j, &out->tmpl);
    }
    out->kind = MQS_SC_VALUE;
    return want_int(l, j, min, max, &out->v);
}

static int opt_num(ld *l, const cJSON *obj, const char *key, int64_t min, int64_t max,
                   mqs_sc_num *out)
{
    const cJSON *j = get(obj, key);
    out->min = min;
    out->max = max;
    if (!j)
        return 0;
    size_t p = path_key(l, key);
    int rc = want_num(l, j, min, max, out);
    path_pop(l, p);
    return rc;
}

/* A string field: a template, or JSON null (explicitly none) when nullable. */
static int opt_str(ld *l, const cJSON *obj, const char *key, bool nullable, mqs_sc_str *out)
{
    const cJSON *j = get(obj, key);
    if (!j)
        return 0;
    size_t p = path_key(l, key);
    int rc = 0;
    if (nullable && cJSON_IsNull(j)) {
        out->kind = MQS_SC_NULL;
    } else {
        out->kind = MQS_SC_VALUE;
        rc = want_template(l, j, &out->tmpl);
    }
    path_pop(l, p);
    return rc;
}

/* An array: checks the type and length; *n set. */
static int want_array(ld *l, const cJSON *j, size_t min, size_t *n)
{
    if (!cJSON_IsArray(j))
        return ld_fail(l, "expected an array, got %s", json_type(j));
    size_t count = 0;
    for (const cJSON *it = j->child; it; it = it->next)
        if (++count > MQS_MAX_ITEMS)
            return ld_fail(l, "more than %d elements", MQS_MAX_ITEMS);
    if (count < min)
        return ld_fail(l, "needs at least %zu element%s", min, min == 1 ? "" : "s");
    *n = count;
    return 0;
}

static void *ld_array(ld *l, size_t n, size_t size)
{
    return mqs_arena_alloc(l->arena, (n ? n : 1) * size);
}

/* An array of non-empty plain strings (statements, clients, ...). */
static int want_strings(ld *l, const cJSON *obj, const char *key, bool required, size_t min,
                        const char ***out, size_t *n)
{
    const cJSON *j = get(obj, key);
    if (!j)
        return required ? ld_fail(l, "missing required key \"%s\"", key) : 0;
    size_t p = path_key(l, key);
    if (want_array(l, j, min, n) < 0)
        return -1;
    *out = ld_array(l, *n, sizeof **out);
    if (!*out)
        return ld_oom(l);
    size_t i = 0;
    for (const cJSON *it = j->child; it; it = it->next, i++) {
        size_t q = path_index(l, i);
        if (want_text(l, it, false, &(*out)[i]) < 0)
            return -1;
        path_pop(l, q);
    }
    path_pop(l, p);
    return 0;
}

/* ---- statement ids ---- */

/* A statement id a scenario cites: one of the MQTT 3.1.1 catalogue, or the project's own
 * form (MQS-..., MQTT31-...). Anything else is most likely a typo, which would credit the
 * wrong statement (or none) in reports and coverage: rejected. */
static int want_statement_id(ld *l, const char *id)
{
    if (mqs_statement_id_classify(id) != MQS_STID_UNKNOWN)
        return 0;
    return ld_fail(l,
                   "unknown statement id \"%.40s\": not in the MQTT 3.1.1 catalogue, nor an "
                   "own id (\"MQS-...\" or \"MQTT31-...\" with only [A-Za-z0-9.-] after "
                   "the dash)",
                   id);
}

static int want_statements(ld *l, const cJSON *root)
{
    mqs_scenario *sc = l->sc;
    if (want_strings(l, root, "statements", true, 1, &sc->statements, &sc->n_statements) < 0)
        return -1;
    size_t p = path_key(l, "statements");
    for (size_t i = 0; i < sc->n_statements; i++) {
        size_t q = path_index(l, i);
        if (want_statement_id(l, sc->statements[i]) < 0)
            return -1;
        path_pop(l, q);
    }
    path_pop(l, p);
    return 0;
}

/* ---- enumerations ---- */

static int packet_type_by_name(const char *s)
{
    for (int t = MQS_CONNECT; t <= MQS_DISCONNECT; t++)
        if (!strcmp(s, mqs_type_name(t)))
            return t;
    return 0;
}

static int want_type_name(ld *l, const cJSON *j, int *type)
{
    if (!cJSON_IsString(j) || !j->valuestring)
        return ld_fail(l, "expected a packet type name such as \"PUBLISH\", got %s", json_type(j));
    *type = packet_type_by_name(j->valuestring);
    if (!*type)
        return ld_fail(l,
                       "unknown packet type \"%.20s\" (CONNECT, CONNACK, PUBLISH, PUBACK, "
                       "PUBREC, PUBREL, PUBCOMP, SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, "
                       "PINGREQ, PINGRESP, DISCONNECT)",
                       j->valuestring);
    return 0;
}

static int want_protocol(ld *l, const cJSON *j, unsigned *bit)
{
    if (cJSON_IsString(j) && j->valuestring && !strcmp(j->valuestring, "3.1"))
        *bit = MQS_PROTO_31;
    else if (cJSON_IsString(j) && j->valuestring && !strcmp(j->valuestring, "3.1.1"))
        *bit = MQS_PROTO_311;
    else
        return ld_fail(l, "expected \"3.1\" or \"3.1.1\", got %s", json_type(j));
    return 0;
}

static int want_level(ld *l, const cJSON *j, int *level)
{
    const char *names[] = {"MUST", "SHOULD", "INFO"};
    for (int i = 0; i < 3; i++)
        if (cJSON_IsString(j) && j->valuestring && !strcmp(j->valuestring, names[i])) {
            *level = i;
            return 0;
        }
    return ld_fail(l, "expected \"MUST\", \"SHOULD\" or \"INFO\"");
}

/* ---- packets ---- */

/* Which packet keys a type takes (send and match; match adds "flags"). */
static const char *const k_connect[] = {
    "client_id", "clean_session", "keepalive",      "will",          "username",
    "password",  "protocol_name", "protocol_level", "connect_flags", NULL};
static const char *const k_connack[] = {"session_present", "return_code", NULL};
static const char *const k_publish[] = {"dup",     "qos",          "retain",    "topic",
                                        "payload", "payload_size", "packet_id", NULL};
static const char *const k_ack[] = {"packet_id", NULL};
static const char *const k_subscribe[] = {"packet_id", "subscriptions", NULL};
static const char *const k_suback[] = {"packet_id", "return_codes", NULL};
static const char *const k_unsubscribe[] = {"packet_id", "filters", NULL};
static const char *const k_none[] = {NULL};
static const char *const k_all_match[] = {
    "dup",       "qos",         "retain",       "topic",           "payload", "payload_size",
    "packet_id", "return_code", "return_codes", "session_present", NULL};
static const char *const k_type[] = {"type", NULL};
static const char *const k_type_flags[] = {"type", "flags", "not", NULL};

static const char *const *keys_for_type(int type)
{
    switch (type) {
    case MQS_CONNECT:
        return k_connect;
    case MQS_CONNACK:
        return k_connack;
    case MQS_PUBLISH:
        return k_publish;
    case MQS_PUBACK:
    case MQS_PUBREC:
    case MQS_PUBREL:
    case MQS_PUBCOMP:
    case MQS_UNSUBACK:
        return k_ack;
    case MQS_SUBSCRIBE:
        return k_subscribe;
    case MQS_SUBACK:
        return k_suback;
    case MQS_UNSUBSCRIBE:
        return k_unsubscribe;
    default:
        return k_none;
    }
}

static int parse_will(ld *l, const cJSON *j, mqs_sc_will *w)
{
    static const char *const keys[] = {"topic", "payload", "qos", "retain", NULL};
    if (!cJSON_IsObject(j))
        return ld_fail(l,
                       "expected an object {\"topic\", \"payload\", \"qos\", \"retain\"}, "
                       "got %s",
                       json_type(j));
    if (check_keys(l, j, keys, NULL, NULL) < 0)
        return -1;
    if (!get(j, "topic"))
        return ld_fail(l, "missing required key \"topic\"");
    w->retain = -1;
    if (opt_str(l, j, "topic", false, &w->topic) < 0 ||
        opt_str(l, j, "payload", false, &w->payload) < 0 ||
        opt_num(l, j, "qos", 0, 3, &w->qos) < 0 || opt_tbool(l, j, "retain", &w->retain) < 0)
        return -1;
    return 0;
}

static int parse_subs(ld *l, const cJSON *j, mqs_sc_packet *p)
{
    static const char *const keys[] = {"filter", "qos", NULL};
    if (want_array(l, j, 0, &p->n_subs) < 0)
        return -1;
    p->subs = ld_array(l, p->n_subs, sizeof *p->subs);
    if (!p->subs)
        return ld_oom(l);
    size_t i = 0;
    for (const cJSON *it = j->child; it; it = it->next, i++) {
        size_t q = path_index(l, i);
        if (!cJSON_IsObject(it))
            return ld_fail(l, "expected an object {\"filter\", \"qos\"}, got %s", json_type(it));
        if (check_keys(l, it, keys, NULL, NULL) < 0)
            return -1;
        if (!get(it, "filter") || !get(it, "qos"))
            return ld_fail(l, "needs both \"filter\" and \"qos\"");
        if (opt_str(l, it, "filter", false, &p->subs[i].filter) < 0 ||
            opt_num(l, it, "qos", 0, 255, &p->subs[i].qos) < 0)
            return -1;
        path_pop(l, q);
    }
    p->has_subs = true;
    return 0;
}

static int parse_filters(ld *l, const cJSON *j, mqs_sc_packet *p)
{
    if (want_array(l, j, 0, &p->n_filters) < 0)
        return -1;
    p->filters = ld_array(l, p->n_filters, sizeof *p->filters);
    if (!p->filters)
        return ld_oom(l);
    size_t i = 0;
    for (const cJSON *it = j->child; it; it = it->next, i++) {
        size_t q = path_index(l, i);
        p->filters[i].kind = MQS_SC_VALUE;
        if (want_template(l, it, &p->filters[i].tmpl) < 0)
            return -1;
        path_pop(l, q);
    }
    p->has_filters = true;
    return 0;
}

static int parse_return_codes(ld *l, const cJSON *j, mqs_sc_packet *p)
{
    if (want_array(l, j, 0, &p->n_return_codes) < 0)
        return -1;
    p->return_codes = ld_array(l, p->n_return_codes, sizeof *p->return_codes);
    if (!p->return_codes)
        return ld_oom(l);
    size_t i = 0;
    for (const cJSON *it = j->child; it; it = it->next, i++) {
        size_t q = path_index(l, i);
        if (want_num(l, it, 0, 255, &p->return_codes[i]) < 0)
            return -1;
        path_pop(l, q);
    }
    p->has_return_codes = true;
    return 0;
}

/* Runs a parser on an optional child, with the path pushed. */
#define WITH_CHILD(l, obj, key, call)                                                              \
    do {                                                                                           \
        const cJSON *j_ = get(obj, key);                                                           \
        if (j_) {                                                                                  \
            size_t p_ = path_key(l, key);                                                          \
            if (call(l, j_, pkt_) < 0)                                                             \
                return -1;                                                                         \
            path_pop(l, p_);                                                                       \
        }                                                                                          \
    } while (0)

static int parse_will_of(ld *l, const cJSON *j, mqs_sc_packet *p)
{
    p->has_will = true;
    return parse_will(l, j, &p->will);
}

/* The packet fields of obj (keys already checked by the caller). */
static int parse_packet_fields(ld *l, const cJSON *obj, mqs_sc_packet *pkt_)
{
    mqs_sc_packet *p = pkt_;
    if (opt_tbool(l, obj, "dup", &p->dup) < 0 || opt_tbool(l, obj, "retain", &p->retain) < 0 ||
        opt_tbool(l, obj, "session_present", &p->session_present) < 0 ||
        opt_tbool(l, obj, "clean_session", &p->clean_session) < 0 ||
        opt_num(l, obj, "qos", 0, 3, &p->qos) < 0 ||
        opt_num(l, obj, "packet_id", 0, 65535, &p->packet_id) < 0 ||
        opt_num(l, obj, "return_code", 0, 255, &p->return_code) < 0 ||
        opt_num(l, obj, "payload_size", 0, MQS_MAX_REMAINING_LENGTH, &p->payload_size) < 0 ||
        opt_num(l, obj, "keepalive", 0, 65535, &p->keepalive) < 0 ||
        opt_num(l, obj, "protocol_level", 0, 255, &p->protocol_level) < 0 ||
        opt_num(l, obj, "connect_flags", 0, 255, &p->connect_flags) < 0 ||
        opt_num(l, obj, "flags", 0, 15, &p->flags) < 0 ||
        opt_str(l, obj, "topic", false, &p->topic) < 0 ||
        opt_str(l, obj, "payload", false, &p->payload) < 0 ||
        opt_str(l, obj, "client_id", false, &p->client_id) < 0 ||
        opt_str(l, obj, "username", true, &p->username) < 0 ||
        opt_str(l, obj, "password", true, &p->password) < 0 ||
        opt_str(l, obj, "protocol_name", false, &p->protocol_name) < 0)
        return -1;
    WITH_CHILD(l, obj, "will", parse_will_of);
    WITH_CHILD(l, obj, "subscriptions", parse_subs);
    WITH_CHILD(l, obj, "filters", parse_filters);
    WITH_CHILD(l, obj, "return_codes", parse_return_codes);
    if (p->payload.kind && p->payload_size.kind)
        return ld_fail(l, "give \"payload\" or \"payload_size\", not both");
    return 0;
}

static void packet_init(mqs_sc_packet *p)
{
    memset(p, 0, sizeof *p);
    p->dup = p->retain = p->session_present = p->clean_session = -1;
}

static int parse_packet(ld *l, const cJSON *j, bool match, int default_type, mqs_sc_packet *p);

/* "not": {...}: a match the packet must not satisfy (e.g. a different packet id). */
static int parse_not(ld *l, const cJSON *obj, mqs_sc_packet *p)
{
    const cJSON *j = get(obj, "not");
    if (!j)
        return 0;
    size_t q = path_key(l, "not");
    if (l->in_not)
        return ld_fail(l, "\"not\" cannot be nested");
    mqs_sc_packet *n = mqs_arena_alloc(l->arena, sizeof *n);
    if (!n)
        return ld_oom(l);
    l->in_not = true;
    int rc = parse_packet(l, j, true, p->type, n);
    l->in_not = false;
    if (rc < 0)
        return -1;
    p->not_match = n;
    path_pop(l, q);
    return 0;
}

/* A structured packet object: "type" required for send, optional for match. */
static int parse_packet(ld *l, const cJSON *j, bool match, int default_type, mqs_sc_packet *p)
{
    packet_init(p);
    if (!cJSON_IsObject(j))
        return ld_fail(l, "expected a packet object, got %s", json_type(j));
    p->type = default_type;
    const cJSON *t = get(j, "type");
    if (t) {
        size_t q = path_key(l, "type");
        if (want_type_name(l, t, &p->type) < 0)
            return -1;
        path_pop(l, q);
    } else if (!match && !default_type) {
        return ld_fail(l, "missing required key \"type\"");
    }
    const char *const *fields = p->type ? keys_for_type(p->type) : k_all_match;
    if (match && p->type == MQS_CONNECT)
        return ld_fail(l, "a broker never sends CONNECT; expect another type");
    if (check_keys(l, j, match ? k_type_flags : k_type, fields, NULL) < 0 ||
        parse_packet_fields(l, j, p) < 0)
        return -1;
    return match ? parse_not(l, j, p) : 0;
}

static int parse_raw(ld *l, const cJSON *j, mqs_sc_raw *r)
{
    static const char *const keys[] = {"fixed_flags",      "type",     "connect_flags",
                                       "remaining_length", "rl_bytes", NULL};
    if (!cJSON_IsObject(j))
        return ld_fail(l, "expected an object of encoder overrides, got %s", json_type(j));
    if (check_keys(l, j, keys, NULL, NULL) < 0)
        return -1;
    return opt_num(l, j, "fixed_flags", 0, 15, &r->fixed_flags) < 0 ||
                   opt_num(l, j, "type", 0, 15, &r->type) < 0 ||
                   opt_num(l, j, "connect_flags", 0, 255, &r->connect_flags) < 0 ||
                   opt_num(l, j, "remaining_length", 0, 34359738367LL, &r->remaining_length) < 0 ||
                   opt_num(l, j, "rl_bytes", 1, 5, &r->rl_bytes) < 0
               ? -1
               : 0;
}

/* ---- expectations ---- */

static int parse_allow(ld *l, const cJSON *obj, uint16_t *allow)
{
    const cJSON *j = get(obj, "allow");
    if (!j)
        return 0;
    size_t p = path_key(l, "allow");
    size_t n;
    if (want_array(l, j, 0, &n) < 0)
        return -1;
    size_t i = 0;
    for (const cJSON *it = j->child; it; it = it->next, i++) {
        size_t q = path_index(l, i);
        int type;
        if (want_type_name(l, it, &type) < 0)
            return -1;
        *allow |= (uint16_t)(1u << type);
        path_pop(l, q);
    }
    path_pop(l, p);
    return 0;
}

static int want_true(ld *l, const cJSON *obj, const char *key)
{
    bool b = false;
    if (opt_bool(l, obj, key, &b) < 0)
        return -1;
    if (!b) {
        path_key(l, key);
        return ld_fail(l, "must be true when given");
    }
    return 0;
}

static int parse_ms(ld *l, const cJSON *obj, const char *key, bool required, int64_t *ms)
{
    if (required && !get(obj, key))
        return ld_fail(l, "missing required key \"%s\"", key);
    return opt_int(l, obj, key, 0, MQS_SC_MAX_MS, ms);
}

static int parse_alt(ld *l, const cJSON *j, int default_type, mqs_sc_alt *a)
{
    static const char *const keys[] = {"packet", "closed", "allow", "none", "ms", "label", "end",
                                       NULL};
    if (!cJSON_IsObject(j))
        return ld_fail(l,
                       "expected an alternative {\"packet\"|\"closed\"|\"none\", \"label\"}, "
                       "got %s",
                       json_type(j));
    if (check_keys(l, j, keys, NULL, NULL) < 0 || opt_text(l, j, "label", false, &a->label) < 0 ||
        opt_bool(l, j, "end", &a->end) < 0)
        return -1;
    int kinds = !!get(j, "packet") + !!get(j, "closed") + !!get(j, "none");
    if (kinds != 1)
        return ld_fail(l, "an alternative needs exactly one of \"packet\", \"closed\", \"none\"");
    if ((get(j, "allow") && !get(j, "closed")) || (get(j, "ms") && !get(j, "none")))
        return ld_fail(l, "\"allow\" goes with \"closed\", \"ms\" with \"none\"");
    if (get(j, "packet")) {
        a->kind = MQS_EXP_PACKET;
        size_t p = path_key(l, "packet");
        if (parse_packet(l, get(j, "packet"), true, default_type, &a->pkt) < 0)
            return -1;
        path_pop(l, p);
    } else if (get(j, "closed")) {
        a->kind = MQS_EXP_CLOSED;
        packet_init(&a->pkt);
        if (want_true(l, j, "closed") < 0 || parse_allow(l, j, &a->allow) < 0)
            return -1;
    } else {
        a->kind = MQS_EXP_NONE;
        packet_init(&a->pkt);
        if (want_true(l, j, "none") < 0 || parse_ms(l, j, "ms", true, &a->ms) < 0)
            return -1;
    }
    return 0;
}

static int parse_one_of(ld *l, const cJSON *obj, int default_type, mqs_sc_expect *e)
{
    const cJSON *j = get(obj, "one_of");
    size_t p = path_key(l, "one_of");
    if (want_array(l, j, 1, &e->n_alts) < 0)
        return -1;
    e->alts = ld_array(l, e->n_alts, sizeof *e->alts);
    if (!e->alts)
        return ld_oom(l);
    size_t i = 0, n_none = 0, n_closed = 0;
    for (const cJSON *it = j->child; it; it = it->next, i++) {
        size_t q = path_index(l, i);
        if (parse_alt(l, it, default_type, &e->alts[i]) < 0)
            return -1;
        n_none += e->alts[i].kind == MQS_EXP_NONE;
        n_closed += e->alts[i].kind == MQS_EXP_CLOSED;
        path_pop(l, q);
    }
    if (n_none > 1 || n_closed > 1)
        return ld_fail(l, "at most one \"none\" and one \"closed\" alternative");
    path_pop(l, p);
    e->kind = MQS_EXP_ONE_OF;
    return opt_bool(l, obj, "observe", &e->observe);
}

static int parse_packets(ld *l, const cJSON *obj, mqs_sc_expect *e)
{
    bool any = false;
    if (opt_bool(l, obj, "any_order", &any) < 0)
        return -1;
    if (!any)
        return ld_fail(l, "\"packets\" needs \"any_order\": true (for a fixed order, use one "
                          "expect step per packet)");
    const cJSON *j = get(obj, "packets");
    size_t p = path_key(l, "packets");
    if (want_array(l, j, 1, &e->n_pkts) < 0)
        return -1;
    e->pkts = ld_array(l, e->n_pkts, sizeof *e->pkts);
    if (!e->pkts)
        return ld_oom(l);
    size_t i = 0;
    for (const cJSON *it = j->child; it; it = it->next, i++) {
        size_t q = path_index(l, i);
        if (parse_packet(l, it, true, 0, &e->pkts[i]) < 0)
            return -1;
        path_pop(l, q);
    }
    path_pop(l, p);
    e->kind = MQS_EXP_PACKETS;
    return 0;
}

static int want_save_field(ld *l, const char *key, mqs_sc_field *f)
{
    static const char *const names[] = {"packet_id", "topic",       "payload",
                                        "qos",       "return_code", "session_present"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(key, names[i])) {
            *f = (mqs_sc_field)i;
            return 0;
        }
    return ld_fail(l,
                   "cannot save \"%.40s\" (packet_id, topic, payload, qos, return_code, "
                   "session_present)",
                   key);
}

static int parse_save(ld *l, const cJSON *obj, mqs_sc_expect *e)
{
    const cJSON *j = get(obj, "save");
    if (!j)
        return 0;
    size_t p = path_key(l, "save");
    if (!cJSON_IsObject(j))
        return ld_fail(l, "expected an object {\"field\": \"NAME\"}, got %s", json_type(j));
    if (e->kind != MQS_EXP_PACKET && e->kind != MQS_EXP_PACKETS)
        return ld_fail(l, "\"save\" needs a \"packet\" or \"packets\" expectation");
    for (const cJSON *it = j->child; it; it = it->next)
        e->n_saves++;
    e->saves = ld_array(l, e->n_saves, sizeof *e->saves);
    if (!e->saves)
        return ld_oom(l);
    size_t i = 0;
    for (const cJSON *it = j->child; it; it = it->next, i++) {
        size_t q = path_key(l, it->string ? it->string : "");
        for (const cJSON *prev = j->child; prev != it; prev = prev->next)
            if (!strcmp(prev->string, it->string))
                return ld_fail(l, "duplicate key");
        if (want_save_field(l, it->string ? it->string : "", &e->saves[i].field) < 0 ||
            want_text(l, it, false, &e->saves[i].name) < 0)
            return -1;
        char why[160];
        char probe[96];
        snprintf(probe, sizeof probe, "${var:%.80s}", e->saves[i].name);
        if (mqs_template_check(probe, NULL, 0, NULL, why, sizeof why) < 0)
            return ld_fail(l, "%s", why);
        path_pop(l, q);
    }
    path_pop(l, p);
    return 0;
}

/* expect_none's optional "packet": only packets matching it break the silence; the
 * others are read and dropped (e->pkts[0] is the filter). */
static int parse_none_filter(ld *l, const cJSON *j, mqs_sc_expect *e)
{
    e->n_pkts = 1;
    e->pkts = ld_array(l, 1, sizeof *e->pkts);
    if (!e->pkts)
        return ld_oom(l);
    size_t p = path_key(l, "packet");
    if (parse_packet(l, get(j, "packet"), true, 0, e->pkts) < 0)
        return -1;
    path_pop(l, p);
    return 0;
}

/* The expectation keys of an expect step (or of connect's "expect" object). */
static int parse_expectation(ld *l, const cJSON *obj, int default_type, mqs_sc_expect *e)
{
    int kinds = !!get(obj, "packet") + !!get(obj, "packets") + !!get(obj, "one_of") +
                !!get(obj, "closed") + !!get(obj, "none");
    if (kinds != 1)
        return ld_fail(l, "needs exactly one of \"packet\", \"packets\", \"one_of\", \"closed\", "
                          "\"none\"");
    if ((get(obj, "any_order") && !get(obj, "packets")) ||
        (get(obj, "observe") && !get(obj, "one_of")) ||
        (get(obj, "allow") && !get(obj, "closed")) || (get(obj, "ms") && !get(obj, "none")))
        return ld_fail(l, "\"any_order\" goes with \"packets\", \"observe\" with \"one_of\", "
                          "\"allow\" with \"closed\", \"ms\" with \"none\"");
    if (get(obj, "packet")) {
        e->kind = MQS_EXP_PACKET;
        e->n_pkts = 1;
        e->pkts = ld_array(l, 1, sizeof *e->pkts);
        if (!e->pkts)
            return ld_oom(l);
        size_t p = path_key(l, "packet");
        if (parse_packet(l, get(obj, "packet"), true, default_type, e->pkts) < 0)
            return -1;
        path_pop(l, p);
    } else if (get(obj, "packets")) {
        if (parse_packets(l, obj, e) < 0)
            return -1;
    } else if (get(obj, "one_of")) {
        if (parse_one_of(l, obj, default_type, e) < 0)
            return -1;
    } else if (get(obj, "closed")) {
        e->kind = MQS_EXP_CLOSED;
        if (want_true(l, obj, "closed") < 0 || parse_allow(l, obj, &e->allow) < 0)
            return -1;
    } else {
        e->kind = MQS_EXP_NONE;
        if (want_true(l, obj, "none") < 0 || parse_ms(l, obj, "ms", true, &e->ms) < 0)
            return -1;
    }
    return parse_save(l, obj, e);
}

/* connect's "expect": null, a CONNACK match, {"one_of": ...} or {"closed": true}. */
static int parse_connect_expect(ld *l, const cJSON *step, mqs_sc_expect *e)
{
    const cJSON *j = get(step, "expect");
    e->kind = MQS_EXP_PACKET;
    e->n_pkts = 1;
    e->pkts = ld_array(l, 1, sizeof *e->pkts);
    if (!e->pkts)
        return ld_oom(l);
    packet_init(e->pkts);
    e->pkts[0].type = MQS_CONNACK;
    if (!j) { /* default: {"return_code": 0} */
        e->pkts[0].return_code = (mqs_sc_num){MQS_SC_VALUE, 0, NULL, 0, 255};
        return 0;
    }
    size_t p = path_key(l, "expect");
    if (cJSON_IsNull(j)) {
        e->kind = MQS_EXP_NOTHING;
    } else if (!cJSON_IsObject(j)) {
        return ld_fail(l, "expected null or an object, got %s", json_type(j));
    } else if (get(j, "one_of") || get(j, "closed")) {
        static const char *const keys[] = {"one_of", "observe", "closed", "allow", NULL};
        if (check_keys(l, j, keys, NULL, NULL) < 0 || parse_expectation(l, j, MQS_CONNACK, e) < 0)
            return -1;
    } else if (parse_packet(l, j, true, MQS_CONNACK, e->pkts) < 0) {
        return -1;
    }
    path_pop(l, p);
    return 0;
}

/* ---- steps ---- */

typedef struct op_info {
    const char *name;
    mqs_sc_op op;
    bool needs_client;
    const char *const *keys;
} op_info;

static const char *const k_step_common[] = {"op",   "client", "only",  "note",
                                            "rule", "level",  "exact", NULL};
static const char *const k_op_connect[] = {
    "raw", "expect", "timeout_ms", "client_cert", "ws_subprotocol", "must_accept", NULL};
static const char *const k_op_open[] = {"timeout_ms", "client_cert", "ws_subprotocol",
                                        "must_accept", NULL};
static const char *const k_op_send[] = {"packet", "packets",  "hex",          "raw",
                                        "split",  "ws_text", "ws_frame_max", NULL};
static const char *const k_op_expect[] = {"packet",  "packets", "any_order",  "one_of",
                                          "observe", "save",    "closed",     "allow",
                                          "none",    "ms",      "timeout_ms", NULL};
static const char *const k_op_expect_none[] = {"ms", "packet", NULL};
static const char *const k_op_expect_closed[] = {"timeout_ms", "allow", NULL};
static const char *const k_op_close[] = {"abrupt", NULL};
static const char *const k_op_wait[] = {"ms", NULL};
static const char *const k_op_ping[] = {"timeout_ms", NULL};

static const op_info ops[] = {
    {"connect", MQS_OP_CONNECT, true, k_op_connect},
    {"open", MQS_OP_OPEN, true, k_op_open},
    {"send", MQS_OP_SEND, true, k_op_send},
    {"expect", MQS_OP_EXPECT, true, k_op_expect},
    {"expect_none", MQS_OP_EXPECT_NONE, true, k_op_expect_none},
    {"expect_closed", MQS_OP_EXPECT_CLOSED, true, k_op_expect_closed},
    {"disconnect", MQS_OP_DISCONNECT, true, k_none},
    {"close", MQS_OP_CLOSE, true, k_op_close},
    {"wait", MQS_OP_WAIT, false, k_op_wait},
    {"ping", MQS_OP_PING, true, k_op_ping},
};

static int parse_hex(ld *l, const cJSON *j, mqs_sc_step *s)
{
    const char *text;
    if (want_text(l, j, false, &text) < 0)
        return -1;
    size_t n = strlen(text);
    uint8_t *out = mqs_arena_alloc(l->arena, n / 2 + 1);
    if (!out)
        return ld_oom(l);
    size_t len = 0;
    for (size_t i = 0; i < n;) {
        if (text[i] == ' ' || text[i] == '\t' || text[i] == '\n') {
            i++;
            continue;
        }
        unsigned hi, lo;
        if (i + 1 >= n || sscanf(text + i, "%1x%1x", &hi, &lo) != 2)
            return ld_fail(l,
                           "'%.2s' at offset %zu is not a pair of hex digits (variables are "
                           "not expanded in \"hex\")",
                           text + i, i);
        out[len++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    if (len == 0)
        return ld_fail(l, "no bytes");
    s->hex = out;
    s->hex_len = len;
    return 0;
}

static int parse_split(ld *l, const cJSON *j, mqs_sc_step *s)
{
    if (want_array(l, j, 1, &s->n_split) < 0)
        return -1;
    s->split = ld_array(l, s->n_split, sizeof *s->split);
    if (!s->split)
        return ld_oom(l);
    size_t i = 0;
    for (const cJSON *it = j->child; it; it = it->next, i++) {
        size_t q = path_index(l, i);
        int64_t v;
        if (want_int(l, it, 1, MQS_EXPAND_MAX, &v) < 0)
            return -1;
        s->split[i] = (size_t)v;
        path_pop(l, q);
    }
    return 0;
}

static int parse_send_packets(ld *l, const cJSON *j, mqs_sc_step *s)
{
    if (want_array(l, j, 1, &s->n_pkts) < 0)
        return -1;
    s->pkts = ld_array(l, s->n_pkts, sizeof *s->pkts);
    if (!s->pkts)
        return ld_oom(l);
    size_t i = 0;
    for (const cJSON *it = j->child; it; it = it->next, i++) {
        size_t q = path_index(l, i);
        if (parse_packet(l, it, false, 0, &s->pkts[i]) < 0)
            return -1;
        path_pop(l, q);
    }
    return 0;
}

/* A WebSocket-only key needs the scenario to require "ws" (so it SKIPs elsewhere). */
static int need_ws(ld *l, const cJSON *j, const char *key)
{
    if (!get(j, key) || (l->sc->requires & MQS_REQ_WS))
        return 0;
    path_key(l, key);
    return ld_fail(l, "WebSocket only: the scenario must have \"requires\": [\"ws\"]");
}

/* connect / open: "client_cert", "ws_subprotocol" and "must_accept". */
static int parse_open_opts(ld *l, const cJSON *j, mqs_sc_step *s)
{
    bool cert = true;
    if (opt_bool(l, j, "client_cert", &cert) < 0 ||
        opt_bool(l, j, "must_accept", &s->must_accept) < 0 || need_ws(l, j, "ws_subprotocol") < 0 ||
        opt_text(l, j, "ws_subprotocol", true, &s->ws_subprotocol) < 0)
        return -1;
    s->no_client_cert = !cert;
    return 0;
}

/* send: "ws_text" and "ws_frame_max" (exclusive: a text frame is never fragmented). */
static int parse_ws_send(ld *l, const cJSON *j, mqs_sc_step *s)
{
    int64_t max = 0;
    if (need_ws(l, j, "ws_text") < 0 || need_ws(l, j, "ws_frame_max") < 0 ||
        opt_bool(l, j, "ws_text", &s->ws_text) < 0 ||
        opt_int(l, j, "ws_frame_max", 1, 65535, &max) < 0)
        return -1;
    if (s->ws_text && max) {
        path_key(l, "ws_frame_max");
        return ld_fail(l, "a \"ws_text\" write goes in one text frame: drop \"ws_frame_max\"");
    }
    s->ws_frame_max = (size_t)max;
    return 0;
}

static int step_send(ld *l, const cJSON *j, mqs_sc_step *s)
{
    const cJSON *pkt = get(j, "packet"), *pkts = get(j, "packets"), *hex = get(j, "hex");
    if (!!pkt + !!pkts + !!hex != 1)
        return ld_fail(l, "send needs exactly one of \"packet\", \"packets\" and \"hex\"");
    if (get(j, "raw") && !pkt)
        return ld_fail(l, "\"raw\" overrides a single structured \"packet\"; \"hex\" is sent "
                          "as is");
    size_t p;
    if (pkt) {
        p = path_key(l, "packet");
        if (parse_packet(l, pkt, false, 0, &s->pkt) < 0)
            return -1;
        path_pop(l, p);
        s->has_pkt = true;
    } else if (pkts) {
        p = path_key(l, "packets");
        if (parse_send_packets(l, pkts, s) < 0)
            return -1;
        path_pop(l, p);
    } else {
        p = path_key(l, "hex");
        if (parse_hex(l, hex, s) < 0)
            return -1;
        path_pop(l, p);
    }
    const cJSON *raw = get(j, "raw"), *split = get(j, "split");
    if (raw) {
        p = path_key(l, "raw");
        if (parse_raw(l, raw, &s->pkt.raw) < 0)
            return -1;
        path_pop(l, p);
    }
    if (split) {
        p = path_key(l, "split");
        if (parse_split(l, split, s) < 0)
            return -1;
        path_pop(l, p);
    }
    return parse_ws_send(l, j, s);
}

static int step_connect(ld *l, const cJSON *j, mqs_sc_step *s)
{
    packet_init(&s->pkt);
    s->pkt.type = MQS_CONNECT;
    s->has_pkt = true;
    if (parse_packet_fields(l, j, &s->pkt) < 0)
        return -1;
    const cJSON *raw = get(j, "raw");
    if (raw) {
        size_t p = path_key(l, "raw");
        if (parse_raw(l, raw, &s->pkt.raw) < 0)
            return -1;
        path_pop(l, p);
    }
    return parse_connect_expect(l, j, &s->expect) < 0 ||
                   opt_int(l, j, "timeout_ms", 0, MQS_SC_MAX_MS, &s->timeout_ms) < 0 ||
                   parse_open_opts(l, j, s) < 0
               ? -1
               : 0;
}

static int step_ops(ld *l, const cJSON *j, mqs_sc_step *s)
{
    switch (s->op) {
    case MQS_OP_CONNECT:
        return step_connect(l, j, s);
    case MQS_OP_SEND:
        return step_send(l, j, s);
    case MQS_OP_EXPECT:
        if (parse_expectation(l, j, 0, &s->expect) < 0)
            return -1;
        return opt_int(l, j, "timeout_ms", 0, MQS_SC_MAX_MS, &s->timeout_ms);
    case MQS_OP_EXPECT_NONE:
        s->expect.kind = MQS_EXP_NONE;
        if (parse_ms(l, j, "ms", true, &s->expect.ms) < 0)
            return -1;
        return get(j, "packet") ? parse_none_filter(l, j, &s->expect) : 0;
    case MQS_OP_EXPECT_CLOSED:
        s->expect.kind = MQS_EXP_CLOSED;
        return parse_allow(l, j, &s->expect.allow) < 0 ||
                       opt_int(l, j, "timeout_ms", 0, MQS_SC_MAX_MS, &s->timeout_ms) < 0
                   ? -1
                   : 0;
    case MQS_OP_CLOSE:
        return opt_bool(l, j, "abrupt", &s->abrupt);
    case MQS_OP_WAIT:
        return parse_ms(l, j, "ms", true, &s->ms);
    case MQS_OP_OPEN:
        return opt_int(l, j, "timeout_ms", 0, MQS_SC_MAX_MS, &s->timeout_ms) < 0
                   ? -1
                   : parse_open_opts(l, j, s);
    case MQS_OP_PING:
        return opt_int(l, j, "timeout_ms", 0, MQS_SC_MAX_MS, &s->timeout_ms);
    case MQS_OP_DISCONNECT:
        return 0;
    }
    return 0;
}

static int step_client(ld *l, const cJSON *j, const op_info *op, mqs_sc_step *s)
{
    const cJSON *c = get(j, "client");
    s->client = -1;
    if (!op->needs_client) {
        if (c)
            return ld_fail(l, "\"%s\" takes no \"client\"", op->name);
        return 0;
    }
    if (!c)
        return ld_fail(l, "missing required key \"client\"");
    size_t p = path_key(l, "client");
    if (!cJSON_IsString(c) || !c->valuestring)
        return ld_fail(l, "expected a client name, got %s", json_type(c));
    for (size_t i = 0; i < l->sc->n_clients; i++)
        if (!strcmp(c->valuestring, l->sc->clients[i]))
            s->client = (int)i;
    if (s->client < 0)
        return ld_fail(l, "undefined client \"%.40s\" (not in \"clients\")", c->valuestring);
    path_pop(l, p);
    return 0;
}

static int step_common(ld *l, const cJSON *j, mqs_sc_step *s)
{
    const cJSON *only = get(j, "only"), *level = get(j, "level");
    s->only = l->sc->protocols;
    s->level = -1;
    s->timeout_ms = -1;
    if (only) {
        size_t p = path_key(l, "only");
        if (want_protocol(l, only, &s->only) < 0)
            return -1;
        if (!(s->only & l->sc->protocols))
            return ld_fail(l, "the scenario does not run on this protocol version");
        path_pop(l, p);
    }
    if (level) {
        size_t p = path_key(l, "level");
        if (want_level(l, level, &s->level) < 0)
            return -1;
        path_pop(l, p);
    }
    if (opt_text(l, j, "note", true, &s->note) < 0 || opt_text(l, j, "rule", false, &s->rule) < 0 ||
        opt_bool(l, j, "exact", &s->exact) < 0)
        return -1;
    if (s->rule) {
        size_t p = path_key(l, "rule");
        if (want_statement_id(l, s->rule) < 0)
            return -1;
        path_pop(l, p);
    }
    return 0;
}

static int parse_step(ld *l, const cJSON *j, mqs_sc_step *s)
{
    if (!cJSON_IsObject(j))
        return ld_fail(l, "expected a step object, got %s", json_type(j));
    const cJSON *opj = get(j, "op");
    if (!opj)
        return ld_fail(l, "missing required key \"op\"");
    const op_info *op = NULL;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (cJSON_IsString(opj) && opj->valuestring && !strcmp(opj->valuestring, ops[i].name))
            op = &ops[i];
    if (!op) {
        path_key(l, "op");
        return ld_fail(l,
                       "unknown op %s%.30s%s (connect, open, send, expect, expect_none, "
                       "expect_closed, disconnect, close, wait, ping)",
                       cJSON_IsString(opj) ? "\"" : "",
                       cJSON_IsString(opj) ? opj->valuestring : json_type(opj),
                       cJSON_IsString(opj) ? "\"" : "");
    }
    s->op = op->op;
    if (check_keys(l, j, k_step_common, op->keys, op->op == MQS_OP_CONNECT ? k_connect : NULL) < 0)
        return -1;
    if (step_client(l, j, op, s) < 0 || step_common(l, j, s) < 0)
        return -1;
    return step_ops(l, j, s);
}

/* ---- top level ---- */

static bool valid_id(const char *id)
{
    for (const char *c = id; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '.' || *c == '_' ||
              *c == '-'))
            return false;
    return true;
}

static int parse_requires(ld *l, const cJSON *root)
{
    static const char *const names[] = {"credentials", "bad-credentials", "tls", "ws",
                                        "client-cert", "no-anonymous",    "qos2"};
    const char **req = NULL;
    size_t n = 0;
    if (want_strings(l, root, "requires", false, 0, &req, &n) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (k < sizeof names / sizeof names[0] && strcmp(req[i], names[k]))
            k++;
        if (k == sizeof names / sizeof names[0]) {
            path_key(l, "requires");
            path_index(l, i);
            return ld_fail(l,
                           "unknown precondition \"%.40s\" (credentials, bad-credentials, "
                           "tls, ws, client-cert, no-anonymous, qos2)",
                           req[i]);
        }
        l->sc->requires |= 1u << k;
    }
    return 0;
}

static int parse_header(ld *l, const cJSON *root)
{
    mqs_scenario *sc = l->sc;
    static const char *const required[] = {"id",        "title", "area",    "statements",
                                           "protocols", "level", "clients", "steps"};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!get(root, required[i]))
            return ld_fail(l, "missing required key \"%s\"", required[i]);
    if (opt_text(l, root, "id", false, &sc->id) < 0 ||
        opt_text(l, root, "title", false, &sc->title) < 0 ||
        opt_text(l, root, "area", false, &sc->area) < 0 ||
        opt_text(l, root, "notes", true, &sc->notes) < 0)
        return -1;
    size_t alen = strlen(sc->area);
    if (!valid_id(sc->id) || strncmp(sc->id, sc->area, alen) || sc->id[alen] != '.' ||
        !sc->id[alen + 1]) {
        path_key(l, "id");
        return ld_fail(l,
                       "\"%.60s\" must be \"AREA.name\" with AREA the \"area\" (\"%.30s\") "
                       "and only [a-z0-9._-]",
                       sc->id, sc->area);
    }
    if (want_statements(l, root) < 0)
        return -1;
    const cJSON *protos = get(root, "protocols");
    size_t p = path_key(l, "protocols"), n;
    if (want_array(l, protos, 1, &n) < 0)
        return -1;
    size_t i = 0;
    for (const cJSON *it = protos->child; it; it = it->next, i++) {
        size_t q = path_index(l, i);
        unsigned bit;
        if (want_protocol(l, it, &bit) < 0)
            return -1;
        sc->protocols |= bit;
        path_pop(l, q);
    }
    path_pop(l, p);
    int level;
    p = path_key(l, "level");
    if (want_level(l, get(root, "level"), &level) < 0)
        return -1;
    path_pop(l, p);
    sc->level = (mqs_level)level;
    sc->timeout_ms = MQS_SC_DEFAULT_TIMEOUT_MS;
    return parse_requires(l, root) < 0 ||
                   opt_int(l, root, "timeout_ms", 1, MQS_SC_MAX_MS, &sc->timeout_ms) < 0 ||
                   opt_bool(l, root, "allow_extra", &sc->allow_extra) < 0 ||
                   opt_bool(l, root, "alone", &sc->alone) < 0
               ? -1
               : 0;
}

static int parse_clients(ld *l, const cJSON *root)
{
    mqs_scenario *sc = l->sc;
    if (want_strings(l, root, "clients", true, 0, &sc->clients, &sc->n_clients) < 0)
        return -1;
    for (size_t i = 0; i < sc->n_clients; i++) {
        size_t p = path_key(l, "clients");
        path_index(l, i);
        const char *c = sc->clients[i];
        if (strlen(c) > 32 || strspn(c, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789_-") != strlen(c))
            return ld_fail(l, "a client name is [A-Za-z0-9_-]{1,32}");
        for (size_t k = 0; k < i; k++)
            if (!strcmp(sc->clients[k], c))
                return ld_fail(l, "client \"%s\" listed twice", c);
        path_pop(l, p);
    }
    return 0;
}

static int parse_steps(ld *l, const cJSON *root)
{
    mqs_scenario *sc = l->sc;
    const cJSON *steps = get(root, "steps");
    size_t p = path_key(l, "steps");
    if (want_array(l, steps, 1, &sc->n_steps) < 0)
        return -1;
    sc->steps = ld_array(l, sc->n_steps, sizeof *sc->steps);
    if (!sc->steps)
        return ld_oom(l);
    size_t i = 0;
    for (const cJSON *it = steps->child; it; it = it->next, i++) {
        size_t q = path_index(l, i);
        if (parse_step(l, it, &sc->steps[i]) < 0)
            return -1;
        path_pop(l, q);
    }
    path_pop(l, p);
    return 0;
}

static int parse_root(ld *l, const cJSON *root)
{
    static const char *const keys[] = {
        "id",         "title",   "area",  "statements", "protocols",   "level", "requires",
        "timeout_ms", "clients", "steps", "notes",      "allow_extra", "alone",
        NULL};
    if (!cJSON_IsObject(root))
        return ld_fail(l, "a scenario is a JSON object, got %s", json_type(root));
    if (check_keys(l, root, keys, NULL, NULL) < 0 || parse_header(l, root) < 0 ||
        parse_clients(l, root) < 0 || parse_steps(l, root) < 0)
        return -1;
    const unsigned cred = MQS_REQ_CREDENTIALS | MQS_REQ_BAD_CREDENTIALS;
    if (l->uses && !(l->sc->requires & cred))
        return ld_fail(l, "uses ${username}, ${password} or ${bad_password} but does not "
                          "require \"credentials\" or \"bad-credentials\"");
    return 0;
}

/* Line and column of pos in buf, for parse errors. */
static void locate(const char *buf, const char *pos, size_t *line, size_t *col)
{
    *line = 1;
    *col = 1;
    for (const char *c = buf; c < pos; c++) {
        if (*c == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

static int parse_json(ld *l, const uint8_t *buf, size_t len, cJSON **root)
{
    if (memchr(buf, 0, len))
        return ld_fail(l, "the file contains a NUL byte");
    char *text = mqs_malloc(len + 1);
    if (!text)
        return ld_oom(l);
    if (len)
        memcpy(text, buf, len);
    text[len] = '\0';
    const char *end = NULL;
    *root = cJSON_ParseWithLengthOpts(text, len + 1, &end, 1);
    if (!*root) {
        size_t line, col;
        const char *at = end && end >= text && end <= text + len ? end : text + len;
        locate(text, at, &line, &col);
        int rc = ld_fail(l, "invalid JSON at line %zu column %zu%s%.20s%s", line, col,
                         *at ? " near '" : " (unexpected end of input)", at, *at ? "'" : "");
        mqs_free(text);
        return rc;
    }
    mqs_free(text);
    return 0;
}

int mqs_scenario_load_buf(const char *name, const uint8_t *buf, size_t len, mqs_scenario **out,
                          char *err, size_t errlen)
{
    ld l = {.name = name ? name : "(scenario)", .err = err, .errlen = errlen};
    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    if (!buf && len)
        return ld_fail(&l, "no input");
    l.arena = mqs_arena_new();
    l.sc = l.arena ? mqs_arena_alloc(l.arena, sizeof *l.sc) : NULL;
    if (!l.sc) {
        mqs_arena_free(l.arena);
        return ld_oom(&l);
    }
    l.sc->arena = l.arena;
    l.sc->file = mqs_arena_strndup(l.arena, l.name, strlen(l.name));
    cJSON *root = NULL;
    int rc = l.sc->file ? parse_json(&l, buf ? buf : (const uint8_t *)"", len, &root) : ld_oom(&l);
    if (rc == 0)
        rc = parse_root(&l, root);
    cJSON_Delete(root);
    if (rc < 0) {
        mqs_arena_free(l.arena);
        return -1;
    }
    *out = l.sc;
    return 0;
}

void mqs_scenario_free(mqs_scenario *s)
{
    if (s)
        mqs_arena_free(s->arena);
}

const char *mqs_level_name(int level)
{
    switch (level) {
    case MQS_LEVEL_MUST:
        return "MUST";
    case MQS_LEVEL_SHOULD:
        return "SHOULD";
    case MQS_LEVEL_INFO:
        return "INFO";
    default:
        return "UNKNOWN";
    }
}

const char *mqs_protocol_name(unsigned proto_bit)
{
    return proto_bit == MQS_PROTO_31 ? "3.1" : proto_bit == MQS_PROTO_311 ? "3.1.1" : "?";
}
