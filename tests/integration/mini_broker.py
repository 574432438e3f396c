#!/usr/bin/env python3
"""mini_broker.py — a small MQTT 3.1 / 3.1.1 broker that can break one rule on purpose, to
check that the keepalive, will and session scenarios notice (and that they accept what the
specification allows).

  mini_broker.py serve MODE PORTFILE   run the broker in MODE on a free loopback port
                                       (written to PORTFILE) until SIGTERM
  mini_broker.py check [MQTTSPEC]      run mqttspec against every mode and check the
                                       verdicts; exit status = number of failed checks

The broker knows just enough MQTT for these areas: CONNECT (sessions, wills, keepalive,
takeover), SUBSCRIBE (the requested QoS is granted), UNSUBSCRIBE, PUBLISH at QoS 0/1/2 both
ways, retained messages, PINGREQ and DISCONNECT. A PUBLISH with QoS 3 or a reserved packet
type closes the connection as a protocol error. No TLS, no authentication, loopback only.

Modes the specification allows (every keepalive/will/session case must be PASS or INFO):
  correct           prompt keepalive checks, the old will on a takeover, no QoS 0 queueing
  slow-keepalive    keepalives checked every 5 s in whole seconds, as mosquitto 2.0 does
  takeover-no-will  no will when a takeover closes the old connection
  queue-qos0        QoS 0 messages are queued for offline clients too
Modes that break a rule (the named scenarios' MQTT 3.1.1 cases must FAIL): see BREAKS.
"""
import asyncio
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time

CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT = 8, 9, 10, 11, 12, 13, 14

ALLOWED = ["correct", "slow-keepalive", "takeover-no-will", "queue-qos0"]

# mode -> scenarios whose 3.1.1 case must FAIL
BREAKS = {
    "ka-never": ["keepalive.expiry"],                      # no keepalive timeout at all
    "ka-outbound": ["keepalive.expiry"],                   # its own writes count as activity
    "ka-from-connect": ["keepalive.pingreq-keeps-open",    # timed from CONNECT, not the
                        "keepalive.publish-keeps-open"],   # last packet
    "ka-ping-ignored": ["keepalive.pingreq-keeps-open"],   # PINGREQ does not reset the timer
    "ka-ping-only": ["keepalive.publish-keeps-open"],      # only PINGREQ resets it
    "ka-zero-expires": ["keepalive.zero-never-expires"],   # keepalive 0 times out
    "ka-no-will": ["keepalive.expiry"],                    # keepalive expiry drops the will
    "ping-some": ["keepalive.pingresp"],                   # every third PINGREQ unanswered
    "will-never": ["will.abrupt-close", "will.fin-close", "will.qos-1", "will.retain-1"],
    "will-on-disconnect": ["will.not-after-disconnect", "will.no-will-flag"],
    "will-sticky": ["will.published-once"],                # the will stays with the session
    "will-retain-ignored": ["will.retain-1"],              # retained will not stored
    "will-retain-forced": ["will.retain-0"],               # every will stored as retained
    "will-qos-kept": ["will.qos-1", "will.qos-2"],         # will QoS not lowered to granted
    "violation-no-will": ["will.protocol-violation"],      # protocol error drops the will
    "disconnect-flags-ignored": ["malformed.disconnect-flags"],
    "takeover-keeps-old": ["will.takeover"],               # the old connection stays open
    "takeover-both-wills": ["will.takeover"],              # the new connection's will too
    "clean1-resumes": ["session.clean1-after-clean0"],     # Clean Session 1 takes the session
    "clean1-persists": ["session.clean1-discards"],        # Clean Session 1 session kept
    "sp-inverted": ["session.clean0-resumes", "session.queued-qos1"],
    "no-persist": ["session.clean0-resumes", "session.queued-qos1", "session.queued-qos2"],
    "no-queue": ["session.queued-qos1", "session.queued-qos2", "session.keyed-by-client-id"],
    "queue-last-only": ["session.queued-qos1"],
    "queue-at-qos0": ["session.queued-qos1", "session.queued-qos2"],
    "session-by-user": ["session.keyed-by-client-id"],     # all anonymous clients share one
    "acks-ignored": ["session.queued-qos1", "session.queued-qos2"],
    "no-redelivery": ["session.queued-redelivered"],
    "redeliver-no-dup": ["session.queued-redelivered"],
    "redeliver-new-id": ["session.queued-redelivered"],
}

MODE = "correct"
sessions = {}   # session key -> Session
retained = {}   # topic -> (payload, qos)


