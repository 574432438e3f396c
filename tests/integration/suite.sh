#!/usr/bin/env bash
# tests/integration/suite.sh MQTTSPEC [MQTTSPEC_ASAN] — the whole built-in suite against a
# real mosquitto, and the runner against misbehaving fake brokers.
#
# 1. Starts mosquitto (scripts/mosquitto.sh, plain profile, free loopback port).
# 2. Runs every built-in scenario with MQTTSPEC and compares the per-case verdicts
#    (id, protocol, transport, verdict) with tests/expected/mosquitto-2.0.11.tsv: any
#    change fails and shows the diff. UPDATE_EXPECTED=1 rewrites the file instead (do it
#    when you add or change scenarios, and review the diff).
# 3. Checks the broker holds no retained message under mqs/# afterwards (the cleanup).
# 4. Runs the suite a second time (and once with MQTTSPEC_ASAN when given): the verdicts
#    must be identical.
# 5. Runs against fake brokers (tests/integration/fake_broker.py) that are silent, close,
#    reset, send garbage, send half a packet, or send a malformed CONNACK: each must end
#    with FAIL/ERROR (exit 1) and a clear reason, within a time bound, never hang; and an
#    unreachable port must exit 3 at once with one line.
# The brokers are stopped on any exit (trap).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${1:-$ROOT/build/mqttspec}
BIN_ASAN=${2:-}
EXPECTED=$ROOT/tests/expected/mosquitto-2.0.11.tsv
WORK=$(mktemp -d /tmp/mqs-suite-XXXXXX)
FAKE_PIDS=()

cleanup() {
    for p in "${FAKE_PIDS[@]}"; do kill "$p" 2>/dev/null; done
    bash "$ROOT/scripts/mosquitto.sh" stop "$WORK/broker" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "  ok   $*"; }
bad() { fail=$((fail + 1)); echo "  FAIL $*"; }

# verdicts REPORT_DIR -> sorted "id protocol transport verdict" lines
verdicts() {
    python3 - "$1/report.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
for c in sorted(r["cases"], key=lambda c: (c["id"], c["protocol"], c["transport"])):
    print("\t".join([c["id"], c["protocol"], c["transport"], c["verdict"]]))
EOF
}

bash "$ROOT/scripts/mosquitto.sh" start "$WORK/broker" plain >/dev/null || {
    echo "suite.sh: could not start mosquitto" >&2
    exit 1
}
# shellcheck disable=SC1091
. "$WORK/broker/env"

run_suite() { # NAME BIN -> verdicts in $WORK/NAME.tsv, exit code in $WORK/NAME.rc
    local name=$1 bin=$2
    "$bin" run --port "$MQS_PORT" --report-dir "$WORK/$name" --quiet >"$WORK/$name.out" 2>&1
    echo $? >"$WORK/$name.rc"
    verdicts "$WORK/$name" >"$WORK/$name.tsv" 2>"$WORK/$name.err" || cat "$WORK/$name.err"
}

echo "== suite against mosquitto (port $MQS_PORT)"
start=$(date +%s.%N)
run_suite first "$BIN"
secs=$(echo "$(date +%s.%N) - $start" | bc)
tail -n 3 "$WORK/first.out"
if [ "${UPDATE_EXPECTED:-0}" = 1 ]; then
    cp "$WORK/first.tsv" "$EXPECTED"
    echo "  updated $EXPECTED ($(wc -l <"$EXPECTED") cases)"
fi
if [ ! -s "$WORK/first.tsv" ]; then
    bad "no verdicts (see output above)"
elif diff -u "$EXPECTED" "$WORK/first.tsv" >"$WORK/diff"; then
    ok "$(wc -l <"$WORK/first.tsv") verdicts as expected in ${secs}s"
else
    bad "verdicts differ from $EXPECTED (UPDATE_EXPECTED=1 to accept):"
    cat "$WORK/diff"
fi

retained=$(mosquitto_sub -h 127.0.0.1 -p "$MQS_PORT" -t 'mqs/#' --retained-only -W 2 -v 2>/dev/null)
if [ -z "$retained" ]; then
    ok "no retained message left under mqs/#"
