#!/usr/bin/env bash
# CLI tests: exit codes and output of build/mqttspec. Usage: tests/cli/run.sh BIN
set -uo pipefail
bin=${1:?usage: tests/cli/run.sh BIN}
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# expect_rc WANT DESC -- CMD...: runs CMD, stdout/stderr into $tmp/out,$tmp/err
expect_rc() {
    local want=$1 desc=$2
    shift 3
    "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
    local rc=$?
    if [ "$rc" -eq "$want" ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: $desc: exit $rc, want $want" >&2
        sed 's/^/  stdout: /' "$tmp/out" >&2
        sed 's/^/  stderr: /' "$tmp/err" >&2
    fi
}

# expect_out REGEX DESC: the last stdout matches REGEX (grep -E)
expect_out() {
    if grep -Eq -- "$1" "$tmp/out"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: $2: stdout does not match /$1/" >&2
        sed 's/^/  stdout: /' "$tmp/out" >&2
    fi
}

expect_rc 2 "no command" -- "$bin"
expect_rc 2 "unknown command" -- "$bin" no-such-command
expect_rc 0 "--help" -- "$bin" --help
expect_out '^usage: mqttspec' "--help prints usage"
expect_rc 0 "--version" -- "$bin" --version
expect_out '^mqttspec [0-9]' "--version prints the version"

# ---- decode ----
expect_rc 0 "decode --help" -- "$bin" decode --help
expect_out '^usage: mqttspec decode' "decode --help text"
expect_rc 0 "decode CONNECT" -- "$bin" decode 100c00044d5154540402003c0000
expect_out '^\{"type":"CONNECT","flags":0,"protocol_name":"MQTT","protocol_level":4,"connect_flags":2,"clean_session":true,"keepalive":60,"client_id":""\}$' "decode CONNECT JSON"
expect_rc 0 "decode spaced, colons and 0x" -- "$bin" decode "30 05 00:03 61" "0x2f 0x62" c000
expect_out '"topic":"a/b","payload":""' "decode joins arguments"
expect_rc 1 "decode reserved CONNECT flag" -- "$bin" decode 100d00044d5154540403003c000163
expect_out '"error":"malformed","status":"E_CONNECT_RESERVED_FLAG","rule":"MQTT-3.1.2-3","offset":9,"stream_offset":9,"packet_index":0,"field":"CONNECT.flags"' "malformed JSON line"
expect_rc 1 "decode second packet malformed" -- "$bin" decode c000 3000
expect_out '"stream_offset":4,"packet_index":1' "stream offset of second packet"
expect_rc 1 "decode incomplete" -- "$bin" decode 3005000161
expect_out '"error":"incomplete".*"needed":2' "incomplete JSON line"
expect_rc 2 "decode bad hex" -- "$bin" decode 3g
expect_rc 2 "decode odd hex" -- "$bin" decode 300
expect_rc 2 "decode no input" -- "$bin" decode
expect_rc 2 "decode bad option" -- "$bin" decode --nope c000
expect_rc 2 "decode bad protocol" -- "$bin" decode --protocol 5 c000
expect_rc 1 "decode --dir to-client CONNECT" -- "$bin" decode --dir to-client 100c00044d5154540402003c0000
expect_out '"status":"E_SENT_TO_CLIENT"' "wrong direction"
expect_rc 0 "decode --protocol 3.1 SUBACK" -- "$bin" decode --protocol 3.1 9003000102
expect_rc 1 "decode 3.1 SUBACK 0x80" -- "$bin" decode --protocol 3.1 9003000180
expect_rc 0 "decode --lenient-rl" -- "$bin" decode --lenient-rl c08000
expect_rc 1 "decode strict RL" -- "$bin" decode c08000
printf '\xc0\x00\xd0\x00' >"$tmp/raw.bin"
expect_rc 0 "decode raw stdin" -- sh -c '"$1" decode - <"$2"' sh "$bin" "$tmp/raw.bin"
expect_out '"type":"PINGRESP"' "raw stdin decoded"
echo "c0 00" >"$tmp/hex.txt"
expect_rc 0 "decode hex stdin" -- sh -c '"$1" decode - <"$2"' sh "$bin" "$tmp/hex.txt"

# ---- encode and the round trip ----
expect_rc 0 "encode --help" -- "$bin" encode --help
stream="102100044d51545404ee003c000269640003772f740002627900047573657200027077 3a0c0003612f620007ff00010203 82080001000361 2f2b01 9004000100 80 e000"
"$bin" decode $stream >"$tmp/decoded.json" 2>"$tmp/err"
expect_rc 0 "round trip" -- sh -c '"$1" encode "$2" | tr -d "\n"' sh "$bin" "$tmp/decoded.json"
expect_out "^$(echo "$stream" | tr -d ' ')$" "decode | encode gives the same bytes"
echo '[{"type":"PUBLISH","qos":1,"packet_id":7,"topic":"a/b","payload":"hello"},{"type":"PINGREQ"}]' >"$tmp/arr.json"
expect_rc 0 "encode array" -- "$bin" encode "$tmp/arr.json"
expect_out '^320c0003612f62000768656c6c6f$' "encode PUBLISH"
echo '{"type":"PUBLISH","qos":3,"packet_id":1,"topic":"a"}' >"$tmp/q3.json"
expect_rc 1 "encode refuses QoS 3" -- "$bin" encode "$tmp/q3.json"
expect_rc 0 "encode --unchecked QoS 3" -- "$bin" encode --unchecked "$tmp/q3.json"
expect_out '^36050001610001$' "unchecked QoS 3 bytes"
echo '{"type":"PUBLISH","topic":"a","bogus":1}' >"$tmp/bad.json"
expect_rc 2 "encode unknown key" -- "$bin" encode "$tmp/bad.json"
expect_rc 2 "encode missing file" -- "$bin" encode "$tmp/nope.json"

# ---- every shared vector through the CLI ----
vec_ok=0 vec_bad=0
while IFS=$'\t' read -r hex ver dir status rule offset comment; do
    case $hex in '#'*|'') continue ;; esac
    out=$("$bin" decode --protocol "$ver" --dir "$dir" "$hex" 2>/dev/null)
    rc=$?
    if [ "$rc" -ne 0 ]; then
        vec_bad=$((vec_bad + 1)); echo "FAIL: valid vector exits $rc: $comment ($hex)" >&2; continue
    fi
    back=$(printf '%s\n' "$out" | "$bin" encode --protocol "$ver" 2>&1)
    if [ "$back" = "$hex" ]; then
        vec_ok=$((vec_ok + 1))
    else
        vec_bad=$((vec_bad + 1)); echo "FAIL: round trip of $comment: $hex -> $back" >&2
    fi
