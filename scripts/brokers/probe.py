#!/usr/bin/env python3
"""probe.py -- one MQTT CONNECT/CONNACK exchange with a broker (python3 stdlib only).

    probe.py [--host H] [--tls] [--cafile F] [--cert C --key K] [--ws PATH]
             [--user U] [--pass-env VAR] [--level 4|3] [--client-id ID]
             [--timeout S] [--expect N] PORT

Connects to H:PORT over TCP, TLS (--tls, verifying the server against --cafile and the
host name), WebSocket (--ws PATH, subprotocol "mqtt") or both, sends one CONNECT
(protocol level 4 = MQTT 3.1.1, 3 = MQTT 3.1 "MQIsdp"; clean session, keep alive 30 s),
reads the CONNACK, sends DISCONNECT and closes. The password is read from the
environment variable named by --pass-env, so it never shows in the process list.

Prints "CONNACK <code>" or "error: <reason>". Exit status: 0 when the CONNACK return code
equals --expect (default 0), 1 when it is another code, 2 when there was no CONNACK
(refused connection, TLS or WebSocket handshake failure, close, timeout), 3 usage.
Every socket operation has the deadline --timeout (default 5 s) in total.
"""
import argparse
import base64
import os
import socket
import ssl
import struct
import sys
import time


class ProbeError(Exception):
    pass


def mqtt_string(s):
    b = s.encode("utf-8")
    return struct.pack("!H", len(b)) + b


def remaining_length(n):
    out = bytearray()
    while True:
        byte = n % 128
        n //= 128
        if n:
            byte |= 0x80
        out.append(byte)
        if not n:
            return bytes(out)


def connect_packet(level, client_id, user, password):
    name = "MQIsdp" if level == 3 else "MQTT"
    flags = 0x02  # clean session
    payload = mqtt_string(client_id)
    if user is not None:
        flags |= 0x80
        payload += mqtt_string(user)
        if password is not None:
            flags |= 0x40
            payload += mqtt_string(password)
    var = mqtt_string(name) + bytes([level, flags]) + struct.pack("!H", 30)
    body = var + payload
    return bytes([0x10]) + remaining_length(len(body)) + body


class Conn:
    """A byte stream with one overall deadline; optionally WebSocket-framed."""

    def __init__(self, sock, deadline):
        self.sock = sock
        self.deadline = deadline
        self.ws = False
        self.pending = b""  # unframed bytes already read

    def _left(self):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise ProbeError("timeout")
        self.sock.settimeout(left)

    def send_raw(self, data):
        self._left()
        self.sock.sendall(data)

    def recv_raw(self, n):
        """Exactly n bytes from the socket."""
        out = b""
        while len(out) < n:
            self._left()
            try:
                chunk = self.sock.recv(n - len(out))
            except socket.timeout:
                raise ProbeError("timeout")
            if not chunk:
                raise ProbeError("connection closed by the broker")
            out += chunk
        return out

    def send(self, data):
        if not self.ws:
            self.send_raw(data)
            return
        # One masked binary frame (RFC 6455 5.2); the mask is random per frame.
        mask = os.urandom(4)
        header = bytes([0x82])
        n = len(data)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.send_raw(header + mask + masked)

    def recv(self, n):
        if not self.ws:
            return self.recv_raw(n)
        while len(self.pending) < n:
            b0, b1 = self.recv_raw(2)
            opcode = b0 & 0x0F
            length = b1 & 0x7F
            if length == 126:
                length = struct.unpack("!H", self.recv_raw(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", self.recv_raw(8))[0]
            mask = self.recv_raw(4) if b1 & 0x80 else None
            payload = self.recv_raw(length) if length else b""
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if opcode == 0x8:
                raise ProbeError("WebSocket close frame from the broker")
            if opcode in (0x0, 0x2):
                self.pending += payload
            # ping/pong/text frames carry no MQTT bytes; skip them
        out, self.pending = self.pending[:n], self.pending[n:]
        return out


def ws_handshake(conn, host, port, path):
    key = base64.b64encode(os.urandom(16)).decode()
    req = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n"
    )
    conn.send_raw(req.encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += conn.recv_raw(1)
        if len(head) > 8192:
            raise ProbeError("WebSocket handshake: response header too long")
    status = head.split(b"\r\n", 1)[0].decode(errors="replace")
    if " 101" not in status:
        raise ProbeError(f"WebSocket handshake refused: {status}")
    conn.ws = True


def probe(args, password):
    deadline = time.monotonic() + args.timeout
    try:
        sock = socket.create_connection((args.host, args.port), timeout=args.timeout)
    except OSError as e:
        raise ProbeError(f"connect: {e}")
    try:
        if args.tls:
            ctx = ssl.create_default_context(cafile=args.cafile)
            if args.cert:
                ctx.load_cert_chain(args.cert, args.key)
            sock.settimeout(max(deadline - time.monotonic(), 0.01))
            try:
                sock = ctx.wrap_socket(sock, server_hostname=args.host)
            except (ssl.SSLError, OSError) as e:
                raise ProbeError(f"TLS handshake: {e}")
        conn = Conn(sock, deadline)
        if args.ws is not None:
            ws_handshake(conn, args.host, args.port, args.ws)
        conn.send(connect_packet(args.level, args.client_id, args.user, password))
        ack = conn.recv(4)  # TLS 1.3: a refused client certificate shows up here
        if ack[0] != 0x20 or ack[1] != 2:
            raise ProbeError(f"expected CONNACK, got bytes {ack.hex()}")
        code = ack[3]
        try:
            conn.send(b"\xe0\x00")  # DISCONNECT
        except (ProbeError, OSError):
            pass
        return code
    finally:
        sock.close()


def main():
    ap = argparse.ArgumentParser(description="one MQTT CONNECT/CONNACK exchange")
    ap.add_argument("port", type=int)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--tls", action="store_true")
    ap.add_argument("--cafile")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--ws", metavar="PATH")
    ap.add_argument("--user")
    ap.add_argument("--pass-env", metavar="VAR")
    ap.add_argument("--level", type=int, choices=(3, 4), default=4)
    ap.add_argument("--client-id", default=f"mqs-probe-{os.getpid()}")
    ap.add_argument("--timeout", type=float, default=5.0)
    ap.add_argument("--expect", type=int, default=0)
    try:
        args = ap.parse_args()
    except SystemExit:
        sys.exit(3)
    password = None
    if args.pass_env:
        password = os.environ.get(args.pass_env)
        if password is None:
            print(f"error: environment variable {args.pass_env} is not set")
            sys.exit(3)
    try:
        code = probe(args, password)
    except (ProbeError, OSError) as e:  # ssl.SSLError is an OSError
        print(f"error: {e}")
        sys.exit(2)
    print(f"CONNACK {code}")
    sys.exit(0 if code == args.expect else 1)


if __name__ == "__main__":
    main()
