# SPDX-License-Identifier: GPL-2.0-or-later
"""Timing and machine facts for the benchmark (bench/run.sh).

Every timed run starts from a clean disk state: the previous output is
removed and the page cache flushed (os.sync) first, so that one run's
write-back never lands in the next run's time.
"""
import os
import platform
import statistics
import subprocess
import time


class Sample:
    """One timed run: wall seconds, output bytes, peak RSS in KiB (or None)."""

    def __init__(self, wall, size, rss_kib=None, extra=None):
        self.wall = wall
        self.size = size
        self.rss_kib = rss_kib
        self.extra = extra or {}


def clean(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    os.sync()


def fsync_path(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def run_child(argv, out, keep=False):
    """Runs argv to completion; the wall time and the child's own peak RSS
    (wait4's ru_maxrss, KiB) are measured around fork..reap only."""
    clean(out)
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = proc.stderr.read()
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.monotonic() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(argv),
                           proc.returncode, stderr.decode(errors="replace")))
    size = os.stat(out).st_size
    if not keep:
        clean(out)
    return Sample(wall, size, ru.ru_maxrss,
                  {"cpu": ru.ru_utime + ru.ru_stime})


def proc_status_kib(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def median(samples, attr):
    vals = [getattr(s, attr) for s in samples if getattr(s, attr) is not None]
    return statistics.median(vals) if vals else None


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def disk_of(path):
    """'SOURCE fstype (ssd|hdd)' for the filesystem holding path."""
    try:
        out = subprocess.run(["findmnt", "-n", "-T", path, "-o", "SOURCE,FSTYPE"],
                             capture_output=True, text=True).stdout.split()
    except OSError:
        return "unknown"
    if len(out) < 2:
        return "unknown"
    src, fstype = out[0], out[1]
    kind = ""
    dev = os.path.basename(src)
    for name in (dev, dev.rstrip("0123456789"), dev.rsplit("p", 1)[0]):
        rot = "/sys/block/%s/queue/rotational" % name
        if os.path.exists(rot):
            with open(rot) as f:
                kind = ", rotational=%s" % f.read().strip()
            break
    return "%s %s%s" % (src, fstype, kind)


def machine(out_dir):
    mem_kib = proc_status_mem_total()
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "host": "%s, kernel %s" % (platform.node(), platform.release()),
        "cpus": "%d x %s" % (os.cpu_count(), cpu_model()),
        "memory": "%d MiB" % (mem_kib // 1024) if mem_kib else "unknown",
        "disk": disk_of(out_dir),
    }


def proc_status_mem_total():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def dd_floor(out, mib):
    """Time to write mib MiB of zeros and get them on disk (the floor any
    dumper writing an ELF of that size pays)."""
    clean(out)
    t0 = time.monotonic()
    subprocess.run(["dd", "if=/dev/zero", "of=" + out, "bs=1M",
                    "count=%d" % mib, "conv=fdatasync"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.monotonic() - t0
    size = os.stat(out).st_size
    clean(out)
    return Sample(wall, size, None, {"cpu": None})
