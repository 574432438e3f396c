#!/usr/bin/env python3
"""mutant_proxy.py MODE PORTFILE UPSTREAM_PORT [UPSTREAM_PORT...]
   mutant_proxy.py --list

A TCP proxy in front of a real broker that makes it break ONE rule of MQTT 3.1/3.1.1
(a "breaking" mode), or behave in a way the specification allows but the broker behind
it does not (an "allowed" mode). tests/integration/mutants.sh runs the whole suite
through it, once per mode, and checks that some scenario FAILs for each breaking mode
and that no scenario FAILs, WARNs or ERRORs for an allowed one.

For each UPSTREAM_PORT the proxy listens on a free loopback port; it writes those ports,
one a line and in the same order, to PORTFILE. Every client connection gets its own
connection to 127.0.0.1:UPSTREAM_PORT. Both byte streams are cut into MQTT packets, and
the mode may change, drop, delay or add packets, or hold a connection open that the
broker closed. The proxy emulates "the broker accepts X" by rewriting an invalid packet
into a valid one before the broker sees it. `--list` prints every mode: name, kind
(breaks/allows), the statement a breaking mode violates, and what it does.

The credentials of a password-protected upstream (for the auth modes) come from the
environment: MQS_USER, MQS_PASS and MQS_AUTH_PORT.

Test tool only: no TLS, loopback only, one thread per connection; stop it with SIGTERM.
"""
import os
import select
import socket
import struct
import sys
import threading
import time
import unicodedata

CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK = 8, 9, 10, 11
PINGREQ, PINGRESP, DISCONNECT = 12, 13, 14
HOLD_SECONDS = 0.1        # a held packet goes out alone after this long
RESUME_WINDOW = 0.3       # packets this soon after a resumed session's CONNACK are "queued"
PROXY_IDS = 0xFF00        # packet ids at or above this are the proxy's own


# ---------------------------------------------------------------- wire helpers

class Short(Exception):
    """A field runs past the end of the packet."""


class Reader:
    def __init__(self, data, at):
        self.data, self.at = data, at

    def take(self, n):
        if self.at + n > len(self.data):
            raise Short()
        out = bytes(self.data[self.at:self.at + n])
        self.at += n
        return out

    def u8(self):
        return self.take(1)[0]

    def u16(self):
        hi, lo = self.take(2)
        return hi << 8 | lo

    def string(self):
        return self.take(self.u16())

    def rest(self):
        out = bytes(self.data[self.at:])
        self.at = len(self.data)
        return out


def body_start(p):
    """Offset of the variable header (after the fixed header)."""
    i = 1
    while p[i] & 128:
        i += 1
    return i + 1


def varint(n):
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        out.append(b | (128 if n else 0))
        if not n:
            return bytes(out)


def packet(first, body):
    return bytearray(bytes([first]) + varint(len(body)) + bytes(body))


def mqtt_str(b):
    return struct.pack(">H", len(b)) + bytes(b)


def ack(kind, pid):
    """PUBACK/PUBREC/PUBREL/PUBCOMP/UNSUBACK with packet id pid."""
    return packet(kind << 4 | (2 if kind == PUBREL else 0), struct.pack(">H", pid))


def get_id(p, at):
    return p[at] << 8 | p[at + 1]


def set_id(p, at, value):
    p[at] = value >> 8
    p[at + 1] = value & 255


def ack_id(p):
    return get_id(p, body_start(p))


class Framer:
    """Cuts a byte stream into packets. A Remaining Length of more than 4 bytes cannot
    be framed: from then on the stream is passed on raw (the broker will judge it)."""

    def __init__(self):
        self.buf = bytearray()
        self.raw = False

    def feed(self, data):
        """(complete packets, raw bytes to pass on as they are)."""
        self.buf += data
        if self.raw:
            out, self.buf = bytes(self.buf), bytearray()
            return [], out
        packets = []
        while len(self.buf) >= 2:
            mult, length, i = 1, 0, 1
            while True:
                if i >= len(self.buf):
                    return packets, b""
                if i > 4:
                    self.raw = True
                    out, self.buf = bytes(self.buf), bytearray()
                    return packets, out
                b = self.buf[i]
                length += (b & 127) * mult
                mult *= 128
                i += 1
                if not b & 128:
                    break
            if len(self.buf) < i + length:
                return packets, b""
            packets.append(bytearray(self.buf[:i + length]))
            del self.buf[:i + length]
        return packets, b""


# ---------------------------------------------------------------- packets

def parse_connect(p):
    """CONNECT fields as a dict; fields a short packet lacks stay None ('short': True)."""
    d = dict(name=None, level=None, flags=0, keepalive=0, cid=None, will_topic=None,
             will_msg=None, user=None, password=None, extra=b"", short=False,
             fixed=p[0] & 15)
    r = Reader(p, body_start(p))
    try:
        d["name"] = r.string()
        d["level"] = r.u8()
        d["flags"] = r.u8()
        d["keepalive"] = r.u16()
        d["cid"] = r.string()
        if d["flags"] & 4:
            d["will_topic"] = r.string()
            d["will_msg"] = r.string()
        if d["flags"] & 0x80:
            d["user"] = r.string()
        if d["flags"] & 0x40:
            d["password"] = r.string()
        d["extra"] = r.rest()
    except Short:
        d["short"] = True
    return d


def clean_connect_flags(d):
    """The connect flags that match the fields present (reserved bit 0 clear)."""
    f = d["flags"] & 0x02
    if d["will_topic"] is not None:
        f |= 4 | (d["flags"] & 0x38)
        if (f >> 3) & 3 == 3:
            f &= ~0x18
    if d["user"] is not None:
        f |= 0x80
    if d["password"] is not None:
        f |= 0x40
    return f


def build_connect(d):
    """CONNECT from the fields of d (as parse_connect makes them): the fixed-header flags
    and any trailing bytes are kept, so that a rewrite keeps what else was wrong."""
    body = mqtt_str(d["name"]) + bytes([d["level"], d["flags"]])
    body += struct.pack(">H", d["keepalive"]) + mqtt_str(d["cid"])
    if d["flags"] & 4:
        body += mqtt_str(d["will_topic"]) + mqtt_str(d["will_msg"] or b"")
    if d["flags"] & 0x80:
        body += mqtt_str(d["user"] or b"")
    if d["flags"] & 0x40:
        body += mqtt_str(d["password"] or b"")
    return packet(CONNECT << 4 | d.get("fixed", 0), body + d.get("extra", b""))


class Pub:
    """A PUBLISH, parsed (None from parse when it cannot be)."""

    def __init__(self, flags, topic, pid, payload):
        self.flags, self.topic, self.pid, self.payload = flags, topic, pid, payload

    @property
    def qos(self):
        return (self.flags >> 1) & 3

    @property
    def retain(self):
        return bool(self.flags & 1)

    @property
    def dup(self):
        return bool(self.flags & 8)

    @staticmethod
    def parse(p):
        r = Reader(p, body_start(p))
        try:
            topic = r.string()
            pid = r.u16() if (p[0] >> 1) & 3 else None
        except Short:
            return None
        return Pub(p[0] & 15, topic, pid, r.rest())

    def build(self):
        body = mqtt_str(self.topic)
        if self.qos:
            body += struct.pack(">H", self.pid or 0)
        return packet(PUBLISH << 4 | self.flags, body + self.payload)


def publish(topic, payload, qos=0, retain=False, pid=None, dup=False):
    return Pub(qos << 1 | int(retain) | (8 if dup else 0), topic, pid, payload).build()


def parse_subscribe(p, strict=True):
    """(packet id, [(filter, requested qos byte)]) or None. strict: None also for a
    SUBSCRIBE the broker must refuse anyway (bad flags, id 0, no filter, bad UTF-8 or QoS),
    so that a mode's rewrite never repairs what it is not about."""
    r = Reader(p, body_start(p))
    try:
        pid, subs = r.u16(), []
        while r.at < len(p):
            subs.append((r.string(), r.u8()))
    except Short:
        return None
    if strict and (p[0] & 15 != 2 or not pid or not subs or
                   not all(utf8_ok(f) and q <= 2 for f, q in subs)):
        return None
    return pid, subs


def build_subscribe(pid, subs):
    body = struct.pack(">H", pid) + b"".join(mqtt_str(f) + bytes([q]) for f, q in subs)
    return packet(SUBSCRIBE << 4 | 2, body)


def parse_unsubscribe(p, strict=True):
    """(packet id, [filter]) or None; strict as for parse_subscribe."""
    r = Reader(p, body_start(p))
    try:
        pid, filters = r.u16(), []
        while r.at < len(p):
            filters.append(r.string())
    except Short:
        return None
    if strict and (p[0] & 15 != 2 or not pid or not filters or
                   not all(utf8_ok(f) for f in filters)):
        return None
    return pid, filters


def build_unsubscribe(pid, filters):
    return packet(UNSUBSCRIBE << 4 | 2, struct.pack(">H", pid) + b"".join(map(mqtt_str, filters)))


def parse_suback(p):
    h = body_start(p)
    return get_id(p, h), list(p[h + 2:])


def build_suback(pid, codes):
    return packet(SUBACK << 4, struct.pack(">H", pid) + bytes(codes))


def connack(rc, sp=False):
    return packet(CONNACK << 4, bytes([1 if sp else 0, rc]))


# ---------------------------------------------------------------- topics

def utf8_ok(b):
    """Well-formed UTF-8 without U+0000 (MQTT-1.5.3-1/-2); surrogates are ill-formed."""
    try:
        return "\0" not in b.decode("utf-8")
    except UnicodeDecodeError:
        return False


def filter_ok(f):
    """A valid 3.1.1 topic filter (section 4.7)."""
    if not f or not utf8_ok(f):
        return False
    levels = f.split(b"/")
    for i, lv in enumerate(levels):
        if b"#" in lv and (lv != b"#" or i != len(levels) - 1):
            return False
        if b"+" in lv and lv != b"+":
            return False
    return True


def matches(filt, topic, plus_multi=False, plus_empty=True, hash_parent=True,
            dollar=True, prefix=False):
    """Topic matching per section 4.7, or with one of the classic bugs switched on."""
    if dollar and topic[:1] == b"$" and filt[:1] in (b"+", b"#"):
        return False
    return _match(filt.split(b"/"), topic.split(b"/"), plus_multi, plus_empty,
                  hash_parent, prefix)


def _match(fl, tl, plus_multi, plus_empty, hash_parent, prefix):
    if not fl:
        return not tl or prefix
    f, rest = fl[0], fl[1:]
    if f == b"#":
        return hash_parent or len(tl) > 0
    if not tl:
        return False
    if f == b"+":
        if not plus_empty and tl[0] == b"":
            return False
        ends = range(1, len(tl) + 1) if plus_multi else (1,)
        return any(_match(rest, tl[k:], plus_multi, plus_empty, hash_parent, prefix)
                   for k in ends)
    return f == tl[0] and _match(rest, tl[1:], plus_multi, plus_empty, hash_parent, prefix)


# ---------------------------------------------------------------- shared state

class Hub:
    """State shared by all connections of one proxy: who is connected under which client
    id, the subscriptions of persistent sessions, the upstream ports, the mode."""

    def __init__(self, mode):
        self.lock = threading.RLock()
        self.mode = mode
        self.relays = set()
        self.session_filters = {}   # client id -> {filter: granted qos}
        self.wills = {}             # client id -> (topic, msg, qos, retain)
        self.counter = 0
        self.auth_port = int(os.environ.get("MQS_AUTH_PORT", "0") or 0)
        self.user = os.environ.get("MQS_USER", "").encode()
        self.password = os.environ.get("MQS_PASS", "").encode()

    def next_number(self):
        with self.lock:
            self.counter += 1
            return self.counter

    def live(self):
        with self.lock:
            return [r for r in self.relays if r.accepted and not r.dead]

    def side_session(self, port, packets, version=4):
        """Connects to the broker as a client of the proxy's own, sends packets (and
        completes their QoS flows), then disconnects. Runs in its own thread."""
        threading.Thread(target=self._side, args=(port, packets, version), daemon=True).start()

    def _side(self, port, packets, version):
        cid = b"mqsproxy%d" % self.next_number()
        d = dict(name=b"MQTT" if version == 4 else b"MQIsdp", level=version, flags=2,
                 keepalive=10, cid=cid, will_topic=None, will_msg=None, user=None,
                 password=None)
        if port == self.auth_port and self.user:
            d.update(user=self.user, password=self.password, flags=0xC2)
        outstanding = sum(1 for p in packets if (p[0] >> 1) & 3)
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=3)
            s.sendall(bytes(build_connect(d)) + b"".join(bytes(p) for p in packets))
            framer, deadline = Framer(), time.time() + 3
            while outstanding and time.time() < deadline:
                data = s.recv(65536)
                if not data:
                    break
                for g in framer.feed(data)[0]:
                    kind = g[0] >> 4
                    if kind == PUBREC:
                        s.sendall(bytes(ack(PUBREL, ack_id(g))))
                    elif kind in (PUBACK, PUBCOMP):
                        outstanding -= 1
            s.sendall(bytes(packet(DISCONNECT << 4, b"")))
            s.close()
        except OSError:
            pass