def bug(name):
    return MODE == name


def topic_matches(topic_filter, topic):
    fl, tl = topic_filter.split("/"), topic.split("/")
    for i, part in enumerate(fl):
        if part == "#":
            return True
        if i >= len(tl) or (part != "+" and part != tl[i]):
            return False
    return len(fl) == len(tl)


def packet(first, body=b""):
    """A whole packet: fixed header byte, Remaining Length, body."""
    n, rl = len(body), b""
    while True:
        digit, n = n % 128, n // 128
        rl += bytes([digit | (0x80 if n else 0)])
        if not n:
            return bytes([first]) + rl + body


def u16(v):
    return struct.pack(">H", v)


def mqtt_str(b):
    return u16(len(b)) + b


class Session:
    def __init__(self, key):
        self.key = key
        self.subs = {}          # filter -> granted QoS
        self.queue = []         # (topic, payload, qos) waiting for the client
        self.inflight = {}      # packet id -> [topic, payload, qos, "publish" | "pubrel"]
        self.last_id = 0
        self.persistent = False
        self.conn = None
        self.will = None        # will-sticky only

    def next_id(self):
        while True:
            self.last_id = self.last_id % 65535 + 1
            if self.last_id not in self.inflight:
                return self.last_id


class Conn:
    def __init__(self, writer):
        self.writer = writer
        self.session = None
        self.will = None        # (topic, payload, qos, retain)
        self.level = 4
        self.keepalive = 0
        self.connected_at = self.last_in = time.monotonic()
        self.closed = False
        self.pings = 0

    def send(self, data):
        if not self.closed:
            self.writer.write(data)
            if bug("ka-outbound"):
                self.last_in = time.monotonic()

    def close(self, publish_will=True):
        """Ends the connection; publishes the will unless it was discarded."""
        if self.closed:
            return
        self.closed = True
        will, self.will = self.will, None
        if bug("will-sticky") and will and self.session:
            self.session.will = will
        if will and publish_will and not bug("will-never"):
            topic, payload, qos, retain = will
            publish(topic, payload, qos, (retain and not bug("will-retain-ignored"))
                    or bug("will-retain-forced"), is_will=True)
        s = self.session
        if s and s.conn is self:
            s.conn = None
            if not s.persistent:
                sessions.pop(s.key, None)
            elif bug("no-redelivery"):
                s.inflight.clear()
        self.writer.close()


def send_publish(s, topic, payload, qos, retain=False, dup=False, pid=None):
    if qos and pid is None:
        pid = s.next_id()
    if qos:
        s.inflight[pid] = [topic, payload, qos, "publish"]
    first = (PUBLISH << 4) | (0x08 if dup else 0) | (qos << 1) | (1 if retain else 0)
    body = mqtt_str(topic.encode()) + (u16(pid) if qos else b"") + payload
    s.conn.send(packet(first, body))


def publish(topic, payload, qos, retain, is_will=False):
    """The broker takes ownership of a message: retain it and hand it to every session."""
    if retain:
        if payload:
            retained[topic] = (payload, qos)
        else:
            retained.pop(topic, None)
    for s in list(sessions.values()):
        granted = [g for f, g in s.subs.items() if topic_matches(f, topic)]
        if not granted:
            continue
        q = qos if (is_will and bug("will-qos-kept")) else min(qos, max(granted))
        if s.conn is not None:
            send_publish(s, topic, payload, q)
        elif (q > 0 or bug("queue-qos0")) and not bug("no-queue"):
            if bug("queue-last-only"):
                s.queue.clear()
            s.queue.append((topic, payload, q))


def parse_connect(body):
    """-> (level, flags, keepalive, client id, will or None)"""
    pos = 2 + struct.unpack(">H", body[:2])[0]
    level, flags = body[pos], body[pos + 1]
    keepalive = struct.unpack(">H", body[pos + 2:pos + 4])[0]
    pos += 4

    def field():
        nonlocal pos
        n = struct.unpack(">H", body[pos:pos + 2])[0]
        pos += 2 + n
        return body[pos - n:pos]

    client_id = field().decode()
    will = None
    if flags & 0x04:
        will_topic = field().decode()
        will = (will_topic, field(), (flags >> 3) & 3, bool(flags & 0x20))
    return level, flags, keepalive, client_id, will


