#!/usr/bin/env python3
"""scripts/deviations.py REPORTS_DIR [RUN...] — the triage of `make matrix`, in plain words.

For each broker directory REPORTS_DIR/<broker>-<version>/ holding matrix runs
(<transport>/report.json), writes <broker>-<version>/DEVIATIONS.md: every FAIL, WARN and
ERROR of its runs, grouped by cause. The causes below were found by reading each failing
trace against the specification: a cause names the statements, says what the broker does
and what the specification asks, and lists the cases that show it ("case", or "case@broker"
/ "case@version" where a case fails for different reasons on different brokers; those win).
A verdict that no cause explains goes to a "Not triaged" section (and make matrix lists it
in untriaged.txt): read its trace, then either fix the scenario (too strict) or add it here.

A DEVIATIONS.md that does not start with the GENERATED marker was written by hand
(mosquitto's) and is left alone. Then, for the runs given (BROKER/TRANSPORT/report.json
under REPORTS_DIR; default every one there), prints each FAIL/WARN/ERROR whose case no
DEVIATIONS.md names: run, case, version, verdict (make matrix keeps it as untriaged.txt).
"""
import collections, glob, json, os, re, sys

GENERATED = "<!-- written by scripts/deviations.py from the matrix runs; edit the causes there -->"

