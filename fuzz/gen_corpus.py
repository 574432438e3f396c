#!/usr/bin/env python3
"""Seed corpora for the fuzz harnesses, from tests/vectors/ and the scenario files.

    gen_corpus.py --out DIR            write DIR/<target>/<sha256> for every harness
    gen_corpus.py --replace DEST SRC   make DEST hold exactly SRC's files, each named
                                       by the SHA-256 of its content (fuzz-merge)

Every seed is laid out the way its harness reads input (see the comment at the
top of fuzz/fuzz_<target>.c):
  frame         raw bytes of a stream (one packet, or the packets of a file)
  decode        config byte + one frame   (config: bit0 3.1, bits1-2 direction,
  roundtrip     config byte + one frame    bit3 lenient, bits4-7 item capacity)
  stream        cut byte, cut byte, config byte, stream
  encode        packet fields, see mqs_fz_build in fuzz/fuzz_encode.c
  topic         filter length byte, filter, topic name
  utf8          the string
  scenario      allocation budget byte, a scenario file
  broker_reply  scenario/version byte, what a broker sends: server-to-client packets
Python 3 standard library only.
"""
import argparse
import glob
import hashlib
import json
import os
import re
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGETS = ("frame", "decode", "roundtrip", "stream", "encode", "topic", "utf8", "scenario",
           "broker_reply")

TO_SERVER_ONLY = {1, 8, 10, 12, 14}   # CONNECT SUBSCRIBE UNSUBSCRIBE PINGREQ DISCONNECT
TO_CLIENT_ONLY = {2, 9, 11, 13}       # CONNACK SUBACK UNSUBACK PINGRESP
MAX_STREAM = 4096                     # the harnesses' default -max_len
CONNACK_OK = bytes.fromhex("20020000")


def config_byte(v31=False, direction=0, lenient=False, cap=15):
    return bytes([(1 if v31 else 0) | (direction << 1) | (8 if lenient else 0) | (cap << 4)])


def parse_hex(text):
    """Bytes from 'HH HH ...' / 'HHHH' text, or None when it is not hex."""
    t = re.sub(r"[\s:]", "", text)
    if len(t) % 2 or not re.fullmatch(r"[0-9A-Fa-f]*", t):
        return None
    return bytes.fromhex(t)


class Seeds:
    """Collects seeds per target, deduplicated by content."""

    def __init__(self):
        self.by_target = {t: set() for t in TARGETS}
        self.filters, self.names = set(), set()

    def cross_topics(self, limit=64):
        """Filter x name pairs for the matcher: every filter seen in a SUBSCRIBE
        or UNSUBSCRIBE against the names seen in PUBLISH packets."""
        names = sorted(self.names)[:limit]
        for f in sorted(self.filters)[:limit]:
            for n in names:
                self.topic_pair(f, n)

    def add(self, target, data):
        self.by_target[target].add(bytes(data))

    def packet(self, pkt, v31=None, stream_group=None, direction=None):
        """One frame: seeds for the packet-level harnesses. v31 None: both
        versions; direction None: the one its type implies."""
        self.add("frame", pkt)
        if direction is None:
            direction = 0
            if pkt and pkt[0] >> 4 in TO_SERVER_ONLY:
                direction = 1
            elif pkt and pkt[0] >> 4 in TO_CLIENT_ONLY:
                direction = 2
        for ver in ((False, True) if v31 is None else (v31,)):
            for d in sorted({0, direction}):
                self.add("decode", config_byte(ver, d) + pkt)
                self.add("roundtrip", config_byte(ver, d) + pkt)
            self.add("decode", config_byte(ver, 0, cap=1) + pkt)
            self.add("stream", b"\x40\xc0" + config_byte(ver, 0) + pkt)
        if direction != 1:
            self.broker_reply(pkt)
        if stream_group is not None:
            stream_group.append(pkt)
        for kind, text in packet_strings(pkt):
            self.string(text)
            if kind == "filter":
                self.filters.add(text)
            elif kind == "name":
                self.names.add(text)

    def stream(self, pkts, v31=False):
        """A run of frames from one source: stream, frame and broker_reply seeds."""
        data = b""
        for p in pkts:
            if len(data) + len(p) > MAX_STREAM:
                break
            data += p
        if len(pkts) < 2 or not data:
            return
        self.add("frame", data)
        self.add("stream", b"\x55\xaa" + config_byte(v31, 0) + data)
        replies = b"".join(p for p in pkts if p and p[0] >> 4 not in TO_SERVER_ONLY)
        if replies:
            self.broker_reply(replies[:MAX_STREAM])

    def broker_reply(self, data):
        """What a broker sends, alone and after an accepting CONNACK; byte 0 picks
        the scenario (spread by content) and the version."""
        sel = hashlib.sha256(data).digest()[0]
        self.add("broker_reply", bytes([sel]) + data)
        self.add("broker_reply", bytes([sel ^ 0x01]) + CONNACK_OK + data)

    def string(self, s):
        """A UTF-8 / topic string: utf8 seed, and topic seeds as filter and name."""
        self.add("utf8", s)
        if len(s) < 256:
            self.add("topic", bytes([len(s)]) + s + s)
            self.add("topic", bytes([len(s)]) + s + b"a/b")
            self.add("topic", b"\x01#" + s)

    def topic_pair(self, flt, name):
        if len(flt) < 256:
            self.add("topic", bytes([len(flt)]) + flt + name)

    def write(self, out):
        total = 0
        for target, items in self.by_target.items():
            d = os.path.join(out, target)
            os.makedirs(d, exist_ok=True)
            for name in os.listdir(d):  # seeds of an older generation
                os.remove(os.path.join(d, name))
            for data in items:
                p = os.path.join(d, hashlib.sha256(data).hexdigest())
                if not os.path.exists(p):
                    with open(p, "wb") as f:
                        f.write(data)
            total += len(items)
            print(f"gen_corpus: {d}: {len(items)} seeds")
        return total