# ---------------------------------------------------------------- one connection

class Relay:
    """One client connection and its upstream twin, with what the proxy learnt about it."""

    def __init__(self, hub, client, upstream_port):
        self.hub, self.client, self.port = hub, client, upstream_port
        self.upstream = socket.create_connection(("127.0.0.1", upstream_port))
        self.client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.client_lock = threading.Lock()
        self.broker_lock = threading.Lock()
        self.version = 4
        self.cid = None
        self.clean = True
        self.keepalive = 0
        self.connect = None          # the client's CONNECT, parsed
        self.connects = 0            # CONNECTs the client sent
        self.accepted = False        # CONNACK 0 went to the client
        self.resumed = False         # ... with a session (3.1.1 SP=1, 3.1 clean 0 + known)
        self.accepted_at = 0.0
        self.saw_disconnect = False
        self.dead = False
        self.zombie = False          # the broker closed, the client side stays open
        self.filters = {}            # filter -> granted qos
        self.pending_subs = {}       # SUBSCRIBE id -> [filters]
        self.eaten2 = set()          # QoS 2 deliveries the proxy acknowledged upstream
        self.down21 = set()          # QoS 2 deliveries passed on as QoS 1
        self.fake_ids = set()        # ids of packets the proxy made up (client acks dropped)
        self.swallow = set()         # (kind, id) answers to the proxy's own packets
        self.held = None             # a packet kept back, and since when
        self.held_since = 0.0
        self.delayed = []            # (due time, dest, bytes)
        self.state = {}              # the mode's own per-connection state
        self.last_in = time.time()   # last packet from the client

    # -- sending
    def to_client(self, p):
        with self.client_lock:
            try:
                self.client.sendall(bytes(p))
            except OSError:
                pass

    def to_broker(self, p):
        with self.broker_lock:
            try:
                self.upstream.sendall(bytes(p))
            except OSError:
                pass

    def kill(self, abrupt=True):
        """Closes both sides (abruptly upstream: the broker sees a network failure)."""
        self.dead = True
        for s in (self.upstream, self.client):
            try:
                if abrupt:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                s.close()
            except OSError:
                pass

    # -- helpers for modes
    def drop_delivery(self, pub):
        """Does not pass a delivery on, but acknowledges it to the broker."""
        if pub.qos == 1:
            self.to_broker(ack(PUBACK, pub.pid))
        elif pub.qos == 2:
            self.to_broker(ack(PUBREC, pub.pid))
            self.eaten2.add(pub.pid)

    def downgrade(self, pub, qos):
        """The delivery pub, passed on at the lower QoS qos (acks translated)."""
        if qos == pub.qos:
            return pub
        if qos == 0:
            self.drop_delivery(pub)
            return Pub(pub.flags & 1, pub.topic, None, pub.payload)
        self.down21.add(pub.pid)  # 2 -> 1
        return Pub((pub.flags & ~6) | 2, pub.topic, pub.pid, pub.payload)

    def hold_or_swap(self, p):
        """Keeps p back until the next packet, which then goes out first."""
        if self.held is None:
            self.held, self.held_since = p, time.time()
            return []
        first, self.held = self.held, None
        return [p, first]

    def own_id(self):
        return PROXY_IDS + self.hub.next_number() % 0xFF

    # -- what the proxy learns from the traffic
    def learn_client(self, p):
        kind = p[0] >> 4
        self.last_in = time.time()
        if kind == CONNECT:
            self.connects += 1
            if self.connects == 1:
                d = parse_connect(p)
                self.connect = d
                self.version = d["level"] if d["level"] in (3, 4) else 4
                self.cid = d["cid"]
                self.clean = bool(d["flags"] & 2)
                self.keepalive = d["keepalive"]
        elif kind == SUBSCRIBE:
            parsed = parse_subscribe(p)
            if parsed:
                self.pending_subs[parsed[0]] = [f for f, _ in parsed[1]]
        elif kind == UNSUBSCRIBE:
            parsed = parse_unsubscribe(p)
            if parsed:
                for f in parsed[1]:
                    self.filters.pop(f, None)
                self.save_filters()
        elif kind == DISCONNECT:
            self.saw_disconnect = True

    def learn_broker(self, p):
        kind = p[0] >> 4
        if kind == CONNACK and len(p) >= 4:
            if p[3] == 0 and not self.accepted:
                self.accepted, self.accepted_at = True, time.time()
                with self.hub.lock:
                    known = self.hub.session_filters.get(self.cid)
                    if self.clean:
                        self.hub.session_filters.pop(self.cid, None)
                    elif known is not None:
                        self.filters = dict(known)
                self.resumed = bool(p[2] & 1) if self.version == 4 else (
                    not self.clean and known is not None)
        elif kind == SUBACK:
            pid, codes = parse_suback(p)
            for f, c in zip(self.pending_subs.pop(pid, []), codes):
                if c < 0x80:
                    self.filters[f] = c
            self.save_filters()

    def save_filters(self):
        if not self.clean and self.cid:
            with self.hub.lock:
                self.hub.session_filters[self.cid] = dict(self.filters)

    # -- the proxy's own bookkeeping, before the mode sees a packet
    def own_client(self, p):
        """True when the proxy consumed the client's packet p itself."""
        kind = p[0] >> 4
        if kind in (PUBACK, PUBREC, PUBCOMP) and len(p) >= 4:
            pid = ack_id(p)
            if pid in self.fake_ids:
                if kind != PUBREC:
                    self.fake_ids.discard(pid)
                else:
                    self.to_client(ack(PUBREL, pid))
                return True
            if kind == PUBACK and pid in self.down21:
                self.down21.discard(pid)
                self.to_broker(ack(PUBREC, pid))
                self.eaten2.add(pid)
                return True
        return False

    def own_broker(self, p):
        """True when the proxy consumed the broker's packet p itself."""
        kind = p[0] >> 4
        if kind in (PUBREL, SUBACK, UNSUBACK, PUBACK, PUBCOMP, PUBREC) and len(p) >= 4:
            pid = ack_id(p)
            if kind == PUBREL and pid in self.eaten2:
                self.eaten2.discard(pid)
                self.to_broker(ack(PUBCOMP, pid))
                return True
            if (kind, pid) in self.swallow:
                self.swallow.discard((kind, pid))
                return True
        return False

    # -- the loop
    def run(self):
        mode = self.hub.mode
        framers = {self.client: Framer(), self.upstream: Framer()}
        with self.hub.lock:
            self.hub.relays.add(self)
        try:
            while not self.dead:
                socks = [self.client] + ([] if self.zombie else [self.upstream])
                ready, _, _ = select.select(socks, [], [], 0.02)
                self.timers(mode)
                for s in ready:
                    if not self.serve(mode, s, framers[s]):
                        return
        except (OSError, ValueError):
            pass
        finally:
            self.dead = True
            with self.hub.lock:
                self.hub.relays.discard(self)
            for s in (self.client, self.upstream):
                try:
                    s.close()
                except OSError:
                    pass

    def serve(self, mode, s, framer):
        """Reads what s has and passes it on; False when the relay is over."""
        from_client = s is self.client
        try:
            data = s.recv(1 << 20)
        except OSError:  # e.g. reset by the client
            data = b""
        if not data:
            self.drain(mode)
            if from_client:
                mode.client_closed(self)
                return False
            if mode.broker_closed(self):
                self.zombie = True
                return True
            return False
        if self.zombie:
            return True
        packets, raw = framer.feed(data)
        for p in packets:
            self.one(mode, p, from_client)
        if raw:
            if from_client:
                mode.client_raw(self, raw)
            else:
                self.to_client(raw)
        return True

    def drain(self, mode):
        """Sends what is still delayed or held: a close comes after the data before it."""
        while self.delayed:
            time.sleep(max(0.0, self.delayed[0][0] - time.time()))
            self.timers(mode)
        if self.held is not None:
            held, self.held = self.held, None
            self.to_client(held)
        mode.drain(self)

    def one(self, mode, p, from_client):
        if from_client:
            self.learn_client(p)
            if self.own_client(p):
                return
            for q in mode.c2b(self, p):
                self.send_later(q, False, mode)
        else:
            if self.own_broker(p):
                return
            self.learn_broker(p)
            for q in mode.b2c(self, p):
                self.send_later(q, True, mode)

    def send_later(self, q, to_client, mode):
        delay = mode.delay
        if delay:
            self.delayed.append((time.time() + delay, to_client, q))
        elif to_client:
            mode.write_client(self, q)
        else:
            self.to_broker(q)

    def timers(self, mode):
        now = time.time()
        if self.held is not None and now - self.held_since > HOLD_SECONDS:
            held, self.held = self.held, None
            self.to_client(held)
        while self.delayed and self.delayed[0][0] <= now:
            _, to_client, q = self.delayed.pop(0)
            if to_client:
                mode.write_client(self, q)
            else:
                self.to_broker(q)
        mode.tick(self)


# ---------------------------------------------------------------- modes

MODES = {}


def mode(name, kind, rule, text):
    """Registers a mode class: kind 'breaks' (rule = the statement it violates) or
    'allows' (rule = the statement that permits the behaviour)."""
    def register(cls):
        cls.name, cls.kind, cls.rule, cls.text = name, kind, rule, text
        MODES[name] = cls
        return cls
    return register


class Mode:
    """Passes everything on. Subclasses override the hooks they need."""
    delay = 0.0

    def __init__(self, hub):
        self.hub = hub

    def c2b(self, r, p):
        """Packets for the broker for the client's packet p."""
        kind = p[0] >> 4
        if kind == PUBLISH:
            return self.client_publish(r, p)
        if kind == CONNECT and r.connects == 1:
            d = parse_connect(p)
            if not d["short"]:
                return self.client_connect(r, p, d)
        return [p]

    def b2c(self, r, p):
        """Packets for the client for the broker's packet p."""
        kind = p[0] >> 4
        if kind == PUBLISH:
            pub = Pub.parse(p)
            if pub is not None:
                return self.delivery(r, p, pub)
        return [p]

    def client_connect(self, r, p, d):
        return [p]

    def client_publish(self, r, p):
        return [p]

    def delivery(self, r, p, pub):
        return [p]

    def client_raw(self, r, raw):
        r.to_broker(raw)

    def write_client(self, r, q):
        r.to_client(q)

    def tick(self, r):
        pass

    def client_closed(self, r):
        pass

    def broker_closed(self, r):
        """True: keep the client's side open although the broker closed."""
        return False

    def drain(self, r):
        """Sends whatever the mode keeps back (the connection is about to close)."""


@mode("pass", "allows", "-", "nothing changed (the control)")
class Pass(Mode):
    pass


# ---- retain (3.3.1)

@mode("retain-never", "breaks", "MQTT-3.3.1-8", "deliveries always have RETAIN=0")
class RetainNever(Mode):
    def delivery(self, r, p, pub):
        p[0] &= ~1
        return [p]


@mode("retain-always", "breaks", "MQTT-3.3.1-9", "deliveries always have RETAIN=1")
class RetainAlways(Mode):
    def delivery(self, r, p, pub):
        p[0] |= 1
        return [p]


@mode("retain-c2s", "breaks", "MQTT-3.3.1-12", "every client PUBLISH is stored as retained")
class RetainC2s(Mode):
    def client_publish(self, r, p):
        p[0] |= 1
        return [p]


@mode("no-clear", "breaks", "MQTT-3.3.1-10",
      "an empty retained PUBLISH is passed on with RETAIN=0: nothing is cleared")
class NoClear(Mode):
    def client_publish(self, r, p):
        pub = Pub.parse(p)
        if pub and pub.retain and not pub.payload:
            p[0] &= ~1
        return [p]


@mode("retain-empty-stored", "breaks", "MQTT-3.3.1-11",
      "an empty retained message replaces the old one and is itself stored: new "
      "subscribers get it")
class RetainEmptyStored(Mode):
    def __init__(self, hub):
        super().__init__(hub)
        self.empty = set()   # topics whose retained message is an empty one

    def client_publish(self, r, p):
        pub = Pub.parse(p)
        if pub and pub.retain:
            with self.hub.lock:
                (self.empty.discard if pub.payload else self.empty.add)(pub.topic)
        return [p]

    def c2b(self, r, p):
        if p[0] >> 4 == SUBSCRIBE:
            parsed = parse_subscribe(p)
            if parsed:
                r.state.setdefault("new", {})[parsed[0]] = [f for f, _ in parsed[1]]
        return super().c2b(r, p)

    def b2c(self, r, p):
        out = super().b2c(r, p)
        if p[0] >> 4 == SUBACK:
            filters = r.state.get("new", {}).pop(ack_id(p), [])
            with self.hub.lock:
                topics = sorted(self.empty)
            out += [publish(t, b"", retain=True) for t in topics
                    if any(filter_ok(f) and matches(f, t) for f in filters)]
        return out