CAUSES = [
 ("utf8", "Accepts strings that are not well-formed UTF-8 or that contain U+0000",
  "MQTT-1.5.3-1, MQTT-1.5.3-2",
  "A client id, user name, will topic, topic name or topic filter with an ill-formed UTF-8 sequence, a surrogate or U+0000 is accepted (CONNACK 0, SUBACK, PUBACK) or the connection is left open. The specification makes such a packet malformed: the server closes the connection.",
  ["connect.client-id-bad-utf8", "connect.client-id-null-char", "connect.username-bad-utf8", "connect.will-topic-bad-utf8", "malformed.filter-bad-string", "malformed.topic-invalid-utf8", "malformed.topic-nul", "malformed.topic-surrogate"]),
 ("connect-flags", "Accepts a CONNECT whose flags do not match its contents",
  "MQTT-3.1.2-3, MQTT-3.1.2-13/14/15, MQTT-3.1.2-18/20/22, MQTT-3.1.4-1, MQTT-2.2.2-2",
  "The reserved CONNECT flag, a user name or password flag that does not match the fields present, will QoS/retain bits without the will flag, will QoS 3, fixed-header flags other than 0000 or a Remaining Length that does not match the fields: each makes the CONNECT malformed, and the server must close the connection without sending a CONNACK (MQTT-3.1.4-1). The broker answers with a CONNACK instead (0: the client is in; 4 or 5: a refusal, still not the close without CONNACK the rule asks for). The cases about pipelining after a malformed CONNECT, a refusal keeping the session and a refused connection not taking over use such a CONNECT as their refusal, so they fail with it.",
  ["connect.reserved-flag", "connect.password-without-flag", "connect.username-without-flag", "connect.password-without-username", "auth.password-without-username", "connect.will-qos-3", "connect.will-qos-without-will-flag", "connect.will-retain-without-will-flag", "connect.remaining-length-inconsistent", "malformed.connect-fixed-flags", "connect.pipelined-after-malformed-connect", "connect.refusal-keeps-session", "connect.refused-no-takeover"]),
 ("level", "Does not answer an unsupported protocol level with CONNACK 1",
  "MQTT-3.1.2-2, MQTT-3.1.2-1",
  "For a CONNECT with protocol name MQTT and a level the server does not support (7, 255, 2), the server must send CONNACK 1 (unacceptable protocol version) and then close. The broker closes without CONNACK, or, for a name/level pair that exists in no version (MQIsdp/4, MQTT/3), accepts the connection.",
  ["connect.bad-protocol-level", "connect.mismatched-name-level"]),
 ("empty-id", "Accepts an empty client id with Clean Session 0",
  "MQTT-3.1.3-8",
  "An empty client id is allowed only with Clean Session 1; with Clean Session 0 the server must answer CONNACK 2 (identifier rejected) and close. The broker accepts it (CONNACK 0). connect.pipelined-after-refused-connect uses this CONNECT as its refusal, so it fails with it.",
  ["connect.empty-client-id-persistent@3.1.1", "connect.pipelined-after-refused-connect"]),
 ("id-31", "MQTT 3.1: client ids outside 1 to 23 characters accepted (WARN)",
  "MQTT31-CLIENT-ID",
  "MQTT 3.1 limits a client id to 1 to 23 characters and names CONNACK 2 for others. Like mosquitto, the broker applies the 3.1.1 rule to MQIsdp clients too. Most servers do, so the scenarios are SHOULD (WARN), not MUST.",
  ["connect.client-id-too-long-31", "connect.empty-client-id@3.1", "connect.empty-client-id-persistent@3.1"]),
 ("second-connect", "Answers a second CONNECT on the same connection",
  "MQTT-3.1.0-2",
  "A client may send CONNECT only once per connection; the server must treat a second one as a protocol violation and close the connection. The broker answers it with another CONNACK 0.",
  ["connect.second-connect"]),
 ("session-present", "Session Present is always 0",
  "MQTT-3.2.2-2, MQTT-3.2.0-1, MQTT-4.4.0-1",
  "When a client reconnects with Clean Session 0 and the server holds a session for it, CONNACK must carry Session Present 1. The broker sends 0 although it resumed the session (the queued messages and subscriptions are there). Every case that checks the flag on a resumed session fails with it.",
  ["auth.refusal-keeps-session@activemq", "connect.session-present", "connect.takeover-session-present", "connect.connack-before-queued", "session.keyed-by-client-id", "session.queued-qos1", "session.queued-qos2", "session.clean0-resumes@3.1.1", "session.queued-redelivered@3.1.1"]),
 ("clean0-qos0", "A persistent session that holds only a QoS 0 subscription is not kept",
  "MQTT-3.1.2-4, MQTT-3.2.2-2",
  "A client that reconnects with Clean Session 0 after a DISCONNECT must find its session: Session Present 1 and the subscriptions it made. When the session holds only a QoS 0 subscription the broker does not keep it: CONNACK says Session Present 0 (3.1.1), and a message published to the subscription's topic is not delivered (3.1, which has no Session Present flag).",
  ["session.clean0-resumes@rabbitmq", "session.clean0-resumes@3.1"]),
 ("malformed", "Answers or ignores malformed packets instead of closing the connection",
  "MQTT-4.8.0-1, MQTT-2.2.2-2, MQTT-2.3.1-1, MQTT-3.6.1-1, MQTT-3.8.1-1, MQTT-3.8.3-3/4, MQTT-3.10.1-1, MQTT-3.10.3-2, MQTT-3.14.1-1, MQTT-4.7.3-1, MQTT-3.3.2-2, MQTT-3.3.1-2",
  "Reserved fixed-header flags, a Remaining Length that does not fit the packet or takes more than 4 bytes, a reserved packet type, a packet only a server sends, a SUBSCRIBE/UNSUBSCRIBE without filters or with a QoS byte of 3, packet identifier 0, an empty or wildcard topic name, DUP with QoS 0: each is a protocol violation after which the server must close the connection (and do nothing the packet asks). The broker answers the packet (PINGRESP, PUBCOMP, SUBACK, UNSUBACK, PUBACK with id 0), forwards it, or ignores it and keeps the connection open. For a bad DISCONNECT, it treats it as a normal DISCONNECT and drops the will that a protocol-violation close must publish.",
  ["malformed.fixed-length-mismatch", "malformed.pingreq-flags", "malformed.ack-flags", "malformed.pubrel-flags", "malformed.subscribe-flags", "malformed.unsubscribe-flags", "malformed.disconnect-flags", "malformed.remaining-length-too-long", "malformed.reserved-type", "malformed.server-packet-from-client", "malformed.subscribe-bad-qos", "malformed.subscribe-empty", "malformed.unsubscribe-empty", "malformed.packet-id-zero", "malformed.publish-topic-empty", "malformed.publish-topic-wildcard", "malformed.publish-dup-qos0"]),
 ("will-violation", "No will after closing a connection for a protocol violation",
  "MQTT-3.1.2-8",
  "MQTT 3.1.1 lists \"the server closes the network connection because of a protocol error\" among the events that publish the will. The broker closes the connection on a PUBLISH with QoS 3 but does not publish the will.",
  ["will.protocol-violation"]),
 ("qos2-puback", "A QoS 2 PUBLISH is answered with PUBACK",
  "MQTT-3.3.4-1, MQTT-4.3.3-2",
  "The receiver of a QoS 2 PUBLISH must answer PUBREC and run the PUBREL/PUBCOMP exchange. The broker answers PUBACK: it handles inbound QoS 2 as QoS 1, so exactly-once delivery is not offered. Every case that publishes at QoS 2 fails at that step.",
  ["qos.inbound-qos2-publish-after-reconnect@rabbitmq", "qos.inbound-qos2-pubrel-after-reconnect@rabbitmq", "qos.order-qos2@rabbitmq", "qos.qos2-duplicate-before-pubrel@rabbitmq", "qos.qos2-id-reuse-after-pubcomp@rabbitmq", "retain.stored-qos2@rabbitmq", "malformed.pubrel-flags@rabbitmq"]),
 ("qos2-dup", "A QoS 2 message re-sent before PUBREL is delivered twice",
  "MQTT-4.3.3-2",
  "When the publisher re-sends a QoS 2 PUBLISH (DUP 1, same packet id) before it has sent PUBREL, the server must answer PUBREC again but must not deliver the message a second time. The broker delivers it again to the subscriber.",
  ["qos.qos2-duplicate-before-pubrel@activemq", "qos.inbound-qos2-publish-after-reconnect@activemq"]),
 ("qos2-pubrel", "After PUBREC, the PUBLISH is re-sent instead of PUBREL",
  "MQTT-4.3.3-1, MQTT-4.4.0-1",
  "Once the subscriber has answered PUBREC, the server must send PUBREL (and re-send PUBREL, not the PUBLISH, after a reconnect). The broker re-sends the PUBLISH with DUP 1.",
  ["qos.redeliver-qos2-pubrel"]),
 ("dup-propagated", "Forwards the publisher's DUP flag to subscribers",
  "MQTT-3.3.1-3",
  "The DUP flag of an incoming PUBLISH is not propagated: a message delivered for the first time goes out with DUP 0. The broker copies the publisher's DUP 1 into the delivery (also for a new message that reuses a released packet id).",
  ["qos.dup-not-propagated", "qos.qos1-id-reuse-after-puback"]),
 ("redeliver-nodup", "Re-sends unacknowledged messages without DUP",
  "MQTT-3.3.1-1, MQTT-4.4.0-1",
  "When the server re-delivers an unacknowledged PUBLISH after a reconnect, it must set DUP 1. The broker re-sends with DUP 0. (The cases cite MQTT-4.4.0-1, the re-send rule they test; the flag itself is MQTT-3.3.1-1.)",
  ["qos.redeliver-qos1", "qos.redeliver-qos2-publish", "qos.unique-ids@aedes", "session.queued-redelivered@aedes"]),
 ("redeliver-ids", "Re-sends unacknowledged messages with other packet ids",
  "MQTT-4.4.0-1, MQTT-2.3.1-4",
  "After a reconnect, unacknowledged messages must be re-sent with their original packet identifiers. The broker renumbers them (u3, first sent with id 3, comes back with id 2).",
  ["qos.unique-ids@rabbitmq"]),
 ("resubscribe", "Subscribing again to the same filter adds a second subscription",
  "MQTT-3.8.4-3",
  "A SUBSCRIBE for a filter the session already has must replace the existing subscription. The broker keeps both, so each matching message is delivered twice (once per QoS).",
  ["retain.resubscribe", "subscribe.replace-identical"]),
 ("retain-wildcard", "Retained messages and wildcard subscriptions",
  "MQTT-3.3.1-6, MQTT-3.8.4-6",
  "A new subscription must receive the retained messages of every topic it matches, at the lower of the message's and the granted QoS. aedes sends them at the stored QoS (1 to a QoS 0 subscription); RabbitMQ sends none for a wildcard filter.",
  ["retain.wildcard"]),
 ("dollar", "Wildcards match topics that start with $",
  "MQTT-4.7.2-1",
  "A filter that starts with # or + must not match a topic name that starts with $. The broker delivers $x/... messages (live, or retained ones when the subscription is made) to a # or +/... subscription.",
  ["topics.dollar-hash-not-matched", "topics.dollar-not-matched"]),
 ("overlap", "Overlapping subscriptions: only the lower QoS copy",
  "MQTT-3.3.5-1",
  "When a message matches several subscriptions of one client, the server must deliver it respecting the highest granted QoS. With o/# at QoS 0 and o/b at QoS 1, the broker delivers one copy at QoS 0 only: no copy at QoS 1 is ever sent (none is re-sent on reconnect).",
  ["subscribe.overlapping"]),
 ("invalid-filter", "Grants invalid topic filters",
  "MQTT-4.7.1-2, MQTT-4.7.1-3, MQTT-4.7.3-1",
  "An empty filter, # not alone in the last level, or + not alone in its level make the filter invalid: the server answers 0x80 for it or closes the connection. The broker grants it (return code 0) and, for a/#/b, matches it like a/+/b.",
  ["subscribe.invalid-filter-empty", "subscribe.invalid-filter-hash-in-level", "subscribe.invalid-filter-hash-not-last", "subscribe.invalid-filter-plus-in-level"]),
 ("normalise", "Trims spaces from topic names",
  "MQTT-4.7.3-4",
  "Topic names are matched byte for byte, without normalisation. The broker removes the trailing space of \"x \", so a subscriber to x receives a message published to \"x \".",
  ["topics.no-normalisation"]),
 ("suback-code", "An invalid SUBACK return code",
  "MQTT-3.9.3-2",
  "SUBACK return codes are 0x00, 0x01, 0x02 or 0x80. For a filter of 160 levels the broker answers with another value (an MQTT 5 reason code).",
  ["topics.deep-topic"]),
 ("stall", "Now and then a CONNECT gets no answer (ejabberd over WebSocket)",
  "MQTT-3.2.0-1",
  "Sometimes, over WebSocket only, a CONNECT on a fresh connection gets no CONNACK and no close within the 10 s wait; the other connections of the run go on normally. It was seen in 2 of about 15 full WebSocket runs against a freshly started ejabberd, each time in a different case, never over TCP or TLS, and never with scenario subsets. ejabberd logs no authentication for that client: the CONNECT never reached mod_mqtt. Such a FAIL is real (the server must answer a CONNECT) but not repeatable; a case failing this way in one matrix run may pass in the next.",
  ["@stall"]),
 ("ws-will", "Over WebSocket, the will is published after a DISCONNECT",
  "MQTT-3.14.4-3, MQTT-3.1.2-10",
  "A DISCONNECT ends the connection normally: the server must discard the will without publishing it. Over WebSocket (ws and wss; not over TCP or TLS) the broker publishes the will after the client's DISCONNECT, also on the connection that took over a client id.",
  ["will.no-will-flag@rabbitmq", "will.not-after-disconnect@rabbitmq", "will.takeover@rabbitmq"]),
 ("ws-text", "Takes MQTT in WebSocket text frames",
  "MQTT-6.0.0-1",
  "MQTT over WebSocket uses binary frames only; a server that receives a text frame must close the connection. The broker processes the MQTT packet inside it.",
  ["transport.ws-text-frame", "transport.ws-text-frame-connect"]),
]

