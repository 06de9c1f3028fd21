#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Many clients at once on hvdumpd's control socket.

Usage: hammer.py SOCKET CLIENTS QUERIES [DOMAIN]

CLIENTS threads each open one connection and send QUERIES query-dumps
requests mixed with bad lines (malformed JSON, a JSON array, an unknown
command, bytes that are not UTF-8, a dump without a domain).  Half of them
wait for each reply before the next request; the other half send all their
requests first and then read the replies (pipelining).  One more client
sends thousands of requests and never reads a reply: it must not stall the
others.  Every reply must be one well-formed JSON line of the right kind,
echoing the request's id; an error must leave the connection usable.
Prints one JSON summary line; exit status 0 when every check held.
DOMAIN: count the query-dumps replies that saw that domain's dump running.
"""
import json
import socket
import sys
import threading
import time

TIMEOUT = 30


def requests(cid, queries):
    """(line bytes, expected kind, id or None) for one client."""
    out = []
    for i in range(queries):
        rid = f"c{cid}-q{i}"
        out.append((json.dumps({"execute": "query-dumps", "id": rid}).encode(),
                    "query", rid))
        if i % 4 == 0:
            out.append((b"{this is not json", "GenericError", None))
        if i % 4 == 1:
            out.append((json.dumps({"execute": "frobnicate", "id": rid + "x"}).encode(),
                        "CommandNotFound", rid + "x"))
        if i % 4 == 2:
            out.append((b"[1, 2, 3]", "GenericError", None))
        if i % 4 == 3:
            out.append((b"\xff\xfe{\"execute\":\"query-dumps\"}", "GenericError", None))
        if i == queries // 2:
            out.append((json.dumps({"execute": "dump", "id": rid + "d",
                                    "arguments": {}}).encode(),
                        "GenericError", rid + "d"))
    return out


def check_reply(raw, kind, rid, domain, seen):
    """None when raw is the right reply for the request, else a message."""
    if not raw.endswith(b"\n"):
        return f"reply not terminated by a newline: {raw[:80]!r}"
    try:
        r = json.loads(raw.decode())
    except ValueError as e:
        return f"reply is not JSON ({e}): {raw[:80]!r}"
    if not isinstance(r, dict) or ("return" in r) == ("error" in r):
        return f"reply has neither or both of return/error: {raw[:80]!r}"
    if rid is not None and r.get("id") != rid:
        return f"reply id {r.get('id')!r}, wanted {rid!r}"
    if kind == "query":
        if not isinstance(r.get("return"), list):
            return f"query-dumps did not return a list: {raw[:120]!r}"
        for j in r["return"]:
            if not isinstance(j, dict) or not {"id", "domain", "status"} <= j.keys():
                return f"query-dumps entry malformed: {j!r}"
            if j["domain"] == domain and j["status"] == "running":
                seen[0] += 1
        return None
    e = r.get("error")
    if not isinstance(e, dict) or not isinstance(e.get("desc"), str):
        return f"error reply malformed: {raw[:120]!r}"
    if e.get("class") != kind:
        return f"error class {e.get('class')!r}, wanted {kind!r}: {e.get('desc')}"
    return None


def client(cid, path, queries, pipeline, domain, res):
    seen = [0]
    t0 = time.monotonic()
    try:
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(TIMEOUT)
        s.connect(path)
        f = s.makefile("rwb")
        reqs = requests(cid, queries)
        if pipeline:
            f.write(b"".join(line + b"\n" for line, _, _ in reqs))
            f.flush()
        for line, kind, rid in reqs:
            if not pipeline:
                f.write(line + b"\n")
                f.flush()
            raw = f.readline()
            if not raw:
                raise RuntimeError(f"EOF instead of a reply to {line[:40]!r}")
            msg = check_reply(raw, kind, rid, domain, seen)
            if msg:
                raise RuntimeError(msg)
        s.close()
        res[cid] = ("ok", len(reqs), seen[0], time.monotonic() - t0)
    except Exception as e:  # refused, timed out, bad reply: all failures
        res[cid] = (f"client {cid}: {type(e).__name__}: {e}", 0, seen[0],
                    time.monotonic() - t0)


def staller(path, stop, res):
    """Sends requests without ever reading: the daemon's replies pile up."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(1)
    s.connect(path)
    line = b'{"execute":"query-dumps"}\n' * 256
    sent = 0
    while not stop.is_set():
        try:
            s.sendall(line)
            sent += 256
        except socket.timeout:
            pass  # both socket buffers are full: the daemon stopped reading us
    res["staller_sent"] = sent
    s.close()


def main():
    path, n, queries = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    domain = sys.argv[4] if len(sys.argv) > 4 else None
    res = {}
    stop = threading.Event()
    st = threading.Thread(target=staller, args=(path, stop, res))
    st.start()
    time.sleep(0.3)  # let the staller fill its buffers first
    ts = [threading.Thread(target=client, args=(i, path, queries, i % 2 == 1, domain, res))
          for i in range(n)]
    t0 = time.monotonic()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    elapsed = time.monotonic() - t0
    stop.set()
    st.join()
    fails = [res[i][0] for i in range(n) if res[i][0] != "ok"]
    summary = {
        "clients": n,
        "ok": n - len(fails),
        "replies": sum(res[i][1] for i in range(n)),
        "saw_running": sum(res[i][2] for i in range(n)),
        "max_client_s": round(max(res[i][3] for i in range(n)), 2),
        "elapsed_s": round(elapsed, 2),
        "staller_sent": res.get("staller_sent", 0),
        "failures": fails[:5],
    }
    print(json.dumps(summary))
    return 0 if not fails else 1


if __name__ == "__main__":
    sys.exit(main())