@mode("retain-no-resend", "breaks", "MQTT-3.8.4-3",
      "re-subscribing to a filter the client holds does not re-send the retained messages")
class RetainNoResend(Mode):
    def c2b(self, r, p):
        if p[0] >> 4 == SUBSCRIBE:
            parsed = parse_subscribe(p)
            if parsed and any(f in r.filters for f, _ in parsed[1]):
                r.state["quiet_until"] = time.time() + RESUME_WINDOW
        return [p]

    def delivery(self, r, p, pub):
        if pub.retain and time.time() < r.state.get("quiet_until", 0):
            r.drop_delivery(pub)
            return []
        return [p]


@mode("retain-never-sent", "breaks", "MQTT-3.3.1-6",
      "a new subscription does not get the retained messages")
class RetainNeverSent(Mode):
    def delivery(self, r, p, pub):
        if pub.retain:
            r.drop_delivery(pub)
            return []
        return [p]


@mode("retain-dies-with-session", "breaks", "MQTT-3.1.2-7",
      "retained messages are kept as session state: they are cleared when the session of "
      "the client that published them ends")
class RetainDiesWithSession(Mode):
    def __init__(self, hub):
        super().__init__(hub)
        self.retained = {}  # (port, client id) -> topics it retained a message on

    def client_publish(self, r, p):
        pub = Pub.parse(p)
        if pub and pub.retain and pub.qos < 3 and filter_ok(pub.topic) and r.cid and \
                b"+" not in pub.topic and b"#" not in pub.topic:
            with self.hub.lock:
                kept = self.retained.setdefault((r.port, r.cid), set())
                (kept.add if pub.payload else kept.discard)(pub.topic)
        return [p]

    def end_session(self, r):
        with self.hub.lock:
            topics = sorted(self.retained.pop((r.port, r.cid), ()))
        if topics:
            self.hub.side_session(r.port, [publish(t, b"", retain=True) for t in topics])

    def b2c(self, r, p):
        if p[0] >> 4 == CONNACK and len(p) >= 4 and p[3] == 0 and r.clean:
            self.end_session(r)  # a clean start discards the previous session
        return super().b2c(r, p)

    def client_closed(self, r):
        if r.clean and r.accepted:
            self.end_session(r)


@mode("retain-qos0-not-replacing", "breaks", "MQTT-3.3.1-7",
      "a retained QoS 0 message neither replaces nor clears the retained message of its topic")
class RetainQos0NotReplacing(Mode):
    def client_publish(self, r, p):
        pub = Pub.parse(p)
        if pub and pub.retain and pub.qos == 0 and pub.payload:
            p[0] &= ~1
        return [p]


@mode("retain-qos0-drop", "allows", "MQTT-3.3.1-7",
      "a retained QoS 0 message is not stored (the old one is cleared all the same)")
class RetainQos0Drop(Mode):
    """The old retained message is cleared with an empty retained PUBLISH, whose delivery
    to the current subscribers the proxy suppresses; the message itself goes out as a
    normal (not retained) PUBLISH."""

    def __init__(self, hub):
        super().__init__(hub)
        self.clearing = {}  # topic -> until when its empty deliveries are the proxy's

    def client_publish(self, r, p):
        pub = Pub.parse(p)
        if pub and pub.retain and pub.qos == 0 and pub.payload and filter_ok(pub.topic):
            with self.hub.lock:
                self.clearing[pub.topic] = time.time() + 0.5
            return [publish(pub.topic, b"", retain=True), publish(pub.topic, pub.payload)]
        return [p]

    def delivery(self, r, p, pub):
        with self.hub.lock:
            ours = time.time() < self.clearing.get(pub.topic, 0)
        if ours and not pub.payload and not pub.retain:
            r.drop_delivery(pub)
            return []
        return [p]


@mode("retain-qos-lost", "breaks", "MQTT-3.3.1-5",
      "the QoS of a retained message is not stored: it is sent at QoS 0")
class RetainQosLost(Mode):
    def delivery(self, r, p, pub):
        if pub.retain and pub.qos:
            return [r.downgrade(pub, 0).build()]
        return [p]


# ---- qos (3.3, 4.3, 4.4, 4.6)

@mode("dup-never", "breaks", "MQTT-3.3.1-1", "re-deliveries have DUP=0")
class DupNever(Mode):
    def delivery(self, r, p, pub):
        p[0] &= ~8
        return [p]


@mode("dup-always", "breaks", "MQTT-3.3.1-3", "QoS>0 deliveries always have DUP=1")
class DupAlways(Mode):
    def delivery(self, r, p, pub):
        if pub.qos:
            p[0] |= 8
        return [p]


@mode("dup-qos0", "breaks", "MQTT-3.3.1-2", "QoS 0 deliveries have DUP=1")
class DupQos0(Mode):
    def delivery(self, r, p, pub):
        if not pub.qos:
            p[0] |= 8
        return [p]


@mode("drop-dup", "breaks", "MQTT-4.4.0-1", "re-deliveries (DUP=1) are dropped")
class DropDup(Mode):
    def delivery(self, r, p, pub):
        if pub.dup:
            r.drop_delivery(pub)
            return []
        return [p]


@mode("ack-id", "breaks", "MQTT-2.3.1-6", "PUBACK/PUBREC/PUBCOMP ids are off by one bit")
class AckId(Mode):
    def b2c(self, r, p):
        if p[0] >> 4 in (PUBACK, PUBREC, PUBCOMP):
            at = body_start(p)
            set_id(p, at, get_id(p, at) ^ 1)
        return super().b2c(r, p)


@mode("no-puback", "breaks", "MQTT-3.3.4-1", "a QoS 1 PUBLISH gets no PUBACK")
class NoPuback(Mode):
    def b2c(self, r, p):
        return [] if p[0] >> 4 == PUBACK else super().b2c(r, p)


@mode("no-pubcomp", "breaks", "MQTT-4.3.3-2", "a PUBREL gets no PUBCOMP")
class NoPubcomp(Mode):
    def b2c(self, r, p):
        return [] if p[0] >> 4 == PUBCOMP else super().b2c(r, p)


@mode("qos2-puback", "breaks", "MQTT-3.3.4-1",
      "a QoS 2 PUBLISH is answered with PUBACK (and handled as QoS 1)")
class Qos2Puback(Mode):
    def c2b(self, r, p):
        kind = p[0] >> 4
        if kind == PUBLISH and (p[0] >> 1) & 3 == 2:
            pub = Pub.parse(p)
            if pub:
                r.state.setdefault("q2", set()).add(pub.pid)
        elif kind == PUBREL and ack_id(p) in r.state.get("q2", ()):
            return []  # the client should not send it; the broker gets its own below
        return super().c2b(r, p)

    def b2c(self, r, p):
        if p[0] >> 4 == PUBREC and ack_id(p) in r.state.get("q2", ()):
            pid = ack_id(p)
            r.state["q2"].discard(pid)
            r.to_broker(ack(PUBREL, pid))
            r.swallow.add((PUBCOMP, pid))
            return [ack(PUBACK, pid)]
        return super().b2c(r, p)


@mode("qos1-as-2", "breaks", "MQTT-3.8.4-6", "QoS 1 deliveries go out as QoS 2")
class Qos1As2(Mode):
    def delivery(self, r, p, pub):
        if pub.qos == 1:
            p[0] = (p[0] & ~6) | 4
            r.state.setdefault("fake2", set()).add(pub.pid)
        return [p]

    def c2b(self, r, p):
        kind = p[0] >> 4
        if kind == PUBREC and ack_id(p) in r.state.get("fake2", ()):
            r.to_client(ack(PUBREL, ack_id(p)))
            return [ack(PUBACK, ack_id(p))]
        if kind == PUBCOMP and ack_id(p) in r.state.get("fake2", ()):
            r.state["fake2"].discard(ack_id(p))
            return []
        return super().c2b(r, p)


@mode("qos-no-downgrade", "breaks", "MQTT-3.8.4-6",
      "deliveries keep the published QoS, above the granted QoS")
class QosNoDowngrade(Mode):
    def c2b(self, r, p):
        if p[0] >> 4 == SUBSCRIBE:
            parsed = parse_subscribe(p)
            if parsed and all(q <= 2 for _, q in parsed[1]):
                r.state.setdefault("asked", {})[parsed[0]] = [q for _, q in parsed[1]]
                return [build_subscribe(parsed[0], [(f, 2) for f, _ in parsed[1]])]
        return super().c2b(r, p)

    def b2c(self, r, p):
        if p[0] >> 4 == SUBACK:
            pid, codes = parse_suback(p)
            asked = r.state.get("asked", {}).pop(pid, None)
            if asked and len(asked) == len(codes):
                codes = [min(c, a) if c < 0x80 else c for c, a in zip(codes, asked)]
                return [build_suback(pid, codes)]
        return super().b2c(r, p)


@mode("qos-zero-always", "breaks", "MQTT-3.8.4-6", "every delivery goes out at QoS 0")
class QosZeroAlways(Mode):
    def delivery(self, r, p, pub):
        return [r.downgrade(pub, 0).build()] if pub.qos else [p]


@mode("ids-same", "breaks", "MQTT-2.3.1-4",
      "every QoS 1 delivery has packet id 1; a PUBACK acknowledges the oldest in flight")
class IdsSame(Mode):
    def delivery(self, r, p, pub):
        if pub.qos == 1:
            real = r.state.setdefault("real", [])
            if pub.pid not in real:
                real.append(pub.pid)
            pub.pid = 1
            return [pub.build()]
        return [p]

    def c2b(self, r, p):
        if p[0] >> 4 == PUBACK and r.state.get("real"):
            set_id(p, body_start(p), r.state["real"].pop(0))
        return super().c2b(r, p)


@mode("id-zero", "breaks", "MQTT-2.3.1-1", "QoS>0 deliveries carry packet id 0")
class IdZero(Mode):
    def delivery(self, r, p, pub):
        if pub.qos:
            r.state.setdefault("zero", []).append(pub.pid)
            pub.pid = 0
            return [pub.build()]
        return [p]

    def c2b(self, r, p):
        if p[0] >> 4 in (PUBACK, PUBREC, PUBCOMP) and r.state.get("zero"):
            if ack_id(p) == 0:
                set_id(p, body_start(p), r.state["zero"][0])
                if p[0] >> 4 != PUBREC:
                    r.state["zero"].pop(0)
        return super().c2b(r, p)


@mode("qos2-redeliver", "breaks", "MQTT-4.3.3-2",
      "a QoS 2 PUBLISH re-sent with DUP=1 before PUBREL becomes a new message")
class Qos2Redeliver(Mode):
    def c2b(self, r, p):
        kind, made_up = p[0] >> 4, r.state.setdefault("made_up", set())
        if kind == PUBLISH:
            pub = Pub.parse(p)
            if pub and pub.qos == 2 and pub.dup:
                pub.pid ^= 0x4000
                made_up.add(pub.pid)
                return [pub.build()]
        elif kind == PUBREL:
            twin = ack_id(p) ^ 0x4000
            if twin in made_up:
                return [p, ack(PUBREL, twin)]
        return super().c2b(r, p)

    def b2c(self, r, p):
        kind, made_up = p[0] >> 4, r.state.setdefault("made_up", set())
        if kind in (PUBREC, PUBCOMP) and ack_id(p) in made_up:
            if kind == PUBCOMP:
                return []  # the client already gets one for its own id
            return [ack(PUBREC, ack_id(p) ^ 0x4000)]
        return super().b2c(r, p)


@mode("swap-publish", "breaks", "MQTT-4.6.0-6", "two consecutive deliveries swap places")
class SwapPublish(Mode):
    def delivery(self, r, p, pub):
        return r.hold_or_swap(p)


def swapping(kind):
    """A mode base that swaps two consecutive packets of type kind to the client."""
    class Swap(Mode):
        def b2c(self, r, p):
            if p[0] >> 4 == kind:
                return r.hold_or_swap(p)
            return super().b2c(r, p)
    return Swap


@mode("swap-puback", "breaks", "MQTT-4.6.0-2", "two consecutive PUBACKs swap places")
class SwapPuback(swapping(PUBACK)):
    pass


@mode("swap-pubrec", "breaks", "MQTT-4.6.0-3", "two consecutive PUBRECs swap places")
class SwapPubrec(swapping(PUBREC)):
    pass


@mode("swap-pubrel", "breaks", "MQTT-4.6.0-4", "two consecutive PUBRELs swap places")
class SwapPubrel(swapping(PUBREL)):
    pass


@mode("redeliver-swapped", "breaks", "MQTT-4.6.0-1",
      "re-sent PUBLISHes (DUP=1) go out with each pair in reverse order")
class RedeliverSwapped(Mode):
    def delivery(self, r, p, pub):
        if pub.dup or r.held is not None:
            return r.hold_or_swap(p)
        return [p]


@mode("dup-propagated", "breaks", "MQTT-3.3.1-3",
      "a message published with DUP=1 is delivered with DUP=1 (the flag is copied)")
