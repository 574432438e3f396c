#!/usr/bin/env python3
"""mutant_proxy.py MODE PORTFILE UPSTREAM_PORT — a TCP proxy in front of a real broker
that makes it break one MQTT rule (MODE), so that tests can check the scenarios notice.

It listens on a free loopback port, writes that port to PORTFILE, and for every client
connection opens one to 127.0.0.1:UPSTREAM_PORT. Both byte streams are cut into MQTT
packets and passed on, changed as MODE says:

  pass            nothing changed (the control)
  retain-never    deliveries always RETAIN=0           (breaks MQTT-3.3.1-8)
  retain-always   deliveries always RETAIN=1           (breaks MQTT-3.3.1-9)
  retain-c2s      every client PUBLISH is retained     (breaks MQTT-3.3.1-12)
  no-clear        an empty retained PUBLISH is passed on with RETAIN=0, so nothing is
                  cleared                              (breaks MQTT-3.3.1-10)
  dup-never       re-deliveries have DUP=0             (breaks MQTT-3.3.1-1)
  dup-always      QoS>0 deliveries always DUP=1        (breaks MQTT-3.3.1-3, 4.3.2-1)
  drop-dup        re-deliveries are dropped            (breaks MQTT-4.4.0-1)
  ack-id          PUBACK/PUBREC/PUBCOMP ids are off by one bit (breaks MQTT-2.3.1-6)
  qos1-as-2       QoS 1 deliveries go out as QoS 2     (breaks MQTT-3.8.4-6)
  ids-same        every QoS 1 delivery has packet id 1; a PUBACK acknowledges the oldest
                  one in flight                        (breaks MQTT-2.3.1-4)
  qos2-redeliver  a QoS 2 PUBLISH re-sent with DUP=1 becomes a new message (delivered
                  twice)                               (breaks MQTT-4.3.3-2)
  swap-publish    two consecutive deliveries swap places (breaks MQTT-4.6.0-6)
  swap-puback     two consecutive PUBACKs swap places  (breaks MQTT-4.6.0-2)
and behaviours the specification allows, which must not fail anything:
  windowN         at most N QoS>0 deliveries in flight per connection (section 4.6)
  suback-late     a SUBACK is sent after the packet that follows it, e.g. after the
                  retained messages (section 3.8.4)

Test tool only: no TLS, loopback only, one thread per connection; stop it with SIGTERM.
"""
import select
import socket
import sys
import threading
import time

PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK = 3, 4, 5, 6, 7, 9
HOLD_SECONDS = 0.1  # a held packet goes out alone after this long


def split_packets(buf):
    """Cuts complete MQTT packets off buf: (list of bytearrays, rest of buf)."""
    out = []
    while len(buf) >= 2:
        mult, length, i = 1, 0, 1
        while True:
            if i >= len(buf):
                return out, buf
            b = buf[i]
            length += (b & 127) * mult
            mult *= 128
            i += 1
            if not b & 128:
                break
        if len(buf) < i + length:
            return out, buf
        out.append(bytearray(buf[:i + length]))
        buf = buf[i + length:]
    return out, buf


def body_start(p):
    """Offset of the variable header (after the fixed header)."""
    i = 1
    while p[i] & 128:
        i += 1
    return i + 1


def publish_layout(p):
    """(qos, offset of the packet id or None, payload length) of a PUBLISH."""
    h = body_start(p)
    topic_len = p[h] << 8 | p[h + 1]
    qos = (p[0] >> 1) & 3
    id_at = h + 2 + topic_len if qos else None
    payload_at = id_at + 2 if qos else h + 2 + topic_len
    return qos, id_at, len(p) - payload_at


def get_id(p, at):
    return p[at] << 8 | p[at + 1]


def set_id(p, at, value):
    p[at] = value >> 8
    p[at + 1] = value & 255


