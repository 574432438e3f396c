#!/usr/bin/env bash
# rabbitmq.sh — RabbitMQ 3.10 (Debian rabbitmq-server) with rabbitmq_mqtt and
# rabbitmq_web_mqtt, for tests.
#   scripts/brokers/rabbitmq.sh install | version | start DIR | stop DIR
# Listeners: MQTT over TCP and TLS, WebSocket and WebSocket over TLS at /ws (the plugin
# serves only that path). No mutual-TLS listener: ssl_options are shared by every TLS
# listener of the node. The AMQP listener is switched off.
#
# The node runs from /usr/lib/rabbitmq/bin/rabbitmq-server (the /usr/sbin wrappers su to
# user rabbitmq, drop the environment and cd to /var/lib/rabbitmq) with everything under
# DIR: HOME (the Erlang cookie), config, enabled_plugins, mnesia and log directories. It
# registers with an epmd of its own on a free loopback port (without one, erl would
# start a system epmd on 0.0.0.0:4369 that outlives the broker); the distribution port
# is free and loopback-only too.
#
# Credentials: the config makes MQS_USER the node's default user (created at boot with
# all permissions on vhost /; no rabbitmqctl round trips, no password in any argv) and
# maps anonymous MQTT clients to it; a bad login gets CONNACK 4.
#
# A fresh node boots in 15-20 s: about 6 s of it is rabbitmq_mqtt waiting for cluster
# peers before its Raft election (fixed in the plugin, not configurable).
# shellcheck source=scripts/brokers/lib.sh disable=SC2034 # MQS_* are read by name (mqs_write_env)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
NAME=rabbitmq
RMQ_BIN=/usr/lib/rabbitmq/bin

broker_install() {
    mqs_apt_ensure rabbitmq-server
    [[ -x $RMQ_BIN/rabbitmq-server ]] || mqs_die "$RMQ_BIN/rabbitmq-server is missing"
}

broker_version() { mqs_deb_version rabbitmq-server; }

write_config() {
    local c=$DIR/conf
    {
        echo "# written by scripts/brokers/rabbitmq.sh; throw-away test node, loopback only"
        echo "listeners.tcp = none"
        echo "default_user = $MQS_USER"
        echo "default_pass = $MQS_PASS"
        echo "mqtt.listeners.tcp.default = $HOST:$MQS_PORT"
        echo "mqtt.listeners.ssl.default = $HOST:$MQS_TLS_PORT"
        echo "mqtt.allow_anonymous = true"
        echo "mqtt.default_user = $MQS_USER"
        echo "mqtt.default_pass = $MQS_PASS"
        echo "ssl_options.cacertfile = $CERTS/ca.crt"
        echo "ssl_options.certfile = $CERTS/server.crt"
        echo "ssl_options.keyfile = $CERTS/server.key"
        echo "ssl_options.verify = verify_none"
        echo "ssl_options.fail_if_no_peer_cert = false"
        echo "web_mqtt.tcp.ip = $HOST"
        echo "web_mqtt.tcp.port = $MQS_WS_PORT"
        echo "web_mqtt.ssl.ip = $HOST"
        echo "web_mqtt.ssl.port = $MQS_WSS_PORT"
        echo "web_mqtt.ssl.cacertfile = $CERTS/ca.crt"
        echo "web_mqtt.ssl.certfile = $CERTS/server.crt"
        echo "web_mqtt.ssl.keyfile = $CERTS/server.key"
        echo "log.console = true"
        echo "log.console.level = info"
        echo "log.console.use_colors = off"
        echo "log.file = false"
    } >"$c/rabbitmq.conf"
    chmod 600 "$c/rabbitmq.conf"
    echo '[rabbitmq_mqtt,rabbitmq_web_mqtt].' >"$c/enabled_plugins"
    echo '[].' >"$c/advanced.config"
    : >"$c/rabbitmq-env.conf"
}

broker_start() {
    local epmd_port dist_port
    mqs_take_ports MQS_PORT MQS_TLS_PORT MQS_WS_PORT MQS_WSS_PORT epmd_port dist_port
    MQS_WS_PATH=/ws WS_PATH=/ws
    MQS_AUTH_PORT=$MQS_PORT MQS_AUTH_ANONYMOUS=1
    mqs_certs_and_account
    rm -rf "${DIR:?}/data" "${DIR:?}/home"
    mkdir -p "$DIR/data/mnesia" "$DIR/data/log" "$DIR/home"
    (umask 077 && mqs_random_secret >"$DIR/home/.erlang.cookie")
    chmod 400 "$DIR/home/.erlang.cookie"
    write_config

    epmd -address "$HOST" -port "$epmd_port" </dev/null >"$DIR/epmd.log" 2>&1 &
    echo $! >"$DIR/epmd.pid"
    echo "$epmd_port" >"$DIR/conf/epmd.port"
    (
        export HOME=$DIR/home
        export RABBITMQ_CONFIG_FILE=$DIR/conf/rabbitmq.conf
        export RABBITMQ_ADVANCED_CONFIG_FILE=$DIR/conf/advanced.config
        export RABBITMQ_ENABLED_PLUGINS_FILE=$DIR/conf/enabled_plugins
        export RABBITMQ_CONF_ENV_FILE=$DIR/conf/rabbitmq-env.conf
        export RABBITMQ_MNESIA_BASE=$DIR/data/mnesia
        export RABBITMQ_LOG_BASE=$DIR/data/log
        export RABBITMQ_NODENAME=mqs$epmd_port@localhost
        export RABBITMQ_NODE_IP_ADDRESS=$HOST
        export RABBITMQ_DIST_PORT=$dist_port
        export ERL_EPMD_ADDRESS=$HOST ERL_EPMD_PORT=$epmd_port
        export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
        exec "$RMQ_BIN/rabbitmq-server"
    ) </dev/null >"$LOG" 2>&1 &
    PID=$!
    echo "$PID" >"$DIR/rabbitmq.pid"
    mqs_wait_ready "$PID" 60 "tcp:$MQS_PORT" "tls:$MQS_TLS_PORT" "ws:$MQS_WS_PORT" \
        "wss:$MQS_WSS_PORT" || return 1
    # $! is the rabbitmq-server sh wrapper, which forwards SIGTERM to beam.smp, its
    # child. Record beam's PID too, so stop can reach it if the wrapper is gone.
    local child
    child=$(cat "/proc/$PID/task/$PID/children" 2>/dev/null) || true
    for child in $child; do
        mqs_cmdline_has "$child" beam "$DIR/data/mnesia" && echo "$child" >"$DIR/beam.pid"
    done
    return 0
}

broker_stop() {
    local rc=0
    mqs_stop_pidfile "$DIR/rabbitmq.pid" 30 rabbitmq-server "RABBITMQ_MNESIA_BASE=$DIR/data/mnesia" || rc=1
    mqs_stop_pidfile "$DIR/beam.pid" 10 beam "$DIR/data/mnesia" || rc=1
    mqs_stop_pidfile "$DIR/epmd.pid" 5 epmd "-port $(cat "$DIR/conf/epmd.port" 2>/dev/null)" || rc=1
    return $rc
}

mqs_broker_main "$@"
