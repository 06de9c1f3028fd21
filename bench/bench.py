# SPDX-License-Identifier: GPL-2.0-or-later
"""hvdump vs QEMU dump-guest-memory benchmark, run by bench/run.sh.

Guest mode: boots the TCG test guest (tests/guest/guest.py), waits for its
fill, pauses it, then round-robins over QEMU elf / kdump-zlib, every hvdump
format x thread count and the dd floor, --runs times, on the same paused
guest, so that slow drift of the (shared, noisy) machine hits all rows alike.

Image mode: `hvdump convert` of two generated raw images (2 GiB and
--image-gib) to show how peak RSS grows with memory size.
"""
import argparse
import os
import random
import shlex
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SRC, "tests", "guest"))


def private_cache(out):
    """The harness keeps a registry of its guests under $HVDUMP_CACHE/guests
    and `guest.py stop-all` kills them all; on a machine shared with test runs
    that would kill the benchmark's guest midway.  So the benchmark's guest is
    registered under OUT/cache, whose kernel/ links to the real kernel cache
    (no second download).  The guest is killed when the benchmark ends."""
    real = os.environ.get("HVDUMP_CACHE", os.path.expanduser("~/.cache/hvdump"))
    mine = os.path.join(os.path.abspath(out), "cache")
    if os.path.abspath(real) == mine:
        return
    os.makedirs(os.path.join(real, "kernel"), exist_ok=True)
    os.makedirs(mine, exist_ok=True)
    link = os.path.join(mine, "kernel")
    if not os.path.islink(link):
        os.symlink(os.path.abspath(os.path.join(real, "kernel")), link)
    os.environ["HVDUMP_CACHE"] = mine


def _out_arg(argv):
    for i, v in enumerate(argv):
        if v == "--out" and i + 1 < len(argv):
            return argv[i + 1]
        if v.startswith("--out="):
            return v.split("=", 1)[1]
    return os.path.join(os.environ.get("TMPDIR", "/tmp"), "hvdump-bench")


if __name__ == "__main__":
    # Before guest.py is imported: it reads $HVDUMP_CACHE at import time.
    private_cache(_out_arg(sys.argv[1:]))

import measure  # noqa: E402
import qemu_dump  # noqa: E402
import report  # noqa: E402
from guest import Guest  # noqa: E402

HV_FORMATS = ("elf", "kdump-zlib", "kdump-lzo", "kdump-snappy", "kdump-zstd")
QEMU_FORMATS = ("elf", "kdump-zlib")
# ~70% zero pages, like a lightly used guest; the rest mostly compressible.
IMAGE_KINDS = ",".join(["zero"] * 14 + ["text"] * 3 + ["random", "repeat", "sparse"])


def log(msg):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr,
          flush=True)


def thread_list(spec):
    out = []
    for t in spec.split(","):
        t = t.strip().lower()
        n = os.cpu_count() if t in ("n", "nproc") else int(t)
        if n not in out:
            out.append(n)
    return out


def hv_argv(a, mode, src, out, fmt, threads):
    argv = [a.hvdump, mode]
    argv += ["--qmp", src] if mode == "dump" else [src]
    return argv + ["-o", out, "--format", fmt, "--threads", str(threads),
                   "--force", "--progress=none"]


def guest_mode(a):
    if a.reuse_guest:
        g = Guest(a.reuse_guest)
        if g.status() == "running":
            g.stop()
        return guest_runs(a, g)
    gdir = os.path.join(a.out, "guest")
    log("booting guest: %d MiB RAM, %d MiB fill (TCG, takes minutes)" % (a.mem, a.fill))
    g = Guest.start(gdir, mem=a.mem, fill=a.fill, timeout=a.boot_timeout)
    try:
        log("guest ready after %.0fs; pausing it" % g.boot_s)
        g.stop()
        if g.status() != "paused":
            raise RuntimeError("guest did not pause")
        return guest_runs(a, g)
    finally:
        g.kill()


def guest_runs(a, g):
    threads = thread_list(a.threads)
    qemu = {f: [] for f in QEMU_FORMATS}
    hv = {(f, t): [] for f in HV_FORMATS for t in threads}
    dd = []
    # Each run goes through every row in a different (seeded) order: writing
    # right after a 2 GiB file was deleted costs more on some filesystems
    # (ext4 -o discard), and no row should always be the one that pays.
    jobs = [("qemu", f) for f in QEMU_FORMATS] + [("hvdump", k) for k in hv] + [("dd", None)]
    elf_mib = a.mem + 1
    for r in range(a.runs):
        order = list(jobs)
        random.Random(r).shuffle(order)
        for kind, key in order:
            if kind == "qemu":
                s = qemu_dump.dump(g, os.path.join(a.out, "qemu.%s" % key), key)
                qemu[key].append(s)
                if key == "elf":
                    elf_mib = -(-s.size // (1 << 20))
                log("run %d qemu %-12s %6.2fs (no fsync %.2fs) %s B cpu %.2fs" % (
                    r + 1, key, s.wall, s.extra["nosync"], s.size, s.extra["cpu"]))
            elif kind == "hvdump":
                f, t = key
                out = os.path.join(a.out, "hvdump.%s" % f)
                s = measure.run_child(hv_argv(a, "dump", g.qmp_path, out, f, t), out)
                hv[key].append(s)
                log("run %d hvdump %-12s -j%d %6.2fs %s B rss %d KiB cpu %.2fs" % (
                    r + 1, f, t, s.wall, s.size, s.rss_kib, s.extra["cpu"]))
            else:
                s = measure.dd_floor(os.path.join(a.out, "dd.bin"), elf_mib)
                dd.append(s)
                log("run %d dd %d MiB %6.2fs" % (r + 1, elf_mib, s.wall))
        if g.status() != "paused":
            raise RuntimeError("guest is no longer paused (%s)" % g.status())
    ref = {"qemu " + f: (measure.median(v, "wall"), measure.median(v, "size"))
           for f, v in qemu.items()}
    ref["dd"] = (measure.median(dd, "wall"), measure.median(dd, "size"))
    rows = [("qemu", f, "1", v) for f, v in qemu.items()]
    rows += [("hvdump", f, str(t), v) for (f, t), v in hv.items()]
    rows.append(("dd floor", "zeros, fdatasync", "-", dd))
    return report.guest_table(rows, ref, a.mem)


def make_image(a, gib):
    d = a.image_dir or a.out
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "image-%dg.raw" % gib)
    if os.path.exists(path) and os.stat(path).st_size == gib << 30:
        return path
    log("generating %d GiB image %s (slow: Python)" % (gib, path))
    tmp = path + ".tmp"
    subprocess.run([sys.executable, os.path.join(SRC, "tests", "tools", "mkimage.py"),
                    tmp, "--size", "%dG" % gib, "--kinds", IMAGE_KINDS,
                    "--seed", "5", "--max-run", "64", "--stats"], check=True)
    # Zero pages as holes: the image costs ~30% of its size on disk.
    subprocess.run(["fallocate", "--dig-holes", tmp], check=False)
    os.rename(tmp, path)
    return path