INTRO = {
 "aedes-1.2.0": "aedes 1.2.0 from npm, run by `scripts/brokers/aedes.sh` (our `server.mjs`: TCP, TLS, TLS with a client certificate, WebSocket and WebSocket over TLS; one account, anonymous clients allowed). aedes parses with mqtt-packet, which checks the structure of a packet but few of its rules: most malformed CONNECTs and strings are accepted. Its delivery engine forwards the publisher's DUP flag and re-sends without DUP, delivers one copy for overlapping subscriptions, and its retained store ignores the `$` rule and the granted QoS.",
 "aedes-cli-1.0.2": "The `aedes` command of aedes-cli 1.0.2 from npm (aedes 1.2.0 inside), run by `scripts/brokers/aedes-cli.sh` with its `--credentials` file: every client logs in. Over TCP only in the matrix (each login costs a PBKDF2 hash, which makes a run slow; the TLS and WebSocket layers are those of aedes). The core is aedes's, so are the deviations; where aedes accepts a malformed CONNECT, aedes-cli usually answers CONNACK 5 because the credentials do not check out, which still is not the close without CONNACK that MQTT-3.1.4-1 asks for.",
 "activemq-5.17.2": "ActiveMQ 5.17.2 from Debian with libmqtt-client-java, run by `scripts/brokers/activemq.sh` (TCP, TLS, TLS with a client certificate; no WebSocket in Debian's build). ActiveMQ maps MQTT onto JMS: it validates little of the MQTT packet format (flags, strings, empty lists), never sets Session Present, and its QoS 2 handling does not give exactly-once delivery.",
 "ejabberd-23.01": "ejabberd 23.01 from Debian with mod_mqtt, run by `scripts/brokers/ejabberd.sh` (TCP, TLS, WebSocket, WebSocket over TLS; an XMPP account, no anonymous access). ejabberd speaks MQTT 3.1.1 and 5 only: it refuses MQIsdp with CONNACK 1, so the MQTT 3.1 cases SKIP. It is the strictest broker of the matrix after mosquitto; what it lets through is listed here. Over WebSocket it now and then leaves one CONNECT unanswered (no CONNACK, no close: seen in 2 of about 15 full WebSocket runs here, in a different case each time); a matrix run that catches it shows that case as FAIL at its connect step, under its own cause below.",
 "rabbitmq-3.10.8": "RabbitMQ 3.10.8 from Debian with the rabbitmq_mqtt and rabbitmq_web_mqtt plugins, run by `scripts/brokers/rabbitmq.sh` (TCP, TLS, WebSocket and WebSocket over TLS at `/ws`; anonymous clients mapped to the node's user). RabbitMQ maps MQTT onto AMQP queues and exchanges: inbound QoS 2 is handled as QoS 1, subscriptions become queue bindings (a second SUBSCRIBE adds a binding, `#` matches `$` topics, no retained messages for wildcards), and it checks few of the packet format rules. Its WebSocket plugin differs from the TCP listener in places (the will, empty client ids).",
}

