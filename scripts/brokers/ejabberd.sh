#!/usr/bin/env bash
# ejabberd.sh — ejabberd 23.01 (Debian) as an MQTT broker through mod_mqtt, for tests.
#   scripts/brokers/ejabberd.sh install | version | start DIR | stop DIR
# Listeners: MQTT over TCP and TLS, WebSocket and WebSocket over TLS at /mqtt
# (ejabberd_http request handler). No mutual-TLS listener: mod_mqtt's `tls_verify`
# does not make a client certificate mandatory; it lets a valid certificate whose JID
# matches the user name stand in for the password (a client without one still gets in
# with a password).
#
# erl is started directly (not ejabberdctl, which su's to user ejabberd and runs a
# named node with epmd): the node is not distributed at all (no -sname, -start_epmd
# false), so it opens no epmd or distribution port. Mnesia spool, logs and config live
# under DIR.
#
# Credentials: MQTT logins are XMPP accounts of the virtual host "localhost"; the one
# account MQS_USER is registered at boot by an -eval that reads its password from a
# file (never from argv). Anonymous access is off (MQS_NO_ANONYMOUS=1): ejabberd's
# `anonymous` auth method would let any unknown user in, useless for auth tests. A bad
# or missing login gets CONNACK 5. MQTT 3.1 ("MQIsdp") is refused with CONNACK 1
# (MQS_NO_V31=1).
# shellcheck source=scripts/brokers/lib.sh disable=SC2034 # MQS_* are read by name (mqs_write_env)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
NAME=ejabberd
EJ_VHOST=localhost

broker_install() {
    mqs_apt_ensure ejabberd
    command -v erl >/dev/null || mqs_die "erl is missing (Debian package erlang-base)"
}

broker_version() { mqs_deb_version ejabberd; }

# mqtt_listener PORT [OPTION-LINE...]: one mod_mqtt listener of ejabberd.yml.
mqtt_listener() {
    printf '  - port: %s\n    ip: "%s"\n    module: mod_mqtt\n' "$1" "$HOST"
    shift
    local l
    for l in "$@"; do printf '    %s\n' "$l"; done
}

# ws_listener PORT [OPTION-LINE...]: an ejabberd_http listener serving MQTT at /mqtt.
ws_listener() {
    printf '  - port: %s\n    ip: "%s"\n    module: ejabberd_http\n' "$1" "$HOST"
    shift
    local l
    for l in "$@"; do printf '    %s\n' "$l"; done
    printf '    request_handlers:\n      /mqtt: mod_mqtt\n'
}

write_config() {
    {
        echo "# written by scripts/brokers/ejabberd.sh; throw-away test broker, loopback only"
        echo "hosts:"
        echo "  - $EJ_VHOST"
        echo "loglevel: info"
        echo "certfiles:"
        echo "  - \"$CERTS/server.crt\""
        echo "  - \"$CERTS/server.key\""
        echo "ca_file: \"$CERTS/ca.crt\""
        echo "auth_method: [internal]"
        echo "auth_password_format: scram"
        echo "listen:"
        mqtt_listener "$MQS_PORT"
        mqtt_listener "$MQS_TLS_PORT" "tls: true"
        ws_listener "$MQS_WS_PORT"
        ws_listener "$MQS_WSS_PORT" "tls: true"
        echo "modules:"
        echo "  mod_mqtt:"
        echo "    access_publish:"
        echo "      \"#\":"
        echo "        - allow: all"
        echo "    access_subscribe:"
        echo "      \"#\":"
        echo "        - allow: all"
    } >"$DIR/conf/ejabberd.yml"
}

broker_start() {
    mqs_take_ports MQS_PORT MQS_TLS_PORT MQS_WS_PORT MQS_WSS_PORT
    MQS_WS_PATH=/mqtt WS_PATH=/mqtt
    MQS_AUTH_PORT=$MQS_PORT MQS_AUTH_ANONYMOUS=0 MQS_NO_ANONYMOUS=1 MQS_NO_V31=1
    mqs_certs_and_account
    rm -rf "${DIR:?}/data"
    mkdir -p "$DIR/data/spool" "$DIR/data/log"
    (umask 077 && printf '%s' "$MQS_PASS" >"$DIR/conf/pass")
    write_config
    local register
    register="{ok, P} = file:read_file(\"$DIR/conf/pass\"),"
    register+=" R = ejabberd_auth:try_register(<<\"$MQS_USER\">>, <<\"$EJ_VHOST\">>, P),"
    register+=" io:format(standard_error, \"mqs: register $MQS_USER: ~p~n\", [R]),"
    register+=" case R of ok -> ok; _ -> erlang:halt(1) end."
    (
        cd "$DIR/data"
        export HOME=$DIR/data
        export EJABBERD_CONFIG_PATH=$DIR/conf/ejabberd.yml
        export EJABBERD_LOG_PATH=$DIR/data/log/ejabberd.log
        export ERL_LIBS=/usr/lib/x86_64-linux-gnu
        exec erl -noinput -start_epmd false +K true -mnesia dir "\"$DIR/data/spool\"" \
            -s ejabberd -eval "$register"
    ) </dev/null >"$LOG" 2>&1 &
    PID=$!
    echo "$PID" >"$DIR/ejabberd.pid"
    mqs_wait_ready "$PID" 60 "tcp:$MQS_PORT" "tls:$MQS_TLS_PORT" "ws:$MQS_WS_PORT" \
        "wss:$MQS_WSS_PORT"
}

broker_stop() {
    mqs_stop_pidfile "$DIR/ejabberd.pid" 15 beam "$DIR/data/spool"
}

mqs_broker_main "$@"