class DupPropagated(Mode):
    def __init__(self, hub):
        super().__init__(hub)
        self.dup_sent = set()  # (topic, payload) a client published with DUP=1

    def client_publish(self, r, p):
        pub = Pub.parse(p)
        if pub and pub.dup and pub.qos in (1, 2):
            with self.hub.lock:
                self.dup_sent.add((pub.topic, pub.payload))
        return [p]

    def delivery(self, r, p, pub):
        with self.hub.lock:
            copied = (pub.topic, pub.payload) in self.dup_sent
        if copied and pub.qos:
            p[0] |= 8
        return [p]


@mode("qos1-id-reuse-dropped", "breaks", "MQTT-4.3.2-2",
      "a QoS 1 PUBLISH that reuses an acknowledged packet id is taken as a duplicate: "
      "acknowledged but not delivered")
class Qos1IdReuseDropped(Mode):
    def client_publish(self, r, p):
        pub = Pub.parse(p)
        if pub and pub.qos == 1 and not pub.dup and pub.pid in r.state.get("acked", ()):
            r.to_client(ack(PUBACK, pub.pid))
            return []
        return [p]

    def b2c(self, r, p):
        if p[0] >> 4 == PUBACK:
            r.state.setdefault("acked", set()).add(ack_id(p))
        return super().b2c(r, p)


@mode("qos2-id-reuse-dropped", "breaks", "MQTT-4.3.3-2",
      "a QoS 2 PUBLISH that reuses a completed packet id is taken as a duplicate: the "
      "flow is completed but nothing is delivered")
class Qos2IdReuseDropped(Mode):
    def c2b(self, r, p):
        kind, own = p[0] >> 4, r.state.setdefault("own", set())
        if kind == PUBLISH:
            pub = Pub.parse(p)
            if pub and pub.qos == 2 and not pub.dup and pub.pid in r.state.get("done", ()):
                own.add(pub.pid)
                r.to_client(ack(PUBREC, pub.pid))
                return []
        elif kind == PUBREL and len(p) >= 4 and ack_id(p) in own:
            own.discard(ack_id(p))
            r.to_client(ack(PUBCOMP, ack_id(p)))
            return []
        return super().c2b(r, p)

    def b2c(self, r, p):
        if p[0] >> 4 == PUBCOMP:
            r.state.setdefault("done", set()).add(ack_id(p))
        return super().b2c(r, p)


@mode("no-pubrel-resend", "breaks", "MQTT-4.4.0-1",
      "an unacknowledged PUBREL is not re-sent when the session resumes")
class NoPubrelResend(Mode):
    def b2c(self, r, p):
        if p[0] >> 4 == PUBREL and r.resumed and time.time() - r.accepted_at < RESUME_WINDOW:
            r.to_broker(ack(PUBCOMP, ack_id(p)))
            return []
        return super().b2c(r, p)


@mode("deliver-once", "breaks", "MQTT-4.5.0-1",
      "a message goes to one matching subscriber only (the first), not to all of them")
class DeliverOnce(Mode):
    def __init__(self, hub):
        super().__init__(hub)
        self.given = {}  # (topic, payload, retain) -> (relay, time)

    def delivery(self, r, p, pub):
        key, now = (pub.topic, pub.payload, pub.retain), time.time()
        with self.hub.lock:
            other, when = self.given.get(key, (None, 0))
            if other is not None and other is not r and now - when < 0.3:
                taken = True
            else:
                taken = False
                self.given[key] = (r, now)
        if taken:
            r.drop_delivery(pub)
            return []
        return [p]


@mode("ack-flags-set", "breaks", "MQTT-2.2.2-1", "PUBACKs to clients have fixed-header flags 0010")
class AckFlagsSet(Mode):
    def b2c(self, r, p):
        if p[0] >> 4 == PUBACK:
            p[0] |= 2
        return super().b2c(r, p)


class Window(Mode):
    """At most N QoS>0 deliveries in flight per connection (section 4.6 allows it)."""
    size = 1

    def delivery(self, r, p, pub):
        if pub.qos:
            if r.state.get("in_flight", 0) >= self.size:
                r.state.setdefault("waiting", []).append(p)
                return []
            r.state["in_flight"] = r.state.get("in_flight", 0) + 1
        return [p]

    def c2b(self, r, p):
        if p[0] >> 4 in (PUBACK, PUBCOMP):
            r.state["in_flight"] = r.state.get("in_flight", 0) - 1
            waiting = r.state.get("waiting", [])
            while waiting and r.state["in_flight"] < self.size:
                r.state["in_flight"] += 1
                r.to_client(waiting.pop(0))
        return super().c2b(r, p)


@mode("window1", "allows", "MQTT-4.6.0-6", "at most 1 QoS>0 delivery in flight")
class Window1(Window):
    size = 1


@mode("window2", "allows", "MQTT-4.6.0-6", "at most 2 QoS>0 deliveries in flight")
class Window2(Window):
    size = 2


@mode("grant-qos1", "allows", "MQTT-3.8.4-5",
      "a QoS 2 subscription is granted QoS 1 (the broker's maximum)")
class GrantQos1(Mode):
    def c2b(self, r, p):
        if p[0] >> 4 == SUBSCRIBE:
            parsed = parse_subscribe(p)
            if parsed and all(q <= 2 for _, q in parsed[1]):
                return [build_subscribe(parsed[0], [(f, min(q, 1)) for f, q in parsed[1]])]
        return super().c2b(r, p)


@mode("qos1-retry", "allows", "MQTT-4.4.0-1",
      "an unacknowledged QoS 1 delivery is re-sent once with DUP=1 after 1 s "
      "(3.1.1 requires re-sending only on reconnect, but does not forbid it)")
class Qos1Retry(Mode):
    def delivery(self, r, p, pub):
        if pub.qos == 1:
            r.state.setdefault("unacked", {})[pub.pid] = (time.time() + 1.0, bytearray(p))
        return [p]

    def c2b(self, r, p):
        if p[0] >> 4 == PUBACK:
            r.state.setdefault("unacked", {}).pop(ack_id(p), None)
        return super().c2b(r, p)

    def tick(self, r):
        for pid, (due, p) in list(r.state.get("unacked", {}).items()):
            if time.time() >= due:
                del r.state["unacked"][pid]
                p[0] |= 8
                r.to_client(p)


# ---- connect (3.1, 3.2)

@mode("connect-reserved", "breaks", "MQTT-3.1.2-3", "the reserved CONNECT flag is ignored")
class ConnectReserved(Mode):
    def c2b(self, r, p):
        if p[0] >> 4 == CONNECT and r.connects == 1:
            d = parse_connect(p)
            if d["flags"] & 1 and not d["short"]:
                d["flags"] &= ~1
                return [build_connect(d)]
        return super().c2b(r, p)


def connect_rewriter(fix):
    """A mode base whose CONNECT (parsed leniently) is changed by fix(self, r, d) -> bool
    (True: changed). A CONNECT that lacks fields is rebuilt only when fix handled that
    (and cleared d["short"])."""
    class Rewriter(Mode):
        def c2b(self, r, p):
            if p[0] >> 4 == CONNECT and r.connects == 1:
                d = parse_connect(p)
                if d["name"] is not None and d["cid"] is not None and fix(self, r, d) \
                        and not d["short"]:
                    return [build_connect(d)]
            return super().c2b(r, p)
    return Rewriter


def _level(self, r, d):
    want = 3 if d["name"] == b"MQIsdp" else 4
    if d["level"] != want and d["name"] in (b"MQTT", b"MQIsdp"):
        d["level"] = want
        return True
    return False


@mode("connect-level", "breaks", "MQTT-3.1.2-2", "an unsupported protocol level is accepted")
class ConnectLevel(connect_rewriter(_level)):
    pass


@mode("connect-level-silent", "breaks", "MQTT-3.1.2-2",
      "an unsupported protocol level is refused by closing, without CONNACK 1")
class ConnectLevelSilent(Mode):
    def b2c(self, r, p):
        if p[0] >> 4 == CONNACK and len(p) >= 4 and p[3] == 1:
            r.kill()
            return []
        return super().b2c(r, p)


def _name(self, r, d):
    want = b"MQIsdp" if d["level"] == 3 else b"MQTT"
    if d["name"] != want:
        d["name"] = want
        return True
    return False


@mode("connect-name", "breaks", "MQTT-3.1.2-1",
      "the protocol name is not checked (any name is taken as the one for the level)")
class ConnectName(connect_rewriter(_name)):
    pass


def _will_flags(self, r, d):
    if not d["flags"] & 4 and d["flags"] & 0x38:
        d["flags"] &= ~0x38
        return True
    return False


@mode("connect-will-flags", "breaks", "MQTT-3.1.2-11",
      "will QoS/retain bits with Will Flag 0 are ignored")
class ConnectWillFlags(connect_rewriter(_will_flags)):
    pass


def _will_qos3(self, r, d):
    if d["flags"] & 4 and (d["flags"] >> 3) & 3 == 3 and not d["short"]:
        d["flags"] &= ~0x18
        d["flags"] |= 0x10
        return True
    return False


@mode("connect-will-qos3", "breaks", "MQTT-3.1.2-14", "a will QoS of 3 is taken as QoS 2")
class ConnectWillQos3(connect_rewriter(_will_qos3)):
    pass


def _user_flags(self, r, d):
    """User name/password flags that disagree with the payload: taken from the payload."""
    if d["flags"] & 4:
        return False
    short_in_user = d["short"] and d["flags"] & 0xC0
    password_alone = d["password"] is not None and d["user"] is None
    if not (short_in_user or password_alone or d["extra"]):
        return False
    if password_alone:
        d["password"] = None
    d["flags"] = clean_connect_flags(d) | (d["flags"] & 1)
    d["extra"], d["short"] = b"", False
    return True


@mode("connect-user-flags", "breaks", "MQTT-3.1.2-22",
      "user name/password flags that do not match the payload are not checked")
class ConnectUserFlags(connect_rewriter(_user_flags)):
    pass


def _sanitize(b):
    """b as well-formed UTF-8 without U+0000."""
    return b.decode("utf-8", "replace").replace("\0", "_").encode("utf-8").replace(
        b"\xef\xbf\xbd", b"_")


def _strings_utf8(self, r, d):
    changed = False
    for k in ("cid", "will_topic", "user"):
        if d[k] is not None and not utf8_ok(d[k]):
            d[k] = _sanitize(d[k])
            changed = True
    return changed


@mode("connect-utf8", "breaks", "MQTT-1.5.3-1",
      "ill-formed UTF-8 or U+0000 in client id, will topic or user name is accepted")
class ConnectUtf8(connect_rewriter(_strings_utf8)):
    pass


def _empty_id(self, r, d):
    if d["cid"] == b"" and (not d["flags"] & 2 or d["level"] == 3):
        d["cid"] = b"mqsauto%d" % self.hub.next_number()
        return True
    return False


@mode("connect-empty-id", "breaks", "MQTT-3.1.3-8",
      "an empty client id is accepted with clean session 0 (and in MQTT 3.1)")
class ConnectEmptyId(connect_rewriter(_empty_id)):
    pass


@mode("connect-empty-id-refused", "allows", "MQTT-3.1.3-6",
      "an empty client id is refused (CONNACK 2) also with clean session 1")
class ConnectEmptyIdRefused(Mode):
    def c2b(self, r, p):
        if p[0] >> 4 == CONNECT and r.connects == 1:
            d = parse_connect(p)
            if d["cid"] == b"" and d["name"] in (b"MQTT", b"MQIsdp") and d["level"] in (3, 4):
                r.to_client(connack(2))
                r.kill(abrupt=False)
                return []
        return super().c2b(r, p)


@mode("connect-long-id-refused", "allows", "MQTT-3.1.3-5",
      "client ids longer than 23 bytes are refused with CONNACK 2")
class ConnectLongIdRefused(Mode):
    def c2b(self, r, p):
        if p[0] >> 4 == CONNECT and r.connects == 1:
            d = parse_connect(p)
            if d["cid"] is not None and len(d["cid"]) > 23 and d["level"] in (3, 4):
                r.to_client(connack(2))
                r.kill(abrupt=False)
                return []
        return super().c2b(r, p)


@mode("connect-short-ids", "breaks", "MQTT-3.1.3-5",
      "client ids longer than 12 bytes are refused with CONNACK 2")
class ConnectShortIds(Mode):
    def c2b(self, r, p):
        if p[0] >> 4 == CONNECT and r.connects == 1:
            d = parse_connect(p)
            if d["cid"] is not None and len(d["cid"]) > 12:
                r.to_client(connack(2))
                r.kill(abrupt=False)
                return []
        return super().c2b(r, p)


def _empty_id_shared(self, r, d):
    if d["cid"] == b"" and d["flags"] & 2 and d["level"] == 4:
        d["cid"] = b"mqsemptyshared"
        return True
    return False


@mode("connect-empty-id-shared", "breaks", "MQTT-3.1.3-6",
      "every client with an empty client id gets the same assigned id (they take each "
      "other over)")