def cause_of(case, proto, broker, reason=""):
    if broker == "ejabberd" and "no packet within" in reason and "(expected CONNACK rc=0)" in reason:
        return "stall"
    for qualified in (True, False):  # "case@broker" or "case@version" entries win
        for key, title, st, text, cases in CAUSES:
            for c in cases:
                cid, _, qual = c.partition("@")
                if cid != case or bool(qual) != qualified: continue
                if qual and qual not in (proto, broker): continue
                return key
    return None

def write(out, slug):
    runs = sorted(glob.glob(f"{out}/{slug}/*/report.json"))
    rows = collections.OrderedDict()  # (case, proto) -> {transport: case}
    name = slug
    for f in runs:
        t = f.split("/")[-2]
        r = json.load(open(f))
        name = r.get("broker") or slug
        for c in r["cases"]:
            if c["verdict"] in ("FAIL", "WARN", "ERROR"):
                rows.setdefault((c["id"], c["protocol"]), {})[t] = c
    broker = slug.split("-")[0]
    bycause = collections.OrderedDict((k[0], []) for k in CAUSES)
    bycause[None] = []
    for (cid, proto), ts in sorted(rows.items()):
        reason = next(iter(ts.values()))["reason"] or ""
        bycause[cause_of(cid, proto, broker, reason)].append((cid, proto, ts))
    lines = [GENERATED, f"# {name}: FAIL and WARN verdicts of the matrix, and why", ""]
    if slug in INTRO:
        lines += [INTRO[slug], ""]
    lines += [f"Every FAIL and WARN of `make matrix` against {name} (`reports/{slug}/<transport>/`),",
              "grouped by cause. Each cause names the statements, says in plain words what the broker",
              "does and what the specification asks, and shows a trace excerpt from the run. Each was",
              "checked by hand against the traces; none is a scenario being too strict (where the",
              "specification allows several behaviours the scenarios accept each one and report INFO).", ""]
    for key, title, st, text, _ in CAUSES:
        items = bycause[key]
        if not items:
            continue
        lines += [f"## {title}", "", f"Statements: {st}.", "", text, "",
                  "| case | version | verdict | transports |", "| --- | --- | --- | --- |"]
        for cid, proto, ts in items:
            v = sorted({c["verdict"] for c in ts.values()})
            lines.append(f"| {cid} | {proto} | {'/'.join(v)} | {', '.join(sorted(ts))} |")
        cid, proto, ts = items[0]
        t0 = sorted(ts)[0]
        c = ts[t0]
        lines += ["", f"{cid} [{proto}/{t0}]: {c['reason']}", "", "```"]
        for e in c["trace"][:40]:
            if e["client"] == "cleanup" or "mqttspec closed" in e["text"] or e["text"] == "DISCONNECT":
                continue
            arrow = {"sent": "->", "received": "<-"}.get(e["dir"], "--")
            lines.append(f"{e['t_ms']:6} ms  {e['client'] or '':<6} {arrow} {e['text'][:150]}")
        lines += ["```", ""]
    if bycause[None]:
        lines += ["## Not triaged", "",
                  "Not explained yet: read the trace, then fix the scenario or add a cause to scripts/deviations.py.", ""]
        for cid, proto, ts in bycause[None]:
            lines.append(f"- {cid} [{proto}] {', '.join(sorted(ts))}: {next(iter(ts.values()))['reason']}")
        lines.append("")
    with open(f"{out}/{slug}/DEVIATIONS.md", "w") as f:
        f.write("\n".join(lines))
    return len(bycause[None])


