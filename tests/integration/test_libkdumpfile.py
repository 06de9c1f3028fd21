#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""libkdumpfile (python3-libkdumpfile 0.5.1) reads what hvdump writes.

Converts the standard images to ELF and to every kdump compression (one with
--keep-zero, one flattened and reassembled with makedumpfile -R, since
libkdumpfile cannot read flattened files), opens each with kdumpfile and
reads every image page by machine-physical address: it must equal the image,
or be missing only where the image page is all zero.

These images carry no VMCOREINFO, so libkdumpfile cannot set up kernel
address translation: KDUMP_KPHYSADDR reads fail with "Cannot determine
5-level paging" even on a valid file.  KDUMP_MACHPHYSADDR needs no
translation and is what we check."""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hvtest as T  # noqa: E402

try:
    import kdumpfile
except ImportError as e:
    T.skip("python3-libkdumpfile not importable with %s: %s" % (sys.executable, e))

HVDUMP = T.hvdump_path()
C = T.Checks("test_libkdumpfile")
WD = T.workdir()
IMAGES, STATS = T.make_images(WD)

CASES = [("elf", [], False), ("kdump-zlib", [], False), ("kdump-lzo", [], False),
         ("kdump-snappy", [], False), ("kdump-zstd", [], False),
         ("kdump-zstd", ["--keep-zero"], False), ("kdump-lzo", ["--flat"], True)]


def open_dump(tag, path, fmt):
    try:
        k = kdumpfile.kdumpfile(path)
    except Exception as e:  # noqa: BLE001 - any libkdumpfile error is the finding
        C.ok(False, "%s: kdumpfile opens it" % tag, "%s: %s" % (type(e).__name__, e))
        return None
    C.ok(True, "%s: kdumpfile opens it" % tag)
    want = "elf" if fmt == "elf" else "diskdump"
    try:
        got = k.attr["file.format"]
        C.ok(got == want, "%s: file.format is %s" % (tag, want), "got %r" % got)
    except Exception as e:  # noqa: BLE001
        C.ok(False, "%s: file.format readable" % tag, str(e))
    # A kdump file without utsname has no architecture; tell it.
    try:
        arch = k.attr["arch.name"]
    except Exception:  # noqa: BLE001
        arch = None
    if arch is None:
        try:
            k.attr["arch.name"] = "x86_64"
            print("note %s: arch.name unset by the file, set to x86_64" % tag)
        except Exception as e:  # noqa: BLE001
            C.warn("%s: cannot set arch.name: %s" % (tag, e))
    else:
        C.ok(arch == "x86_64", "%s: arch.name x86_64" % tag, "got %r" % arch)
    return k


def compare(tag, k, keep_zero):
    bad = None
    missing = n = 0
    for spec in IMAGES:
        for pfn, page in T.read_pages(spec):
            n += 1
            addr = pfn * T.PAGE
            try:
                got = bytes(k.read(kdumpfile.KDUMP_MACHPHYSADDR, addr, T.PAGE))
            except (kdumpfile.exceptions.NoDataException,
                    kdumpfile.exceptions.EOFException) as e:
                missing += 1
                if page.count(0) != T.PAGE or keep_zero:
                    bad = "pfn 0x%x: %s but the image page is %s" % (
                        pfn, e, "zero (--keep-zero)" if keep_zero else "not zero")
                    break
                continue
            except Exception as e:  # noqa: BLE001
                bad = "pfn 0x%x: %s: %s" % (pfn, type(e).__name__, e)
                break
            if got != page:
                off = next(i for i in range(T.PAGE) if got[i] != page[i])
                bad = "pfn 0x%x: bytes differ at page offset 0x%x" % (pfn, off)
                break
        if bad:
            break
    C.ok(bad is None, "%s: %d pages read by KDUMP_MACHPHYSADDR (%d missing, all zero)"
         % (tag, n, missing), bad or "")
    # A hole between images reads as missing, never as data.
    try:
        k.read(kdumpfile.KDUMP_MACHPHYSADDR, 0x20000000, T.PAGE)
        C.ok(False, "%s: address in the hole is missing" % tag, "read succeeded")
    except Exception:  # noqa: BLE001
        C.ok(True, "%s: address in the hole is missing" % tag)


for fmt, extra, flat in CASES:
    tag = fmt + "".join(" " + e for e in extra)
    out = os.path.join(WD, fmt + "".join(extra) + ".dump")
    p = T.run([HVDUMP, "convert"] + IMAGES + ["--format", fmt, "--progress=none", "-o", out]
              + extra)
    if not C.ok(p.returncode == 0, "%s: convert" % tag, T.out_text(p)):
        continue
    if flat:
        if not shutil.which("makedumpfile"):
            C.warn("%s: makedumpfile missing, flattened case not checked" % tag)
            continue
        ok, msg = T.reassemble(out, out + ".R")
        if not C.ok(ok, "%s: makedumpfile -R" % tag, msg):
            continue
        out += ".R"
    k = open_dump(tag, out, fmt)
    if k is not None:
        compare(tag, k, "--keep-zero" in extra)
        del k

C.finish(WD)
