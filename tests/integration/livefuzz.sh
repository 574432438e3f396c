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
# Everything listens on free loopback ports and is stopped on exit (by PID).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${1:-$ROOT/build/mqttspec}
BIN_ASAN=${2:-$BIN}
WORK=$(mktemp -d /tmp/mqs-livefuzz-XXXXXX)
BROKER=$WORK/broker
PROXY_PID=""
cleanup() {
    [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null
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
    python3 "$ROOT/tests/integration/faultproxy.py" "$1" "$WORK/port" "$MQS_PORT" &
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

echo "livefuzz.sh: $pass passed, $fail failed"
[ $fail -eq 0 ]
