#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Send request lines to hvdumpd's control socket over ONE connection and
print one reply line per request (blank requests get no reply).
Usage: ctl.py SOCKET LINE [LINE...]"""
import socket
import sys


def main():
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(30)
    s.connect(sys.argv[1])
    f = s.makefile("rwb")
    for line in sys.argv[2:]:
        try:
            f.write(line.encode() + b"\n")
            f.flush()
        except OSError:
            pass  # a refused peer: the daemon answered and closed; read it
        if not line.strip():
            continue
        try:
            reply = f.readline()
        except OSError:
            reply = b""
        if not reply:
            print("EOF")
            return 1
        sys.stdout.write(reply.decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
