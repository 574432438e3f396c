#!/usr/bin/env python3
"""A misbehaving MQTT 'broker' for tests: listens on 127.0.0.1 (a free port, written to
PORTFILE) and treats every connection according to MODE, until killed.

  silent   accept and never send anything (keep the connection open)
  close    accept and close at once (FIN)
  reset    accept and reset at once (RST)
  garbage  after the first bytes from the client, send 64 bytes of 0xff, then stay silent
  trickle  answer the first bytes with one byte (0x20, the start of a CONNACK), then nothing
  badack   answer every CONNECT with a malformed CONNACK (reserved flag bits set: 21 02 00 00)
  ok       a tiny correct broker for CONNECT/PINGREQ/DISCONNECT only (CONNACK 0, PINGRESP)
  no31     as ok, but an MQTT 3.1 CONNECT (protocol level 3) gets CONNACK 1 and a close

usage: fake_broker.py MODE PORTFILE
"""
import socket
import struct
import sys
import threading


def read_packet(conn):
    """One MQTT packet (type, body) or None at EOF."""
    head = conn.recv(1)
    if not head:
        return None
    mult, rl = 1, 0
    for _ in range(4):
        b = conn.recv(1)
        if not b:
            return None
        rl += (b[0] & 0x7F) * mult
        mult *= 128
        if not b[0] & 0x80:
            break
    body = b""
    while len(body) < rl:
        chunk = conn.recv(rl - len(body))
        if not chunk:
            return None
        body += chunk
    return head[0] >> 4, body


def serve(conn, mode):
    try:
        if mode == "close":
            conn.close()
            return
        if mode == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()
            return
        if mode == "silent":
            while conn.recv(4096):
                pass
            return
        if mode in ("garbage", "trickle"):
            if conn.recv(4096):
                conn.sendall(b"\xff" * 64 if mode == "garbage" else b"\x20")
            while conn.recv(4096):
                pass
            return
        while True:
            p = read_packet(conn)
            if p is None:
                return
            ptype, body = p
            if ptype == 1 and mode == "no31" and len(body) > 8 and body[8] == 3:
                conn.sendall(b"\x20\x02\x00\x01")
                return
            if ptype == 1:
                conn.sendall(b"\x21\x02\x00\x00" if mode == "badack" else b"\x20\x02\x00\x00")
            elif ptype == 12:
                conn.sendall(b"\xd0\x00")
            elif ptype == 14:
                return
    except OSError:
        pass
    finally:
        try:
            conn.close()
        except OSError:
            pass


def main():
    mode, portfile = sys.argv[1], sys.argv[2]
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(srv.getsockname()[1]))
    import os
    os.rename(portfile + ".tmp", portfile)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn, mode), daemon=True).start()


if __name__ == "__main__":
    main()