class ConnectEmptyIdShared(connect_rewriter(_empty_id_shared)):
    pass


@mode("connack-sp-always", "breaks", "MQTT-3.2.2-1",
      "an accepting CONNACK always has Session Present=1")
class ConnackSpAlways(Mode):
    def b2c(self, r, p):
        if p[0] >> 4 == CONNACK and len(p) >= 4 and p[3] == 0:
            p[2] |= 1
        return super().b2c(r, p)


@mode("connack-sp-never", "breaks", "MQTT-3.2.2-2", "Session Present is always 0")
class ConnackSpNever(Mode):
    def b2c(self, r, p):
        if p[0] >> 4 == CONNACK and len(p) >= 4:
            p[2] &= ~1
        return super().b2c(r, p)


@mode("connack-sp-refused", "breaks", "MQTT-3.2.2-4",
      "a refusing CONNACK (return code > 0) has Session Present=1")
class ConnackSpRefused(Mode):
    def b2c(self, r, p):
        if p[0] >> 4 == CONNACK and len(p) >= 4 and p[3]:
            p[2] |= 1
        return super().b2c(r, p)


@mode("connack-reserved", "breaks", "MQTT-2.2.2-1",
      "CONNACK has reserved bits set (flags byte bit 1)")
class ConnackReserved(Mode):
    def b2c(self, r, p):
        if p[0] >> 4 == CONNACK and len(p) >= 4:
            p[2] |= 2
        return super().b2c(r, p)


@mode("connack-no-close", "breaks", "MQTT-3.2.2-5",
      "after a refusing CONNACK the connection stays open")
class ConnackNoClose(Mode):
    def b2c(self, r, p):
        if p[0] >> 4 == CONNACK and len(p) >= 4 and p[3]:
            r.state["refused"] = True
        return super().b2c(r, p)

    def broker_closed(self, r):
        return r.state.get("refused", False)


@mode("connack-late", "breaks", "MQTT-3.2.0-1",
      "a resumed session's queued messages go out before the CONNACK")
class ConnackLate(Mode):
    def b2c(self, r, p):
        kind = p[0] >> 4
        if kind == CONNACK and len(p) >= 4 and p[3] == 0 and not r.clean:
            return r.hold_or_swap(p)
        if r.held is not None and kind == PUBLISH:
            return r.hold_or_swap(p)
        return super().b2c(r, p)


@mode("connect-second-ignored", "breaks", "MQTT-3.1.0-2",
      "a second CONNECT on a connection is ignored")
class ConnectSecondIgnored(Mode):
    def c2b(self, r, p):
        if p[0] >> 4 == CONNECT and r.connects > 1:
            return []
        return super().c2b(r, p)


@mode("connect-not-first", "breaks", "MQTT-3.1.0-1",
      "packets before CONNECT are accepted (as from an anonymous client)")
class ConnectNotFirst(Mode):
    def c2b(self, r, p):
        if r.connects == 0 and p[0] >> 4 != CONNECT and not r.state.get("auto"):
            r.state["auto"] = True
            d = dict(name=b"MQTT", level=4, flags=2, keepalive=0,
                     cid=b"mqsauto%d" % self.hub.next_number(), will_topic=None,
                     will_msg=None, user=None, password=None)
            if r.port == self.hub.auth_port and self.hub.user:
                d.update(user=self.hub.user, password=self.hub.password, flags=0xC2)
            r.state["eat_connack"] = True
            return [build_connect(d), p]
        return super().c2b(r, p)

    def b2c(self, r, p):
        if p[0] >> 4 == CONNACK and r.state.pop("eat_connack", False):
            return []
        return super().b2c(r, p)


@mode("connect-pipelined-acted", "breaks", "MQTT-3.1.4-5",
      "packets sent after a refused CONNECT are acted on")
class ConnectPipelinedActed(Mode):
    def c2b(self, r, p):
        if r.connects >= 1 and p[0] >> 4 != CONNECT and not r.accepted:
            r.state.setdefault("after", []).append(bytearray(p))
        return super().c2b(r, p)

    def b2c(self, r, p):
        if p[0] >> 4 == CONNACK and len(p) >= 4 and p[3]:
            self.replay(r)
        return super().b2c(r, p)

    def broker_closed(self, r):
        if not r.accepted:
            self.replay(r)
        return False

    def replay(self, r):
        after = [q for q in r.state.pop("after", []) if q[0] >> 4 in (PUBLISH, SUBSCRIBE)]
        if after:
            self.hub.side_session(r.port, after, r.version)


@mode("connect-takeover-none", "breaks", "MQTT-3.1.4-2",
      "a second connection with the same client id does not close the first one")
class ConnectTakeoverNone(Mode):
    def c2b(self, r, p):
        if p[0] >> 4 == CONNECT and r.connects == 1:
            cid = parse_connect(p)["cid"]
            for other in self.hub.live():
                if other is not r and cid and other.cid == cid and other.port == r.port:
                    other.state["taken_over"] = True  # before the broker closes it
        return super().c2b(r, p)

    def broker_closed(self, r):
        return r.state.get("taken_over", False)


@mode("connect-refusal-kicks", "breaks", "MQTT-3.1.4-5",
      "a refused CONNECT still closes the live connection with the same client id")
class ConnectRefusalKicks(Mode):
    def b2c(self, r, p):
        if p[0] >> 4 == CONNACK and len(p) >= 4 and p[3]:
            self.kick(r)
        return super().b2c(r, p)

    def broker_closed(self, r):
        if not r.accepted:
            self.kick(r)
        return False

    def kick(self, r):
        for other in self.hub.live():
            if other is not r and r.cid and other.cid == r.cid:
                other.kill()


@mode("connect-refusal-wipes", "breaks", "MQTT-3.1.4-5",
      "a refused CONNECT with clean session 1 still discards the stored session")
class ConnectRefusalWipes(Mode):
    def b2c(self, r, p):
        if p[0] >> 4 == CONNACK and len(p) >= 4 and p[3]:
            self.wipe(r)
        return super().b2c(r, p)

    def broker_closed(self, r):
        if not r.accepted:
            self.wipe(r)
        return False

    def wipe(self, r):
        if r.cid and r.state.get("wiped") is None:
            r.state["wiped"] = True
            d = dict(name=b"MQTT", level=4, flags=2, keepalive=0, cid=r.cid, will_topic=None,
                     will_msg=None, user=None, password=None)
            if r.port == self.hub.auth_port and self.hub.user:
                d.update(user=self.hub.user, password=self.hub.password, flags=0xC2)
            try:
                s = socket.create_connection(("127.0.0.1", r.port), timeout=2)
                s.sendall(bytes(build_connect(d)) + bytes(packet(DISCONNECT << 4, b"")))
                s.recv(16)
                s.close()
            except OSError:
                pass


# ---- auth

@mode("auth-bypass", "breaks", "MQTT-3.1.4-5",
      "every CONNECT on the password listener is let in (as the configured user)")
class AuthBypass(Mode):
    def c2b(self, r, p):
        if p[0] >> 4 == CONNECT and r.connects == 1 and r.port == self.hub.auth_port:
            d = parse_connect(p)
            if not d["short"] and d["name"] in (b"MQTT", b"MQIsdp") and d["level"] in (3, 4):
                d.update(user=self.hub.user, password=self.hub.password)
                d["flags"] = clean_connect_flags(d)
                return [build_connect(d)]
        return super().c2b(r, p)


@mode("auth-rc2", "breaks", "MQTT-3.2.2-5",
      "bad credentials are refused with return code 2 (identifier rejected)")
class AuthRc2(Mode):
    def b2c(self, r, p):
        if p[0] >> 4 == CONNACK and len(p) >= 4 and p[3] in (4, 5):
            p[3] = 2
        return super().b2c(r, p)


@mode("auth-rc4", "allows", "MQTT-3.2.2-5", "CONNACK 5 (not authorized) is sent as 4")
class AuthRc4(Mode):
    def b2c(self, r, p):
        if p[0] >> 4 == CONNACK and len(p) >= 4 and p[3] == 5:
            p[3] = 4
        return super().b2c(r, p)


# ---- keepalive (3.1.2.10)

def _keepalive_times(factor):
    def fix(self, r, d):
        if d["keepalive"]:
            d["keepalive"] = min(65535, int(d["keepalive"] * factor))
            return True
        return False
    return fix


@mode("keepalive-never", "breaks", "MQTT-3.1.2-24", "the keepalive is never enforced")
class KeepaliveNever(connect_rewriter(_keepalive_times(0))):
    pass


@mode("keepalive-6x", "breaks", "MQTT-3.1.2-24",
      "the keepalive is enforced after 9 x the keepalive instead of 1.5 x")
class Keepalive6x(connect_rewriter(_keepalive_times(6))):
    pass


class ProxyKeepalive(Mode):
    """The broker gets keepalive 0; the proxy enforces the client's keepalive itself."""
    factor = 1.5
    reset_by = None  # packet types that reset the timer (None: any)

    def c2b(self, r, p):
        kind = p[0] >> 4
        if kind == CONNECT and r.connects == 1:
            d = parse_connect(p)
            if not d["short"] and d["keepalive"]:
                r.state["ka"] = d["keepalive"]
                r.state["last"] = time.time()
                d["keepalive"] = 0
                return [build_connect(d)]
        elif self.reset_by is None or kind in self.reset_by:
            r.state["last"] = time.time()
        return super().c2b(r, p)

    def tick(self, r):
        ka = r.state.get("ka")
        if ka and time.time() - r.state["last"] > self.factor * ka:
            r.kill()


@mode("keepalive-early", "breaks", "MQTT-3.1.2-24",
      "the connection is closed after 0.75 x the keepalive without traffic")
class KeepaliveEarly(ProxyKeepalive):
    factor = 0.75


@mode("keepalive-pingreq-only", "breaks", "MQTT-3.1.2-24",
      "only PINGREQ resets the keepalive timer (other packets do not count)")
class KeepalivePingreqOnly(ProxyKeepalive):
    reset_by = (PINGREQ,)


@mode("keepalive-exact", "allows", "MQTT-3.1.2-24",
      "the connection is closed exactly 1.5 x the keepalive after the last packet")
class KeepaliveExact(ProxyKeepalive):
    factor = 1.5


@mode("keepalive-zero-expires", "breaks", "MQS-3.1.2.10-keepalive-0",
      "a client with keepalive 0 is disconnected after 5 s without traffic")
class KeepaliveZeroExpires(Mode):
    def tick(self, r):
        if r.accepted and r.connect and r.connect["keepalive"] == 0 and \
                time.time() - r.last_in > 5:
            r.kill()


@mode("pingresp-missing", "breaks", "MQTT-3.12.4-1", "PINGREQ gets no PINGRESP")
class PingrespMissing(Mode):
    def b2c(self, r, p):
        return [] if p[0] >> 4 == PINGRESP else super().b2c(r, p)


@mode("pingresp-once", "breaks", "MQTT-3.12.4-1",
      "PINGREQs that arrive together (pipelined) get only one PINGRESP")
class PingrespOnce(Mode):
    def c2b(self, r, p):
        if p[0] >> 4 == PINGREQ:
            now = time.time()
            if now - r.state.get("last_pingreq", 0) < 0.005:
                r.state["unanswered"] = r.state.get("unanswered", 0) + 1
            r.state["last_pingreq"] = now
        return super().c2b(r, p)

    def b2c(self, r, p):
        if p[0] >> 4 == PINGRESP and r.state.get("unanswered"):
            r.state["unanswered"] -= 1
            return []
        return super().b2c(r, p)


# ---- will (3.1.2.5-3.1.2.7, 3.14.4)

def _will_edit(edit):
    def fix(self, r, d):
        if d["flags"] & 4 and not d["short"]:
            return edit(d)
        return False
    return fix


def _strip_will(d):
    d["flags"] &= ~0x3C
    d["will_topic"] = d["will_msg"] = None
    return True


@mode("will-never", "breaks", "MQTT-3.1.2-8", "the will is never published")
class WillNever(connect_rewriter(_will_edit(_strip_will))):
    pass


def _set_will_bits(mask, bits):
    """A will edit that sets the will bits under mask to bits (False if unchanged)."""
    def edit(d):
        new = (d["flags"] & ~mask) | bits
        changed, d["flags"] = new != d["flags"], new
        return changed
    return edit


@mode("will-retain-ignored", "breaks", "MQTT-3.1.2-17",
      "a will with Will Retain 1 is published as not retained")
class WillRetainIgnored(connect_rewriter(_will_edit(_set_will_bits(0x20, 0)))):
    pass


@mode("will-retain-forced", "breaks", "MQTT-3.1.2-16", "every will is published as retained")
class WillRetainForced(connect_rewriter(_will_edit(_set_will_bits(0x20, 0x20)))):
    pass


@mode("will-qos0", "breaks", "MQTT-3.1.2-9", "the will QoS is ignored: published at QoS 0")
class WillQos0(connect_rewriter(_will_edit(_set_will_bits(0x18, 0)))):
    pass


