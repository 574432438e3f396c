/* Scenario loader: valid files load into the expected structure; every kind of bad
 * input is rejected with the file, the JSON path and the reason; allocation failures
 * anywhere fail cleanly (no leak, no crash); every built-in scenario loads. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "codec/mqtt.h"
#include "conformance/alloc.h"
#include "conformance/embedded.h"
#include "conformance/scenario.h"

#define HEAD                                                                                       \
    "\"id\": \"connect.x\", \"title\": \"t\", \"area\": \"connect\", \"statements\": "             \
    "[\"MQTT-3.1.2-3\"], \"protocols\": [\"3.1\", \"3.1.1\"], \"level\": \"MUST\", "

static int load(const char *json, mqs_scenario **s, char *err, size_t errlen)
{
    return mqs_scenario_load_buf("t.json", (const uint8_t *)json, strlen(json), s, err, errlen);
}

static const char *valid =
    "{" HEAD
    "\"clients\": [\"pub\", \"sub\"], \"timeout_ms\": 5000, \"requires\": [\"credentials\"],"
    "\"alone\": true,"
    "\"steps\": ["
    "{\"op\": \"connect\", \"client\": \"sub\", \"keepalive\": 5, \"clean_session\": false,"
    "  \"will\": {\"topic\": \"${topic}w\", \"payload\": \"bye\", \"qos\": 1, \"retain\": true},"
    "  \"username\": \"${username}\", \"password\": null, \"expect\": {\"return_code\": 0}},"
    "{\"op\": \"send\", \"client\": \"sub\", \"packet\": {\"type\": \"SUBSCRIBE\", \"packet_id\": "
    "1,"
    "  \"subscriptions\": [{\"filter\": \"${topic}#\", \"qos\": 2}]}},"
    "{\"op\": \"expect\", \"client\": \"sub\", \"packet\": {\"type\": \"SUBACK\", "
    "\"return_codes\": [2]},"
    "  \"timeout_ms\": 100},"
    "{\"op\": \"send\", \"client\": \"pub\", \"hex\": \"30 03 00 01 61\", \"split\": [1, 2], "
    "\"only\": \"3.1.1\"},"
    "{\"op\": \"expect\", \"client\": \"sub\", \"packet\": {\"type\": \"PUBLISH\", \"qos\": 1},"
    "  \"save\": {\"packet_id\": \"p\"}, \"note\": \"n\", \"rule\": \"MQS-rule-1\", \"level\": "
    "\"SHOULD\"},"
    "{\"op\": \"send\", \"client\": \"sub\", \"packet\": {\"type\": \"PUBACK\", \"packet_id\": "
    "\"${var:p}\"},"
    "  \"raw\": {\"fixed_flags\": 3, \"rl_bytes\": 4}},"
    "{\"op\": \"expect\", \"client\": \"sub\", \"one_of\": [{\"packet\": {\"type\": \"PUBLISH\"}, "
    "\"label\": \"twice\"},"
    "  {\"none\": true, \"ms\": 200, \"label\": \"once\", \"end\": false}, {\"closed\": true, \"allow\": "
    "[\"PUBACK\"]}], \"observe\": true},"
    "{\"op\": \"expect\", \"client\": \"sub\", \"packets\": [{\"type\": \"PUBACK\"}, {\"type\": "
    "\"PUBREC\"}], \"any_order\": true, \"save\": {\"packet_id\": \"q\"}},"
    "{\"op\": \"expect_none\", \"client\": \"pub\", \"ms\": 10},"
    "{\"op\": \"expect_closed\", \"client\": \"pub\", \"allow\": [\"CONNACK\"], \"timeout_ms\": "
    "10},"
    "{\"op\": \"close\", \"client\": \"pub\", \"abrupt\": true},"
    "{\"op\": \"wait\", \"ms\": 5},"
    "{\"op\": \"ping\", \"client\": \"sub\"},"
    "{\"op\": \"open\", \"client\": \"pub\"},"
    "{\"op\": \"connect\", \"client\": \"pub\", \"expect\": null},"
    "{\"op\": \"expect_none\", \"client\": \"sub\", \"ms\": 10, \"packet\": {\"type\": "
    "\"PUBLISH\", \"topic\": \"$$x/${topic}h\"}},"
    "{\"op\": \"disconnect\", \"client\": \"sub\"}"
    "]}";

START_TEST(loads_valid)
{
    mqs_scenario *s;
    char err[512];
    ck_assert_msg(load(valid, &s, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(s->id, "connect.x");
    ck_assert_uint_eq(s->protocols, MQS_PROTO_31 | MQS_PROTO_311);
    ck_assert_uint_eq(s->requires, MQS_REQ_CREDENTIALS);
    ck_assert_int_eq(s->timeout_ms, 5000);
    ck_assert(s->alone);
    ck_assert_uint_eq(s->n_clients, 2);
    ck_assert_uint_eq(s->n_steps, 17);
    const mqs_sc_step *c = &s->steps[0];
    ck_assert_int_eq(c->op, MQS_OP_CONNECT);
    ck_assert_int_eq(c->client, 1);
    ck_assert_int_eq(c->pkt.type, MQS_CONNECT);
    ck_assert_int_eq(c->pkt.clean_session, 0);
    ck_assert_int_eq(c->pkt.keepalive.v, 5);
    ck_assert(c->pkt.has_will);
    ck_assert_int_eq(c->pkt.will.retain, 1);
    ck_assert_int_eq(c->pkt.password.kind, MQS_SC_NULL);
    ck_assert_int_eq(c->expect.kind, MQS_EXP_PACKET);
    ck_assert_int_eq(c->expect.pkts[0].type, MQS_CONNACK);
    ck_assert_uint_eq(s->steps[1].pkt.n_subs, 1);
    ck_assert_int_eq(s->steps[2].timeout_ms, 100);
    ck_assert_uint_eq(s->steps[3].hex_len, 5);
    ck_assert_uint_eq(s->steps[3].n_split, 2);
    ck_assert_uint_eq(s->steps[3].only, MQS_PROTO_311);
    ck_assert_int_eq(s->steps[4].level, MQS_LEVEL_SHOULD);
    ck_assert_uint_eq(s->steps[4].expect.n_saves, 1);
    ck_assert_int_eq(s->steps[5].pkt.packet_id.kind, MQS_SC_TEMPLATE);
    ck_assert_int_eq(s->steps[5].pkt.raw.rl_bytes.v, 4);
    ck_assert_int_eq(s->steps[6].expect.kind, MQS_EXP_ONE_OF);
    ck_assert_uint_eq(s->steps[6].expect.n_alts, 3);
    ck_assert(s->steps[6].expect.observe);
    ck_assert_uint_eq(s->steps[6].expect.alts[2].allow, 1u << MQS_PUBACK);
    ck_assert_int_eq(s->steps[7].expect.kind, MQS_EXP_PACKETS);
    ck_assert_int_eq(s->steps[8].expect.kind, MQS_EXP_NONE);
    ck_assert_int_eq(s->steps[9].expect.kind, MQS_EXP_CLOSED);
    ck_assert(s->steps[10].abrupt);
    ck_assert_int_eq(s->steps[11].client, -1);
    ck_assert_int_eq(s->steps[14].expect.kind, MQS_EXP_NOTHING);
    ck_assert_int_eq(s->steps[15].expect.kind, MQS_EXP_NONE);
    ck_assert_uint_eq(s->steps[15].expect.n_pkts, 1);
    ck_assert_int_eq(s->steps[15].expect.pkts[0].type, MQS_PUBLISH);
    mqs_scenario_free(s);
}
END_TEST

/* A bad input and what the error must contain (path and reason). */
typedef struct bad_case {
    const char *json;
    const char *want;
} bad_case;

