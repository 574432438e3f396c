#!/usr/bin/env bash
# mosquitto.sh — a throw-away mosquitto (Debian's /usr/sbin/mosquitto) for tests and demos.
#
#   scripts/mosquitto.sh start DIR [plain] [auth] [tls] [ws] [all]
#   scripts/mosquitto.sh stop DIR
#
# start writes DIR/mosquitto.conf (the project's own config), starts the broker as a
# plain background process (no -d, no systemd, `log_dest stderr` into DIR/mosquitto.log)
# on FREE loopback ports picked now, waits until every listener answers (a port check,
# then a real CONNECT/CONNACK with mosquitto_pub, or a WebSocket upgrade for ws/wss),
# and writes DIR/env, to be sourced by the caller:
#   MQS_HOST=127.0.0.1  MQS_PID  MQS_LOG  MQS_CONF
#   plain: MQS_PORT                              anonymous MQTT over TCP (always present)
#   auth:  MQS_AUTH_PORT MQS_USER MQS_PASS       password file, anonymous refused
#   tls:   MQS_TLS_PORT                          TLS, server cert for localhost/127.0.0.1
#          MQS_MTLS_PORT                         the same, client certificate required
#          MQS_MTLS_ID_PORT                      client certificate required, its identity
#                                                (CN) is the user name, anonymous refused
#          MQS_TLS_UNTRUSTED_PORT                server cert from a CA nobody trusts
#          MQS_TLS_WRONGHOST_PORT                server cert for other.example only
#          MQS_TLS_EXPIRED_PORT                  server cert that expired in 2020
#   ws:    MQS_WS_PORT MQS_WSS_PORT              MQTT over WebSocket, plain and TLS (any path)
#   tls or ws: MQS_CERTS=DIR/certs               see scripts/gen-certs.sh for the files
# No profile means plain; `all` means every profile. MQS_PASS is random per start and is
# written only to DIR/env (mode 600) and, hashed, to DIR/passwd.
#
# stop reads DIR/mosquitto.pid and stops that process: SIGTERM, SIGKILL after 5 s. It
# signals the PID only while /proc/PID/cmdline is still this broker with this config,
# and counts a zombie as stopped. Stopping a DIR with no running broker succeeds.
#
# Privileges: started as root, mosquitto switches to user "mosquitto" before it reads
# key and password files, and fails when any directory above DIR is not traversable
# for that user (mktemp -d makes 0700 directories; /root is 0700). Rather than loosen
# the caller's directories, the config says `user root`: the broker is throw-away and
# listens on 127.0.0.1 only. (For a non-root caller the option has no effect.) The
# files are chmod 644 all the same, so the config also works without that line.
#
# Several brokers may run at once (each start picks its own ports). Exit status of
# start: 0 ready, 1 failed (the log tail is printed), 2 usage.
set -euo pipefail

MOSQUITTO=${MOSQUITTO:-/usr/sbin/mosquitto}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HOST=127.0.0.1
READY_TIMEOUT_S=10

usage() {
    echo "usage: mosquitto.sh start DIR [plain] [auth] [tls] [ws] [all] | mosquitto.sh stop DIR" >&2
    exit 2
}

# free_ports N: prints N distinct loopback ports that were free a moment ago (all held
# open at once while picking, so they differ). A race with another process remains;
# start_once fails then and start retries with new ports.
free_ports() {
    python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
EOF
}

