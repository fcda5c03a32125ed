#!/usr/bin/python3
"""copy.py - copy one file over plain TCP, for the demo's centralised run.

    copy.py recv --bind ADDR --port PORT --out FILE     (at the central site)
    copy.py send --to ADDR --port PORT FILE             (at the site holding FILE)

The receiver accepts one connection, writes what it receives to FILE (through
a temporary name, renamed when complete) and prints `received N bytes in T s`.
The sender retries the connection for up to 30 s (the receiver may not be
listening yet), then streams FILE.  cluster/demo runs each end with
`ip netns exec` in the two sites' network namespaces and addresses the central
site's address, so the bytes cross the emulated, rate-limited link between the
two sites (docs/wan.md).  A plain TCP stream is the cheapest way to move a whole
file (no protocol, no checksums, no policy checks): the centralised run's copy
time is a lower bound for what a real bulk transfer tool would take.
"""

import argparse
import os
import socket
import sys
import time

BUF = 1 << 20


def recv(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((a.bind, a.port))
    s.listen(1)
    s.settimeout(60)
    conn, _ = s.accept()
    conn.settimeout(60)
    t0 = time.monotonic()
    tmp = a.out + ".part"
    n = 0
    with open(tmp, "wb") as f:
        while True:
            b = conn.recv(BUF)
            if not b:
                break
            f.write(b)
            n += len(b)
    conn.close()
    s.close()
    if a.size is not None and n != a.size:
        sys.exit("copy.py: %s: received %d bytes, expected %d" % (a.out, n, a.size))
    os.replace(tmp, a.out)
    print("received %d bytes in %.2f s" % (n, time.monotonic() - t0))


def send(a):
    deadline = time.monotonic() + 30
    while True:
        try:
            c = socket.create_connection((a.to, a.port), timeout=10)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    c.settimeout(120)
    with open(a.file, "rb") as f:
        while True:
            b = f.read(BUF)
            if not b:
                break
            c.sendall(b)
    c.shutdown(socket.SHUT_WR)
    c.recv(1)          # wait for the receiver to close: everything arrived
    c.close()


def main():
    ap = argparse.ArgumentParser(description="copy one file over TCP")
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("recv")
    r.add_argument("--bind", required=True)
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--size", type=int, help="expected size in bytes")
    s = sub.add_parser("send")
    s.add_argument("--to", required=True)
    s.add_argument("--port", type=int, required=True)
    s.add_argument("file")
    a = ap.parse_args()
    try:
        recv(a) if a.cmd == "recv" else send(a)
    except OSError as e:
        sys.exit("copy.py %s: %s" % (a.cmd, e))


if __name__ == "__main__":
    main()
