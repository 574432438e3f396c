#!/usr/bin/env bash
# brokers.sh — smoke test of the broker kit (scripts/brokers/); run by hand, not by
# `make check`:   bash tests/integration/brokers.sh [NAME...]
#
# For each broker (default: every one of the kit), one at a time: start it in a
# temporary directory, then over every listener its env declares do a real
# CONNECT/CONNACK (scripts/brokers/probe.py), check the credentials set-up (good login 0,
# bad password refused with 4 or 5, anonymous as the env says), MQTT 3.1 as the env
# says, that the mutual-TLS listener refuses a client without a certificate, and one
# QoS 1 publish/subscribe round trip with mosquitto_pub/mosquitto_sub over TCP; then
# stop it and check that none of its processes and listeners is left. A broker that is
# not installed is skipped. Prints one summary line per broker (version, start and stop
# time, RSS of its processes, working listeners, CONNACK for a bad login) and closes
# with "N passed, N failed". Exit status 0 when nothing failed.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KIT=$ROOT/scripts/brokers
PROBE=(python3 "$KIT/probe.py" --timeout 5)
WORK=$(mktemp -d /tmp/mqs-brokers.XXXXXX)
chmod 755 "$WORK"
PASSED=0 FAILED=0
CURRENT=
SUMMARY=()