# port_open PORT: true when something accepts TCP connections on HOST:PORT.
port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# ws_upgrade PORT: a WebSocket upgrade request; true on "HTTP/1.1 101".
ws_upgrade() {
    local line
    line=$(timeout 3 bash -c '
        exec 3<>"/dev/tcp/$0/$1" || exit 1
        printf "GET /mqtt HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n" "$0" "$1" >&3
        head -n 1 <&3' "$HOST" "$1" 2>/dev/null) || return 1
    [[ $line == "HTTP/1.1 101"* ]]
}

tls_listener() { # PORT CERT ANONYMOUS(true|false) [extra lines...]
    local port=$1 cert=$2 anonymous=$3
    shift 3
    printf '\nlistener %s %s\nallow_anonymous %s\n' "$port" "$HOST" "$anonymous"
    printf 'cafile %s/ca.crt\ncertfile %s/%s.crt\nkeyfile %s/%s.key\n' "$CERTS" "$CERTS" "$cert" "$CERTS" "$cert"
    printf 'tls_version tlsv1.2\n'
    local l
    for l in "$@"; do printf '%s\n' "$l"; done
}

write_conf() {
    {
        echo "# written by scripts/mosquitto.sh; throw-away test broker, loopback only"
        echo "per_listener_settings true"
        echo "persistence false"
        echo "log_dest stderr"
        echo "log_type error"
        echo "log_type warning"
        echo "log_type notice"
        echo "log_type information"
        echo "connection_messages true"
        echo "user root"
        # plain is always there: a websocket-only config fails to start.
        printf '\nlistener %s %s\nallow_anonymous true\n' "${P[plain]}" "$HOST"
        if [[ -n ${P[auth]:-} ]]; then
            printf '\nlistener %s %s\nallow_anonymous false\npassword_file %s/passwd\n' \
                "${P[auth]}" "$HOST" "$DIR"
        fi
        if [[ -n ${P[tls]:-} ]]; then
            tls_listener "${P[tls]}" server true
            tls_listener "${P[mtls]}" server true "require_certificate true"
            tls_listener "${P[mtlsid]}" server false "require_certificate true" \
                "use_identity_as_username true"
            tls_listener "${P[untrusted]}" untrusted true
            tls_listener "${P[wronghost]}" wronghost true
            tls_listener "${P[expired]}" expired true
        fi
        if [[ -n ${P[ws]:-} ]]; then
            # socket_domain ipv4: otherwise the websockets listener binds *:PORT.
            printf '\nlistener %s %s\nprotocol websockets\nsocket_domain ipv4\nallow_anonymous true\n' \
                "${P[ws]}" "$HOST"
            printf '\nlistener %s %s\nprotocol websockets\nsocket_domain ipv4\nallow_anonymous true\n' \
                "${P[wss]}" "$HOST"
            printf 'cafile %s/ca.crt\ncertfile %s/server.crt\nkeyfile %s/server.key\n' "$CERTS" "$CERTS" "$CERTS"
        fi
    } >"$DIR/mosquitto.conf"
    chmod 644 "$DIR/mosquitto.conf"
}

write_passwd() {
    MQS_USER=mqs-user
    MQS_PASS=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 20)
    # Plain "user:pass" hashed in place (-U), so the password never appears in argv.
    (umask 077 && printf '%s:%s\n' "$MQS_USER" "$MQS_PASS" >"$DIR/passwd")
    mosquitto_passwd -U "$DIR/passwd"
    chmod 644 "$DIR/passwd"
}

write_env() {
    local f=$DIR/env
    (umask 077 && : >"$f")
    {
        echo "MQS_HOST=$HOST"
        echo "MQS_PID=$PID"
        echo "MQS_LOG=$DIR/mosquitto.log"
        echo "MQS_CONF=$DIR/mosquitto.conf"
        echo "MQS_PORT=${P[plain]}"
        if [[ -n ${P[auth]:-} ]]; then
            echo "MQS_AUTH_PORT=${P[auth]}"
            echo "MQS_USER=$MQS_USER"
            echo "MQS_PASS=$MQS_PASS"
        fi
        if [[ -n ${P[tls]:-} ]]; then
            echo "MQS_TLS_PORT=${P[tls]}"
            echo "MQS_MTLS_PORT=${P[mtls]}"
            echo "MQS_MTLS_ID_PORT=${P[mtlsid]}"
            echo "MQS_TLS_UNTRUSTED_PORT=${P[untrusted]}"
            echo "MQS_TLS_WRONGHOST_PORT=${P[wronghost]}"
            echo "MQS_TLS_EXPIRED_PORT=${P[expired]}"
        fi
        if [[ -n ${P[ws]:-} ]]; then
            echo "MQS_WS_PORT=${P[ws]}"
            echo "MQS_WSS_PORT=${P[wss]}"
        fi
        if [[ -n ${P[tls]:-}${P[ws]:-} ]]; then
            echo "MQS_CERTS=$CERTS"
        fi
    } >>"$f"
}

