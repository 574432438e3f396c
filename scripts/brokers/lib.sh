# lib.sh — shared helpers of the broker kit; sourced by scripts/brokers/<name>.sh.
# shellcheck shell=bash
#
# A broker script defines
#   NAME                    broker name (also the env BROKER= value)
#   broker_install          install what is missing; non-zero with a message if impossible
#   broker_version          print the installed version x.y.z (non-zero if not installed)
#   broker_start            start in $DIR (fresh), fill PORTS/ENV_EXTRA, wait until ready
#   broker_stop             stop what $DIR's PID files name
# and ends with `mqs_broker_main "$@"`, which implements the command line:
#   <name>.sh install | version | start DIR | stop DIR
#
# Conventions for start: everything lives under DIR (config, data, logs, certs, PID
# files) and is recreated on every start, so no state survives between runs. The
# broker is a plain background child ($! is its PID, written to DIR/<pidname>.pid),
# listens on 127.0.0.1 only, on ports picked free at start. DIR/env (mode 600) is
# written last, only once every listener answered CONNECT with CONNACK 0; a caller
# sources it. Exit status of start: 0 ready, 1 failed (log tail printed, nothing left
# running), 2 usage.
set -euo pipefail

KIT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$KIT/../.." && pwd)
HOST=127.0.0.1
PROBE=(python3 "$KIT/probe.py")

mqs_say() { echo "$NAME: $*" >&2; }
mqs_die() {
    mqs_say "$*"
    exit 1
}

# mqs_free_ports N: prints N distinct ports of 127.0.0.1 that were free a moment ago.
# They are drawn at random from 20000-32767, below Linux's ephemeral range, so the many
# client connections of a test run never take a port a broker is about to bind; all N
# sockets are held while drawing so they differ. A race with another engineer's start
# remains: the broker then fails to bind and start retries with new ports.
mqs_free_ports() {
    python3 - "$1" <<'EOF'
import random, socket, sys
held = []
while len(held) < int(sys.argv[1]):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", random.randint(20000, 32767)))
    except OSError:
        s.close()
        continue
    held.append(s)
print(" ".join(str(s.getsockname()[1]) for s in held))
for s in held:
    s.close()
EOF
}

# mqs_take_ports VAR...: sets each variable VAR to a port of its own from mqs_free_ports.
mqs_take_ports() {
    local p v i=0
    read -r -a p <<<"$(mqs_free_ports $#)"
    for v in "$@"; do
        printf -v "$v" '%s' "${p[$i]}"
        i=$((i + 1))
    done
}

# mqs_certs_and_account: the test certificates in $CERTS (made once per start) and the
# one account; sets MQS_CERTS, MQS_CAFILE, MQS_USER and a fresh random MQS_PASS.
mqs_certs_and_account() {
    [[ -f $CERTS/ca.crt ]] || mqs_certs "$CERTS"
    # shellcheck disable=SC2034 # read by name in mqs_write_env
    MQS_CERTS=$CERTS MQS_CAFILE=$CERTS/ca.crt
    MQS_USER=mqs-user
    MQS_PASS=$(mqs_random_secret)
}

# mqs_random_secret: 20 random letters and digits.
mqs_random_secret() { head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 20; }

# mqs_alive PID: the process exists and is not a zombie (PID 1 here reaps orphans late,
# and kill -0 reports a zombie as alive).
mqs_alive() { [[ -d /proc/$1 ]] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

# mqs_cmdline_has PID WORD...: /proc/PID/cmdline or /proc/PID/environ (for a wrapper
# whose arguments do not name DIR) contains every WORD.
mqs_cmdline_has() {
    local pid=$1 cmd w
    shift
    cmd=$(cat "/proc/$pid/cmdline" "/proc/$pid/environ" 2>/dev/null | tr '\0' ' ') || return 1
    for w in "$@"; do [[ $cmd == *"$w"* ]] || return 1; done
}

# mqs_stop_pidfile FILE TIMEOUT_S WORD...: stop the process FILE names, if its cmdline
# still contains every WORD (else the PID was reused: leave it alone): SIGTERM, then
# SIGKILL after TIMEOUT_S. A zombie counts as stopped. Removes FILE. Non-zero only when
# the process survives SIGKILL.
mqs_stop_pidfile() {
    local file=$1 timeout=$2 pid i
    shift 2
    [[ -f $file ]] || return 0
    pid=$(cat "$file")
    if [[ ! $pid =~ ^[0-9]+$ ]] || ! mqs_alive "$pid" || ! mqs_cmdline_has "$pid" "$@"; then
        rm -f "$file"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < timeout * 20; i++)); do
        mqs_alive "$pid" || break
        sleep 0.05
    done
    if mqs_alive "$pid" && mqs_cmdline_has "$pid" "$@"; then
        mqs_say "PID $pid ignored SIGTERM for ${timeout}s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do
            mqs_alive "$pid" || break
            sleep 0.05
        done
    fi
    if mqs_alive "$pid"; then
        mqs_say "PID $pid did not stop"
        return 1
    fi
    rm -f "$file"
}

