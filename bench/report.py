# SPDX-License-Identifier: GPL-2.0-or-later
"""Markdown tables and the met/missed verdicts for bench/run.sh.

Targets:
  kdump-zlib           >= 5x faster than QEMU kdump-zlib, output <= 5% larger
  kdump-zstd/lzo/snappy >= 7x faster than QEMU kdump-zlib
  elf                  <= 1.2x the dd floor and faster than QEMU elf
  peak RSS             <= 64 MiB (2 GiB guest); <= 1 MiB per extra GiB (image)
"""
import statistics

from measure import median

MIB = 1 << 20


def _mib(n):
    return "%.1f" % (n / MIB) if n is not None else "n/a"


def _kib_mib(k):
    return "%.1f" % (k / 1024) if k is not None else "n/a"


def _spread(samples):
    w = [s.wall for s in samples]
    return "%.2f (%.2f-%.2f)" % (median(samples, "wall"), min(w), max(w))


def verdicts(fmt, t, size, rss_kib, ref, guest_mib):
    """List of (target, met) for one hvdump row."""
    out = []
    qz, qe, dd = ref.get("qemu kdump-zlib"), ref.get("qemu elf"), ref.get("dd")
    if fmt == "kdump-zlib" and qz:
        sp = qz[0] / t
        out.append((">=5x QEMU-zlib (%.1fx)" % sp, sp >= 5))
        grow = size / qz[1] - 1
        out.append(("size <=+5%% (%+.1f%%)" % (100 * grow), grow <= 0.05))
    elif fmt in ("kdump-zstd", "kdump-lzo", "kdump-snappy") and qz:
        sp = qz[0] / t
        out.append((">=7x QEMU-zlib (%.1fx)" % sp, sp >= 7))
    elif fmt == "elf":
        if dd:
            r = t / dd[0]
            out.append(("<=1.2x dd (%.2fx)" % r, r <= 1.2))
        if qe:
            out.append(("< QEMU elf", t < qe[0]))
    if rss_kib is not None and guest_mib <= 2048:
        out.append(("RSS<=64MiB", rss_kib <= 64 * 1024))
    return out


def guest_table(rows, ref, guest_mib):
    """rows: list of (tool, fmt, threads, samples); ref: {'qemu elf': (t, size),
    'qemu kdump-zlib': (t, size), 'dd': (t, size)}."""
    pages = guest_mib * 256
    qz, qe = ref.get("qemu kdump-zlib"), ref.get("qemu elf")
    qz_cpu = statistics.median(s.extra["cpu"] for tool, fmt, _, v in rows
                               if tool == "qemu" and fmt == "kdump-zlib" for s in v) \
        if qz else None
    lines = [
        "| tool | format | threads | wall s, median (min-max) | output MiB "
        "| CPU s | peak RSS MiB | kpages/s | speed vs QEMU kdump-zlib "
        "| speed vs QEMU elf | CPU: QEMU kdump-zlib / row | size vs QEMU kdump-zlib | targets |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for tool, fmt, threads, samples in rows:
        t = median(samples, "wall")
        size = median(samples, "size")
        rss = median(samples, "rss_kib")
        if tool == "qemu":
            d = [s.extra["hwm_delta_kib"] for s in samples]
            rss_txt = "n/a (VmHWM +%s)" % _kib_mib(max(d))
            nos = statistics.median(s.extra["nosync"] for s in samples)
            wall_txt = _spread(samples) + " [no fsync: %.2f]" % nos
        else:
            rss_txt = _kib_mib(rss)
            wall_txt = _spread(samples)
        cpus = [s.extra.get("cpu") for s in samples if s.extra.get("cpu") is not None]
        cpu_txt = "%.2f" % statistics.median(cpus) if cpus else "-"
        cr = "%.2fx" % (qz_cpu / statistics.median(cpus)) if cpus and qz_cpu else "-"
        vq = "%.2fx" % (qz[0] / t) if qz else "n/a"
        ve = "%.2fx" % (qe[0] / t) if qe else "n/a"
        vs = "%.3f" % (size / qz[1]) if qz and fmt.startswith("kdump") else "-"
        if tool == "hvdump":
            v = verdicts(fmt, t, size, rss, ref, guest_mib)
            tg = ", ".join("%s %s" % (name, "met" if ok else "**MISSED**")
                           for name, ok in v)
        else:
            tg = "-"
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %.0f | %s | %s | %s | %s | %s |" % (
            tool, fmt, threads, wall_txt, _mib(size), cpu_txt, rss_txt,
            pages / t / 1e3, vq, ve, cr, vs, tg))
    return "\n".join(lines)


def image_table(rows, gibs):
    """rows: list of (fmt, threads, {gib: samples}).  Peak RSS growth per
    extra GiB of image between the smallest and the largest image."""
    lo, hi = min(gibs), max(gibs)
    lines = [
        "| format | threads | " + " | ".join(
            "%d GiB: wall s / output MiB / peak RSS MiB" % g for g in gibs)
        + " | RSS growth per extra GiB | target <=1 MiB/GiB |",
        "|---|---|" + "---|" * len(gibs) + "---|---|",
    ]
    for fmt, threads, by in rows:
        cells = []
        for g in gibs:
            s = by[g]
            cells.append("%.2f / %s / %s" % (median(s, "wall"),
                         _mib(median(s, "size")), _kib_mib(median(s, "rss_kib"))))
        if hi > lo:
            grow = (median(by[hi], "rss_kib") - median(by[lo], "rss_kib")) / 1024 / (hi - lo)
            gtxt = "%.2f MiB" % grow
            ok = "met" if grow <= 1.0 else "**MISSED**"
        else:
            gtxt, ok = "n/a", "n/a"
        lines.append("| %s | %s | %s | %s | %s |" % (fmt, threads,
                     " | ".join(cells), gtxt, ok))
    return "\n".join(lines)
