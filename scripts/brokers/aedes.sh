#!/usr/bin/env bash
# aedes.sh — aedes 1.2.0 (npm, node >= 20) run by aedes/server.mjs, for tests.
#   scripts/brokers/aedes.sh install | version | start DIR | stop DIR
# Listeners: TCP, TLS, mutual TLS, WebSocket, WebSocket over TLS (any URL path; the env
# says /mqtt). One account MQS_USER/MQS_PASS (random password); anonymous clients are
# let in, a bad login gets CONNACK 4. install runs `npm ci` on the project's own
# aedes/package.json + package-lock.json (aedes and ws pinned).
# shellcheck source=scripts/brokers/lib.sh disable=SC2034 # MQS_* are read by name (mqs_write_env)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
NAME=aedes
APP=$KIT/aedes

broker_install() {
    command -v node >/dev/null || mqs_die "node is not installed (aedes 1.2.0 needs node >= 20)"
    local major
    major=$(node -p 'process.versions.node.split(".")[0]')
    ((major >= 20)) || mqs_die "node $(node --version) is too old: aedes 1.2.0 needs node >= 20"
    broker_version >/dev/null 2>&1 && return 0
    command -v npm >/dev/null || mqs_die "npm is not installed"
    (cd "$APP" && npm ci --no-audit --no-fund --loglevel=error) ||
        mqs_die "npm ci failed in $APP (is the npm registry reachable?)"
}

broker_version() {
    node -p 'require(process.argv[1]).version' "$APP/node_modules/aedes/package.json" 2>/dev/null
}

broker_start() {
    mqs_take_ports MQS_PORT MQS_TLS_PORT MQS_MTLS_PORT MQS_WS_PORT MQS_WSS_PORT
    MQS_WS_PATH=/mqtt WS_PATH=/mqtt
    MQS_AUTH_PORT=$MQS_PORT MQS_AUTH_ANONYMOUS=1
    mqs_certs_and_account
    AEDES_PORT=$MQS_PORT AEDES_TLS_PORT=$MQS_TLS_PORT AEDES_MTLS_PORT=$MQS_MTLS_PORT \
        AEDES_WS_PORT=$MQS_WS_PORT AEDES_WSS_PORT=$MQS_WSS_PORT AEDES_CERTS=$CERTS \
        AEDES_USER=$MQS_USER AEDES_PASS=$MQS_PASS \
        node "$APP/server.mjs" </dev/null >"$LOG" 2>&1 &
    PID=$!
    echo "$PID" >"$DIR/aedes.pid"
    mqs_wait_ready "$PID" 15 "tcp:$MQS_PORT" "tls:$MQS_TLS_PORT" "mtls:$MQS_MTLS_PORT" \
        "ws:$MQS_WS_PORT" "wss:$MQS_WSS_PORT"
}

broker_stop() {
    mqs_stop_pidfile "$DIR/aedes.pid" 5 node "$APP/server.mjs"
}

mqs_broker_main "$@"
