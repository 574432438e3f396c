#!/usr/bin/env bash
# scripts/bench-livefuzz.sh MQTTSPEC [SECONDS] — `make bench`'s live-fuzzer line: starts a
# throw-away mosquitto on a free loopback port, runs `mqttspec fuzz` against it for
# SECONDS (default 10) with its known deviations ignored, prints the cases/s, stops it.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${1:-$ROOT/build/mqttspec}
SECS=${2:-10}
WORK=$(mktemp -d /tmp/mqs-bench-XXXXXX)
trap 'bash "$ROOT/scripts/mosquitto.sh" stop "$WORK/broker" >/dev/null 2>&1; rm -rf "$WORK"' EXIT
bash "$ROOT/scripts/mosquitto.sh" start "$WORK/broker" plain >/dev/null || exit 1
# shellcheck disable=SC1091
. "$WORK/broker/env"
IGNORE=(--ignore-file "$ROOT/tests/integration/mosquitto-2.0.11.known")
"$BIN" fuzz --port "$MQS_PORT" --seconds "$SECS" --jobs 2 --seed 1 --no-progress \
    --report-dir "$WORK/reports" "${IGNORE[@]}" >"$WORK/out" 2>&1
line=$(grep -E 'cases in .* cases/s' "$WORK/out" | head -n 1)
echo "livefuzz: ${line:-no summary (see below)}"
[ -n "$line" ] || cat "$WORK/out"
