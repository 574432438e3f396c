#!/usr/bin/env bash
# tests/integration/interrupt.sh MQTTSPEC [MQTTSPEC_ASAN] — Ctrl-C / SIGTERM during
# `mqttspec run` against a real mosquitto must leave nothing on the broker.
#
# 1. Starts mosquitto (scripts/mosquitto.sh, free loopback port).
# 2. Runs the session, retain, will and qos areas plus a scenario of its own that makes a
#    persistent session and a retained message and then waits 60 s; sends SIGINT once
#    that scenario holds its state (seen in the broker log) and checks: exit 130 within
#    a bound, one "interrupted by SIGINT" line, all four reports written, report.json
#    "interrupted": true with fewer cases than selected, the holding case ERROR
#    "interrupted ...", and on the broker: no retained message under mqs/#, and no
#    session left (every client id that connected with Clean Session 0 connected later
#    with Clean Session 1 — the cleanup — per the broker's log; and reconnecting each of
#    them with Clean Session 0 gets Session Present 0).
# 3. The same with SIGTERM (exit 143), with MQTTSPEC_ASAN when given (no sanitizer report).
# 4. A second SIGINT ends the run at once (exit 130), here during a cleanup that waits
#    for a broker that never answers.
# The broker is stopped on any exit (trap).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${1:-$ROOT/build/mqttspec}
BIN_ASAN=${2:-}
WORK=$(mktemp -d /tmp/mqs-interrupt-XXXXXX)
RUN_PID=
SILENT_PID=

cleanup() {
    [ -n "$RUN_PID" ] && kill -KILL "$RUN_PID" 2>/dev/null
    [ -n "$SILENT_PID" ] && kill "$SILENT_PID" 2>/dev/null
    bash "$ROOT/scripts/mosquitto.sh" stop "$WORK/broker" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "  ok   $*"; }
bad() { fail=$((fail + 1)); echo "  FAIL $*"; }

bash "$ROOT/scripts/mosquitto.sh" start "$WORK/broker" plain >/dev/null || {
    echo "interrupt.sh: could not start mosquitto" >&2
    exit 1
}
# shellcheck disable=SC1091
. "$WORK/broker/env"

# A case that holds a persistent session and a retained message while it waits.
cat >"$WORK/hold.json" <<'JSON'
{"id": "interrupt.hold", "title": "holds a session and a retained message, then waits",
 "area": "interrupt", "statements": ["MQS-interrupt-hold"], "protocols": ["3.1.1"],
 "level": "MUST", "clients": ["a"], "timeout_ms": 120000,
 "steps": [
  {"op": "connect", "client": "a", "clean_session": false},
  {"op": "send", "client": "a", "packet": {"type": "PUBLISH", "qos": 1, "packet_id": 1,
   "retain": true, "topic": "${topic}held", "payload": "left behind?"}},
  {"op": "expect", "client": "a", "packet": {"type": "PUBACK", "packet_id": 1}},
  {"op": "wait", "ms": 60000}
 ]}
JSON

# wait_held: true once the holding case's retained message is on the broker (it then
# also has its Clean Session 0 session); 20 s at most.
wait_held() {
    mosquitto_sub -h 127.0.0.1 -p "$MQS_PORT" -t 'mqs/+/+/held' -C 1 -W 20 >/dev/null 2>&1
}

