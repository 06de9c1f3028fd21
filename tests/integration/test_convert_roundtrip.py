#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""hvdump convert/info/verify round trip on raw images.

For every format x container (seekable file, --flat, `-o -` into a pipe) x
--keep-zero: convert three images (at 0, after a hole, above 4 GiB), then
`hvdump verify`, dumpcmp, `hvdump info --json` counts; flattened outputs are
reassembled with `makedumpfile -R` and must read identically to the seekable
one; ELF outputs must pass `readelf -a`.  Then vmcore inputs (kdump -> ELF ->
kdump, flattened input) and --threads 1 vs 4 byte-identity."""
import filecmp
import json
import os
import shutil
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hvtest as T  # noqa: E402

HVDUMP = T.hvdump_path()
DUMPCMP = T.dumpcmp_path()
if not shutil.which("makedumpfile"):
    T.skip("makedumpfile not installed (needed for -R)")
if not shutil.which("readelf"):
    T.skip("readelf (binutils) not installed")

C = T.Checks("test_convert_roundtrip")
WD = T.workdir()
IMAGES, STATS = T.make_images(WD)
print("images: %s; %d pages, %d zero" % (" ".join(IMAGES), STATS["pages"], STATS["zero"]))


def convert(inputs, out, fmt, extra=(), pipe=False):
    """Runs hvdump convert; returns (ok, message).  pipe: -o - into a pipe
    whose bytes we copy to out."""
    cmd = [HVDUMP, "convert"] + list(inputs) + ["--format", fmt, "--progress=none"]
    cmd += list(extra)
    if pipe:
        cmd += ["-o", "-"]
        with open(out, "wb") as f:
            p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            shutil.copyfileobj(p.stdout, f, 1 << 20)
            err = p.stderr.read()
            rc = p.wait()
        return rc == 0, "exit %d: %s" % (rc, err.decode(errors="replace").strip())
    cmd += ["-o", out]
    p = T.run(cmd)
    return p.returncode == 0, "exit %d: %s" % (p.returncode, T.out_text(p))


def check_file_output(tag, out):
    if not os.path.exists(out):
        return
    mode = stat.S_IMODE(os.stat(out).st_mode)
    C.ok(mode == 0o600, "%s: mode 0600" % tag, "mode %o" % mode)
    C.ok(not os.path.exists(out + ".partial"), "%s: no .partial left" % tag)


def verify(tag, path):
    p = T.run([HVDUMP, "verify", path])
    C.ok(p.returncode == 0, "%s: hvdump verify" % tag, T.out_text(p))


def dumpcmp(tag, path, keep_zero):
    cmd = [DUMPCMP] + (["--keep-zero"] if keep_zero else []) + [path] + IMAGES
    p = T.run(cmd)
    C.ok(p.returncode == 0, "%s: dumpcmp" % tag, T.out_text(p))


def info(tag, path):
    p = T.run([HVDUMP, "info", path, "--json"])
    if not C.ok(p.returncode == 0, "%s: hvdump info --json" % tag, T.out_text(p)):
        return None
    try:
        return json.loads(p.stdout)
    except ValueError as e:
        C.ok(False, "%s: info output is JSON" % tag, str(e))
        return None


def check_info(tag, j, fmt, flattened, keep_zero):
    if j is None:
        return
    kdump = fmt != "elf"
    pages = j.get("pages", {})
    total, zero = STATS["pages"], STATS["zero"]
    excluded = zero if kdump and not keep_zero else 0
    want = {"format": "kdump" if kdump else "elf",
            "container": "flattened" if flattened else "plain",
            "page_size": T.PAGE}
    got = {k: j.get(k) for k in want}
    C.ok(got == want, "%s: info format/container/page_size" % tag, "got %s" % got)
    comp = str(j.get("compression", "")).lower()
    if kdump:
        C.ok(fmt.split("-")[1] in comp, "%s: info compression" % tag, "got %r" % comp)
    want_p = {"total": total, "dumped": total - excluded, "excluded": excluded}
    got_p = {k: pages.get(k) for k in want_p}
    C.ok(got_p == want_p, "%s: info pages total/dumped/excluded" % tag,
         "got %s want %s" % (got_p, want_p))
    # "zero": all-zero pages among the dumped ones (info reads every page).
    zc = pages.get("zero")
    want_z = zero - excluded
    C.ok(zc == want_z, "%s: info pages.zero" % tag, "got %r want %d" % (zc, want_z))
    C.ok(isinstance(j.get("notes"), list), "%s: info notes is a list" % tag)
    vi = j.get("vmcoreinfo")
    C.ok(isinstance(vi, dict) and vi.get("present") is False,
         "%s: info vmcoreinfo.present is false" % tag, "got %r" % vi)


def readelf(tag, path):
    p = T.run(["readelf", "-a", "-W", path])
    text = T.out_text(p)
    bad = [ln for ln in text.splitlines() if "Warning" in ln or "Error" in ln]
    C.ok(p.returncode == 0 and not bad, "%s: readelf -a clean" % tag,
         "exit %d: %s" % (p.returncode, "; ".join(bad[:3])))


def check_output(tag, out, fmt, flattened, keep_zero, seekable_ref):
    """Everything we can say about one converted file."""
    verify(tag, out)
    dumpcmp(tag, out, keep_zero)
    check_info(tag, info(tag, out), fmt, flattened, keep_zero)
    plain = out
    if flattened:
        plain = out + ".R"
        ok, msg = T.reassemble(out, plain)
        if not C.ok(ok, "%s: makedumpfile -R" % tag, msg):
            return
        verify(tag + " -R", plain)
        dumpcmp(tag + " -R", plain, keep_zero)
        check_info(tag + " -R", info(tag + " -R", plain), fmt, False, keep_zero)
    if fmt == "elf":
        readelf(tag, plain)
    if seekable_ref and plain != seekable_ref and os.path.exists(seekable_ref):
        if not filecmp.cmp(plain, seekable_ref, shallow=False):
            C.warn("%s: reassembled output is not byte-identical to %s (reads identically: "
                   "see dumpcmp)" % (tag, os.path.basename(seekable_ref)))
        else:
            C.ok(True, "%s: reassembled == seekable output, byte for byte" % tag)


# 1. Every format x container x keep-zero.
for fmt in T.FORMATS:
    for keep_zero in ((False,) if fmt == "elf" else (False, True)):
        kz = ["--keep-zero"] if keep_zero else ["--exclude-zero"]
        base = os.path.join(WD, fmt + ("-kz" if keep_zero else ""))
        seekable = base + ".file"
        for container in ("file", "flat", "pipe"):
            tag = "%s%s %s" % (fmt, " --keep-zero" if keep_zero else "", container)
            out = base + "." + container
            extra = kz + (["--flat"] if container == "flat" else [])
            ok, msg = convert(IMAGES, out, fmt, extra, pipe=(container == "pipe"))
            if fmt == "elf" and container != "file" and not ok and "exit 2" in msg:
                # ELF has no flattened form; refusing it as a usage error is fine.
                C.warn("%s: refused (%s)" % (tag, msg))
                continue
            if not C.ok(ok, "%s: convert" % tag, msg):
                continue
            if container != "pipe":
                check_file_output(tag, out)
            flattened = T.is_flattened(out)
            if fmt != "elf" and container != "file":
                C.ok(flattened, "%s: output is flattened" % tag)
            if container == "file":
                C.ok(not flattened, "%s: output is seekable (not flattened)" % tag)
            check_output(tag, out, fmt, flattened, keep_zero,
                         seekable if container != "file" else None)

# 2. vmcore inputs: kdump -> ELF -> kdump, and a flattened input.
src = os.path.join(WD, "kdump-zstd.file")
chain = [("kdump-zstd --exclude-zero -> elf", src, "elf", os.path.join(WD, "rt.elf")),
         ("-> elf -> kdump-lzo", os.path.join(WD, "rt.elf"), "kdump-lzo",
          os.path.join(WD, "rt.lzo")),
         ("flat kdump-zlib -> kdump-snappy", os.path.join(WD, "kdump-zlib.flat"),
          "kdump-snappy", os.path.join(WD, "rt.snappy")),
         ("kdump-zstd --keep-zero -> elf", os.path.join(WD, "kdump-zstd-kz.file"), "elf",
          os.path.join(WD, "rt-kz.elf"))]
for tag, inp, fmt, out in chain:
    if not os.path.exists(inp):
        C.ok(False, "%s: input %s exists" % (tag, os.path.basename(inp)))
        continue
    ok, msg = convert([inp], out, fmt)
    if C.ok(ok, "vmcore input %s: convert" % tag, msg):
        check_file_output(tag, out)
        verify(tag, out)
        dumpcmp(tag, out, False)
        if fmt == "elf":
            readelf(tag, out)
# The ELF made from a --keep-zero kdump has every page; back to kdump with
# --keep-zero must keep them all.
rt_kz = os.path.join(WD, "rt-kz.elf")
if os.path.exists(rt_kz):
    out = os.path.join(WD, "rt-kz.zstd")
    ok, msg = convert([rt_kz], out, "kdump-zstd", ["--keep-zero"])
    if C.ok(ok, "vmcore input elf -> kdump-zstd --keep-zero: convert", msg):
        dumpcmp("elf -> kdump-zstd --keep-zero", out, True)
        check_info("elf -> kdump-zstd --keep-zero", info("rt-kz", out), "kdump-zstd", False, True)

# 3. --threads 1 and --threads 4 give the same bytes.
for fmt, extra in (("kdump-zstd", []), ("kdump-zlib", ["--flat"]), ("elf", []),
                   ("kdump-lzo", ["--keep-zero"])):
    outs = []
    for n in (1, 4):
        out = os.path.join(WD, "thr%d-%s%s" % (n, fmt, "".join(extra)))
        ok, msg = convert(IMAGES, out, fmt, extra + ["--threads", str(n)])
        if C.ok(ok, "%s %s --threads %d: convert" % (fmt, " ".join(extra), n), msg):
            outs.append(out)
    if len(outs) == 2:
        same = filecmp.cmp(outs[0], outs[1], shallow=False)
        detail = ""
        if not same:
            a, b = open(outs[0], "rb").read(), open(outs[1], "rb").read()
            i = next((k for k in range(min(len(a), len(b))) if a[k] != b[k]), min(len(a), len(b)))
            detail = "sizes %d/%d, first difference at byte 0x%x" % (len(a), len(b), i)
        C.ok(same, "%s %s: --threads 1 and 4 byte-identical" % (fmt, " ".join(extra)), detail)

C.finish(WD)
