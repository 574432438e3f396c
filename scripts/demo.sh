#!/usr/bin/env bash
# scripts/demo.sh [MQTTSPEC] — certify a local mosquitto: start it on a free loopback
# port (scripts/mosquitto.sh) with a password file and a throw-away account, run the whole
# built-in suite (both protocol versions, the auth area included) as that account,
# print the summary and where the reports are, stop the broker (also on Ctrl-C).
#
# Exit status: 0 when the run completed (whatever the verdicts: FAILs are findings about
# the broker, shown in the reports), else mqttspec's exit code (2 usage, 3 unreachable)
# or 1 when the broker could not start.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${1:-$ROOT/build/mqttspec}
REPORTS=${MQS_REPORT_DIR:-$ROOT/reports/latest}
BROKER=$(mktemp -d /tmp/mqs-demo-XXXXXX)

stop() {
    bash "$ROOT/scripts/mosquitto.sh" stop "$BROKER" >/dev/null 2>&1 || true
    rm -rf "$BROKER"
}
trap stop EXIT
trap 'exit 130' INT TERM

echo "demo: starting mosquitto on a free loopback port ..."
if ! bash "$ROOT/scripts/mosquitto.sh" start "$BROKER" plain auth >/dev/null; then
    echo "demo: mosquitto did not start (see above)" >&2
    exit 1
fi
# shellcheck disable=SC1091
. "$BROKER/env"
# The password goes through a file, never the command line or the reports.
(umask 077 && printf '%s\n' "$MQS_PASS" >"$BROKER/password")
echo "demo: $(/usr/sbin/mosquitto -h 2>/dev/null | head -n 1) listening on 127.0.0.1:$MQS_AUTH_PORT" \
    "(pid $MQS_PID; password file, user $MQS_USER)"
echo "demo: mqttspec run --host 127.0.0.1 --port $MQS_AUTH_PORT --username $MQS_USER" \
    "--password-file $BROKER/password --no-anonymous --report-dir $REPORTS"
echo

"$BIN" run --host 127.0.0.1 --port "$MQS_AUTH_PORT" --username "$MQS_USER" \
    --password-file "$BROKER/password" --no-anonymous --report-dir "$REPORTS"
rc=$?

echo
case $rc in
0) echo "demo: mosquitto passed every MUST of the suite (no FAIL, no ERROR)." ;;
1) echo "demo: the run finished with FAIL/ERROR cases: see the reasons above and the reports." ;;
*) echo "demo: mqttspec exited with $rc" >&2; exit "$rc" ;;
esac
echo "demo: reports in $REPORTS/"
for f in report.html report.md report.json junit.xml; do
    [ -f "$REPORTS/$f" ] && echo "        $REPORTS/$f"
done
exit 0