cleanup() {
    [[ -z $CURRENT ]] || bash "$KIT/$CURRENT.sh" stop "$WORK/$CURRENT" >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ok() {
    PASSED=$((PASSED + 1))
    echo "  ok    $*"
}
fail() {
    FAILED=$((FAILED + 1))
    echo "  FAIL  $*"
    return 1
}

now_us() { echo "${EPOCHREALTIME/./}"; }
since() {
    local d=$(($(now_us) - $1))
    printf '%d.%02d' $((d / 1000000)) $((d % 1000000 / 10000))
}

# expect_code WHAT WANT PROBE-ARGS...: probe.py must print "CONNACK c" with c in WANT
# (a |-separated list) or, for WANT "none", no CONNACK at all. Sets GOT.
expect_code() {
    local what=$1 want=$2 out
    shift 2
    out=$("${PROBE[@]}" "$@" 2>&1)
    GOT=${out#CONNACK }
    if [[ $want == none ]]; then
        if [[ $out == CONNACK* ]]; then fail "$what: got $out, want no CONNACK"; else ok "$what: refused ($out)"; fi
    elif [[ $out == CONNACK* && "|$want|" == *"|$GOT|"* ]]; then
        ok "$what: $out"
    else
        fail "$what: got '$out', want CONNACK $want"
    fi
}

# rss_mb PID...: total resident memory of the PIDs in MB.
rss_mb() {
    local kb=0 p v
    for p in "$@"; do
        v=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null) || v=0
        kb=$((kb + ${v:-0}))
    done
    echo $((kb / 1024))
}

smoke() {
    local name=$1 dir=$WORK/$1 t0 start_s stop_s pids=() p listeners=() bad
    if ! bash "$KIT/$name.sh" version >/dev/null 2>&1; then
        echo "== $name: not installed here, skipped (scripts/brokers/$name.sh install)"
        SUMMARY+=("$(printf '%-10s %-9s %s' "$name" - "skipped: not installed")")
        return
    fi
    echo "== $name"
    CURRENT=$name
    t0=$(now_us)
    if ! bash "$KIT/$name.sh" start "$dir"; then
        fail "$name: start"
        CURRENT=
        SUMMARY+=("$(printf '%-10s %-9s %s' "$name" - "FAILED to start")")
        return
    fi
    start_s=$(since "$t0")
    (
        set -a
        # shellcheck disable=SC1091
        source "$dir/env"
        set +a
        auth=()
        [[ -z ${MQS_NO_ANONYMOUS:-} ]] || auth=(--user "$MQS_USER" --pass-env MQS_PASS)
        ca=(--tls --cafile "$MQS_CAFILE")
        expect_code "tcp $MQS_PORT" 0 "${auth[@]}" "$MQS_PORT" && echo tcp >>"$dir/ok"
        if [[ -n ${MQS_TLS_PORT:-} ]]; then
            expect_code "tls $MQS_TLS_PORT" 0 "${auth[@]}" "${ca[@]}" "$MQS_TLS_PORT" && echo tls >>"$dir/ok"
        fi
        if [[ -n ${MQS_MTLS_PORT:-} ]]; then
            expect_code "mtls $MQS_MTLS_PORT" 0 "${auth[@]}" "${ca[@]}" \
                --cert "$MQS_CERTS/client.crt" --key "$MQS_CERTS/client.key" "$MQS_MTLS_PORT" &&
                echo mtls >>"$dir/ok"
            expect_code "mtls $MQS_MTLS_PORT without a client certificate" none "${auth[@]}" "${ca[@]}" "$MQS_MTLS_PORT"
        fi
        if [[ -n ${MQS_WS_PORT:-} ]]; then
            expect_code "ws $MQS_WS_PORT$MQS_WS_PATH" 0 "${auth[@]}" --ws "$MQS_WS_PATH" "$MQS_WS_PORT" && echo ws >>"$dir/ok"
        fi
        if [[ -n ${MQS_WSS_PORT:-} ]]; then
            expect_code "wss $MQS_WSS_PORT$MQS_WS_PATH" 0 "${auth[@]}" "${ca[@]}" --ws "$MQS_WS_PATH" "$MQS_WSS_PORT" &&
                echo wss >>"$dir/ok"
        fi
        expect_code "login $MQS_USER on $MQS_AUTH_PORT" 0 --user "$MQS_USER" --pass-env MQS_PASS "$MQS_AUTH_PORT"
        BAD_PASS=not-$MQS_PASS expect_code "bad password on $MQS_AUTH_PORT" "4|5" \
            --user "$MQS_USER" --pass-env BAD_PASS "$MQS_AUTH_PORT"
        echo "$GOT" >"$dir/bad"
        if [[ ${MQS_AUTH_ANONYMOUS:-0} == 1 ]]; then
            expect_code "anonymous on $MQS_AUTH_PORT" 0 "$MQS_AUTH_PORT"
        else
            expect_code "anonymous on $MQS_AUTH_PORT refused" "4|5" "$MQS_AUTH_PORT"
        fi
        if [[ -n ${MQS_NO_V31:-} ]]; then
            expect_code "MQTT 3.1 refused" 1 --level 3 "${auth[@]}" "$MQS_PORT"
        else
            expect_code "MQTT 3.1" 0 --level 3 "${auth[@]}" "$MQS_PORT"
        fi
        # One QoS 1 round trip through the broker over TCP.
        cred=()
        [[ -z ${MQS_NO_ANONYMOUS:-} ]] || cred=(-u "$MQS_USER" -P "$MQS_PASS")
        topic=mqttspec/smoke/$$
        timeout 10 mosquitto_sub -h "$MQS_HOST" -p "$MQS_PORT" "${cred[@]}" -i "mqs-sub-$$" -q 1 \
            -t "$topic" -C 1 -W 8 >"$dir/sub.out" 2>&1 &
        sub=$!
        got=
        for _ in $(seq 40); do
            sleep 0.1
            timeout 5 mosquitto_pub -h "$MQS_HOST" -p "$MQS_PORT" "${cred[@]}" -i "mqs-pub-$$" -q 1 \
                -t "$topic" -m hello >/dev/null 2>&1 || true
            if ! kill -0 "$sub" 2>/dev/null; then break; fi
        done
        wait "$sub"
        got=$(cat "$dir/sub.out")
        if [[ $got == hello ]]; then ok "QoS 1 publish/subscribe over tcp"; else fail "QoS 1 round trip: got '$got'"; fi
        echo "$PASSED $FAILED" >"$dir/counts"
    )
    read -r PASSED FAILED <"$dir/counts" 2>/dev/null || FAILED=$((FAILED + 1))
    for p in "$dir"/*.pid; do [[ -f $p ]] && pids+=("$(cat "$p")"); done
    local rss version ports
    rss=$(rss_mb "${pids[@]}")
    version=$(sed -n 's/^BROKER_VERSION=//p' "$dir/env")
    ports=$(sed -n 's/^MQS_[A-Z_]*PORT=//p' "$dir/env" | sort -u)
    t0=$(now_us)
    if bash "$KIT/$name.sh" stop "$dir"; then ok "$name: stop"; else fail "$name: stop"; fi
    stop_s=$(since "$t0")
    CURRENT=
    local left=()
    for p in "${pids[@]}"; do
        [[ -d /proc/$p ]] && ! grep -q '^State:[[:space:]]*Z' "/proc/$p/status" 2>/dev/null && left+=("$p")
    done
    if [[ ${#left[@]} -eq 0 ]]; then ok "no process left (${pids[*]})"; else fail "processes left: ${left[*]}"; fi
    local open=()
    for p in $ports; do (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && open+=("$p"); done
    if [[ ${#open[@]} -eq 0 ]]; then ok "no listener left"; else fail "ports still open: ${open[*]}"; fi
    read -r -a listeners <<<"$(tr '\n' ' ' <"$dir/ok" 2>/dev/null)"
    bad=$(cat "$dir/bad" 2>/dev/null)
    SUMMARY+=("$(printf '%-10s %-9s start %6ss  stop %5ss  RSS %4s MB  listeners: %-22s bad login: CONNACK %s' \
        "$name" "$version" "$start_s" "$stop_s" "$rss" "${listeners[*]}" "$bad")")
}

NAMES=("$@")
[[ ${#NAMES[@]} -gt 0 ]] || read -r -a NAMES <<<"$(bash "$KIT/all.sh" list)"
for n in "${NAMES[@]}"; do
    [[ -f $KIT/$n.sh ]] || {
        echo "brokers.sh: unknown broker $n" >&2
        exit 2
    }
    smoke "$n"
done
echo
echo "== summary"
printf '%s\n' "${SUMMARY[@]}"
echo "$PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
