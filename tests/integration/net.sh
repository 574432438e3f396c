#!/usr/bin/env bash
# tests/integration/net.sh [MQTTSPEC...] — the transports against a real mosquitto.
#
# Starts mosquitto with every profile of scripts/mosquitto.sh (plain, auth, tls with its
# broken-certificate listeners, ws, wss) on free loopback ports and runs `mqttspec probe`
# over each: tcp, tls, mtls with and without a client certificate, ws, wss, auth with a
# good and a bad password, and every TLS failure mode, asserting the exit code, the
# output, that an error is exactly one line, and that the password never shows. Runs the
# whole table once per binary given (default build/mqttspec). Then the TLS and WebSocket
# failure modes once more through `mqttspec run` (exit 3, one line), and what its reports
# say about the connection. The broker is stopped on any exit (trap).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BINS=("$@")
[ ${#BINS[@]} -gt 0 ] || BINS=("$ROOT/build/mqttspec")

WORK=$(mktemp -d /tmp/mqs-net-XXXXXX)
BROKER=$WORK/broker
cleanup() {
    bash "$ROOT/scripts/mosquitto.sh" stop "$BROKER" || true
    rm -rf "$WORK"
}
trap cleanup EXIT

bash "$ROOT/scripts/mosquitto.sh" start "$BROKER" all || {
    echo "net.sh: could not start mosquitto" >&2
    exit 1
}
# shellcheck disable=SC1091
. "$BROKER/env"
C=$MQS_CERTS
printf '%s\n' "$MQS_PASS" >"$WORK/pass"
printf 'not-the-password\n' >"$WORK/badpass"
mkdir -p "$WORK/capath" && cp "$C/ca.crt" "$WORK/capath/" && openssl rehash "$WORK/capath"

pass=0
fail=0

# check NAME WANT_EXIT WANT_TEXT -- probe args...
#   WANT_TEXT must appear in stdout (exit 0/1) or in the one-line stderr (other exits).
#   CMD is the subcommand and its own options (default: probe).
# Deadlines are generous: every check here ends long before them (refusals and certificate
# errors come at once), but under load a TLS handshake that loads the system CA store took
# more than 3 s, which turned "unknown CA" into "timed out".
PROBE=(probe --timeout-ms 15000)
CMD=("${PROBE[@]}")
check() {
    local name=$1 want=$2 text=$3
    shift 4
    local out=$WORK/out err=$WORK/err rc t0 ms
    t0=$(date +%s%N)
    "$BIN" "${CMD[@]}" "$@" >"$out" 2>"$err"
    rc=$?
    ms=$((($(date +%s%N) - t0) / 1000000))
    local why=""
    [ "$rc" -eq "$want" ] || why="exit $rc, want $want"
    if [ -z "$why" ]; then
        if [ "$want" -le 1 ]; then
            grep -qF -- "$text" "$out" || why="stdout lacks '$text'"
        else
            [ "$(wc -l <"$err")" -eq 1 ] || why="stderr is not one line"
            grep -qF -- "$text" "$err" || why="stderr lacks '$text'"
        fi
    fi
    if grep -qF -- "$MQS_PASS" "$out" "$err"; then why="the password was printed"; fi
    if [ -z "$why" ]; then
        pass=$((pass + 1))
        printf 'ok   %-34s %4d ms  %s\n' "$name" "$ms" "$(head -c 150 "$([ "$want" -le 1 ] && echo "$out" || echo "$err")" | tr '\n' ' ')"
    else
        fail=$((fail + 1))
        printf 'FAIL %-34s %s\n' "$name" "$why"
        sed 's/^/     | /' "$out" "$err"
    fi
}

# report_has NAME TEXT... : every TEXT is in the last run's report.json (and every
# format holds no password).
report_has() {
    local name=$1 t why=""
    shift
    for t in "$@"; do
        grep -qF -- "$t" "$WORK/run/report.json" || why="report.json lacks '$t'"
    done
    if grep -rqF -- "$MQS_PASS" "$WORK/run"; then why="a report holds the password"; fi
    if [ -z "$why" ]; then
        pass=$((pass + 1))
        printf 'ok   %-34s %s\n' "$name" "$*"
    else
        fail=$((fail + 1))
        printf 'FAIL %-34s %s\n' "$name" "$why"
    fi
}

H=127.0.0.1
for BIN in "${BINS[@]}"; do
    echo "== $BIN"
    check tcp 0 "CONNACK: return code 0" -- --host $H --port "$MQS_PORT"
    check tcp-url 0 "tcp to 127.0.0.1:$MQS_PORT" -- --url "mqtt://$H:$MQS_PORT"
    check tcp-v31 0 "CONNACK: return code 0" -- --url "mqtt://$H:$MQS_PORT" --protocol 3.1
    check tls-cafile 0 "verify on" -- --url "mqtts://$H:$MQS_TLS_PORT" --cafile "$C/ca.crt"
    check tls-localhost 0 "verify on" -- --host localhost --port "$MQS_TLS_PORT" --transport tls \
        --cafile "$C/ca.crt"
    check tls-capath 0 "verify on" -- --url "mqtts://$H:$MQS_TLS_PORT" --capath "$WORK/capath"
    check mtls-cert 0 "client certificate" -- --url "mqtts://$H:$MQS_MTLS_PORT" --cafile "$C/ca.crt" \
        --cert "$C/client.crt" --key "$C/client.key"
    check mtls-no-cert 3 "server requires a client certificate" -- --url "mqtts://$H:$MQS_MTLS_PORT" \
        --cafile "$C/ca.crt"
    check ws 0 "subprotocol mqtt" -- --url "ws://$H:$MQS_WS_PORT/mqtt"
    check ws-host 0 "path /mqtt" -- --host $H --port "$MQS_WS_PORT" --transport ws
    check wss 0 "verify on, path /mqtt, subprotocol mqtt" -- --url "wss://$H:$MQS_WSS_PORT/mqtt" \
        --cafile "$C/ca.crt"
    check auth-good 0 "CONNACK: return code 0" -- --url "mqtt://$H:$MQS_AUTH_PORT" \
        --username "$MQS_USER" --password-file "$WORK/pass"
    check auth-bad-password 1 "CONNACK: return code 5" -- --url "mqtt://$H:$MQS_AUTH_PORT" \
        --username "$MQS_USER" --password-file "$WORK/badpass"
    check auth-none 1 "CONNACK: return code 5" -- --url "mqtt://$H:$MQS_AUTH_PORT"
    check tls-unknown-ca 3 "unable to get local issuer certificate" -- \
        --url "mqtts://$H:$MQS_TLS_UNTRUSTED_PORT" --cafile "$C/ca.crt"
    check tls-system-store 3 "unknown CA" -- --url "mqtts://$H:$MQS_TLS_PORT"
    check tls-wrong-ip 3 "IP address mismatch: certificate is for other.example" -- \
        --url "mqtts://$H:$MQS_TLS_WRONGHOST_PORT" --cafile "$C/ca.crt"
    check tls-wrong-host 3 "hostname mismatch: certificate is for other.example" -- \
        --host localhost --port "$MQS_TLS_WRONGHOST_PORT" --transport tls --cafile "$C/ca.crt"
    check tls-servername 0 "verify on" -- --url "mqtts://$H:$MQS_TLS_WRONGHOST_PORT" \
        --cafile "$C/ca.crt" --tls-servername other.example
    check tls-expired 3 "certificate has expired" -- --url "mqtts://$H:$MQS_TLS_EXPIRED_PORT" \
        --cafile "$C/ca.crt"
    check tls-insecure 0 "verify off" -- --url "mqtts://$H:$MQS_TLS_UNTRUSTED_PORT" --insecure
    check tls-to-plain-port 3 "does the port speak TLS?" -- --url "mqtts://$H:$MQS_PORT" --cafile "$C/ca.crt"
    check tls-missing-cafile 3 "cannot load CA file" -- --url "mqtts://$H:$MQS_TLS_PORT" \
        --cafile "$WORK/nope.pem"
    check wss-unknown-ca 3 "unknown CA" -- --url "wss://$H:$MQS_WSS_PORT"
    check ws-to-mqtt-port 3 "is it a WebSocket endpoint?" -- --url "ws://$H:$MQS_PORT/mqtt"
    check refused 3 "refused" -- --url "mqtt://$H:1"
    check usage-bad-url 2 "bad URL" -- --url "http://$H"
    check usage-tls-opt-on-tcp 2 "--cafile needs a TLS transport" -- --host $H --cafile "$C/ca.crt"
    check usage-unknown 2 "unknown option" -- --frobnicate

    # `mqttspec run`: the same failures end the run at its first connection, exit 3 with
    # one line; reports name the connection's TLS parameters, never the password.
    CMD=(run --filter connect.accepted --protocol 3.1.1 --timeout 5 --quiet --report-dir "$WORK/run")
    check run-tls-unknown-ca 3 "unable to get local issuer certificate" -- \
        --url "mqtts://$H:$MQS_TLS_UNTRUSTED_PORT" --cafile "$C/ca.crt"
    check run-tls-system-store 3 "unknown CA" -- --url "mqtts://$H:$MQS_TLS_PORT"
    check run-tls-wrong-host 3 "hostname mismatch: certificate is for other.example" -- \
        --host localhost --port "$MQS_TLS_WRONGHOST_PORT" --transport tls --cafile "$C/ca.crt"
    check run-tls-wrong-ip 3 "IP address mismatch" -- --url "mqtts://$H:$MQS_TLS_WRONGHOST_PORT" \
        --cafile "$C/ca.crt"
    check run-tls-expired 3 "certificate has expired" -- --url "mqtts://$H:$MQS_TLS_EXPIRED_PORT" \
        --cafile "$C/ca.crt"
    check run-mtls-no-cert 3 "server requires a client certificate" -- \
        --url "mqtts://$H:$MQS_MTLS_PORT" --cafile "$C/ca.crt"
    check run-wss-unknown-ca 3 "unknown CA" -- --url "wss://$H:$MQS_WSS_PORT"
    check run-tls-to-plain-port 3 "does the port speak TLS?" -- --url "mqtts://$H:$MQS_PORT" \
        --cafile "$C/ca.crt"
    check run-ws-to-mqtt-port 3 "is it a WebSocket endpoint?" -- --url "ws://$H:$MQS_PORT/mqtt"
    check run-mtls-cert 0 "1 PASS" -- --url "mqtts://$H:$MQS_MTLS_PORT" --cafile "$C/ca.crt" \
        --cert "$C/client.crt" --key "$C/client.key"
    report_has run-mtls-report "connection=tls to $H:$MQS_MTLS_PORT (TLSv1." "verify on, client certificate)"
    check run-wss 0 "1 PASS" -- --url "wss://$H:$MQS_WSS_PORT/mqtt" --cafile "$C/ca.crt"
    report_has run-wss-report "connection=wss to $H:$MQS_WSS_PORT (TLSv1." "verify on, path /mqtt, subprotocol mqtt)"
    check run-auth 0 "1 PASS" -- --url "mqtt://$H:$MQS_AUTH_PORT" --username "$MQS_USER" \
        --password-file "$WORK/pass"
    report_has run-auth-report "password=***" "connection=tcp to $H:$MQS_AUTH_PORT"
    CMD=("${PROBE[@]}")
done

echo "net.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
