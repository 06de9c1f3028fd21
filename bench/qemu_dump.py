# SPDX-License-Identifier: GPL-2.0-or-later
"""QEMU's own dump-guest-memory, timed the way hvdump is.

QEMU writes with plain write(2) and never fsyncs; hvdump fsyncs before it
exits.  So that both times mean "the dump is on disk", the QEMU time here
includes an fsync of its output right after dump-guest-memory returns (the
time without it is kept too, as 'nosync').
"""
import os
import sys
import time

from measure import Sample, clean, fsync_path, proc_status_kib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "guest"))
from guest import QMP  # noqa: E402  (the harness's QMP client)


def dump(guest, out, fmt):
    """One dump of the (paused) guest via the harness QMP socket.  Without
    'detach' the command returns only once the dump is complete."""
    clean(out)
    args = {"paging": False, "protocol": "file:" + os.path.abspath(out)}
    if fmt != "elf":
        args["format"] = fmt
    q = QMP(guest.harness_qmp)
    try:
        rss0 = proc_status_kib(guest.pid, "VmRSS")
        hwm0 = proc_status_kib(guest.pid, "VmHWM")
        cpu0 = proc_cpu_s(guest.pid)
        t0 = time.monotonic()
        q.execute("dump-guest-memory", args)
        t1 = time.monotonic()
        cpu1 = proc_cpu_s(guest.pid)
        fsync_path(out)
        t2 = time.monotonic()
        rss1 = proc_status_kib(guest.pid, "VmRSS")
        hwm1 = proc_status_kib(guest.pid, "VmHWM")
        st = q.execute("query-dump")
    finally:
        q.close()
    if st.get("status") != "completed":
        raise RuntimeError("QEMU dump %s: %s" % (fmt, st))
    size = os.stat(out).st_size
    clean(out)
    return Sample(t2 - t0, size, None,
                  {"nosync": t1 - t0, "rss_delta_kib": rss1 - rss0,
                   "hwm_delta_kib": hwm1 - hwm0, "cpu": cpu1 - cpu0})


def proc_cpu_s(pid):
    """user+system CPU seconds of the whole QEMU process (all threads; the
    paused vCPUs add ~nothing, so the delta is the dump's CPU cost)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