#define STEPS(x) "{" HEAD "\"clients\": [\"a\"], \"steps\": [" x "]}"

static const bad_case bad[] = {
    {"", "invalid JSON at line 1 column 1"},
    {"{\n  \"id\": }", "invalid JSON at line 2"},
    {"[1, 2]", "a scenario is a JSON object"},
    {"{" HEAD "\"clients\": [\"a\"], \"steps\": [], \"bogus\": 1}", "unknown key \"bogus\""},
    {"{" HEAD "\"clients\": [\"a\"], \"clients\": [\"b\"], \"steps\": []}",
     "duplicate key \"clients\""},
    {"{" HEAD "\"clients\": [\"a\"]}", "missing required key \"steps\""},
    {"{" HEAD "\"clients\": \"a\", \"steps\": []}", "clients: expected an array, got a string"},
    {STEPS(""), "steps: needs at least 1 element"},
    {STEPS("{\"op\": \"expect_none\", \"client\": \"a\", \"ms\": 5, \"packet\": 7}"),
     "steps[0].packet: expected a packet object, got a number"},
    {STEPS("{\"op\": \"expect_none\", \"client\": \"a\", \"ms\": 5, \"packet\": {\"qos\": 9}}"),
     "steps[0].packet.qos"},
    {STEPS("{\"op\": \"connect\", \"client\": \"a\", \"keepalive\": 1.5}"),
     "steps[0].keepalive: expected an integer 0..65535, got 1.5"},
    {STEPS("{\"op\": \"connect\", \"client\": \"a\", \"keepalive\": 70000}"),
     "steps[0].keepalive: 70000 is out of range 0..65535"},
    {STEPS("{\"op\": \"connect\", \"client\": \"a\", \"keepalive\": \"x\"}"),
     "steps[0].keepalive: expected an integer 0..65535 (or a string"},
    {STEPS("{\"op\": \"connect\", \"client\": \"a\", \"keepalive\": 1e400}"), "steps[0].keepalive"},
    {STEPS("{\"op\": \"jump\", \"client\": \"a\"}"), "steps[0].op: unknown op \"jump\""},
    {STEPS("{\"op\": 3}"), "unknown op a number"},
    {STEPS("{\"op\": \"connect\", \"client\": \"b\"}"), "steps[0].client: undefined client \"b\""},
    {STEPS("{\"op\": \"connect\"}"), "steps[0]: missing required key \"client\""},
    {STEPS("{\"op\": \"wait\", \"client\": \"a\", \"ms\": 1}"), "takes no \"client\""},
    {STEPS("{\"op\": \"wait\"}"), "missing required key \"ms\""},
    {STEPS(
         "{\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"PUBLISH\", \"qos\": 4}}"),
     "steps[0].packet.qos: 4 is out of range 0..3"},
    {STEPS("{\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"SUBSCRIBE\", \"topic\": "
           "\"x\"}}"),
     "steps[0].packet: unknown key \"topic\""},
    {STEPS("{\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"PUBLISHX\"}}"),
     "steps[0].packet.type: unknown packet type \"PUBLISHX\""},
    {STEPS("{\"op\": \"send\", \"client\": \"a\", \"packet\": {\"qos\": 1}}"),
     "steps[0].packet: missing required key \"type\""},
    {STEPS("{\"op\": \"send\", \"client\": \"a\"}"),
     "exactly one of \"packet\", \"packets\" and \"hex\""},
    {STEPS("{\"op\": \"send\", \"client\": \"a\", \"packets\": []}"),
     "steps[0].packets: needs at least 1"},
    {STEPS("{\"op\": \"send\", \"client\": \"a\", \"packets\": [{\"type\": \"PINGREQ\"}], \"raw\": "
           "{}}"),
     "overrides a single structured"},
    {STEPS("{\"op\": \"send\", \"client\": \"a\", \"packets\": [{\"type\": \"PINGREQ\"}, {\"qos\": "
           "1}]}"),
     "steps[0].packets[1]: missing required key \"type\""},
    {STEPS("{\"op\": \"expect\", \"client\": \"a\", \"packet\": {\"type\": \"PUBACK\", \"not\": "
           "{\"not\": {}}}}"),
     "steps[0].packet.not.not: \"not\" cannot be nested"},
    {STEPS("{\"op\": \"expect\", \"client\": \"a\", \"packet\": {\"type\": \"PUBACK\", \"not\": "
           "{\"topic\": \"x\"}}}"),
     "steps[0].packet.not: unknown key \"topic\""},
    {STEPS(
         "{\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"PUBACK\", \"not\": {}}}"),
     "steps[0].packet: unknown key \"not\""},
    {STEPS("{\"op\": \"send\", \"client\": \"a\", \"hex\": \"3g\"}"), "steps[0].hex: '3g'"},
    {STEPS("{\"op\": \"send\", \"client\": \"a\", \"hex\": \"30\", \"raw\": {}}"),
     "\"raw\" overrides"},
    {STEPS("{\"op\": \"send\", \"client\": \"a\", \"hex\": \"30\", \"split\": [0]}"),
     "steps[0].split[0]: 0 is out of range"},
    {STEPS("{\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"PUBLISH\", \"topic\": "
           "\"${nope}\"}}"),
     "steps[0].packet.topic: unknown variable ${nope}"},
    {STEPS("{\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"PUBLISH\", \"topic\": "
           "\"${cid:zz}\"}}"),
     "no client named 'zz'"},
    {STEPS("{\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"PUBLISH\", \"topic\": "
           "\"${hex:f}\"}}"),
     "not a pair of hex digits"},
    {STEPS("{\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"PUBLISH\", \"topic\": "
           "\"${topic\"}}"),
     "unterminated"},
    {STEPS("{\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"PUBLISH\", \"payload\": "
           "\"${repeat:16777217:x}\"}}"),
     "N must be an integer"},
    {STEPS("{\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"PUBLISH\", \"payload\": "
           "\"${repeat:16777216:${repeat:16:x}}\"}}"),
     "expansion larger than"},
    {STEPS("{\"op\": \"send\", \"client\": \"a\", \"packet\": {\"type\": \"PUBLISH\", \"payload\": "
           "\"a\", \"payload_size\": 1}}"),
     "not both"},
    {STEPS("{\"op\": \"connect\", \"client\": \"a\", \"password\": \"${password}\"}"),
     "does not require \"credentials\""},
    {STEPS("{\"op\": \"expect\", \"client\": \"a\"}"), "needs exactly one of"},
    {STEPS("{\"op\": \"expect\", \"client\": \"a\", \"packets\": [{\"type\": \"PUBACK\"}]}"),
     "needs \"any_order\": true"},
    {STEPS("{\"op\": \"expect\", \"client\": \"a\", \"closed\": false}"),
     "steps[0].closed: must be true"},
    {STEPS("{\"op\": \"expect\", \"client\": \"a\", \"none\": true}"),
     "missing required key \"ms\""},
    {STEPS("{\"op\": \"expect\", \"client\": \"a\", \"packet\": {\"type\": \"CONNECT\"}}"),
     "never sends CONNECT"},
    {STEPS("{\"op\": \"expect\", \"client\": \"a\", \"one_of\": [{\"label\": \"x\"}]}"),
     "steps[0].one_of[0]: an alternative needs exactly one of"},
    {STEPS("{\"op\": \"expect\", \"client\": \"a\", \"one_of\": [{\"none\": true, \"ms\": 1, "
           "\"end\": 1}]}"),
     "steps[0].one_of[0].end: expected true or false"},
    {STEPS("{\"op\": \"expect\", \"client\": \"a\", \"one_of\": [{\"none\": true, \"ms\": 1}, "
           "{\"none\": true, \"ms\": 2}]}"),
     "at most one"},
    {STEPS("{\"op\": \"expect\", \"client\": \"a\", \"packet\": {\"type\": \"PUBLISH\"}, \"save\": "
           "{\"qos\": \"a b\"}}"),
     "a variable name is"},
    {STEPS("{\"op\": \"expect\", \"client\": \"a\", \"closed\": true, \"save\": "
           "{\"qos\": \"x\"}}"),
     "\"save\" needs a \"packet\" or \"packets\" expectation"},
    {STEPS("{\"op\": \"expect\", \"client\": \"a\", \"packet\": {\"type\": \"PUBLISH\"}, \"save\": "
           "{\"flags\": \"x\"}}"),
     "cannot save \"flags\""},
    {STEPS("{\"op\": \"expect\", \"client\": \"a\", \"closed\": true, \"allow\": [\"NOPE\"]}"),
     "steps[0].allow[0]: unknown packet type"},
    {STEPS("{\"op\": \"ping\", \"client\": \"a\", \"only\": \"5\"}"),
     "steps[0].only: expected \"3.1\""},
    {STEPS("{\"op\": \"ping\", \"client\": \"a\", \"level\": \"MAY\"}"), "steps[0].level"},
    {STEPS("{\"op\": \"wait\", \"ms\": 5, \"exact\": 1}"),
     "steps[0].exact: expected true or false"},
    {"{\"id\": \"qos.x\", \"title\": \"t\", \"area\": \"connect\", \"statements\": [\"MQS-a\"], "
     "\"protocols\": [\"3.1\"], \"level\": \"MUST\", \"clients\": [], \"steps\": [{\"op\": "
     "\"wait\", \"ms\": 1}]}",
     "id: \"qos.x\" must be \"AREA.name\""},
    {"{" HEAD "\"clients\": [\"a\", \"a\"], \"steps\": [{\"op\": \"wait\", \"ms\": 1}]}",
     "listed twice"},
    {"{" HEAD "\"clients\": [\"a b\"], \"steps\": [{\"op\": \"wait\", \"ms\": 1}]}",
     "clients[0]: a client name"},
    {"{\"id\": \"connect.x\", \"title\": \"t\", \"area\": \"connect\", \"statements\": "
     "[\"MQS-a\"], "
     "\"protocols\": [\"3.1.1\"], \"level\": \"MUST\", \"clients\": [\"a\"], "
     "\"steps\": [{\"op\": \"ping\", \"client\": \"a\", \"only\": \"3.1\"}]}",
     "does not run on this protocol version"},
    {"{" HEAD
     "\"clients\": [], \"requires\": [\"magic\"], \"steps\": [{\"op\": \"wait\", \"ms\": 1}]}",
     "requires[0]: unknown precondition \"magic\""},
    {"{" HEAD "\"clients\": [], \"timeout_ms\": 0, \"steps\": [{\"op\": \"wait\", \"ms\": 1}]}",
     "timeout_ms: 0 is out of range"},
    {"{" HEAD "\"clients\": [], \"steps\": [{\"op\": \"wait\", \"ms\": 1}]}\0", "NUL byte"},
    /* statement ids: the catalogue's, or our own MQS-... / MQTT31-... forms */
    {"{\"id\": \"connect.x\", \"title\": \"t\", \"area\": \"connect\", \"statements\": "
     "[\"MQTT-3.1.2-3\", \"MQTT-3.1.2-99\"], \"protocols\": [\"3.1.1\"], \"level\": \"MUST\", "
     "\"clients\": [], \"steps\": [{\"op\": \"wait\", \"ms\": 1}]}",
     "statements[1]: unknown statement id \"MQTT-3.1.2-99\": not in the MQTT 3.1.1 catalogue"},
    {"{\"id\": \"connect.x\", \"title\": \"t\", \"area\": \"connect\", \"statements\": "
     "[\"MQS-\"], \"protocols\": [\"3.1.1\"], \"level\": \"MUST\", "
     "\"clients\": [], \"steps\": [{\"op\": \"wait\", \"ms\": 1}]}",
     "statements[0]: unknown statement id \"MQS-\""},
    {"{\"id\": \"connect.x\", \"title\": \"t\", \"area\": \"connect\", \"statements\": "
     "[\"mqtt-3.1.2-3\"], \"protocols\": [\"3.1.1\"], \"level\": \"MUST\", "
     "\"clients\": [], \"steps\": [{\"op\": \"wait\", \"ms\": 1}]}",
     "statements[0]: unknown statement id \"mqtt-3.1.2-3\""},
    {STEPS("{\"op\": \"wait\", \"ms\": 1}, {\"op\": \"ping\", \"client\": \"a\", "
           "\"rule\": \"MQTT-3.12.4-9\"}"),
     "steps[1].rule: unknown statement id \"MQTT-3.12.4-9\""},
    {STEPS("{\"op\": \"ping\", \"client\": \"a\", \"rule\": \"MQS-a b\"}"),
     "steps[0].rule: unknown statement id \"MQS-a b\""},
};

