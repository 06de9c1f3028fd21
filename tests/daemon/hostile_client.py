#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Attacks on hvdumpd's control socket from one client, bounded in count and
time, for test_daemon_basics.sh.  Prints one line of facts per attack.

  hostile_client.py SOCKET deep           one line of 60,000 "[" (under the 64 KiB
                                          line cap): the reply
  hostile_client.py SOCKET endless MIB    MIB MiB without a newline: what happens
  hostile_client.py SOCKET idle N SECS    opens N connections, holds them SECS
                                          seconds, prints how many were refused
"""
import socket
import sys
import time


def connect(path):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(path)
    return s


def main():
    path, what = sys.argv[1], sys.argv[2]
    if what == "deep":
        s = connect(path)
        s.sendall(b"[" * 60000 + b"\n")
        print(s.makefile("rb").readline().decode().strip() or "EOF")
    elif what == "endless":
        s = connect(path)
        chunk = b"a" * 65536
        sent = 0
        try:
            for _ in range(int(sys.argv[3]) * 16):
                s.sendall(chunk)
                sent += len(chunk)
        except OSError as e:
            print("send stopped after %d bytes: %s" % (sent, e.__class__.__name__))
        try:
            data = s.recv(4096)
            print("reply: %s" % (data.decode(errors="replace").strip() or "EOF"))
        except OSError as e:
            print("reply: %s" % e.__class__.__name__)
    elif what == "idle":
        n, secs = int(sys.argv[3]), float(sys.argv[4])
        held, refused = [], 0
        for _ in range(n):
            try:
                s = connect(path)
            except OSError:
                refused += 1
                continue
            s.settimeout(0.5)
            try:
                data = s.recv(4096)
            except socket.timeout:
                data = None
            if data is None:
                held.append(s)    # accepted and waiting for a request
            else:
                refused += 1      # a refusal is a reply and a close
                s.close()
        print("held %d refused %d" % (len(held), refused))
        sys.stdout.flush()
        time.sleep(secs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
