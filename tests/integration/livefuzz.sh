#!/usr/bin/env bash
# tests/integration/livefuzz.sh [MQTTSPEC [MQTTSPEC_ASAN]] — `mqttspec fuzz` end to end.
#
# 1. Fuzzes a local mosquitto for ~7 s: exit 0 and no finding, except the deviations
#    of mosquitto 2.0.11 that are known and confirmed by hand (tests/integration/
#    mosquitto-2.0.11.known, reproducers in reports/fuzz/mosquitto-2.0.11/).
# 2. Puts tests/integration/faultproxy.py in front of that mosquitto, one fault at a
#    time (wrong PUBACK ids, a malformed PUBACK, a swallowed UNSUBACK, a crash on
#    UNSUBSCRIBE), and checks that the right oracle fires (exit 1, the finding's
#    scenario file saved) and that the saved scenario fails with `mqttspec run
#    --scenario FILE --no-builtin` behind the proxy but passes against mosquitto itself.
# 3. Ctrl-C / SIGTERM: SIGINT during a fuzz of mosquitto ends it with exit 130 within a
#    few seconds, summary printed; SIGTERM while a finding (wrong PUBACK ids, behind the
#    proxy) is being minimised ends it with exit 143 and the finding saved, reproducing.
# 4. --restart: the proxy dies on UNSUBSCRIBE and CMD starts a new one on the same port:
#    the crash is found, the broker restarted, fuzzing goes on (more cases after the
#    crashing one), the crash's scenario fails behind the proxy and passes against
#    mosquitto. A restart command that fails, and a "broker" that does not come back
#    within --restart-wait, end the run with exit 1, a clear line and the crash saved.
# Everything listens on free loopback ports and is stopped on exit (by PID).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${1:-$ROOT/build/mqttspec}
BIN_ASAN=${2:-$BIN}
WORK=$(mktemp -d /tmp/mqs-livefuzz-XXXXXX)
BROKER=$WORK/broker
PROXY_PID=""
FUZZ_PID=""
cleanup() {
    [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null
    [ -n "$FUZZ_PID" ] && kill -KILL "$FUZZ_PID" 2>/dev/null
    [ -s "$WORK/restarted.pid" ] && kill "$(cat "$WORK/restarted.pid")" 2>/dev/null
    bash "$ROOT/scripts/mosquitto.sh" stop "$BROKER" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

bash "$ROOT/scripts/mosquitto.sh" start "$BROKER" plain >/dev/null || {
    echo "livefuzz.sh: could not start mosquitto" >&2
    exit 1
}
# shellcheck disable=SC1091
. "$BROKER/env"
IGNORE=(--ignore-file "$ROOT/tests/integration/mosquitto-2.0.11.known")

pass=0
fail=0
ok() {
    echo "ok   $1"
    pass=$((pass + 1))
}
bad() {
    echo "FAIL $1" >&2
    [ -f "$WORK/out" ] && sed 's/^/     | /' "$WORK/out" | tail -n 15 >&2
    fail=$((fail + 1))
}

# 1. mosquitto itself: nothing but its known deviations.
"$BIN" fuzz --port "$MQS_PORT" --seconds 7 --jobs 2 --no-progress --report-dir "$WORK/m" \
    "${IGNORE[@]}" >"$WORK/out" 2>&1
rc=$?
rate=$(grep -oE '[0-9]+ cases/s' "$WORK/out" | head -n 1)
if [ $rc -eq 0 ] && grep -q '^0 findings saved' "$WORK/out" && ! ls "$WORK/m"/*.json >/dev/null 2>&1; then
    ok "mosquitto: no finding in 7 s ($rate)"
else
    bad "mosquitto: exit $rc (want 0, no finding)"
fi

start_proxy() {
    rm -f "$WORK/port"
    python3 "$ROOT/tests/integration/faultproxy.py" "$1" "$WORK/port" "$MQS_PORT" ${2:+"$2"} &
    PROXY_PID=$!
    for _ in $(seq 50); do
        [ -s "$WORK/port" ] && break
        sleep 0.1
    done
    PROXY_PORT=$(cat "$WORK/port" 2>/dev/null)
}

stop_proxy() {
    kill "$PROXY_PID" 2>/dev/null
    wait "$PROXY_PID" 2>/dev/null
    PROXY_PID=""
}

# fault MODE FILE-STEM — the oracle fires and its reproducer replays.
fault() {
    local mode=$1 stem=$2 bin=$BIN
    [ "$mode" = malformed ] && bin=$BIN_ASAN
    start_proxy "$mode"
    local dir=$WORK/$mode
    "$bin" fuzz --port "$PROXY_PORT" --seconds 2 --jobs 1 --seed 7 --minimise-seconds 1 \
        --timeout-ms 500 --no-progress --report-dir "$dir" "${IGNORE[@]}" >"$WORK/out" 2>&1
    local rc=$?
    local file=$dir/$stem.json
    if [ $rc -ne 1 ] || [ ! -s "$file" ]; then
        bad "$mode: exit $rc, want 1 and $stem.json"
        stop_proxy
        return
    fi
    ok "$mode: $stem found"
    if [ "$mode" = crash ]; then # the proxy is gone: replay behind a new one
        stop_proxy
        start_proxy crash
    fi
    "$BIN" run --port "$PROXY_PORT" --scenario "$file" --no-builtin --quiet \
        --report-dir "$WORK/replay" >"$WORK/out" 2>&1
    rc=$?
    [ $rc -eq 1 ] && ok "$mode: the scenario fails behind the proxy" ||
        bad "$mode: replay behind the proxy exited $rc, want 1"
    stop_proxy
    if [ "$mode" != crash ]; then
        "$BIN" run --port "$MQS_PORT" --scenario "$file" --no-builtin --quiet \
            --report-dir "$WORK/replay" >"$WORK/out" 2>&1
        rc=$?
        [ $rc -eq 0 ] && ok "$mode: the scenario passes against mosquitto itself" ||
            bad "$mode: replay against mosquitto exited $rc, want 0"
    fi
}

fault wrongid bad-reply-mqtt-2.3.1-6-puback
fault malformed malformed-mqs-fixed-length-puback
fault hang hang-mqtt-3.10.4-4-unsuback
fault crash crash-mqtt-4.8.0-1-none

# 3. Ctrl-C / SIGTERM. From here on MQTTSPEC_ASAN runs where the run is short.
elapsed() { echo "$(date +%s.%N) - $1" | bc; }

# clean NAME: no sanitizer report in $WORK/out.
clean() {
    if grep -q "Sanitizer" "$WORK/out"; then
        bad "$1: sanitizer report"
        return 1
    fi
}

# interrupt SIGNAL WANT_RC PORT DIR [fuzz options...]: starts a long fuzz, signals it
# after 2 s; sets rc and secs (from the signal to the exit); true when it exited with
# WANT_RC within 5 s.
interrupt() {
    local sig=$1 want=$2 port=$3 dir=$4 bin=$BIN
    [ "$sig" = TERM ] && bin=$BIN_ASAN
    shift 4
    "$bin" fuzz --port "$port" --seconds 60 --no-progress --report-dir "$dir" "$@" \
        >"$WORK/out" 2>"$WORK/err" &
    FUZZ_PID=$!
    sleep 2
    local t0
    t0=$(date +%s.%N)
    kill "-$sig" "$FUZZ_PID"
    wait "$FUZZ_PID"
    rc=$?
    FUZZ_PID=""
    secs=$(elapsed "$t0")
    cat "$WORK/err" >>"$WORK/out"
    [ "$rc" = "$want" ] && [ "$(echo "$secs < 5" | bc)" = 1 ]
}

if interrupt INT 130 "$MQS_PORT" "$WORK/int" --jobs 2 "${IGNORE[@]}" &&
    grep -qE '^[0-9]+ cases in .* cases/s' "$WORK/out" &&
    grep -q 'mqttspec fuzz: interrupted by SIGINT: [0-9]* cases ran' "$WORK/out"; then
    ok "SIGINT: exit 130 ${secs}s after it, summary printed ($(grep -oE '^[0-9]+ cases' "$WORK/out"))"
else
    bad "SIGINT: exit $rc ${secs}s after it (want 130 within 5 s, a summary and the interrupted line)"
fi

start_proxy wrongid
if interrupt TERM 143 "$PROXY_PORT" "$WORK/term" --jobs 1 --seed 7 --minimise-seconds 30 \
    --timeout-ms 500 "${IGNORE[@]}" &&
    [ -s "$WORK/term/bad-reply-mqtt-2.3.1-6-puback.json" ] &&
    grep -q 'bad-reply-mqtt-2.3.1-6-puback.json.*\[replay: FAIL, reproduces\]' "$WORK/out" &&
    grep -qE 'interrupted by SIGTERM: .* [0-9]+ findings? saved' "$WORK/out"; then
    clean SIGTERM && ok "SIGTERM with a finding: exit 143 ${secs}s after it, the finding saved and reproducing"
else
    bad "SIGTERM with a finding: exit $rc ${secs}s after it (want 143 within 5 s, the finding saved)"
fi
stop_proxy

# 4. --restart. The command starts a new crashing proxy on the port of the dead one.
start_proxy crash
CRASH_PORT=$PROXY_PORT
cat >"$WORK/restart.sh" <<EOF
echo restart >>"$WORK/restarts"
python3 "$ROOT/tests/integration/faultproxy.py" crash "$WORK/port2" "$MQS_PORT" "$CRASH_PORT" >/dev/null 2>&1 &
echo \$! >"$WORK/restarted.pid"
EOF
t0=$(date +%s.%N)
"$BIN" fuzz --port "$CRASH_PORT" --seconds 4 --jobs 1 --seed 7 --minimise-seconds 1 --timeout-ms 500 \
    --no-progress --report-dir "$WORK/restart" "${IGNORE[@]}" --restart "bash $WORK/restart.sh" \
    >"$WORK/out" 2>"$WORK/err"
rc=$?
secs=$(elapsed "$t0")
cat "$WORK/err" >>"$WORK/out"
file=$WORK/restart/crash-mqtt-4.8.0-1-none.json
crash_case=$(grep -oE 'crash-mqtt-4.8.0-1-none.json \(seed 7, case [0-9]+\)' "$WORK/out" | grep -oE '[0-9]+\)$' | tr -d ')')
cases=$(grep -oE '^[0-9]+ cases in' "$WORK/out" | grep -oE '^[0-9]+')
restarts=$(wc -l <"$WORK/restarts" 2>/dev/null || echo 0)
if [ $rc -eq 1 ] && [ -s "$file" ] && [ -n "$crash_case" ] && [ "${cases:-0}" -gt $((crash_case + 5)) ] &&
    [ "$restarts" -ge 1 ] && grep -q 'crash-mqtt-4.8.0-1-none.json.*\[replay: FAIL, reproduces\]' "$WORK/out" &&
    grep -qE "^$restarts restarts? of the broker \(--restart\)$" "$WORK/out" &&
    grep -q 'the broker answers again after' "$WORK/out"; then
    ok "--restart: crash in case $crash_case found, $restarts restarts, $cases cases in ${secs}s"
else
    bad "--restart: exit $rc (want 1), crash case '${crash_case}', $cases cases, $restarts restarts"
fi
"$BIN" run --port "$CRASH_PORT" --scenario "$file" --no-builtin --report-dir "$WORK/replay" \
    >"$WORK/out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q '^FAIL' "$WORK/out" && grep -q 'no longer accepts connections' "$WORK/out"; then
    ok "--restart: the crash scenario fails (FAIL) against the restarted proxy"
else
    bad "--restart: replay against the restarted proxy exited $rc, want 1 (FAIL: no longer accepts connections)"
fi
"$BIN" run --port "$MQS_PORT" --scenario "$file" --no-builtin --quiet --report-dir "$WORK/replay" \
    >"$WORK/out" 2>&1
rc=$?
[ $rc -eq 0 ] && ok "--restart: the crash scenario passes against mosquitto itself" ||
    bad "--restart: replay against mosquitto exited $rc, want 0"
kill "$(cat "$WORK/restarted.pid")" 2>/dev/null
rm -f "$WORK/restarted.pid"
stop_proxy

# restart_fails NAME WANT_LINE [fuzz options...]: the restart cannot bring the proxy back.
restart_fails() {
    local name=$1 want=$2
    shift 2
    start_proxy crash
    local t0
    t0=$(date +%s.%N)
    "$BIN_ASAN" fuzz --port "$PROXY_PORT" --seconds 20 --jobs 2 --seed 7 --timeout-ms 500 --no-progress \
        --report-dir "$WORK/$name" "${IGNORE[@]}" "$@" >"$WORK/out" 2>&1
    rc=$?
    secs=$(elapsed "$t0")
    if [ $rc -eq 1 ] && [ "$(echo "$secs < 8" | bc)" = 1 ] &&
        [ -s "$WORK/$name/crash-mqtt-4.8.0-1-none.json" ] &&
        grep -q "cannot restart the broker: $want; stopping" "$WORK/out" &&
        grep -q 'the broker went away and could not be restarted' "$WORK/out"; then
        clean "$name" && ok "$name: exit 1 after ${secs}s, \"$want\", the crash saved"
    else
        bad "$name: exit $rc after ${secs}s (want 1 within 8 s, \"$want\", the crash saved)"
    fi
    stop_proxy
}
restart_fails restart-fails "the restart command exited with status 3" --restart 'exit 3'
restart_fails no-comeback "the broker did not answer a CONNECT/PINGREQ probe within 2 s" \
    --restart true --restart-wait 2

echo "livefuzz.sh: $pass passed, $fail failed"
[ $fail -eq 0 ]