# ---- tests/vectors ---------------------------------------------------------

VECTOR_COLUMNS = ["hex", "version", "dir", "status", "rule", "offset", "comment"]
DIRS = {"any": 0, "to-server": 1, "to-client": 2}


def load_vectors(seeds):
    """Reads every vector table tests/vectors/*.tsv (the codec's format, see
    tests/vectors.h): tab-separated hex, version (3.1 / 3.1.1), dir (any /
    to-server / to-client), status, rule, offset, comment; '#' lines are
    comments, and a '# hex<TAB>...' comment names the columns."""
    vdir = os.path.join(ROOT, "tests", "vectors")
    for path in sorted(glob.glob(os.path.join(vdir, "*.tsv"))):
        header = VECTOR_COLUMNS
        group = []
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                if line.startswith("#"):
                    cols = [c.strip().lower() for c in line.lstrip("# ").split("\t")]
                    if len(cols) > 2 and cols[0] == "hex":
                        header = cols
                    continue
                if line.strip():
                    vector_row(seeds, dict(zip(header, line.split("\t"))), group)
        seeds.stream(group)


def vector_row(seeds, row, group):
    data = parse_hex(row.get("hex", ""))
    if data is None:
        return
    v31 = {"3.1": True, "3.1.1": False}.get(row.get("version", "").strip())
    direction = DIRS.get(row.get("dir", "").strip(), 0)
    seeds.packet(data, v31, group, direction)


# ---- strings inside packets: utf8 and topic seeds -----------------------------

def packet_strings(pkt):
    """(kind, bytes) for the length-prefixed strings of a CONNECT, PUBLISH,
    SUBSCRIBE or UNSUBSCRIBE frame; kind is 'name', 'filter' or 'string'.
    Tolerant: stops at the first field that does not fit."""
    if len(pkt) < 2:
        return []
    pos, rl, mult = 1, 0, 1
    while pos < len(pkt) and pos < 5:
        rl += (pkt[pos] & 0x7F) * mult
        mult *= 128
        pos += 1
        if not pkt[pos - 1] & 0x80:
            break
    body, t = pkt[pos:pos + rl], pkt[0] >> 4
    out, i = [], 0

    def take():
        nonlocal i
        if i + 2 > len(body):
            return None
        n = body[i] << 8 | body[i + 1]
        if i + 2 + n > len(body):
            return None
        i += 2 + n
        return body[i - n:i]

    if t == 3:
        s = take()
        if s is not None:
            out.append(("name", s))
    elif t in (8, 10):
        i = 2
        while True:
            s = take()
            if s is None:
                break
            out.append(("filter", s))
            i += 1 if t == 8 else 0
    elif t == 1:
        take()
        i += 4  # level, flags, keep alive
        while True:
            s = take()
            if s is None:
                break
            out.append(("string", s))
    return out


# Topic filter / name pairs from MQTT 3.1.1 section 4.7 (matching, wildcards, $).
TOPIC_PAIRS = [
    ("sport/tennis/player1/#", "sport/tennis/player1"), ("sport/tennis/player1/#", "sport/tennis/player1/ranking"),
    ("sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon"), ("sport/#", "sport"),
    ("sport/tennis/+", "sport/tennis/player1"), ("sport/tennis/+", "sport/tennis/player1/ranking"),
    ("sport/+", "sport"), ("sport/+", "sport/"), ("+/+", "/finance"), ("/+", "/finance"), ("+", "/finance"),
    ("#", "$SYS/broker/uptime"), ("+/monitor/Clients", "$SYS/monitor/Clients"), ("$SYS/#", "$SYS/monitor/Clients"),
    ("$SYS/monitor/+", "$SYS/monitor/Clients"), ("#", "a"), ("+/#", "/"), ("a//b", "a//b"), ("+/+/+", "a//"),
    ("sport/tennis#", "sport/tennis"), ("sport/tennis/#/ranking", "sport/tennis/x/ranking"), ("sport+", "sport"),
    ("+a", "a"), ("a/+b/c", "a/b/c"), ("##", "a"), ("/", "/"), ("$", "$"), ("$share/g/a", "a"), ("ACCOUNTS", "Accounts"),
]