# mqs_deb_version PKG: the upstream part of an installed Debian package's version
# (2:1.2.3+dfsg-4+deb12u1 -> 1.2.3). Non-zero when PKG is not installed.
mqs_deb_version() {
    local v
    v=$(dpkg-query -W -f='${Status} ${Version}' "$1" 2>/dev/null) || return 1
    [[ $v == "install ok installed "* ]] || return 1
    v=${v#install ok installed }
    v=${v#*:}
    v=${v%%-*}
    echo "${v%%+*}"
}

# mqs_apt_ensure PKG...: installs the Debian packages that are missing (apt-get update
# first). A policy-rc.d that forbids service starts is put in place for the install, so
# no system broker comes up on a standard port.
mqs_apt_ensure() {
    local p missing=()
    for p in "$@"; do mqs_deb_version "$p" >/dev/null || missing+=("$p"); done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    local sudo=
    [[ $(id -u) -eq 0 ]] || sudo=sudo
    mqs_say "installing Debian packages: ${missing[*]}"
    local added=0
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
        $sudo chmod 755 /usr/sbin/policy-rc.d
        added=1
    fi
    local rc=0
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
        $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" || rc=$?
    [[ $added -eq 0 ]] || $sudo rm -f /usr/sbin/policy-rc.d
    [[ $rc -eq 0 ]] || mqs_die "cannot install ${missing[*]} here (apt-get exit $rc)"
}

# mqs_certs DIR: test certificates in DIR (ca.crt, server.crt/.key, client.crt/.key,
# all PEM, keys 644; see scripts/gen-certs.sh for the other files it makes).
mqs_certs() {
    bash "$ROOT/scripts/gen-certs.sh" "$1" >/dev/null 2>&1 || mqs_die "scripts/gen-certs.sh $1 failed"
}

# mqs_wait_ready PID TIMEOUT_S LISTENER...: waits until every LISTENER answers CONNECT
# with CONNACK 0, while PID lives; MQS_READY_TIMEOUT (seconds) overrides TIMEOUT_S. A
# LISTENER is KIND:PORT with KIND tcp, tls, mtls, ws or wss (tcp:1883). Credentials are
# sent when MQS_USER is set (password from MQS_PASS). Non-zero on timeout or death.
mqs_wait_ready() {
    local pid=$1 deadline=$((SECONDS + ${MQS_READY_TIMEOUT:-$2})) l out
    shift 2
    for l in "$@"; do
        until out=$(mqs_probe "$l" 2>&1); do
            if ! mqs_alive "$pid"; then
                mqs_say "broker exited before $l was ready"
                return 1
            fi
            if ((SECONDS >= deadline)); then
                mqs_say "$l not ready after the deadline (last probe: $out)"
                return 1
            fi
            sleep 0.1
        done
    done
}

# mqs_probe KIND:PORT [probe.py options...]: one CONNECT/CONNACK on that listener,
# with MQS_USER/MQS_PASS when MQS_USER is set, the kit's certificates and MQS_WS_PATH.
mqs_probe() {
    local kind=${1%%:*} port=${1#*:} opts=()
    shift
    case $kind in
    tcp) ;;
    tls) opts=(--tls --cafile "$CERTS/ca.crt") ;;
    mtls) opts=(--tls --cafile "$CERTS/ca.crt" --cert "$CERTS/client.crt" --key "$CERTS/client.key") ;;
    ws) opts=(--ws "$WS_PATH") ;;
    wss) opts=(--tls --cafile "$CERTS/ca.crt" --ws "$WS_PATH") ;;
    *) mqs_die "unknown listener kind $kind" ;;
    esac
    [[ -z ${MQS_USER:-} ]] || opts+=(--user "$MQS_USER" --pass-env MQS_PASS)
    MQS_PASS=${MQS_PASS:-} "${PROBE[@]}" --timeout 3 "${opts[@]}" "$@" "$port"
}

# The optional lines of DIR/env, in this order.
ENV_KEYS=(MQS_PORT MQS_TLS_PORT MQS_MTLS_PORT MQS_WS_PORT MQS_WSS_PORT MQS_WS_PATH
    MQS_AUTH_PORT MQS_USER MQS_PASS MQS_AUTH_ANONYMOUS MQS_NO_ANONYMOUS MQS_NO_V31
    MQS_CERTS MQS_CAFILE MQS_WS_EXCLUDE MQS_MATRIX_TRANSPORTS)