else
    bad "retained messages left behind:"
    echo "$retained" | head -n 20
fi

run_suite second "$BIN"
if cmp -s "$WORK/first.tsv" "$WORK/second.tsv"; then
    ok "second run: identical verdicts"
else
    bad "second run: verdicts differ:"
    diff -u "$WORK/first.tsv" "$WORK/second.tsv"
fi

if [ -n "$BIN_ASAN" ]; then
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} run_suite asan "$BIN_ASAN"
    if cmp -s "$WORK/first.tsv" "$WORK/asan.tsv" && ! grep -q "Sanitizer" "$WORK/asan.out"; then
        ok "ASan+UBSan binary: identical verdicts, no sanitizer report"
    else
        bad "ASan+UBSan binary:"
        grep -A20 "Sanitizer" "$WORK/asan.out" | head -n 40
        diff -u "$WORK/first.tsv" "$WORK/asan.tsv"
    fi
fi

# ---- fake brokers ----------------------------------------------------------------
# fake MODE WANT_RC WANT_TEXT MAX_SECONDS [mqttspec run args...]
fake() {
    local mode=$1 want_rc=$2 want_text=$3 max=$4
    shift 4
    local args=("$@")
    [ ${#args[@]} -gt 0 ] ||
        args=(--filter connect.accepted --filter qos.qos1-roundtrip --protocol 3.1.1)
    local portfile=$WORK/fake-$mode.port
    python3 "$ROOT/tests/integration/fake_broker.py" "$mode" "$portfile" &
    FAKE_PIDS+=($!)
    for _ in $(seq 100); do [ -s "$portfile" ] && break; sleep 0.05; done
    local port t0 t1 rc
    port=$(cat "$portfile")
    t0=$(date +%s.%N)
    timeout 60 "$BIN" run --port "$port" "${args[@]}" --timeout 0.5 \
        --report-dir "$WORK/fake-$mode" >"$WORK/fake-$mode.out" 2>&1
    rc=$?
    t1=$(date +%s.%N)
    local secs
    secs=$(echo "$t1 - $t0" | bc)
    if [ "$rc" != "$want_rc" ]; then
        bad "fake $mode: exit $rc, want $want_rc"
        cat "$WORK/fake-$mode.out"
    elif ! grep -qF -- "$want_text" "$WORK/fake-$mode.out"; then
        bad "fake $mode: '$want_text' not in the output:"
        cat "$WORK/fake-$mode.out"
    elif [ "$(echo "$secs > $max" | bc)" = 1 ]; then
        bad "fake $mode: took ${secs}s (bound ${max}s)"
    else
        ok "fake $mode: exit $rc in ${secs}s: $(grep -F -m1 -- "$want_text" "$WORK/fake-$mode.out" | sed 's/^ *//')"
    fi
}

echo "== fake brokers"
fake silent 1 "no packet within 1500 ms on client a (expected CONNACK rc=0" 8
fake close 1 "by the broker while client a waited for CONNACK rc=0" 5
fake reset 1 "while client a waited for CONNACK rc=0" 5
fake garbage 1 "the broker sent a malformed" 8
fake trickle 1 "incomplete packet" 8
fake badack 1 "the broker sent a malformed CONNACK packet to client a" 5
fake ok 1 "no packet within 1500 ms on client sub (expected SUBACK" 8
fake no31 0 "SKIP  connect.accepted [3.1/tcp]" 5 --filter connect.accepted --protocol all

# Unreachable: a port nobody listens on (bind, note the port, close).
free_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
t0=$(date +%s.%N)
out=$("$BIN" run --port "$free_port" --report-dir "$WORK/unreach" 2>&1)
rc=$?
secs=$(echo "$(date +%s.%N) - $t0" | bc)
if [ "$rc" = 3 ] && [ "$(echo "$out" | wc -l)" = 1 ] && echo "$out" | grep -q "cannot reach" &&
    [ "$(echo "$secs < 2" | bc)" = 1 ]; then
    ok "unreachable: exit 3 in ${secs}s: $out"
else
    bad "unreachable: exit $rc in ${secs}s: $out"
fi

echo "suite.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
