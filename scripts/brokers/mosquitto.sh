#!/usr/bin/env bash
# mosquitto.sh — mosquitto 2.0 (Debian) in the broker kit: a thin wrapper around the
# project's scripts/mosquitto.sh (which `make check` uses), started with every profile.
#   scripts/brokers/mosquitto.sh install | version | start DIR | stop DIR
# Listeners: MQTT over TCP (anonymous), TLS, mutual TLS, WebSocket and WebSocket over TLS
# (any URL path; the env says /mqtt), plus the extra TLS listeners of scripts/mosquitto.sh
# (MQS_TLS_UNTRUSTED_PORT, MQS_TLS_WRONGHOST_PORT, MQS_TLS_EXPIRED_PORT), kept in DIR/env.
# Credentials: a separate listener MQS_AUTH_PORT with a password file and anonymous
# access refused (MQS_AUTH_ANONYMOUS=0); a bad login gets CONNACK 5.
# shellcheck source=scripts/brokers/lib.sh disable=SC2034 # MQS_* are read by name (mqs_write_env)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
NAME=mosquitto
MOSQ_SH=$ROOT/scripts/mosquitto.sh
START_ATTEMPTS=${START_ATTEMPTS:-1} # scripts/mosquitto.sh retries by itself

broker_install() {
    mqs_apt_ensure mosquitto mosquitto-clients
    [[ -f $MOSQ_SH ]] || mqs_die "$MOSQ_SH is missing"
}

broker_version() { mqs_deb_version mosquitto; }

broker_start() {
    [[ -f $MOSQ_SH ]] || mqs_die "$MOSQ_SH is missing"
    bash "$MOSQ_SH" start "$DIR" all || return 1
    mv "$DIR/env" "$DIR/mosquitto.env"
    ENV_EXTRA=$DIR/mosquitto.env
    # shellcheck disable=SC1090,SC1091 # written by scripts/mosquitto.sh just now
    source "$ENV_EXTRA"
    PID=$MQS_PID LOG=$MQS_LOG CERTS=$MQS_CERTS
    MQS_CAFILE=$CERTS/ca.crt MQS_WS_PATH=/mqtt MQS_AUTH_ANONYMOUS=0
    # Over WebSocket mosquitto 2.0.11 sends about 40 KB/s when idle (one 4 KiB frame per
    # turn of its main loop): whether these multi-MiB messages arrive in time depends on
    # the load of the moment (reports/mosquitto-2.0.11/DEVIATIONS.md, "transport").
    MQS_WS_EXCLUDE=payload.large-16mib,payload.rl-boundary-3-4
}

broker_stop() {
    [[ -f $MOSQ_SH ]] || mqs_die "$MOSQ_SH is missing"
    bash "$MOSQ_SH" stop "$DIR"
}

mqs_broker_main "$@"