/* Own ids load: MQS-... and MQTT31-... with [A-Za-z0-9.-] after the dash. */
START_TEST(own_statement_ids)
{
    static const char json[] =
        "{\"id\": \"connect.x\", \"title\": \"t\", \"area\": \"connect\", \"statements\": "
        "[\"MQS-payload-16M\", \"MQTT31-connect.idlen\", \"MQTT-4.7.1-1\"], \"protocols\": "
        "[\"3.1\"], \"level\": \"MUST\", \"clients\": [\"a\"], \"steps\": [{\"op\": \"ping\", "
        "\"client\": \"a\", \"rule\": \"MQTT31-ping\"}]}";
    mqs_scenario *s;
    char err[512];
    ck_assert_msg(load(json, &s, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(s->n_statements, 3);
    ck_assert_str_eq(s->steps[0].rule, "MQTT31-ping");
    mqs_scenario_free(s);
}
END_TEST

START_TEST(rejects_bad)
{
    const bad_case *b = &bad[_i];
    mqs_scenario *s = (mqs_scenario *)1;
    char err[512];
    size_t len = strlen(b->json);
    if (strstr(b->want, "NUL"))
        len++;
    int rc = mqs_scenario_load_buf("t.json", (const uint8_t *)b->json, len, &s, err, sizeof err);
    ck_assert_msg(rc == -1, "case %d loaded: %s", _i, b->json);
    ck_assert_ptr_null(s);
    ck_assert_msg(!strncmp(err, "t.json: ", 8), "case %d: error does not name the file: %s", _i,
                  err);
    ck_assert_msg(strstr(err, b->want) != NULL, "case %d: '%s' not in '%s'", _i, b->want, err);
}
END_TEST

/* Any prefix, and the file with any one byte changed, loads or fails cleanly. */
START_TEST(never_crashes)
{
    size_t len = strlen(valid);
    char *copy = malloc(len);
    char err[256];
    for (size_t cut = 0; cut < len; cut += 7) {
        mqs_scenario *s;
        if (mqs_scenario_load_buf("t", (const uint8_t *)valid, cut, &s, err, sizeof err) == 0)
            mqs_scenario_free(s);
    }
    static const char swaps[] = "{}[]\":,0a$\\ ";
    for (size_t i = 0; i < len; i += 3) {
        memcpy(copy, valid, len);
        copy[i] = swaps[i % (sizeof swaps - 1)];
        mqs_scenario *s;
        if (mqs_scenario_load_buf("t", (const uint8_t *)copy, len, &s, err, sizeof err) == 0)
            mqs_scenario_free(s);
    }
    free(copy);
}
END_TEST

/* Every allocation the loader makes may fail: it must report it and leak nothing. */
START_TEST(allocation_failures)
{
    long n = 0;
    for (;; n++) {
        mqs_alloc_fail_after(n);
        mqs_scenario *s;
        char err[256];
        int rc = load(valid, &s, err, sizeof err);
        long injected = mqs_alloc_injected_failures();
        mqs_alloc_fail_after(-1);
        if (rc == 0) {
            ck_assert_int_eq(injected, 0);
            mqs_scenario_free(s);
            break;
        }
        ck_assert_msg(injected > 0, "failed without an injected failure: %s", err);
        ck_assert_msg(strstr(err, "out of memory") || strstr(err, "invalid JSON"),
                      "after %ld allocations: %s", n, err);
    }
    ck_assert_int_gt(n, 5);
}
END_TEST

START_TEST(builtin_scenarios_load)
{
    mqs_scenario_set set = {0};
    char err[512];
    ck_assert_msg(mqs_scenario_set_add_builtin(&set, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(mqs_scenario_set_finish(&set, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(set.n, mqs_embedded_scenarios_count);
    ck_assert_uint_gt(set.n, 10);
    for (size_t i = 1; i < set.n; i++)
        ck_assert_int_lt(strcmp(set.items[i - 1]->id, set.items[i]->id), 0);
    mqs_scenario_set_free(&set);
}
END_TEST

START_TEST(filters)
{
    mqs_scenario *s;
    char err[512];
    ck_assert_msg(load(valid, &s, err, sizeof err) == 0, "%s", err);
    ck_assert(mqs_scenario_matches(s, "connect.*"));
    ck_assert(mqs_scenario_matches(s, "connect"));
    ck_assert(mqs_scenario_matches(s, "connect.x"));
    ck_assert(mqs_scenario_matches(s, "MQTT-3.1.2-3"));
    ck_assert(mqs_scenario_matches(s, "MQTT-3.1.*"));
    ck_assert(!mqs_scenario_matches(s, "qos"));
    ck_assert(!mqs_scenario_matches(s, "MQTT-3.1.2-4"));
    ck_assert(!mqs_scenario_matches(s, "conn"));
    mqs_scenario_free(s);
}
END_TEST

START_TEST(duplicate_ids)
{
    mqs_scenario_set set = {0};
    char err[512];
    ck_assert_int_eq(mqs_scenario_set_add_builtin(&set, err, sizeof err), 0);
    ck_assert_int_eq(mqs_scenario_set_add_builtin(&set, err, sizeof err), 0);
    ck_assert_int_eq(mqs_scenario_set_finish(&set, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "is defined twice"));
    mqs_scenario_set_free(&set);
    ck_assert_int_eq(mqs_scenario_set_add_file(&set, "/nonexistent/x.json", err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/x.json: cannot open"));
    mqs_scenario_set_free(&set);
}
END_TEST

Suite *loader_suite(void)
{
    Suite *s = suite_create("loader");
    TCase *t = tcase_create("valid");
    tcase_add_test(t, loads_valid);
    tcase_add_test(t, builtin_scenarios_load);
    tcase_add_test(t, filters);
    tcase_add_test(t, duplicate_ids);
    suite_add_tcase(s, t);
    t = tcase_create("malformed");
    tcase_add_loop_test(t, rejects_bad, 0, (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(t, own_statement_ids);
    tcase_add_test(t, never_crashes);
    tcase_add_test(t, allocation_failures);
    tcase_set_timeout(t, 30);
    suite_add_tcase(s, t);
    return s;
}