# interrupted NAME BIN SIGNAL WANT_RC: one interrupted run, then every check.
interrupted() {
    local name=$1 bin=$2 sig=$3 want_rc=$4 dir=$WORK/$1
    local log_start
    log_start=$(wc -l <"$MQS_LOG")
    "$bin" run --port "$MQS_PORT" --scenario "$WORK/hold.json" --filter interrupt.hold \
        --filter session --filter retain --filter will --filter qos --jobs 8 \
        --report-dir "$dir" >"$WORK/$name.out" 2>"$WORK/$name.err" &
    RUN_PID=$!
    if ! wait_held; then
        bad "$name: the holding case never published its retained message"
        cat "$WORK/$name.err"
    fi
    sleep 1.5 # its PUBACK (the case is in its 60 s wait now), and others run meanwhile
    local t0 t1 rc secs
    t0=$(date +%s.%N)
    kill "-$sig" "$RUN_PID"
    wait "$RUN_PID"
    rc=$?
    RUN_PID=
    t1=$(date +%s.%N)
    secs=$(echo "$t1 - $t0" | bc)
    if [ "$rc" = "$want_rc" ] && [ "$(echo "$secs < 15" | bc)" = 1 ]; then
        ok "$name: exit $rc ${secs}s after SIG$sig"
    else
        bad "$name: exit $rc ${secs}s after SIG$sig (want $want_rc within 15 s)"
        cat "$WORK/$name.err"
    fi
    if grep -q "mqttspec run: interrupted by SIG$sig: .* cases ran" "$WORK/$name.err"; then
        ok "$name: $(grep "mqttspec run: interrupted by" "$WORK/$name.err")"
    else
        bad "$name: no 'interrupted by SIG$sig' line:"
        cat "$WORK/$name.err"
    fi
    if grep -q "Sanitizer" "$WORK/$name.err" "$WORK/$name.out"; then
        bad "$name: sanitizer report:"
        grep -A20 "Sanitizer" "$WORK/$name.err" | head -n 40
    fi
    local f missing=
    for f in report.json junit.xml report.md report.html; do
        [ -s "$dir/$f" ] || missing="$missing $f"
    done
    if [ -z "$missing" ]; then ok "$name: all four reports written"; else bad "$name: missing$missing"; fi
    if python3 - "$dir" <<'EOF'; then ok "$name: report.json: interrupted, holding case ERROR \"interrupted\""; else bad "$name: report.json"; fi
import json, sys, xml.etree.ElementTree as ET
d = sys.argv[1]
r = json.load(open(d + "/report.json"))
assert r.get("interrupted") is True, "no interrupted: true"
cases = {c["id"]: c for c in r["cases"]}
hold = cases.get("interrupt.hold")
assert hold, "the holding case is not in the report"
assert hold["verdict"] == "ERROR" and hold["reason"].startswith("interrupted"), hold["reason"]
assert any("cleared the retained message" in e["text"] for e in hold["trace"]), "no cleanup in trace"
assert any("discarded the session" in e["text"] for e in hold["trace"]), "no session cleanup"
assert r["summary"]["total"] == len(r["cases"])
ET.parse(d + "/junit.xml")
EOF
    local retained
    retained=$(mosquitto_sub -h 127.0.0.1 -p "$MQS_PORT" -t 'mqs/#' --retained-only -W 2 -v 2>/dev/null)
    if [ -z "$retained" ]; then
        ok "$name: no retained message left under mqs/#"
    else
        bad "$name: retained messages left behind:"
        echo "$retained" | head -n 20
    fi
    tail -n +"$((log_start + 1))" "$MQS_LOG" >"$WORK/$name.log"
    local sessions
    if sessions=$(python3 - "$WORK/$name.log" "$MQS_PORT" <<'EOF'
import re, socket, sys
last = {}
for line in open(sys.argv[1]):
    m = re.search(r"New client connected from \S+ as (\S+) \(p\d, c(\d)", line)
    if m:
        last[m.group(1)] = m.group(2)
c0 = [cid for cid, c in last.items() if c == "0"]
if c0:
    print("last connected with Clean Session 0 (never cleaned): " + " ".join(c0))
    sys.exit(1)
# Ask the broker: every id that ever used Clean Session 0 must have no session now.
ids = set()
for line in open(sys.argv[1]):
    m = re.search(r"as (\S+) \(p\d, c0", line)
    if m:
        ids.add(m.group(1))
def enc(s):
    b = s.encode()
    return len(b).to_bytes(2, "big") + b
kept = []
for cid in sorted(ids):
    for clean in (0x00, 0x02):  # look (Clean Session 0), then discard what looking made
        body = enc("MQTT") + bytes([4, clean, 0, 10]) + enc(cid)
        s = socket.create_connection(("127.0.0.1", int(sys.argv[2])), timeout=5)
        s.sendall(bytes([0x10, len(body)]) + body)
        ack = b""
        while len(ack) < 4:
            chunk = s.recv(4 - len(ack))
            if not chunk:
                break
            ack += chunk
        s.sendall(b"\xe0\x00")
        s.close()
        if clean == 0 and (len(ack) < 4 or ack[2] & 1):
            kept.append(cid)
if kept:
    print("session present for: " + " ".join(kept))
    sys.exit(1)
print(f"{len(ids)} Clean Session 0 client ids, none has a session left")
EOF
    ); then
        ok "$name: $sessions"
    else
        bad "$name: $sessions"
    fi
}