@mode("will-qos2", "breaks", "MQTT-3.1.2-9", "every will is published at QoS 2")
class WillQos2(connect_rewriter(_will_edit(_set_will_bits(0x18, 0x10)))):
    pass


@mode("will-on-disconnect", "breaks", "MQTT-3.14.4-3",
      "the will is published also after DISCONNECT")
class WillOnDisconnect(Mode):
    def c2b(self, r, p):
        if p[0] >> 4 == DISCONNECT and r.accepted:
            r.kill()
            return []
        return super().c2b(r, p)


@mode("will-network-only", "breaks", "MQTT-3.1.2-8",
      "the will is published only when the client closes the network connection, not when "
      "the broker closes it (keepalive expiry, protocol violation)")
class WillNetworkOnly(Mode):
    def c2b(self, r, p):
        if p[0] >> 4 == CONNECT and r.connects == 1:
            d = parse_connect(p)
            if d["flags"] & 4 and not d["short"] and (d["flags"] >> 3) & 3 != 3:
                r.state["will"] = (d["will_topic"], d["will_msg"], (d["flags"] >> 3) & 3,
                                   bool(d["flags"] & 0x20))
                _strip_will(d)
                return [build_connect(d)]
        return super().c2b(r, p)

    def b2c(self, r, p):
        if p[0] >> 4 == CONNACK and len(p) >= 4 and p[3]:
            r.state.pop("will", None)
        return super().b2c(r, p)

    def client_closed(self, r):
        will = r.state.pop("will", None)
        if will and r.accepted and not r.saw_disconnect and not r.state.get("taken_over"):
            topic, msg, qos, retain = will
            self.hub.side_session(r.port, [publish(topic, msg, qos, retain, pid=1)], r.version)


@mode("will-kept", "breaks", "MQTT-3.1.2-10",
      "a published will is not deleted: it is published again when the client's next "
      "connection (with no will) fails")
class WillKept(Mode):
    def c2b(self, r, p):
        if p[0] >> 4 == CONNECT and r.connects == 1:
            d = parse_connect(p)
            if d["flags"] & 4 and not d["short"] and d["cid"]:
                with self.hub.lock:
                    self.hub.wills[(r.port, d["cid"])] = (
                        d["will_topic"], d["will_msg"], min((d["flags"] >> 3) & 3, 2),
                        bool(d["flags"] & 0x20))
                r.state["own_will"] = True
        return super().c2b(r, p)

    def client_closed(self, r):
        if r.accepted and not r.saw_disconnect and not r.state.get("own_will") and r.cid:
            with self.hub.lock:
                will = self.hub.wills.get((r.port, r.cid))
            if will:
                topic, msg, qos, retain = will
                self.hub.side_session(r.port, [publish(topic, msg, qos, retain, pid=1)],
                                      r.version)


# ---- session (3.1.2.4, 4.1)

def _clean0_ignored(self, r, d):
    if not d["flags"] & 2 and d["cid"]:
        d["flags"] |= 2
        return True
    return False


@mode("session-clean0-ignored", "breaks", "MQTT-3.1.2-4",
      "clean session 0 is taken as 1: no session is kept")
class SessionClean0Ignored(connect_rewriter(_clean0_ignored)):
    pass


def _clean1_ignored(self, r, d):
    if d["flags"] & 2 and d["cid"]:
        d["flags"] &= ~2
        r.state["force_sp0"] = True
        return True
    return False


@mode("session-clean1-ignored", "breaks", "MQTT-3.1.2-6",
      "clean session 1 is taken as 0: the old session is resumed (Session Present still 0)")
class SessionClean1Ignored(connect_rewriter(_clean1_ignored)):
    def b2c(self, r, p):
        if p[0] >> 4 == CONNACK and len(p) >= 4 and r.state.get("force_sp0"):
            p[2] &= ~1
        return super().b2c(r, p)


class AfterResume(Mode):
    """Drops (and acknowledges) the queued messages sent just after a resumed CONNACK: those
    whose topic got no client PUBLISH since the resume (a message published after the
    client came back is a live one, even within the window)."""
    qos_levels = (0, 1, 2)

    def __init__(self, hub):
        super().__init__(hub)
        self.published_at = {}  # topic -> time of the last client PUBLISH to it

    def client_publish(self, r, p):
        pub = Pub.parse(p)
        if pub is not None:
            self.published_at[pub.topic] = time.time()
        return [p]

    def delivery(self, r, p, pub):
        if r.resumed and not pub.dup and pub.qos in self.qos_levels and \
                time.time() - r.accepted_at < RESUME_WINDOW and \
                self.published_at.get(pub.topic, 0.0) < r.accepted_at:
            r.drop_delivery(pub)
            return []
        return [p]


@mode("session-not-queued", "breaks", "MQTT-3.1.2-5",
      "QoS 1/2 messages published while a persistent client was offline are lost")
class SessionNotQueued(AfterResume):
    qos_levels = (1, 2)


@mode("session-qos0-not-queued", "allows", "MQTT-3.1.2-5",
      "QoS 0 messages are not queued for offline clients")
class SessionQos0NotQueued(AfterResume):
    qos_levels = (0,)


@mode("session-subs-lost", "breaks", "MQTT-3.1.2-4",
      "a resumed session has lost its subscriptions (and queued nothing)")
class SessionSubsLost(AfterResume):
    qos_levels = (1, 2)

    def b2c(self, r, p):
        out = super().b2c(r, p)
        if p[0] >> 4 == CONNACK and r.resumed and r.filters:
            pid = r.own_id()
            r.swallow.add((UNSUBACK, pid))
            r.to_broker(build_unsubscribe(pid, sorted(r.filters)))
            r.filters = {}
            r.save_filters()
        return out


# ---- subscribe / unsubscribe (3.8-3.11)

class SubackEdit(Mode):
    def b2c(self, r, p):
        if p[0] >> 4 == SUBACK:
            pid, codes = parse_suback(p)
            out = self.suback(r, pid, codes)
            if out is not None:
                return out
        return super().b2c(r, p)

    def suback(self, r, pid, codes):
        return None


@mode("suback-id", "breaks", "MQTT-3.8.4-2", "the SUBACK packet id is off by one bit")
class SubackId(SubackEdit):
    def suback(self, r, pid, codes):
        return [build_suback(pid ^ 1, codes)]


@mode("suback-bad-code", "breaks", "MQTT-3.9.3-2",
      "SUBACK says 3 where it grants QoS 0")
class SubackBadCode(SubackEdit):
    def suback(self, r, pid, codes):
        return [build_suback(pid, [3 if c == 0 else c for c in codes])]


@mode("suback-reversed", "breaks", "MQTT-3.9.3-1", "SUBACK return codes in reverse order")
class SubackReversed(SubackEdit):
    def suback(self, r, pid, codes):
        return [build_suback(pid, codes[::-1])]


@mode("suback-short", "breaks", "MQTT-3.8.4-5",
      "a multi-filter SUBACK lacks the last return code")
class SubackShort(SubackEdit):
    def suback(self, r, pid, codes):
        return [build_suback(pid, codes[:-1])] if len(codes) > 1 else None


@mode("suback-split", "breaks", "MQTT-3.8.4-4",
      "a multi-filter SUBSCRIBE is answered with one SUBACK per filter")
class SubackSplit(SubackEdit):
    def suback(self, r, pid, codes):
        return [build_suback(pid, [c]) for c in codes] if len(codes) > 1 else None


@mode("suback-qos-up", "breaks", "MQTT-3.8.4-5",
      "SUBACK grants QoS 2 whatever was requested (deliveries unchanged)")
class SubackQosUp(SubackEdit):
    def suback(self, r, pid, codes):
        return [build_suback(pid, [2 if c < 0x80 else c for c in codes])]


@mode("subscribe-first-only", "breaks", "MQTT-3.8.4-4",
      "only the first filter of a multi-filter SUBSCRIBE is subscribed (all are granted)")
class SubscribeFirstOnly(Mode):
    def c2b(self, r, p):
        if p[0] >> 4 == SUBSCRIBE:
            parsed = parse_subscribe(p)
            if parsed and len(parsed[1]) > 1 and all(filter_ok(f) for f, _ in parsed[1]):
                pid, subs = parsed
                r.state.setdefault("asked", {})[pid] = [min(q, 2) for _, q in subs]
                return [build_subscribe(pid, subs[:1])]
        return super().c2b(r, p)

    def b2c(self, r, p):
        if p[0] >> 4 == SUBACK:
            pid, codes = parse_suback(p)
            asked = r.state.get("asked", {}).pop(pid, None)
            if asked:
                return [build_suback(pid, codes + asked[1:])]
        return super().b2c(r, p)


@mode("suback-0x80-v31", "breaks", "MQTT31-SUBACK",
      "MQTT 3.1: an invalid filter gets return code 0x80 (which 3.1 does not have)")
class Suback80V31(Mode):
    def c2b(self, r, p):
        if p[0] >> 4 == SUBSCRIBE and r.version == 3:
            parsed = parse_subscribe(p)
            if parsed and not all(filter_ok(f) for f, _ in parsed[1]):
                pid, subs = parsed
                bad = [not filter_ok(f) for f, _ in subs]
                r.state.setdefault("bad", {})[pid] = bad
                good = [s for s, b in zip(subs, bad) if not b]
                if not good:
                    r.to_client(build_suback(pid, [0x80] * len(subs)))
                    return []
                return [build_subscribe(pid, good)]
        return super().c2b(r, p)

    def b2c(self, r, p):
        if p[0] >> 4 == SUBACK:
            pid, codes = parse_suback(p)
            bad = r.state.get("bad", {}).pop(pid, None)
            if bad:
                it = iter(codes)
                return [build_suback(pid, [0x80 if b else next(it, 0x80) for b in bad])]
        return super().b2c(r, p)


@mode("subscribe-invalid-granted", "breaks", "MQTT-4.7.1-2",
      "an invalid filter (MQTT 3.1.1) is granted as if it were valid (it matches nothing)")
class SubscribeInvalidGranted(Mode):
    def c2b(self, r, p):
        if p[0] >> 4 == SUBSCRIBE and r.version == 4:
            parsed = parse_subscribe(p)
            if parsed and not all(filter_ok(f) for f, _ in parsed[1]):
                pid, subs = parsed
                subs = [(f if filter_ok(f) else b"mqsproxy/never/%d" % i, q)
                        for i, (f, q) in enumerate(subs)]
                return [build_subscribe(pid, subs)]
        return super().c2b(r, p)


@mode("subscribe-invalid-80", "allows", "MQTT-3.8.4-5",
      "an invalid filter (MQTT 3.1.1) gets return code 0x80, the valid ones are subscribed")
class SubscribeInvalid80(Mode):
    def c2b(self, r, p):
        if p[0] >> 4 == SUBSCRIBE and r.version == 4:
            parsed = parse_subscribe(p)
            if parsed and parsed[1] and not all(filter_ok(f) for f, _ in parsed[1]) and \
                    all(utf8_ok(f) or not f for f, _ in parsed[1]) and \
                    all(q <= 2 for _, q in parsed[1]):
                pid, subs = parsed
                bad = [not filter_ok(f) for f, _ in subs]
                r.state.setdefault("bad", {})[pid] = bad
                good = [s for s, b in zip(subs, bad) if not b]
                if not good:
                    r.to_client(build_suback(pid, [0x80] * len(subs)))
                    return []
                return [build_subscribe(pid, good)]
        return super().c2b(r, p)

    def b2c(self, r, p):
        if p[0] >> 4 == SUBACK:
            pid, codes = parse_suback(p)
            bad = r.state.get("bad", {}).pop(pid, None)
            if bad:
                it = iter(codes)
                return [build_suback(pid, [0x80 if b else next(it, 0x80) for b in bad])]
        return super().b2c(r, p)


@mode("subscribe-invalid-close", "allows", "MQTT-4.8.0-1",
      "a SUBSCRIBE with an invalid filter (MQTT 3.1.1) closes the connection")
class SubscribeInvalidClose(Mode):
    def c2b(self, r, p):
        if p[0] >> 4 == SUBSCRIBE and r.version == 4:
            parsed = parse_subscribe(p)
            if parsed and not all(filter_ok(f) for f, _ in parsed[1]):
                r.kill()
                return []
        return super().c2b(r, p)


@mode("subscribe-not-replaced", "breaks", "MQTT-3.8.4-3",
      "subscribing again to an identical filter adds a second subscription: each message "
      "is delivered twice")
class SubscribeNotReplaced(Mode):
    def c2b(self, r, p):
        if p[0] >> 4 == SUBSCRIBE:
            parsed = parse_subscribe(p)
            if parsed:
                r.state.setdefault("twice", set()).update(
                    f for f, _ in parsed[1] if f in r.filters)
        return super().c2b(r, p)

    def delivery(self, r, p, pub):
        if not pub.retain and any(matches(f, pub.topic) for f in r.state.get("twice", ())):
            return [p, publish(pub.topic, pub.payload)]
        return [p]


