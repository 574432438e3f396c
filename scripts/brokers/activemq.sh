#!/usr/bin/env bash
# activemq.sh — Apache ActiveMQ 5.17 (Debian activemq) with its MQTT transport, for tests.
#   scripts/brokers/activemq.sh install | version | start DIR | stop DIR
# Listeners: MQTT over TCP, TLS and mutual TLS (PKCS#12 key and trust stores made from
# the kit's PEM certificates). No WebSocket: the ws:// transport needs activemq-http and
# Jetty, which Debian does not package.
#
# Debian's MQTT transport needs the fusesource mqtt-client jar (libmqtt-client-java),
# which the package does not put on the class path: without it the broker accepts TCP
# connections but never sends a CONNACK (NoClassDefFoundError ...codec/PINGRESP). It is
# passed with -Dactivemq.classpath. The JVM runs activemq.jar directly (no
# /usr/bin/activemq, which su's to user activemq and keeps PID files of its own), with
# activemq.base/conf/data under DIR and a non-persistent broker without JMX.
#
# Credentials: simpleAuthenticationPlugin with the one account MQS_USER/MQS_PASS and
# anonymous access allowed; a bad login gets CONNACK 5.
# shellcheck source=scripts/brokers/lib.sh disable=SC2034 # MQS_* are read by name (mqs_write_env)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
NAME=activemq
AMQ_HOME=/usr/share/activemq
MQTT_CLIENT_JAR=/usr/share/java/mqtt-client.jar
STORE_PASS=changeit # protects throw-away test keys only

broker_install() {
    mqs_apt_ensure activemq libmqtt-client-java
    command -v java >/dev/null || mqs_die "no java runtime (install default-jre-headless)"
    command -v keytool >/dev/null || mqs_die "no keytool (install default-jre-headless)"
    [[ -f $MQTT_CLIENT_JAR ]] || mqs_die "$MQTT_CLIENT_JAR is missing"
}

broker_version() {
    [[ -f $MQTT_CLIENT_JAR ]] || return 1
    mqs_deb_version activemq
}

# write_stores: server.p12 (key + certificate chain) and ca-trust.p12 (the test CA as a
# trusted entry) in $CERTS.
write_stores() {
    openssl pkcs12 -export -in "$CERTS/server.crt" -inkey "$CERTS/server.key" \
        -certfile "$CERTS/ca.crt" -name server -passout "pass:$STORE_PASS" \
        -out "$CERTS/server.p12" || return 1
    rm -f "$CERTS/ca-trust.p12"
    keytool -importcert -noprompt -storetype PKCS12 -keystore "$CERTS/ca-trust.p12" \
        -storepass "$STORE_PASS" -alias mqs-ca -file "$CERTS/ca.crt" >/dev/null 2>&1 || return 1
    chmod 644 "$CERTS"/*.p12
}

write_config() {
    local c=$DIR/conf
    cat >"$c/activemq.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- written by scripts/brokers/activemq.sh; throw-away test broker, loopback only -->
<beans xmlns="http://www.springframework.org/schema/beans"
       xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
       xsi:schemaLocation="http://www.springframework.org/schema/beans http://www.springframework.org/schema/beans/spring-beans.xsd
         http://activemq.apache.org/schema/core http://activemq.apache.org/schema/core/activemq-core.xsd">
  <broker xmlns="http://activemq.apache.org/schema/core" brokerName="mqs-test"
          persistent="false" useJmx="false" dataDirectory="$DIR/data">
    <plugins>
      <simpleAuthenticationPlugin anonymousAccessAllowed="true">
        <users>
          <authenticationUser username="$MQS_USER" password="$MQS_PASS" groups="users"/>
        </users>
      </simpleAuthenticationPlugin>
    </plugins>
    <sslContext>
      <sslContext keyStore="file:$CERTS/server.p12" keyStorePassword="$STORE_PASS" keyStoreType="pkcs12"
                  trustStore="file:$CERTS/ca-trust.p12" trustStorePassword="$STORE_PASS" trustStoreType="pkcs12"/>
    </sslContext>
    <systemUsage>
      <systemUsage>
        <memoryUsage><memoryUsage percentOfJvmHeap="70"/></memoryUsage>
      </systemUsage>
    </systemUsage>
    <transportConnectors>
      <transportConnector name="mqtt" uri="mqtt://$HOST:$MQS_PORT"/>
      <transportConnector name="mqtt-tls" uri="mqtt+ssl://$HOST:$MQS_TLS_PORT"/>
      <transportConnector name="mqtt-mtls" uri="mqtt+ssl://$HOST:$MQS_MTLS_PORT?transport.needClientAuth=true"/>
    </transportConnectors>
  </broker>
</beans>
EOF
    chmod 600 "$c/activemq.xml"
    # Debian's build logs through log4j 1.2 (its log4j2.properties is never read).
    cat >"$c/log4j.properties" <<'EOF'
log4j.rootLogger=INFO, stderr
log4j.logger.org.springframework=WARN
log4j.logger.org.apache.xbean=WARN
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=%d{ISO8601} %5p [%t] %c{1} - %m%n
EOF
}

broker_start() {
    mqs_take_ports MQS_PORT MQS_TLS_PORT MQS_MTLS_PORT
    MQS_AUTH_PORT=$MQS_PORT MQS_AUTH_ANONYMOUS=1
    mqs_certs_and_account
    if [[ ! -f $CERTS/ca-trust.p12 ]]; then
        write_stores || {
            mqs_say "cannot make the PKCS#12 stores"
            return 1
        }
    fi
    rm -rf "${DIR:?}/data"
    mkdir -p "$DIR/data"
    write_config
    # Serial GC and C1 only: a small, short-lived broker on 2 shared cores starts faster.
    java -Xms64m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
        -Dactivemq.home="$AMQ_HOME" -Dactivemq.base="$DIR" -Dactivemq.conf="$DIR/conf" \
        -Dactivemq.data="$DIR/data" -Dactivemq.classpath="$MQTT_CLIENT_JAR" \
        -Dlog4j.configuration="file:$DIR/conf/log4j.properties" \
        -jar "$AMQ_HOME/bin/activemq.jar" start "xbean:file:$DIR/conf/activemq.xml" \
        </dev/null >"$LOG" 2>&1 &
    PID=$!
    echo "$PID" >"$DIR/activemq.pid"
    mqs_wait_ready "$PID" 60 "tcp:$MQS_PORT" "tls:$MQS_TLS_PORT" "mtls:$MQS_MTLS_PORT"
}

broker_stop() {
    mqs_stop_pidfile "$DIR/activemq.pid" 15 java activemq.jar "$DIR/conf/activemq.xml"
}

mqs_broker_main "$@"
