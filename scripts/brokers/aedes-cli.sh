#!/usr/bin/env bash
# aedes-cli.sh — aedes-cli 1.0.2 (npm: the ready-made `aedes` broker command, on aedes
# 1.2.0, node >= 20), for tests.
#   scripts/brokers/aedes-cli.sh install | version | start DIR | stop DIR
# Listeners: TCP, TLS, WebSocket and WebSocket over TLS (any URL path; the env says /mqtt);
# no mutual TLS (the command has no option to require a client certificate).
# Credentials: `--credentials FILE`, the command's own JSON file of salted PBKDF2 hashes,
# written here by its Authorizer (the password goes through the environment, never argv).
# With a credentials file every client must log in: anonymous and bad logins get
# CONNACK 5, so every listener is used with MQS_USER/MQS_PASS (MQS_NO_ANONYMOUS=1).
# install runs `npm ci` on aedes-cli/package.json + package-lock.json (aedes-cli pinned).
# shellcheck source=scripts/brokers/lib.sh disable=SC2034 # MQS_* are read by name (mqs_write_env)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
NAME=aedes-cli
APP=$KIT/aedes-cli
BIN=$APP/node_modules/aedes-cli/bin/aedes

broker_install() {
    command -v node >/dev/null || mqs_die "node is not installed (aedes-cli 1.0.2 needs node >= 20)"
    local major
    major=$(node -p 'process.versions.node.split(".")[0]')
    ((major >= 20)) || mqs_die "node $(node --version) is too old: aedes-cli 1.0.2 needs node >= 20"
    broker_version >/dev/null 2>&1 && return 0
    command -v npm >/dev/null || mqs_die "npm is not installed"
    (cd "$APP" && npm ci --no-audit --no-fund --loglevel=error) ||
        mqs_die "npm ci failed in $APP (is the npm registry reachable?)"
}

broker_version() {
    node -p 'require(process.argv[1]).version' "$APP/node_modules/aedes-cli/package.json" 2>/dev/null
}

# write_credentials FILE: the one account, hashed by aedes-cli's own Authorizer.
write_credentials() {
    (umask 077 && : >"$1")
    MQS_USER=$MQS_USER MQS_PASS=$MQS_PASS node -e '
        const Authorizer = require(process.argv[1]);
        const a = new Authorizer({});
        a.addUser(process.env.MQS_USER, process.env.MQS_PASS).then(() => {
            require("fs").writeFileSync(process.argv[2], JSON.stringify(a.users));
        }).catch((e) => { console.error(e.message); process.exit(1); });
    ' "$APP/node_modules/aedes-cli/lib/authorizer.js" "$1"
}

broker_start() {
    mqs_take_ports MQS_PORT MQS_TLS_PORT MQS_WS_PORT MQS_WSS_PORT
    MQS_WS_PATH=/mqtt WS_PATH=/mqtt
    MQS_AUTH_PORT=$MQS_PORT MQS_AUTH_ANONYMOUS=0 MQS_NO_ANONYMOUS=1
    # Every login costs a PBKDF2 hash (10000 rounds, 256 bytes) on node's one thread: a
    # suite run takes 2 minutes here, so make matrix certifies it over TCP only (the
    # WebSocket and TLS layers are those of aedes, which the matrix runs everywhere).
    MQS_MATRIX_TRANSPORTS=tcp
    mqs_certs_and_account
    write_credentials "$DIR/credentials.json" || mqs_die "could not write $DIR/credentials.json"
    node "$BIN" start --host 127.0.0.1 --protos tcp tls ws wss --port "$MQS_PORT" \
        --tls-port "$MQS_TLS_PORT" --ws-port "$MQS_WS_PORT" --wss-port "$MQS_WSS_PORT" \
        --key "$CERTS/server.key" --cert "$CERTS/server.crt" \
        --credentials "$DIR/credentials.json" </dev/null >"$LOG" 2>&1 &
    PID=$!
    echo "$PID" >"$DIR/aedes-cli.pid"
    mqs_wait_ready "$PID" 20 "tcp:$MQS_PORT" "tls:$MQS_TLS_PORT" "ws:$MQS_WS_PORT" \
        "wss:$MQS_WSS_PORT"
}

broker_stop() {
    mqs_stop_pidfile "$DIR/aedes-cli.pid" 5 node "$DIR/credentials.json"
}

mqs_broker_main "$@"