UTF8_EDGES = ["00", "01", "7f", "c280", "c29f", "c2a9", "e282ac", "f09f9880", "c080", "c0af", "e080af", "f08080af",
              "eda080", "edbfbf", "efbbbf", "efbfbe", "efbfbf", "f48fbfbf", "f4908080", "f5808080", "ff", "80",
              "e282", "f09f98", "61ed9fbf62", "eea080", "c1bf", "e0a080", "f0908080"]


def encode_seeds(seeds):
    """One plausible field layout per packet type and version for fuzz_encode."""
    tails = {
        1: b"\xc6\x00\x3c\x03cid\x03w/t\x03bye\x04user\x04pass",  # CONNECT flags..strings
        2: b"\x01\x00",                                                    # CONNACK
        3: b"\x03a/bhello",                                                 # PUBLISH topic, payload
        8: b"\x02\x03a/+\x01\x01#\x02",                                   # SUBSCRIBE 2 filters
        9: b"\x02\x00\x00\x00\x80",                                       # SUBACK 2 codes
        10: b"\x01\x03a/b\x00",                                            # UNSUBSCRIBE
    }
    seeds.add("encode", b"")  # API misuse checks
    for t in range(1, 15):
        for v31 in (0, 0x10):
            seeds.add("encode", bytes([t | v31, 1, 0, 7]) + tails.get(t, b""))


def builtin_strings(seeds):
    for f, n in TOPIC_PAIRS:
        seeds.topic_pair(f.encode(), n.encode())
    for h in UTF8_EDGES:
        b = bytes.fromhex(h)
        seeds.string(b)
        seeds.string(b"a/" + b + b"/c")


# ---- scenario files ----------------------------------------------------------

HEX_VAR = re.compile(r"\$\{hex:([0-9A-Fa-f\s]*)\}")


def walk_json(node, seeds, group):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "hex" and isinstance(v, str):
                data = parse_hex(v)
                if data is not None:
                    seeds.packet(data, None, group)
            elif k in ("topic", "filter") and isinstance(v, str):
                seeds.string(expand(v))
            walk_json(v, seeds, group)
    elif isinstance(node, list):
        for v in node:
            walk_json(v, seeds, group)
    elif isinstance(node, str):
        for m in HEX_VAR.finditer(node):
            data = parse_hex(m.group(1))
            if data:
                seeds.add("utf8", data)


def expand(s):
    """A scenario string with its variables replaced by plausible bytes."""
    out = HEX_VAR.sub(lambda m: (parse_hex(m.group(1)) or b"").decode("latin-1"), s)
    out = re.sub(r"\$\{topic\}", "mqs/k3x9a2/", out)
    out = re.sub(r"\$\{[^}]*\}", "x", out)
    return out.replace("$$", "$").encode("latin-1", "replace")


def load_scenarios(seeds):
    sdir = os.path.join(ROOT, "conformance", "scenarios")
    for path in sorted(glob.glob(os.path.join(sdir, "**", "*.json"), recursive=True)):
        with open(path, "rb") as f:
            raw = f.read()
        seeds.add("scenario", b"\x00" + raw)          # byte 0: no allocation failures
        for budget in (3, 20, 60):                       # and a few out-of-memory points
            seeds.add("scenario", bytes([0x80 | budget]) + raw)
        try:
            doc = json.loads(raw)
        except ValueError:
            continue  # a deliberately broken file is still a good scenario seed
        group = []
        walk_json(doc, seeds, group)
        seeds.stream(group)


def replace(dest, src):
    """DEST := SRC's files, named by content hash (hidden files in DEST kept)."""
    os.makedirs(dest, exist_ok=True)
    for name in os.listdir(dest):
        p = os.path.join(dest, name)
        if not name.startswith(".") and os.path.isfile(p):
            os.remove(p)
    n = 0
    for name in sorted(os.listdir(src)):
        p = os.path.join(src, name)
        if not os.path.isfile(p):
            continue
        with open(p, "rb") as f:
            data = f.read()
        shutil.copyfile(p, os.path.join(dest, hashlib.sha256(data).hexdigest()))
        n += 1
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", help="write seeds to OUT/<target>/")
    ap.add_argument("--replace", nargs=2, metavar=("DEST", "SRC"))
    a = ap.parse_args()
    if a.replace:
        replace(*a.replace)
        return 0
    if not a.out:
        ap.error("--out or --replace is required")
    seeds = Seeds()
    load_vectors(seeds)
    load_scenarios(seeds)
    builtin_strings(seeds)
    encode_seeds(seeds)
    seeds.cross_topics()
    seeds.write(a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
