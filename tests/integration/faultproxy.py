#!/usr/bin/env python3
"""faultproxy.py MODE PORT_FILE UPSTREAM_PORT [LISTEN_PORT] — a tiny TCP proxy in front of a real
broker that breaks one rule on purpose, so that `mqttspec fuzz` has something to find
(tests/integration/livefuzz.sh). Loopback only; stdlib only.

  wrongid    every PUBACK the broker sends carries the packet id + 1   [MQTT-2.3.1-6]
  malformed  every PUBACK gets one stray byte (Remaining Length 3)      (malformed reply)
  hang       UNSUBACKs are swallowed: UNSUBSCRIBE is never answered     [MQTT-3.10.4-4]
  crash      the proxy exits as soon as a client sends an UNSUBSCRIBE   (crash)

Once listening on a free 127.0.0.1 port (or on LISTEN_PORT: a "restarted broker" comes
back on the port the dead one had) it writes the port to PORT_FILE. Server-to-
client bytes are cut into frames (the fixed header's Remaining Length) so that only
whole packets are rewritten; client-to-server bytes pass as they come.
"""
import os
import socket
import sys
import threading

MODES = ("wrongid", "malformed", "hang", "crash")


def frame_len(buf):
    """Length of the first whole frame in buf, 0 when incomplete, -1 when unframeable."""
    mult, value = 1, 0
    for i in range(1, 5):
        if i >= len(buf):
            return 0
        value += (buf[i] & 0x7F) * mult
        if not buf[i] & 0x80:
            total = 1 + i + value
            return total if len(buf) >= total else 0
        mult *= 128
    return -1


def rewrite(mode, frame):
    """The frame as the faulty broker sends it (None: swallowed)."""
    kind = frame[0] >> 4
    if kind == 4 and len(frame) == 4 and mode == "wrongid":
        pid = ((frame[2] << 8 | frame[3]) + 1) & 0xFFFF or 1
        return bytes([0x40, 2, pid >> 8, pid & 0xFF])
    if kind == 4 and len(frame) == 4 and mode == "malformed":
        return bytes([0x40, 3]) + frame[2:] + b"\x00"
    if kind == 11 and mode == "hang":
        return None
    return frame


def shut(*socks):
    """Ends both directions of a proxied connection."""
    for s in socks:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def pump_down(mode, up, down):
    """Broker -> client, frame by frame."""
    buf = b""
    try:
        while True:
            data = up.recv(65536)
            if not data:
                break
            buf += data
            while buf:
                n = frame_len(buf)
                if n < 0:  # cannot frame: pass the rest as it is
                    down.sendall(buf)
                    buf = b""
                    break
                if n == 0:
                    break
                out = rewrite(mode, buf[:n])
                buf = buf[n:]
                if out:
                    down.sendall(out)
    except OSError:
        pass
    shut(up, down)


def pump_up(mode, down, up):
    """Client -> broker, as it comes (crash mode watches for UNSUBSCRIBE)."""
    buf, framed = b"", True
    try:
        while True:
            data = down.recv(65536)
            if not data:
                break
            if mode == "crash" and framed:
                buf += data
                while framed and buf:
                    n = frame_len(buf)
                    if n < 0:
                        framed = False
                    elif n == 0:
                        break
                    else:
                        if buf[0] == 0xA2:
                            os._exit(0)  # the "broker" dies
                        buf = buf[n:]
            up.sendall(data)
    except OSError:
        pass
    shut(up, down)


def serve(mode, client, upstream_port):
    try:
        up = socket.create_connection(("127.0.0.1", upstream_port))
    except OSError:
        client.close()
        return
    for s in (up, client):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    threading.Thread(target=pump_down, args=(mode, up, client), daemon=True).start()
    threading.Thread(target=pump_up, args=(mode, client, up), daemon=True).start()


def main():
    if len(sys.argv) not in (4, 5) or sys.argv[1] not in MODES:
        sys.stderr.write(__doc__)
        return 2
    mode, port_file, upstream = sys.argv[1], sys.argv[2], int(sys.argv[3])
    listen_port = int(sys.argv[4]) if len(sys.argv) == 5 else 0
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", listen_port))
    lsock.listen(128)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(lsock.getsockname()[1]))
    os.rename(port_file + ".tmp", port_file)
    while True:
        client, _ = lsock.accept()
        serve(mode, client, upstream)


if __name__ == "__main__":
    sys.exit(main())