def image_mode(a):
    gibs = sorted({2, a.image_gib})
    images = {g: make_image(a, g) for g in gibs}
    t = thread_list(a.threads)[-1]
    rows = []
    for fmt in a.image_formats.split(","):
        by = {g: [] for g in gibs}
        for r in range(a.image_runs):
            for g in gibs:
                out = os.path.join(a.out, "convert.%s" % fmt)
                argv = hv_argv(a, "convert", images[g] + "@0", out, fmt, t)
                s = measure.run_child(argv, out)
                by[g].append(s)
                log("image %d GiB %-12s -j%d %6.2fs %s B rss %d KiB" % (
                    g, fmt, t, s.wall, s.size, s.rss_kib))
        rows.append((fmt, t, by))
    return report.image_table(rows, gibs)


def main():
    ap = argparse.ArgumentParser(prog="bench/run.sh", description=__doc__.splitlines()[0])
    ap.add_argument("--mem", type=int, default=2048, help="guest RAM, MiB")
    ap.add_argument("--fill", type=int, default=512, help="guest fill, MiB")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", default="1,2,nproc",
                    help="hvdump --threads values (nproc = online CPUs)")
    ap.add_argument("--image-gib", type=int, default=8,
                    help="size of the large raw image (0: no image mode)")
    ap.add_argument("--image-runs", type=int, default=1)
    ap.add_argument("--image-formats", default="kdump-zstd,elf")
    ap.add_argument("--image-dir", help="where to keep generated images (default --out)")
    ap.add_argument("--reuse-guest", metavar="DIR",
                    help="use a guest already started by tests/guest/guest.py "
                    "(its --mem must match --mem); it is left paused, not killed")
    ap.add_argument("--no-guest", action="store_true", help="image mode only")
    ap.add_argument("--boot-timeout", type=int, default=900)
    ap.add_argument("--out", default=os.path.join(os.environ.get("TMPDIR", "/tmp"), "hvdump-bench"),
                    help="results, dumps (removed after each run) and images")
    ap.add_argument("--hvdump", required=True)
    ap.add_argument("--buildtype", default="?")
    ap.add_argument("--cmdline", default=None)
    a = ap.parse_args()
    # SIGTERM/SIGHUP unwind like Ctrl-C, so the guest is killed on the way out.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: sys.exit(130))
    a.out = os.path.abspath(a.out)
    a.hvdump = os.path.abspath(a.hvdump)
    os.makedirs(a.out, exist_ok=True)

    m = measure.machine(a.out)
    load0 = measure.loadavg()
    parts = []
    if not a.no_guest:
        parts.append("## Live guest: %d MiB RAM (TCG), %d MiB filled, paused\n\n%s"
                     % (a.mem, a.fill, guest_mode(a)))
    if a.image_gib:
        parts.append("## Raw images: hvdump convert (peak RSS vs memory size)\n\n%s"
                     % image_mode(a))
    head = [
        "# hvdump benchmark",
        "",
        "- date: %s" % m["date"],
        "- command: `%s`" % (a.cmdline or " ".join(map(shlex.quote, sys.argv))),
        "- machine: %s; %s; %s RAM" % (m["host"], m["cpus"], m["memory"]),
        "- output disk: %s (%s)" % (m["disk"], a.out),
        "- hvdump: %s (meson buildtype %s)" % (a.hvdump, a.buildtype),
        "- load average at start / end: %s / %s" % (load0, measure.loadavg()),
        "- runs per row: %d (guest), %d (image); wall = median (min-max)" % (
            a.runs, a.image_runs),
        "- every time includes getting the data on disk: hvdump fsyncs itself;"
        " QEMU's time includes an fsync of its file right after"
        " dump-guest-memory returns (its time without that is shown as"
        " 'no fsync'); dd uses conv=fdatasync. Output is removed and"
        " sync(2) run before every timed run.",
        "- kpages/s = guest RAM pages (4 KiB) / wall time / 1000; CPU s ="
        " user+system seconds (hvdump: the process; QEMU: delta of the QEMU"
        " process over dump-guest-memory); speed ratios ="
        " QEMU time / row time (higher is better).",
        "",
    ]
    text = "\n".join(head) + "\n" + "\n\n".join(parts) + "\n"
    sys.stdout.write(text)
    with open(os.path.join(a.out, "results.md"), "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