class Relay:
    """One client connection and its upstream twin."""

    def __init__(self, mode, client, upstream_port):
        self.mode = mode
        self.client = client
        self.upstream = socket.create_connection(("127.0.0.1", upstream_port))
        self.held = None          # a packet kept back (swap-*, suback-late)
        self.held_since = 0.0
        self.real_ids = []        # ids-same: the broker's ids, oldest first
        self.made_up = set()      # qos2-redeliver: ids the proxy invented
        self.window = int(mode[6:]) if mode.startswith("window") else 0
        self.in_flight = 0
        self.waiting = []         # windowN: deliveries held back

    def hold_or_swap(self, p):
        if self.held is None:
            self.held, self.held_since = p, time.time()
            return []
        first, self.held = self.held, None
        return [p, first]

    def to_client(self, p):
        """Packets the client gets for packet p from the broker."""
        kind, mode = p[0] >> 4, self.mode
        if mode == "suback-late":
            if kind == SUBACK and self.held is None:
                return self.hold_or_swap(p)
            if self.held is not None:
                return self.hold_or_swap(p)
        if kind == PUBLISH:
            qos, id_at, _ = publish_layout(p)
            if mode == "retain-never":
                p[0] &= ~1
            elif mode == "retain-always":
                p[0] |= 1
            elif mode == "dup-never":
                p[0] &= ~8
            elif mode == "dup-always" and qos:
                p[0] |= 8
            elif mode == "drop-dup" and p[0] & 8:
                return []
            elif mode == "qos1-as-2" and qos == 1:
                p[0] = (p[0] & ~6) | 4
            elif mode == "ids-same" and qos == 1:
                real = get_id(p, id_at)
                if real not in self.real_ids:
                    self.real_ids.append(real)
                set_id(p, id_at, 1)
            elif mode == "swap-publish":
                return self.hold_or_swap(p)
            elif self.window and qos:
                if self.in_flight >= self.window:
                    self.waiting.append(p)
                    return []
                self.in_flight += 1
        elif kind in (PUBACK, PUBREC, PUBCOMP):
            at = body_start(p)
            if mode == "ack-id":
                set_id(p, at, get_id(p, at) ^ 1)
            elif mode == "swap-puback" and kind == PUBACK:
                return self.hold_or_swap(p)
            elif mode == "qos2-redeliver" and get_id(p, at) in self.made_up:
                if kind == PUBCOMP:
                    return []  # the client already gets one for its own id
                set_id(p, at, get_id(p, at) ^ 0x4000)
        return [p]

    def to_broker(self, p):
        """Packets the broker gets for packet p from the client."""
        kind, mode = p[0] >> 4, self.mode
        if kind == PUBLISH:
            qos, id_at, payload_len = publish_layout(p)
            if mode == "no-clear" and payload_len == 0 and p[0] & 1:
                p[0] &= ~1
            elif mode == "retain-c2s":
                p[0] |= 1
            elif mode == "qos2-redeliver" and qos == 2 and p[0] & 8:
                set_id(p, id_at, get_id(p, id_at) ^ 0x4000)
                self.made_up.add(get_id(p, id_at))
        elif kind == PUBREC and mode == "qos1-as-2":
            p[0] = PUBACK << 4  # the client answers the fake QoS 2 as QoS 2
        elif kind == PUBACK and mode == "ids-same" and self.real_ids:
            set_id(p, body_start(p), self.real_ids.pop(0))
        elif kind == PUBREL and mode == "qos2-redeliver":
            twin = get_id(p, body_start(p)) ^ 0x4000
            if twin in self.made_up:
                copy = bytearray(p)
                set_id(copy, body_start(copy), twin)
                return [p, copy]
        if self.window and kind in (PUBACK, PUBCOMP):
            self.in_flight -= 1
            while self.waiting and self.in_flight < self.window:
                self.in_flight += 1
                self.client.sendall(bytes(self.waiting.pop(0)))
        return [p]

    def run(self):
        pending = {self.client: b"", self.upstream: b""}
        try:
            while True:
                ready, _, _ = select.select([self.client, self.upstream], [], [], 0.05)
                if self.held is not None and time.time() - self.held_since > HOLD_SECONDS:
                    self.client.sendall(bytes(self.held))
                    self.held = None
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    packets, pending[s] = split_packets(pending[s] + data)
                    from_client = s is self.client
                    peer = self.upstream if from_client else self.client
                    for p in packets:
                        for q in (self.to_broker(p) if from_client else self.to_client(p)):
                            peer.sendall(bytes(q))
        except OSError:
            pass
        finally:
            for s in (self.client, self.upstream):
                s.close()


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: mutant_proxy.py MODE PORTFILE UPSTREAM_PORT")
    mode, portfile, upstream = sys.argv[1], sys.argv[2], int(sys.argv[3])
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    with open(portfile, "w") as f:
        f.write(str(listener.getsockname()[1]))
    while True:
        client, _ = listener.accept()
        try:
            relay = Relay(mode, client, upstream)
        except OSError:
            client.close()
            continue
        threading.Thread(target=relay.run, daemon=True).start()


if __name__ == "__main__":
    main()