def untriaged(out, runs):
    """Prints run, case, version, verdict of every FAIL/WARN/ERROR whose case id the
    broker's DEVIATIONS.md (outside its "Not triaged" section) does not name."""
    for rel in runs:
        slug = rel.split("/")[0]
        path = f"{out}/{slug}/DEVIATIONS.md"
        text = open(path).read() if os.path.exists(path) else ""
        text = text.split("\n## Not triaged")[0]
        for c in json.load(open(f"{out}/{rel}"))["cases"]:
            if c["verdict"] in ("FAIL", "WARN", "ERROR") and not re.search(
                    r"(?<![\w.-])" + re.escape(c["id"]) + r"(?![\w-])", text):
                print("\t".join(["/".join(rel.split("/")[:2]), c["id"], c["protocol"], c["verdict"]]))


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: scripts/deviations.py REPORTS_DIR [BROKER/TRANSPORT/report.json...]")
    out = sys.argv[1]
    for d in sorted(glob.glob(f"{out}/*/")):
        slug = os.path.basename(d.rstrip("/"))
        path = f"{out}/{slug}/DEVIATIONS.md"
        if not glob.glob(f"{out}/{slug}/*/report.json"):
            continue
        if os.path.exists(path) and not open(path).readline().startswith(GENERATED):
            continue  # written by hand
        n = write(out, slug)
        if n:
            print(f"deviations: {slug}: {n} verdicts no cause explains", file=sys.stderr)
    untriaged(out, sys.argv[2:] or sorted(os.path.relpath(f, out)
                                          for f in glob.glob(f"{out}/*/*/report.json")))


main()