def on_connect(c, body):
    c.level, flags, c.keepalive, client_id, c.will = parse_connect(body)
    clean = bool(flags & 0x02)
    key = "anonymous" if bug("session-by-user") else client_id
    s = sessions.get(key)
    if s and s.conn and not bug("takeover-keeps-old"):
        old = s.conn
        old.close(publish_will=not bug("takeover-no-will"))
        if bug("takeover-both-wills") and c.will:
            publish(c.will[0], c.will[1], c.will[2], c.will[3], is_will=True)
    if s is None or bug("no-persist") or (clean and not bug("clean1-resumes")):
        s = Session(key)
    present = s is sessions.get(key) and not clean and s.persistent
    if bug("sp-inverted") and not clean:
        present = not present
    s.persistent = not clean or bug("clean1-persists")
    if bug("will-sticky") and c.will is None:
        c.will = s.will
    sessions[key] = s
    s.conn, c.session = c, s
    c.send(packet(CONNACK << 4, bytes([1 if present and c.level == 4 else 0, 0])))
    resume(s)


def resume(s):
    """Re-sends what was in flight, then the queued messages."""
    for pid, (topic, payload, qos, state) in list(s.inflight.items()):
        if state == "pubrel":
            s.conn.send(packet((PUBREL << 4) | 2, u16(pid)))
            continue
        new_id = pid
        if bug("redeliver-new-id"):
            del s.inflight[pid]
            new_id = None
        send_publish(s, topic, payload, qos, dup=not bug("redeliver-no-dup"), pid=new_id)
    queued, s.queue = s.queue, []
    for topic, payload, qos in queued:
        send_publish(s, topic, payload, 0 if bug("queue-at-qos0") else qos)


def on_publish(c, flags, body):
    qos = (flags >> 1) & 3
    if qos == 3:
        return False
    n = struct.unpack(">H", body[:2])[0]
    topic, pos = body[2:2 + n].decode(), 2 + n
    pid = None
    if qos:
        pid = struct.unpack(">H", body[pos:pos + 2])[0]
        pos += 2
    publish(topic, body[pos:], qos, bool(flags & 1))
    if qos == 1:
        c.send(packet(PUBACK << 4, u16(pid)))
    elif qos == 2:
        c.send(packet(PUBREC << 4, u16(pid)))
    return True


def on_subscribe(c, body):
    s, pos, granted, filters = c.session, 2, b"", []
    while pos < len(body):
        n = struct.unpack(">H", body[pos:pos + 2])[0]
        topic_filter, qos = body[pos + 2:pos + 2 + n].decode(), body[pos + 2 + n]
        pos += 3 + n
        s.subs[topic_filter] = qos
        granted += bytes([qos])
        filters.append((topic_filter, qos))
    c.send(packet(SUBACK << 4, body[:2] + granted))
    for topic_filter, qos in filters:
        for topic, (payload, rqos) in list(retained.items()):
            if topic_matches(topic_filter, topic):
                send_publish(s, topic, payload, min(qos, rqos), retain=True)


def on_ack(c, ptype, pid):
    s = c.session
    if ptype == PUBACK or ptype == PUBCOMP:
        if not bug("acks-ignored"):
            s.inflight.pop(pid, None)
    elif ptype == PUBREC:
        if pid in s.inflight and not bug("acks-ignored"):
            s.inflight[pid][3] = "pubrel"
        c.send(packet((PUBREL << 4) | 2, u16(pid)))
    elif ptype == PUBREL:
        c.send(packet(PUBCOMP << 4, u16(pid)))


def on_packet(c, first, body):
    """Handles one packet; False when it is a protocol error (the connection closes)."""
    ptype, flags = first >> 4, first & 15
    if not (ptype == PINGREQ and bug("ka-ping-ignored")) and \
            (ptype == PINGREQ or not bug("ka-ping-only")):
        c.last_in = time.monotonic()
    if ptype == CONNECT:
        on_connect(c, body)
    elif ptype == PUBLISH:
        return on_publish(c, flags, body)
    elif ptype in (PUBACK, PUBREC, PUBREL, PUBCOMP):
        on_ack(c, ptype, struct.unpack(">H", body[:2])[0])
    elif ptype == SUBSCRIBE:
        on_subscribe(c, body)
    elif ptype == UNSUBSCRIBE:
        c.send(packet(UNSUBACK << 4, body[:2]))
    elif ptype == PINGREQ:
        c.pings += 1
        if not (bug("ping-some") and c.pings % 3 == 0):
            c.send(packet(PINGRESP << 4))
    elif ptype == DISCONNECT:
        if flags and c.level == 4 and not bug("disconnect-flags-ignored"):
            return False
        if not bug("will-on-disconnect"):
            c.will = None
        c.close()
    else:
        return False
    return True


