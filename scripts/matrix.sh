#!/usr/bin/env bash
# scripts/matrix.sh [MQTTSPEC] — `make matrix`: certify every broker of the kit
# (scripts/brokers/) over each transport it offers, one broker at a time, and write
#   reports/<broker>-<version>/<transport>/report.{json,md,html} + junit.xml
#   reports/matrix.md, reports/matrix.html   (mqttspec compare over all of them)
#   reports/<broker>-<version>/DEVIATIONS.md (scripts/deviations.py: the triage),
#   reports/matrix-verdicts.tsv, reports/untriaged.txt, reports/skipped.txt
#
# Environment: BROKERS="mosquitto aedes ..." (default: all of the kit),
#              MATRIX_OUT=DIR (default: reports), JOBS=N (default 8).
# A broker that cannot be installed or started here is skipped with a message, and the
# reason is written to MATRIX_OUT/skipped.txt. Every broker is stopped on any exit.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${1:-$ROOT/build/mqttspec}
# Absolute: the compare step below runs inside OUT.
case $BIN in /*) ;; *) BIN=$PWD/$BIN ;; esac
OUT=${MATRIX_OUT:-$ROOT/reports}
BROKERS=${BROKERS:-mosquitto aedes aedes-cli activemq ejabberd rabbitmq}
JOBS=${JOBS:-8}
WORK=$(mktemp -d /tmp/mqs-matrix-XXXXXX)
KIT=$ROOT/scripts/brokers

cleanup() {
    bash "$KIT/all.sh" stop "$WORK" >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$OUT"
: >"$OUT/skipped.txt"
start_all=$(date +%s)
reports=()

skip() { # BROKER REASON
    echo "matrix: skipping $1: $2" >&2
    printf '%s\t%s\n' "$1" "$2" >>"$OUT/skipped.txt"
}

# run_one SLUG NAME TRANSPORT-DIR ARGS... — one suite run; report under OUT/SLUG/DIR
run_one() {
    local slug=$1 name=$2 dir=$3
    shift 3
    local t0 t1
    t0=$(date +%s)
    "$BIN" run --broker-name "$name" --jobs "$JOBS" --report-dir "$OUT/$slug/$dir" --quiet "$@" \
        >"$WORK/run.out" 2>&1
    local rc=$?
    t1=$(date +%s)
    if [ "$rc" -ge 2 ]; then
        echo "matrix: $name over $dir: mqttspec run exited $rc:" >&2
        sed 's/^/    /' "$WORK/run.out" >&2
        return
    fi
    printf '  %-28s %-5s %s (%ss)\n' "$name" "$dir" "$(grep -m1 '^mqttspec:' "$WORK/run.out" | sed 's/^mqttspec: //')" $((t1 - t0))
    reports+=("$OUT/$slug/$dir/report.json")
}

for b in $BROKERS; do
    if [ ! -f "$KIT/$b.sh" ]; then
        skip "$b" "no script scripts/brokers/$b.sh"
        continue
    fi
    echo "== $b"
    if ! bash "$KIT/$b.sh" install >"$WORK/install.log" 2>&1; then
        skip "$b" "cannot be installed here: $(tail -n 1 "$WORK/install.log")"
        continue
    fi
    if ! bash "$KIT/$b.sh" start "$WORK/$b" >"$WORK/start.log" 2>&1; then
        skip "$b" "did not start: $(tail -n 1 "$WORK/start.log")"
        continue
    fi
    (
        reports=()
        set -a
        # shellcheck disable=SC1091
        . "$WORK/$b/env"
        set +a
        name="$BROKER $BROKER_VERSION"
        slug="$BROKER-$BROKER_VERSION"
        # The runs of the last matrix go; files kept by hand (DEVIATIONS.md) stay.
        mkdir -p "$OUT/$slug"
        find "${OUT:?}/$slug" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
        passfile=$WORK/$b/pass
        (umask 077 && printf '%s\n' "${MQS_PASS:-}" >"$passfile")
        creds=()
        [ -n "${MQS_USER:-}" ] && creds=(--username "$MQS_USER" --password-file "$passfile")
        common=(--host "${MQS_HOST:-127.0.0.1}")
        # wanted T: the matrix runs transport T on this broker (MQS_MATRIX_TRANSPORTS).
        wanted() { [ -z "${MQS_MATRIX_TRANSPORTS:-}" ] || [[ ",$MQS_MATRIX_TRANSPORTS," == *",$1,"* ]]; }
        everywhere=()
        if [ "${MQS_NO_ANONYMOUS:-0}" = 1 ]; then
            everywhere=("${creds[@]}" --no-anonymous)
        fi
        # TCP: on the port that checks credentials, so the auth area runs too.
        if [ -n "${MQS_AUTH_PORT:-}" ] && [ ${#creds[@]} -gt 0 ]; then
            anon=()
            [ "${MQS_AUTH_ANONYMOUS:-1}" = 0 ] && anon=(--no-anonymous)
            run_one "$slug" "$name" tcp "${common[@]}" --port "$MQS_AUTH_PORT" "${creds[@]}" "${anon[@]}"
        else
            run_one "$slug" "$name" tcp "${common[@]}" --port "$MQS_PORT" "${everywhere[@]}"
        fi
        if [ -n "${MQS_TLS_PORT:-}" ] && wanted tls; then
            run_one "$slug" "$name" tls "${common[@]}" --port "$MQS_TLS_PORT" --transport tls \
                --cafile "$MQS_CAFILE" "${everywhere[@]}"
        fi
        if [ -n "${MQS_MTLS_PORT:-}" ] && wanted mtls; then
            run_one "$slug" "$name" mtls "${common[@]}" --port "$MQS_MTLS_PORT" --transport tls \
                --cafile "$MQS_CAFILE" --cert "$MQS_CERTS/client.crt" --key "$MQS_CERTS/client.key" \
                "${everywhere[@]}"
        fi
        # Scenarios whose verdict over WebSocket depends on the moment on this broker.
        wsx=()
        IFS=, read -r -a wsids <<<"${MQS_WS_EXCLUDE:-}"
        for id in "${wsids[@]}"; do wsx+=(--exclude "$id"); done
        if [ -n "${MQS_WS_PORT:-}" ] && wanted ws; then
            run_one "$slug" "$name" ws "${common[@]}" --port "$MQS_WS_PORT" --transport ws \
                --ws-path "${MQS_WS_PATH:-/mqtt}" "${everywhere[@]}" "${wsx[@]}"
        fi
        if [ -n "${MQS_WSS_PORT:-}" ] && wanted wss; then
            run_one "$slug" "$name" wss "${common[@]}" --port "$MQS_WSS_PORT" --transport wss \
                --ws-path "${MQS_WS_PATH:-/mqtt}" --cafile "$MQS_CAFILE" "${everywhere[@]}" "${wsx[@]}"
        fi
        [ ${#reports[@]} -gt 0 ] && printf '%s\n' "${reports[@]}" >"$WORK/$b.reports"
    )
    [ -f "$WORK/$b.reports" ] && mapfile -t -O "${#reports[@]}" reports <"$WORK/$b.reports"
    bash "$KIT/$b.sh" stop "$WORK/$b" >/dev/null 2>&1
done

if [ ${#reports[@]} -eq 0 ]; then
    echo "matrix: no broker could be certified" >&2
    exit 1
fi
# Relative paths, so the links in matrix.html work wherever reports/ is checked out.
rel=()
for r in "${reports[@]}"; do rel+=("${r#"$OUT"/}"); done
(cd "$OUT" && "$BIN" compare --out . --format md,html "${rel[@]}") || exit 1
# The verdicts alone, one line per case and run: what must not change between two runs
# of `make matrix` (diff it to check stability).
python3 - "$OUT" "${rel[@]}" >"$OUT/matrix-verdicts.tsv" <<'PY'
import json, sys
out = sys.argv[1]
for rel in sys.argv[2:]:
    r = json.load(open(f"{out}/{rel}"))
    column = "/".join(rel.split("/")[:2])
    for c in sorted(r["cases"], key=lambda c: (c["id"], c["protocol"])):
        print("\t".join([column, c["id"], c["protocol"], c["verdict"]]))
PY
# Triage: every FAIL, WARN and ERROR must be explained in reports/<broker>/DEVIATIONS.md,
# written from the causes of scripts/deviations.py (mosquitto's by hand). The ones no
# cause explains are listed in untriaged.txt and printed: read their traces, then fix the
# scenario or add the cause. The matrix is not finished until the file is empty.
python3 "$ROOT/scripts/deviations.py" "$OUT" "${rel[@]}" >"$OUT/untriaged.txt"
end_all=$(date +%s)
echo "matrix: ${#reports[@]} runs in $((end_all - start_all)) s: $OUT/matrix.md, $OUT/matrix.html"
[ -s "$OUT/skipped.txt" ] && { echo "skipped:"; sed 's/^/  /' "$OUT/skipped.txt"; }
if [ -s "$OUT/untriaged.txt" ]; then
    echo "matrix: $(wc -l <"$OUT/untriaged.txt") FAIL/WARN/ERROR verdicts not explained in a DEVIATIONS.md ($OUT/untriaged.txt):"
    sed 's/^/  /' "$OUT/untriaged.txt"
fi
exit 0