@mode("overlap-lowest", "breaks", "MQTT-3.3.5-1",
      "a message matching overlapping subscriptions is delivered once, at the LOWEST "
      "granted QoS")
class OverlapLowest(Mode):
    def delivery(self, r, p, pub):
        granted = [q for f, q in r.filters.items() if matches(f, pub.topic)]
        if len(granted) > 1 and pub.qos > min(granted):
            seen = r.state.setdefault("seen", [])
            key = (pub.topic, pub.payload)
            if key in seen:
                r.drop_delivery(pub)
                return []
            seen.append(key)
            return [r.downgrade(pub, min(granted)).build()]
        if len(granted) > 1:
            seen = r.state.setdefault("seen", [])
            key = (pub.topic, pub.payload)
            if key in seen:
                r.drop_delivery(pub)
                return []
            seen.append(key)
        return [p]


@mode("overlap-twice", "allows", "MQTT-3.3.5-1",
      "a message matching overlapping subscriptions is delivered once per subscription")
class OverlapTwice(Mode):
    def delivery(self, r, p, pub):
        granted = [q for f, q in r.filters.items() if matches(f, pub.topic)]
        if len(granted) > 1 and not pub.retain and not pub.dup:
            return [p] + [publish(pub.topic, pub.payload) for q in granted if q == 0][:1]
        return [p]


@mode("unsuback-missing", "breaks", "MQTT-3.10.4-5",
      "an UNSUBSCRIBE that matches no subscription gets no UNSUBACK")
class UnsubackMissing(Mode):
    def c2b(self, r, p):
        if p[0] >> 4 == UNSUBSCRIBE:
            parsed = parse_unsubscribe(p)
            if parsed and not any(f in r.filters for f in parsed[1]):
                r.state.setdefault("nomatch", set()).add(parsed[0])
        return super().c2b(r, p)

    def b2c(self, r, p):
        if p[0] >> 4 == UNSUBACK and ack_id(p) in r.state.get("nomatch", ()):
            r.state["nomatch"].discard(ack_id(p))
            return []
        return super().b2c(r, p)


@mode("unsuback-id", "breaks", "MQTT-3.10.4-4", "the UNSUBACK packet id is off by one bit")
class UnsubackId(Mode):
    def b2c(self, r, p):
        if p[0] >> 4 == UNSUBACK:
            return [ack(UNSUBACK, ack_id(p) ^ 1)]
        return super().b2c(r, p)


@mode("unsubscribe-wildcard", "breaks", "MQTT-3.10.4-1",
      "UNSUBSCRIBE filters are matched as wildcards against the subscriptions")
class UnsubscribeWildcard(Mode):
    def c2b(self, r, p):
        if p[0] >> 4 == UNSUBSCRIBE:
            parsed = parse_unsubscribe(p)
            if parsed and all(filter_ok(f) for f in parsed[1]):
                pid, filters = parsed
                extra = [f for f in r.filters if f not in filters and
                         any(matches(u, f.replace(b"+", b"x").replace(b"#", b"x"))
                             or u.lower() == f.lower() for u in filters)]
                for f in extra:
                    r.filters.pop(f, None)
                return [build_unsubscribe(pid, filters + extra)]
        return super().c2b(r, p)


@mode("unsubscribe-ignored", "breaks", "MQTT-3.10.4-2",
      "UNSUBSCRIBE is acknowledged but the subscription stays")
class UnsubscribeIgnored(Mode):
    def c2b(self, r, p):
        if p[0] >> 4 == UNSUBSCRIBE:
            parsed = parse_unsubscribe(p)
            if parsed and parsed[1] and all(filter_ok(f) for f in parsed[1]):
                r.to_client(ack(UNSUBACK, parsed[0]))
                return []
        return super().c2b(r, p)


@mode("unsubscribe-first-only", "breaks", "MQTT-3.10.4-6",
      "only the first filter of a multi-filter UNSUBSCRIBE is unsubscribed")
class UnsubscribeFirstOnly(Mode):
    def c2b(self, r, p):
        if p[0] >> 4 == UNSUBSCRIBE:
            parsed = parse_unsubscribe(p)
            if parsed and len(parsed[1]) > 1 and all(filter_ok(f) for f in parsed[1]):
                return [build_unsubscribe(parsed[0], parsed[1][:1])]
        return super().c2b(r, p)


@mode("unsubscribe-drops-inflight", "breaks", "MQTT-3.10.4-3",
      "after UNSUBSCRIBE, QoS 2 deliveries in flight are abandoned (no PUBREL)")
class UnsubscribeDropsInflight(Mode):
    def c2b(self, r, p):
        if p[0] >> 4 == UNSUBSCRIBE:
            r.state["unsubscribed"] = True
        return super().c2b(r, p)

    def b2c(self, r, p):
        if p[0] >> 4 == PUBREL and r.state.get("unsubscribed"):
            r.to_broker(ack(PUBCOMP, ack_id(p)))
            return []
        return super().b2c(r, p)


# ---- topics (4.7)

class Matcher(Mode):
    """Routes as a broker with a buggy matcher would: deliveries the correct matcher
    makes but the buggy one does not are dropped; copies (QoS 0) go to connections whose
    filters the buggy matcher matches but the correct one does not."""

    def buggy(self, f, topic):
        return matches(f, topic)

    def delivery(self, r, p, pub):
        filters = list(r.filters)
        right = [f for f in filters if matches(f, pub.topic)]
        if right and not any(self.buggy(f, pub.topic) for f in filters):
            r.drop_delivery(pub)
            return []
        return [self.rewrite(pub, p)]

    def rewrite(self, pub, p):
        return p

    def client_publish(self, r, p):
        pub = Pub.parse(p)
        if pub is not None and pub.qos < 3 and filter_ok(pub.topic) and \
                b"+" not in pub.topic and b"#" not in pub.topic:
            for other in self.hub.live():
                if other.port != r.port:
                    continue
                filters = list(other.filters)
                if any(self.buggy(f, pub.topic) for f in filters) and \
                        not any(matches(f, pub.topic) for f in filters):
                    other.to_client(publish(self.rewrite_topic(pub.topic), pub.payload))
        return [p]

    def rewrite_topic(self, topic):
        return topic


@mode("topic-plus-multi", "breaks", "MQTT-4.7.1-3", "'+' matches one or more levels")
class TopicPlusMulti(Matcher):
    def buggy(self, f, topic):
        return matches(f, topic, plus_multi=True)


@mode("topic-plus-nonempty", "breaks", "MQTT-4.7.1-3", "'+' does not match an empty level")
class TopicPlusNonempty(Matcher):
    def buggy(self, f, topic):
        return matches(f, topic, plus_empty=False)


@mode("topic-hash-no-parent", "breaks", "MQTT-4.7.1-2",
      "'a/#' does not match the parent level 'a'")
class TopicHashNoParent(Matcher):
    def buggy(self, f, topic):
        return matches(f, topic, hash_parent=False)


@mode("topic-prefix", "breaks", "MQTT-3.3.2-3",
      "a filter also matches every topic below it ('a' matches 'a/b')")
class TopicPrefix(Matcher):
    def buggy(self, f, topic):
        return matches(f, topic, prefix=True)


@mode("topic-dollar-wild", "breaks", "MQTT-4.7.2-1",
      "filters starting with '+' or '#' match topics starting with '$' (also $SYS)")
class TopicDollarWild(Matcher):
    def buggy(self, f, topic):
        return matches(f, topic, dollar=False)

    def c2b(self, r, p):
        out = super().c2b(r, p)
        if p[0] >> 4 == SUBSCRIBE:
            parsed = parse_subscribe(p)
            extra = []
            for f, _ in (parsed[1] if parsed else []):
                if f[:1] in (b"+", b"#") and filter_ok(f):
                    extra.append((b"$SYS/#" if f[:1] == b"#" else b"$SYS" + f[1:], 0))
            if extra:
                pid = r.own_id()
                r.swallow.add((SUBACK, pid))
                out.append(build_subscribe(pid, extra))
        return out


def fold(topic, case=False, slashes=False, bom=False):
    if case:
        topic = topic.lower()
    if bom:
        topic = topic.replace(b"\xef\xbb\xbf", b"")
    if slashes:
        topic = b"/".join(lv for lv in topic.split(b"/") if lv) or b"/"
    return topic


@mode("topic-case", "breaks", "MQTT-4.7.3-4", "topics are matched case-insensitively")
class TopicCase(Matcher):
    def buggy(self, f, topic):
        return matches(fold(f, case=True), fold(topic, case=True))


@mode("topic-slashes", "breaks", "MQTT-4.7.3-4",
      "empty levels are dropped before matching ('a//b' = 'a/b', '/a' = 'a', 'a/' = 'a')")
class TopicSlashes(Matcher):
    def buggy(self, f, topic):
        return matches(fold(f, slashes=True), fold(topic, slashes=True))


@mode("topic-unicode-nfc", "breaks", "MQTT-4.7.3-4",
      "topics are matched after Unicode normalisation (NFKC)")
class TopicUnicodeNfc(Matcher):
    @staticmethod
    def norm(b):
        try:
            return unicodedata.normalize("NFKC", b.decode("utf-8")).encode("utf-8")
        except UnicodeDecodeError:
            return b

    def buggy(self, f, topic):
        return matches(self.norm(f), self.norm(topic))


@mode("topic-bom-stripped", "breaks", "MQTT-1.5.3-3",
      "a BOM (EF BB BF) in a topic is stripped: matched and delivered without it")
class TopicBomStripped(Matcher):
    def buggy(self, f, topic):
        return matches(fold(f, bom=True), fold(topic, bom=True))

    def rewrite(self, pub, p):
        if b"\xef\xbb\xbf" in pub.topic:
            pub.topic = fold(pub.topic, bom=True)
            return pub.build()
        return p

    def rewrite_topic(self, topic):
        return fold(topic, bom=True)


@mode("topic-deep-dropped", "breaks", "MQTT-3.3.2-3",
      "topics with more than 100 levels are not delivered")
class TopicDeepDropped(Mode):
    def delivery(self, r, p, pub):
        if pub.topic.count(b"/") >= 100:
            r.drop_delivery(pub)
            return []
        return [p]


@mode("topic-long-truncated", "breaks", "MQTT-3.3.2-3",
      "topic names are cut to 32767 bytes on delivery")
class TopicLongTruncated(Mode):
    def delivery(self, r, p, pub):
        if len(pub.topic) > 32767:
            pub.topic = pub.topic[:32767]
            return [pub.build()]
        return [p]


# ---- malformed packets accepted (4.8, 2.2.2, 3.3.2, 1.5.3)

class Accept(Mode):
    """A broker that lets a malformed client packet through: fix(r, p) returns the
    packets for the broker (a repaired packet, or [] to ignore it), or None when p is
    not the malformed kind this mode is about."""

    def fix(self, r, p):
        return None

    def c2b(self, r, p):
        if r.accepted:
            fixed = self.fix(r, p)
            if fixed is not None:
                return fixed
        return super().c2b(r, p)


@mode("accept-qos3", "breaks", "MQTT-3.3.1-4", "a PUBLISH with QoS 3 is taken as QoS 1")
class AcceptQos3(Accept):
    def fix(self, r, p):
        if p[0] >> 4 == PUBLISH and (p[0] >> 1) & 3 == 3:
            p[0] &= ~4
            return [p]
        return None


def _repair_topic(r, p, bad, repair):
    if p[0] >> 4 != PUBLISH:
        return None
    pub = Pub.parse(p)
    if pub is None or not bad(pub.topic):
        return None
    pub.topic = repair(pub.topic)
    return [pub.build()]


@mode("accept-wildcard-topic", "breaks", "MQTT-3.3.2-2",
      "a PUBLISH topic with '+' or '#' is accepted (the wildcards taken as '_')")
class AcceptWildcardTopic(Accept):
    def fix(self, r, p):
        return _repair_topic(r, p, lambda t: b"+" in t or b"#" in t,
                             lambda t: t.replace(b"+", b"_").replace(b"#", b"_"))


@mode("accept-empty-topic", "breaks", "MQTT-4.7.3-1",
      "a PUBLISH with an empty topic is acknowledged and dropped")
class AcceptEmptyTopic(Accept):
    def fix(self, r, p):
        if p[0] >> 4 == PUBLISH:
            pub = Pub.parse(p)
            if pub is not None and pub.topic == b"":
                if pub.qos == 1:
                    r.to_client(ack(PUBACK, pub.pid))
                elif pub.qos == 2:
                    r.to_client(ack(PUBREC, pub.pid))
                    r.state.setdefault("own_rel", set()).add(pub.pid)
                return []
        if p[0] >> 4 == PUBREL and ack_id(p) in r.state.get("own_rel", ()):
            r.to_client(ack(PUBCOMP, ack_id(p)))
            return []
        return None


@mode("accept-bad-utf8", "breaks", "MQTT-1.5.3-1",
      "ill-formed UTF-8 (or U+0000) in topics and filters is accepted (replaced by '_')")