echo "== SIGINT during a run (port $MQS_PORT)"
interrupted sigint "$BIN" INT 130
echo "== SIGTERM during a run"
interrupted sigterm "${BIN_ASAN:-$BIN}" TERM 143

echo "== second SIGINT exits at once"
# A broker that accepts and never answers, and writes one line per connection: the
# probe, then the case's CONNECT (Clean Session 0) waits for a CONNACK; the first SIGINT
# interrupts it, and its cleanup waits for a CONNACK too (up to its own deadline); the
# second SIGINT, sent during that cleanup, must end the process at once.
cat >"$WORK/silent.py" <<'EOF'
import socket, sys
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(16)
open(sys.argv[1], "w").write(str(srv.getsockname()[1]))
held = []
with open(sys.argv[2], "w", buffering=1) as log:
    while True:
        conn, _ = srv.accept()
        held.append(conn)
        log.write("connection %d\n" % len(held))
EOF
python3 "$WORK/silent.py" "$WORK/silent.port" "$WORK/silent.conns" &
SILENT_PID=$!
wait_lines() { # FILE N: true once FILE has N lines (20 s at most)
    local i
    for ((i = 0; i < 400; i++)); do
        [ "$(wc -l <"$1" 2>/dev/null || echo 0)" -ge "$2" ] && return 0
        sleep 0.05
    done
    return 1
}
for ((i = 0; i < 100; i++)); do [ -s "$WORK/silent.port" ] && break; sleep 0.05; done
"$BIN" run --port "$(cat "$WORK/silent.port")" --protocol 3.1.1 --timeout 0.5 \
    --scenario "$WORK/hold.json" --no-builtin --report-dir "$WORK/twice" \
    >"$WORK/twice.out" 2>"$WORK/twice.err" &
RUN_PID=$!
wait_lines "$WORK/silent.conns" 2 || bad "second SIGINT: the case never connected"
kill -INT "$RUN_PID"
wait_lines "$WORK/silent.conns" 3 || bad "second SIGINT: the interrupted case did not clean up"
sleep 0.2
if kill -0 "$RUN_PID" 2>/dev/null; then
    ok "first SIGINT: still cleaning up (the cleanup waits for the silent broker)"
else
    bad "first SIGINT: the run ended before its cleanup could have"
fi
t0=$(date +%s.%N)
kill -INT "$RUN_PID"
wait "$RUN_PID"
rc=$?
RUN_PID=
secs=$(echo "$(date +%s.%N) - $t0" | bc)
if [ "$rc" = 130 ] && [ "$(echo "$secs < 1" | bc)" = 1 ] &&
    grep -q "interrupted again (SIGINT): exiting now" "$WORK/twice.err"; then
    ok "second SIGINT: exit 130 ${secs}s after it"
else
    bad "second SIGINT: exit $rc ${secs}s after it:"
    cat "$WORK/twice.err"
fi
kill "$SILENT_PID" 2>/dev/null
wait "$SILENT_PID" 2>/dev/null
SILENT_PID=

echo "interrupt.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