# mqs_write_env: DIR/env (mode 600) from the variables start has set; see README.md.
mqs_write_env() {
    local f=$DIR/env k
    (umask 077 && : >"$f.tmp")
    {
        echo "BROKER=$NAME"
        echo "BROKER_VERSION=$VERSION"
        echo "MQS_HOST=$HOST"
        echo "MQS_PID=$PID"
        echo "MQS_LOG=$LOG"
        for k in "${ENV_KEYS[@]}"; do
            [[ -z ${!k:-} ]] || echo "$k=${!k}"
        done
        # Lines of ENV_EXTRA (a file) whose keys were not written above.
        if [[ -n ${ENV_EXTRA:-} ]]; then
            local line
            while IFS= read -r line; do
                k=${line%%=*}
                [[ $k == BROKER* || " ${ENV_KEYS[*]} MQS_HOST MQS_PID MQS_LOG " == *" $k "* ]] ||
                    echo "$line"
            done <"$ENV_EXTRA"
        fi
    } >>"$f.tmp"
    mv "$f.tmp" "$f"
}

# mqs_fresh_dir DIR: make DIR (absolute, traversable) and clear what an earlier start
# left there; refuses while a broker from DIR still runs.
mqs_fresh_dir() {
    mkdir -p "$1"
    DIR=$(cd "$1" && pwd)
    chmod 755 "$DIR"
    local f
    for f in "$DIR"/*.pid; do
        [[ -f $f ]] || continue
        if mqs_alive "$(cat "$f")"; then
            mqs_die "a process from $DIR ($f) still runs: stop it first"
        fi
    done
    rm -rf "${DIR:?}"/{env,env.tmp,*.env,*.pid,*.log,*.conf,passwd,conf,data,certs,home}
    mkdir -p "$DIR/conf" "$DIR/data"
    chmod 755 "$DIR/conf" "$DIR/data"
}

# mqs_now_us: wall clock in microseconds; mqs_since T0: seconds since T0, as "1.23".
mqs_now_us() { echo "${EPOCHREALTIME/./}"; }
mqs_since() {
    local d=$(($(mqs_now_us) - $1))
    printf '%d.%02d' $((d / 1000000)) $((d % 1000000 / 10000))
}

mqs_usage() {
    echo "usage: $NAME.sh install | version | start DIR | stop DIR" >&2
    exit 2
}

# mqs_start_retry ATTEMPTS: runs broker_start up to ATTEMPTS times (a port picked free
# may be taken by someone else before the broker binds it); each failure stops what
# it started. Prints the start time.
mqs_start_retry() {
    local attempt t0
    t0=$(mqs_now_us)
    for ((attempt = 1; attempt <= $1; attempt++)); do
        if broker_start; then
            mqs_write_env
            mqs_say "ready in $(mqs_since "$t0") s (env: $DIR/env)"
            return 0
        fi
        mqs_say "start attempt $attempt failed; log tail ($LOG):"
        tail -n 15 "$LOG" >&2 2>/dev/null || true
        broker_stop || true
    done
    return 1
}

mqs_broker_main() {
    case ${1:-} in
    install)
        [[ $# -eq 1 ]] || mqs_usage
        broker_install
        VERSION=$(broker_version) || mqs_die "installed, but no version can be read"
        mqs_say "installed: $NAME $VERSION"
        ;;
    version)
        [[ $# -eq 1 ]] || mqs_usage
        broker_version
        ;;
    start)
        [[ $# -eq 2 ]] || mqs_usage
        # What the caller's environment holds (a sourced env of another broker) must
        # not leak into this one's probes or env file.
        unset "${ENV_KEYS[@]}"
        VERSION=$(broker_version) || mqs_die "not installed: run scripts/brokers/$NAME.sh install"
        mqs_fresh_dir "$2"
        CERTS=$DIR/certs
        LOG=$DIR/$NAME.log
        PID=
        # Interrupted while starting: stop what was started, leave nothing running.
        trap 'broker_stop >/dev/null 2>&1; exit 130' INT TERM
        mqs_start_retry "${START_ATTEMPTS:-3}"
        ;;
    stop)
        [[ $# -eq 2 ]] || mqs_usage
        [[ -d $2 ]] || return 0
        DIR=$(cd "$2" && pwd)
        local t0
        t0=$(mqs_now_us)
        broker_stop || return 1
        rm -f "$DIR/env"
        mqs_say "stopped in $(mqs_since "$t0") s"
        ;;
    *) mqs_usage ;;
    esac
}
