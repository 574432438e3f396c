#!/usr/bin/env bash
# tests/integration/mutants.sh [MQTTSPEC] — can the retain and qos scenarios fail?
#
# Starts a throw-away mosquitto (scripts/mosquitto.sh) and puts
# tests/integration/mutant_proxy.py in front of it, once per mode: each breaking mode makes
# the broker break one rule a client can see, and the scenarios named for it must FAIL
# (in their MQTT 3.1.1 case). The allowed modes (a small in-flight window, a SUBACK after
# the retained messages) behave as the specification permits and must give no FAIL, WARN
# or ERROR. About 90 s; not part of `make check`. Exit status: the number of failed checks.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${1:-$ROOT/build/mqttspec}
WORK=$(mktemp -d /tmp/mqs-mutants-XXXXXX)
PROXY_PID=

cleanup() {
    [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null
    bash "$ROOT/scripts/mosquitto.sh" stop "$WORK/broker" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

bash "$ROOT/scripts/mosquitto.sh" start "$WORK/broker" plain >/dev/null || {
    echo "mutants.sh: could not start mosquitto" >&2
    exit 1
}
# shellcheck disable=SC1091
. "$WORK/broker/env"

# run MODE -> $WORK/MODE.tsv: "id protocol verdict" per case of the retain and qos areas
run() {
    local mode=$1 portfile=$WORK/$1.port
    python3 "$ROOT/tests/integration/mutant_proxy.py" "$mode" "$portfile" "$MQS_PORT" &
    PROXY_PID=$!
    for _ in $(seq 100); do [ -s "$portfile" ] && break; sleep 0.05; done
    "$BIN" run --port "$(cat "$portfile")" --filter retain --filter qos \
        --report-dir "$WORK/$mode" --format json --quiet >"$WORK/$mode.out" 2>&1
    kill "$PROXY_PID" 2>/dev/null
    wait "$PROXY_PID" 2>/dev/null
    PROXY_PID=
    python3 - "$WORK/$mode/report.json" >"$WORK/$mode.tsv" <<'EOF'
import json, sys
for c in json.load(open(sys.argv[1]))["cases"]:
    print(c["id"], c["protocol"], c["verdict"])
EOF
}

pass=0
fail=0

# breaks MODE SCENARIO... : each scenario's 3.1.1 case must FAIL
breaks() {
    local mode=$1 missed=()
    shift
    run "$mode"
    for id in "$@"; do
        grep -q "^$id 3.1.1 FAIL$" "$WORK/$mode.tsv" || missed+=("$id")
    done
    if [ ${#missed[@]} -eq 0 ]; then
        pass=$((pass + 1))
        echo "  ok   $mode: $(grep -c ' FAIL$' "$WORK/$mode.tsv") cases FAIL, including $*"
    else
        fail=$((fail + 1))
        echo "  FAIL $mode: no FAIL for ${missed[*]}"
        grep -E "^($(echo "$@" | tr ' ' '|')) " "$WORK/$mode.tsv" | sed 's/^/       /'
    fi
}

# allows MODE : no case may FAIL, WARN or ERROR
allows() {
    run "$1"
    local bad
    bad=$(grep -E ' (FAIL|WARN|ERROR)$' "$WORK/$1.tsv")
    if [ -z "$bad" ]; then
        pass=$((pass + 1))
        echo "  ok   $1: $(wc -l <"$WORK/$1.tsv") cases, none FAIL, WARN or ERROR"
    else
        fail=$((fail + 1))
        echo "  FAIL $1 (allowed behaviour):"
        echo "$bad" | sed 's/^/       /'
    fi
}

echo "== retain and qos scenarios against a broken mosquitto (port $MQS_PORT)"
allows pass
allows window1
allows window2
allows suback-late
breaks retain-never retain.new-subscriber retain.replace retain.wildcard retain.stored-qos2 \
    retain.outlives-session
breaks retain-always retain.live-delivery retain.clear retain.empty-not-stored
breaks retain-c2s retain.non-retained-publish
breaks no-clear retain.clear
breaks dup-never qos.redeliver-qos1 qos.redeliver-qos2-publish qos.unique-ids
breaks dup-always qos.dup-not-propagated qos.qos1-roundtrip qos.qos2-roundtrip
breaks drop-dup qos.redeliver-qos1 qos.redeliver-qos2-publish
breaks ack-id qos.qos1-roundtrip qos.qos2-roundtrip
breaks qos1-as-2 qos.downgrade-qos1 qos.downgrade-qos2 retain.stored-qos1
breaks ids-same qos.unique-ids
breaks qos2-redeliver qos.qos2-duplicate-before-pubrel qos.inbound-qos2-publish-after-reconnect
breaks swap-publish qos.order-qos0 qos.order-qos1 qos.order-qos2
breaks swap-puback qos.order-qos1

echo "mutants.sh: $pass passed, $fail failed"
exit "$fail"