done <tests/vectors/valid.tsv
while IFS=$'\t' read -r hex ver dir status rule offset comment; do
    case $hex in '#'*|'') continue ;; esac
    out=$("$bin" decode --protocol "$ver" --dir "$dir" "$hex" 2>/dev/null)
    rc=$?
    want="\"error\":\"malformed\",\"status\":\"$status\",\"rule\":\"$rule\",\"offset\":$offset,"
    if [ "$rc" -eq 1 ] && [[ $out == *"$want"* ]]; then
        vec_ok=$((vec_ok + 1))
    else
        vec_bad=$((vec_bad + 1)); echo "FAIL: malformed vector $comment: exit $rc, $out" >&2
    fi
done <tests/vectors/malformed.tsv
if [ "$vec_bad" -eq 0 ] && [ "$vec_ok" -gt 200 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
echo "cli: $vec_ok vectors checked through decode/encode, $vec_bad wrong"

# ---- run / list (no broker: usage errors, bad scenario files, an unreachable port) ----
expect_rc 0 "run --help" -- "$bin" run --help
expect_out '^usage: mqttspec run' "run --help text"
expect_rc 0 "list --help" -- "$bin" list --help
expect_rc 0 "list" -- "$bin" list
expect_out '^[0-9]+ scenarios$' "list counts the scenarios"
expect_rc 0 "list --filter" -- "$bin" list --filter connect.reserved-flag
expect_out '^connect.reserved-flag +3.1.1 +MUST +MQTT-3.1.2-3' "list line: id, versions, level, statements"
expect_rc 0 "list --json" -- "$bin" list --json --filter MQTT-3.1.2-3
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d and all(set(x)>={"id","protocols","statements","level"} for x in d)' "$tmp/out"; then
    pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: list --json is not the documented JSON" >&2; fi
printf '{"id": "connect.mine", "title": "t", "area": "connect", "statements": ["MQTT-3.1.2-3"], "protocols": ["3.1.1"], "level": "MUST", "clients": ["a"], "steps": [{"op": "ping", "client": "a", "bogus": 1}]}' >"$tmp/bad.json"
expect_rc 2 "list --scenario bad file" -- "$bin" list --scenario "$tmp/bad.json"
if grep -q 'bad.json: steps\[0\]: unknown key "bogus"' "$tmp/err"; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL: bad scenario error does not name file and path: $(cat "$tmp/err")" >&2; fi
expect_rc 2 "run --scenario bad file" -- "$bin" run --port 1 --scenario "$tmp/bad.json"
expect_rc 2 "list --scenario-dir missing" -- "$bin" list --scenario-dir "$tmp/nope"
cp conformance/scenarios/connect/reserved-flag.json "$tmp/dup.json"
expect_rc 2 "run duplicate scenario id" -- "$bin" run --port 1 --scenario "$tmp/dup.json"
expect_rc 2 "run unknown option" -- "$bin" run --bogus
expect_rc 2 "run --jobs 0" -- "$bin" run --jobs 0
expect_rc 2 "run --timeout 0" -- "$bin" run --timeout 0
expect_rc 2 "run --protocol 5" -- "$bin" run --protocol 5
expect_rc 2 "run --no-builtin alone" -- "$bin" run --no-builtin
expect_rc 2 "run --password without --username" -- "$bin" run --password x
expect_rc 2 "run --filter matching nothing" -- "$bin" run --port 1 --filter no.such.scenario
free_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
expect_rc 3 "run unreachable" -- "$bin" run --port "$free_port" --report-dir "$tmp/rep"
if [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "cannot reach tcp://127.0.0.1:$free_port" "$tmp/err"; then
    pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: unreachable is not one line: $(cat "$tmp/err")" >&2; fi

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