class AcceptBadUtf8(Accept):
    def fix(self, r, p):
        kind = p[0] >> 4
        if kind == PUBLISH:
            return _repair_topic(r, p, lambda t: not utf8_ok(t), _sanitize)
        if kind == SUBSCRIBE:
            parsed = parse_subscribe(p, strict=False)
            if parsed and not all(utf8_ok(f) for f, _ in parsed[1]):
                return [build_subscribe(parsed[0], [(_sanitize(f), q) for f, q in parsed[1]])]
        if kind == UNSUBSCRIBE:
            parsed = parse_unsubscribe(p, strict=False)
            if parsed and not all(utf8_ok(f) for f in parsed[1]):
                return [build_unsubscribe(parsed[0], [_sanitize(f) for f in parsed[1]])]
        return None


@mode("accept-nul", "breaks", "MQTT-1.5.3-2",
      "U+0000 in a PUBLISH topic or a filter is accepted (taken as '_')")
class AcceptNul(Accept):
    def fix(self, r, p):
        kind = p[0] >> 4
        if kind == PUBLISH:
            return _repair_topic(r, p, lambda t: b"\0" in t, lambda t: t.replace(b"\0", b"_"))
        if kind == SUBSCRIBE:
            parsed = parse_subscribe(p, strict=False)
            if parsed and any(b"\0" in f for f, _ in parsed[1]):
                return [build_subscribe(parsed[0],
                                        [(f.replace(b"\0", b"_"), q) for f, q in parsed[1]])]
        if kind == UNSUBSCRIBE:
            parsed = parse_unsubscribe(p, strict=False)
            if parsed and any(b"\0" in f for f in parsed[1]):
                return [build_unsubscribe(parsed[0], [f.replace(b"\0", b"_") for f in parsed[1]])]
        return None


def _accept_flags(kind, want):
    class AcceptFlags(Accept):
        def fix(self, r, p):
            if p[0] >> 4 == kind and p[0] & 15 != want:
                p[0] = kind << 4 | want
                return [p]
            return None
    return AcceptFlags


@mode("accept-subscribe-flags", "breaks", "MQTT-3.8.1-1",
      "SUBSCRIBE fixed-header flags other than 0010 are accepted")
class AcceptSubscribeFlags(_accept_flags(SUBSCRIBE, 2)):
    pass


@mode("accept-unsubscribe-flags", "breaks", "MQTT-3.10.1-1",
      "UNSUBSCRIBE fixed-header flags other than 0010 are accepted")
class AcceptUnsubscribeFlags(_accept_flags(UNSUBSCRIBE, 2)):
    pass


@mode("accept-pubrel-flags", "breaks", "MQTT-3.6.1-1",
      "PUBREL fixed-header flags other than 0010 are accepted")
class AcceptPubrelFlags(_accept_flags(PUBREL, 2)):
    pass


@mode("accept-disconnect-flags", "breaks", "MQTT-3.14.1-1",
      "DISCONNECT with reserved flags set is taken as a normal DISCONNECT")
class AcceptDisconnectFlags(_accept_flags(DISCONNECT, 0)):
    pass


@mode("accept-connect-flags", "breaks", "MQTT-2.2.2-2",
      "CONNECT fixed-header flags other than 0000 are accepted")
class AcceptConnectFlags(Mode):
    def c2b(self, r, p):
        if p[0] >> 4 == CONNECT and p[0] & 15:
            p[0] = CONNECT << 4
        return super().c2b(r, p)


@mode("accept-id-zero", "breaks", "MQTT-2.3.1-1",
      "packet id 0 in PUBLISH, SUBSCRIBE and UNSUBSCRIBE is accepted")
class AcceptIdZero(Accept):
    def fix(self, r, p):
        kind = p[0] >> 4
        if kind == PUBLISH:
            pub = Pub.parse(p)
            if pub is not None and pub.qos in (1, 2) and pub.pid == 0:
                pub.pid = 0x7FF0
                r.state["zero"] = True
                return [pub.build()]
        elif kind in (SUBSCRIBE, UNSUBSCRIBE) and len(p) >= 4 and ack_id(p) == 0:
            set_id(p, body_start(p), 0x7FF0)
            r.state["zero"] = True
            return [p]
        elif kind == PUBREL and len(p) >= 4 and ack_id(p) == 0:
            set_id(p, body_start(p), 0x7FF0)
            return [p]
        return None

    def b2c(self, r, p):
        if p[0] >> 4 in (PUBACK, PUBREC, PUBCOMP, SUBACK, UNSUBACK) and len(p) >= 4 \
                and ack_id(p) == 0x7FF0 and r.state.get("zero"):
            set_id(p, body_start(p), 0)
        return super().b2c(r, p)


@mode("accept-empty-subscribe", "breaks", "MQTT-3.8.3-3",
      "SUBSCRIBE and UNSUBSCRIBE without filters are acknowledged")
class AcceptEmptySubscribe(Accept):
    def fix(self, r, p):
        kind = p[0] >> 4
        if kind == SUBSCRIBE:
            parsed = parse_subscribe(p, strict=False)
            if parsed and not parsed[1]:
                r.to_client(build_suback(parsed[0], []))
                return []
        if kind == UNSUBSCRIBE:
            parsed = parse_unsubscribe(p, strict=False)
            if parsed and not parsed[1]:
                r.to_client(ack(UNSUBACK, parsed[0]))
                return []
        return None


@mode("accept-bad-sub-qos", "breaks", "MQTT-3.8.3-4",
      "a requested QoS of 3, or with reserved bits, is taken as QoS (byte & 3, at most 2)")
class AcceptBadSubQos(Accept):
    def fix(self, r, p):
        if p[0] >> 4 == SUBSCRIBE:
            parsed = parse_subscribe(p, strict=False)
            if parsed and any(q > 2 for _, q in parsed[1]):
                return [build_subscribe(parsed[0], [(f, min(q & 3, 2)) for f, q in parsed[1]])]
        return None


@mode("accept-reserved-type", "breaks", "MQTT-4.8.0-1",
      "packets of the reserved types 0 and 15 are ignored")
class AcceptReservedType(Accept):
    def fix(self, r, p):
        return [] if p[0] >> 4 in (0, 15) else None


@mode("accept-short-strings", "breaks", "MQTT-4.8.0-1",
      "a packet whose string runs past its end is ignored (the connection stays open)")
class AcceptShortStrings(Accept):
    def fix(self, r, p):
        kind = p[0] >> 4
        if kind == PUBLISH and Pub.parse(p) is None:
            return []
        if kind == SUBSCRIBE and parse_subscribe(p, strict=False) is None:
            return []
        if kind == UNSUBSCRIBE and parse_unsubscribe(p, strict=False) is None:
            return []
        return None


@mode("accept-long-length", "breaks", "MQTT-4.8.0-1",
      "a Remaining Length of 5 bytes is not refused: the connection hangs")
class AcceptLongLength(Mode):
    def client_raw(self, r, raw):
        pass


@mode("accept-malformed-connect", "breaks", "MQTT-3.1.4-1",
      "a CONNECT whose Remaining Length disagrees with its fields is taken as far as it "
      "goes")
class AcceptMalformedConnect(Mode):
    def c2b(self, r, p):
        if p[0] >> 4 == CONNECT and r.connects == 1:
            d = parse_connect(p)
            if d["name"] in (b"MQTT", b"MQIsdp") and d["cid"] is not None and \
                    (d["short"] or d["extra"]) and not d["flags"] & 0xC4:
                d["flags"] = clean_connect_flags(d) | (d["flags"] & 1)
                d["extra"] = b""
                return [build_connect(d)]
        return super().c2b(r, p)


# ---- payload

class PayloadEdit(Mode):
    def delivery(self, r, p, pub):
        new = self.edit(pub.payload, len(p) - body_start(p))
        if new is None or new == pub.payload:
            return [p]
        pub.payload = new
        return [pub.build()]

    def edit(self, payload, remaining_length):
        return None


@mode("payload-cut-2byte-length", "breaks", "MQS-PAYLOAD-UNCHANGED",
      "deliveries with a Remaining Length of 128 or more lose the last payload byte")
class PayloadCut2(PayloadEdit):
    def edit(self, payload, rl):
        return payload[:-1] if rl >= 128 and payload else None


@mode("payload-cut-3byte-length", "breaks", "MQS-PAYLOAD-UNCHANGED",
      "deliveries with a Remaining Length of 16384 or more lose the last payload byte")
class PayloadCut3(PayloadEdit):
    def edit(self, payload, rl):
        return payload[:-1] if rl >= 16384 and payload else None


@mode("payload-cut-4byte-length", "breaks", "MQS-PAYLOAD-UNCHANGED",
      "deliveries with a Remaining Length of 2097152 or more lose the last payload byte")
class PayloadCut4(PayloadEdit):
    def edit(self, payload, rl):
        return payload[:-1] if rl >= 2097152 and payload else None


@mode("payload-nul-cut", "breaks", "MQS-PAYLOAD-UNCHANGED",
      "payloads are cut at the first 0x00 byte (a C string)")
class PayloadNulCut(PayloadEdit):
    def edit(self, payload, rl):
        return payload.split(b"\0")[0] if b"\0" in payload else None


@mode("payload-text", "breaks", "MQS-PAYLOAD-UNCHANGED",
      "payloads that are not UTF-8 are mangled (bad bytes replaced by '?')")
class PayloadText(PayloadEdit):
    def edit(self, payload, rl):
        if len(payload) > 65536:
            return None
        try:
            payload.decode("utf-8")
            return None
        except UnicodeDecodeError:
            return payload.decode("utf-8", "replace").encode("utf-8").replace(
                b"\xef\xbf\xbd", b"?")


@mode("payload-empty-dropped", "breaks", "MQS-PAYLOAD-UNCHANGED",
      "messages with an empty payload are not delivered (unless retained)")
class PayloadEmptyDropped(Mode):
    def delivery(self, r, p, pub):
        if not pub.payload and not pub.retain:
            r.drop_delivery(pub)
            return []
        return [p]


@mode("payload-limit-4mib", "allows", "MQS-PAYLOAD-UNCHANGED",
      "PUBLISH packets over 4 MiB are refused by closing the connection (a size limit)")
class PayloadLimit(Mode):
    def client_publish(self, r, p):
        if len(p) > (4 << 20):
            r.kill()
            return []
        return [p]


# ---- transport behaviour a correct broker may show

@mode("latency", "allows", "MQTT-7.1.1-1", "every packet is delayed by 40 ms")
class Latency(Mode):
    delay = 0.04


@mode("fragment", "allows", "MQTT-7.1.1-1",
      "packets to the client are written in 3-byte pieces (large ones in 64 KiB pieces)")
class Fragment(Mode):
    def write_client(self, r, q):
        step = 3 if len(q) < 512 else 1024
        for i in range(0, len(q), step):
            r.to_client(q[i:i + step])
            time.sleep(0.001 if step == 3 else 0)


@mode("coalesce", "allows", "MQTT-7.1.1-1",
      "packets to the client are gathered for 30 ms and written together")
class Coalesce(Mode):
    def write_client(self, r, q):
        buf = r.state.setdefault("buf", bytearray())
        if not buf:
            r.state["since"] = time.time()
        buf += q

    def tick(self, r, flush=False):
        buf = r.state.get("buf")
        if buf and (flush or time.time() - r.state["since"] > 0.03):
            r.state["buf"] = bytearray()
            r.to_client(buf)

    def drain(self, r):
        self.tick(r, flush=True)


@mode("suback-late", "allows", "MQTT-3.8.4-1",
      "a SUBACK is sent after the packet that follows it, e.g. after the retained messages")
class SubackLate(Mode):
    def b2c(self, r, p):
        if (p[0] >> 4 == SUBACK and r.held is None) or r.held is not None:
            return r.hold_or_swap(p)
        return super().b2c(r, p)


# ---------------------------------------------------------------- main

def serve(hub, listener, upstream_port):
    while True:
        client, _ = listener.accept()
        try:
            relay = Relay(hub, client, upstream_port)
        except OSError:
            client.close()
            continue
        threading.Thread(target=relay.run, daemon=True).start()


def main():
    if sys.argv[1:] == ["--list"]:
        for name, cls in MODES.items():
            print("\t".join([name, cls.kind, cls.rule, cls.text]))
        return
    if len(sys.argv) < 4 or sys.argv[1] not in MODES:
        sys.exit("usage: mutant_proxy.py MODE PORTFILE UPSTREAM_PORT... | --list")
    hub = Hub(None)
    hub.mode = MODES[sys.argv[1]](hub)
    ports = []
    for upstream in sys.argv[3:]:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        ports.append(str(listener.getsockname()[1]))
        threading.Thread(target=serve, args=(hub, listener, int(upstream)), daemon=True).start()
    with open(sys.argv[2] + ".tmp", "w") as f:
        f.write("\n".join(ports) + "\n")
    os.rename(sys.argv[2] + ".tmp", sys.argv[2])
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