alive() { [[ -d /proc/$1 ]] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

# wait_ready: every listener accepts, then answers at the protocol level.
wait_ready() {
    local deadline=$((SECONDS + READY_TIMEOUT_S)) name
    for name in "${!P[@]}"; do
        until port_open "${P[$name]}"; do
            alive "$PID" || return 1
            ((SECONDS < deadline)) || return 1
            sleep 0.02
        done
    done
    local pub=(timeout 5 mosquitto_pub -h "$HOST" -t mqttspec/ready -n -i "mqs-ready-$$")
    "${pub[@]}" -p "${P[plain]}" || return 1
    if [[ -n ${P[auth]:-} ]]; then
        # Anonymous is refused with CONNACK 5 (mosquitto_pub exits 5): the listener
        # answers, and the password stays off every command line.
        local rc=0
        "${pub[@]}" -p "${P[auth]}" 2>/dev/null || rc=$?
        [[ $rc -eq 5 ]] || return 1
    fi
    if [[ -n ${P[tls]:-} ]]; then
        "${pub[@]}" -p "${P[tls]}" --cafile "$CERTS/ca.crt" || return 1
        local p
        for p in "${P[mtls]}" "${P[mtlsid]}"; do
            "${pub[@]}" -p "$p" --cafile "$CERTS/ca.crt" \
                --cert "$CERTS/client.crt" --key "$CERTS/client.key" || return 1
        done
    fi
    if [[ -n ${P[ws]:-} ]]; then
        ws_upgrade "${P[ws]}" || return 1
    fi
    return 0
}

# start_once: pick ports, write config, launch, wait. 0 ready, 1 failed (broker stopped).
start_once() {
    local names=(plain) n ports i
    [[ -n ${WANT[auth]:-} ]] && names+=(auth)
    [[ -n ${WANT[tls]:-} ]] && names+=(tls mtls mtlsid untrusted wronghost expired)
    [[ -n ${WANT[ws]:-} ]] && names+=(ws wss)
    n=${#names[@]}
    read -r -a ports <<<"$(free_ports "$n")"
    P=()
    for ((i = 0; i < n; i++)); do P[${names[$i]}]=${ports[$i]}; done
    write_conf
    "$MOSQUITTO" -c "$DIR/mosquitto.conf" </dev/null >"$DIR/mosquitto.log" 2>&1 &
    PID=$!
    echo "$PID" >"$DIR/mosquitto.pid"
    if wait_ready; then
        return 0
    fi
    stop_dir "$DIR" >/dev/null 2>&1 || true
    return 1
}

cmd_start() {
    DIR=$1
    shift
    declare -gA WANT=() P=()
    local p
    for p in "$@"; do
        case $p in
        plain | auth | tls | ws) WANT[$p]=1 ;;
        all) WANT=([plain]=1 [auth]=1 [tls]=1 [ws]=1) ;;
        *) usage ;;
        esac
    done
    mkdir -p "$DIR"
    DIR=$(cd "$DIR" && pwd)
    chmod 755 "$DIR"
    if [[ -f $DIR/mosquitto.pid ]] && alive "$(cat "$DIR/mosquitto.pid")"; then
        echo "mosquitto.sh: a broker from $DIR is still running (stop it first)" >&2
        return 1
    fi
    rm -f "$DIR/env"
    CERTS=$DIR/certs
    if [[ -n ${WANT[tls]:-}${WANT[ws]:-} ]]; then
        bash "$HERE/gen-certs.sh" "$CERTS" || {
            echo "mosquitto.sh: gen-certs.sh failed" >&2
            return 1
        }
    fi
    [[ -n ${WANT[auth]:-} ]] && write_passwd
    local attempt
    for attempt in 1 2 3; do
        if start_once; then
            write_env
            return 0
        fi
        echo "mosquitto.sh: start attempt $attempt failed; log tail:" >&2
        tail -n 5 "$DIR/mosquitto.log" >&2 || true
    done
    return 1
}

# stop_dir DIR: see the header. Always 0 unless the process survives SIGKILL.
stop_dir() {
    local dir=$1 pid i
    [[ -f $dir/mosquitto.pid ]] || return 0
    pid=$(cat "$dir/mosquitto.pid")
    [[ $pid =~ ^[0-9]+$ ]] || {
        rm -f "$dir/mosquitto.pid"
        return 0
    }
    if ! is_ours "$pid" "$dir"; then
        rm -f "$dir/mosquitto.pid"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 250; i++)); do
        alive "$pid" || break
        sleep 0.02
    done
    if alive "$pid" && is_ours "$pid" "$dir"; then
        kill -KILL "$pid" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do
            alive "$pid" || break
            sleep 0.02
        done
    fi
    if alive "$pid"; then
        echo "mosquitto.sh: PID $pid did not stop" >&2
        return 1
    fi
    rm -f "$dir/mosquitto.pid"
    return 0
}

# is_ours PID DIR: /proc/PID/cmdline is mosquitto running DIR's config.
is_ours() {
    local cmd
    cmd=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
    [[ $cmd == *mosquitto* && $cmd == *"$2/mosquitto.conf"* ]]
}

case ${1:-} in
start)
    [[ $# -ge 2 ]] || usage
    shift
    cmd_start "$@"
    ;;
stop)
    [[ $# -eq 2 ]] || usage
    stop_dir "$(cd "$2" 2>/dev/null && pwd || echo "$2")"
    ;;
*) usage ;;
esac