def expired(c, now):
    if c.keepalive == 0:
        return bug("ka-zero-expires") and now - c.last_in > 1
    if bug("ka-never"):
        return False
    since = c.connected_at if bug("ka-from-connect") else c.last_in
    if bug("slow-keepalive"):  # whole seconds, keepalive*3/2 in integers
        return int(now) - int(since) > c.keepalive * 3 // 2
    return now - since > 1.5 * c.keepalive


async def watch_keepalive(c):
    period = 5.0 if bug("slow-keepalive") else 0.1
    while not c.closed:
        await asyncio.sleep(period - (time.monotonic() % period) if period > 1 else period)
        if not c.closed and expired(c, time.monotonic()):
            c.close(publish_will=not bug("ka-no-will"))


async def read_packet(reader):
    first = (await reader.readexactly(1))[0]
    length, shift = 0, 0
    for _ in range(4):
        b = (await reader.readexactly(1))[0]
        length |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            break
    return first, await reader.readexactly(length)


async def handle(reader, writer):
    c = Conn(writer)
    watcher = asyncio.ensure_future(watch_keepalive(c))
    try:
        while not c.closed:
            first, body = await read_packet(reader)
            if not on_packet(c, first, body):
                c.close(publish_will=not bug("violation-no-will"))
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    c.close()
    watcher.cancel()


async def serve(portfile):
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(server.sockets[0].getsockname()[1]))
    os.rename(portfile + ".tmp", portfile)
    async with server:
        await server.serve_forever()


# --- check: every mode against mqttspec ----------------------------------------------

def run_mode(mqttspec, mode, work, filters):
    """Starts the broker in MODE, runs the filtered scenarios; -> {(id, protocol): verdict}."""
    portfile = os.path.join(work, mode + ".port")
    broker = subprocess.Popen([sys.executable, os.path.abspath(__file__), "serve", mode, portfile])
    try:
        deadline = time.monotonic() + 5
        while not os.path.exists(portfile) and time.monotonic() < deadline:
            time.sleep(0.05)
        with open(portfile) as f:
            port = f.read()
        args = [mqttspec, "run", "--port", port, "--jobs", "16", "--quiet", "--format", "json",
                "--report-dir", os.path.join(work, mode)]
        for flt in filters:
            args += ["--filter", flt]
        subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
        with open(os.path.join(work, mode, "report.json")) as f:
            cases = json.load(f)["cases"]
        return {(c["id"], c["protocol"]): c["verdict"] for c in cases}
    finally:
        broker.send_signal(signal.SIGTERM)
        broker.wait()


def check(mqttspec):
    failed = 0
    areas = ["keepalive", "will", "session"]
    with tempfile.TemporaryDirectory(prefix="mqs-mini-") as work:
        for mode in ALLOWED:
            verdicts = run_mode(mqttspec, mode, work, areas)
            bad = sorted("%s [%s] %s" % (i, p, v) for (i, p), v in verdicts.items()
                         if v not in ("PASS", "INFO"))
            if verdicts and not bad:
                print("  ok   %s: %d cases, none FAIL, WARN or ERROR" % (mode, len(verdicts)))
            else:
                failed += 1
                print("  FAIL %s (allowed behaviour): %s" % (mode, ", ".join(bad) or "no cases ran"))
        for mode, ids in BREAKS.items():
            verdicts = run_mode(mqttspec, mode, work, ids)
            missed = [i for i in ids if verdicts.get((i, "3.1.1")) != "FAIL"]
            if not missed:
                print("  ok   %s: FAIL in %s" % (mode, " ".join(ids)))
            else:
                failed += 1
                print("  FAIL %s: no FAIL for %s" % (mode, " ".join(missed)))
    print("mini_broker.py check: %d modes, %d failed" % (len(ALLOWED) + len(BREAKS), failed))
    return failed


def main():
    global MODE
    if len(sys.argv) == 4 and sys.argv[1] == "serve":
        MODE = sys.argv[2]
        if MODE not in ALLOWED and MODE not in BREAKS:
            sys.exit("mini_broker.py: unknown mode " + MODE)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        asyncio.run(serve(sys.argv[3]))
    elif len(sys.argv) in (2, 3) and sys.argv[1] == "check":
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        sys.exit(check(sys.argv[2] if len(sys.argv) == 3 else os.path.join(root, "build", "mqttspec")))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
