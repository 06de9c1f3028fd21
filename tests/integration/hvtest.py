# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared helpers for the Python integration tests: tool lookup, the standard
image set, running commands, and check bookkeeping (meson: 77 = skip)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

# meson sets MALLOC_PERTURB_ for every test.  drgn 0.0.22 and libkdumpfile
# 0.5.1, which these scripts load in-process, then segfault in their own
# teardown after every check passed.  The perturbation is meant for
# hvdump's code (the C unit tests keep it), not for the consumers.
if os.environ.pop("MALLOC_PERTURB_", None) is not None:
    os.execv(sys.executable, [sys.executable] + sys.argv)

SKIP = 77
PAGE = 4096
KDUMP_FORMATS = ("kdump-zlib", "kdump-lzo", "kdump-snappy", "kdump-zstd")
FORMATS = ("elf",) + KDUMP_FORMATS

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.environ.get("HVDUMP_SRCDIR", os.path.dirname(os.path.dirname(HERE)))
BUILDDIR = os.environ.get("HVDUMP_BUILDDIR", "")


def skip(why):
    print("SKIP: " + why)
    sys.exit(SKIP)


def find_tool(env, default):
    path = os.environ.get(env) or default
    if not path or not os.access(path, os.X_OK):
        skip("%s not found (set %s)" % (path or env, env))
    return path


def need_guest(kernel_file=None):
    """Skips unless a test guest can be booted and read: QEMU, root (to read
    QEMU's memory) and, when given, the cached kernel file."""
    if not shutil.which("qemu-system-x86_64"):
        skip("no qemu-system-x86_64")
    if kernel_file and not os.path.exists(kernel_file):
        skip("no cached guest kernel (tests/guest/fetch-kernel.sh)")
    if os.geteuid() != 0:
        skip("reading QEMU's memory needs root")


def hvdump_path():
    return find_tool("HVDUMP", BUILDDIR and os.path.join(BUILDDIR, "dumper", "hvdump"))


def dumpcmp_path():
    return find_tool("DUMPCMP", BUILDDIR and os.path.join(BUILDDIR, "tests", "tools", "dumpcmp"))


def mkimage_path():
    return os.environ.get("MKIMAGE") or os.path.join(SRCDIR, "tests", "tools", "mkimage.py")


class Checks:
    """Counts checks; a failure is printed at once and fails the script at
    the end, so one run shows every broken combination."""

    def __init__(self, name):
        self.name = name
        self.n = 0
        self.failed = []
        self.warnings = []

    def ok(self, cond, what, detail=""):
        self.n += 1
        if cond:
            print("ok   %s" % what)
        else:
            msg = what + (": " + detail.strip() if detail else "")
            print("FAIL " + msg)
            self.failed.append(msg)
        return cond

    def warn(self, what):
        print("WARN " + what)
        self.warnings.append(what)

    def finish(self, workdir=None):
        print("%s: %d checks, %d failed, %d warnings" %
              (self.name, self.n, len(self.failed), len(self.warnings)))
        for f in self.failed:
            print("  failed: " + f)
        if workdir:
            if self.failed or os.environ.get("HVDUMP_KEEP"):
                print("outputs kept in " + workdir)
            else:
                shutil.rmtree(workdir, ignore_errors=True)
        sys.exit(1 if self.failed else 0)


def workdir():
    base = os.environ.get("TMPDIR", "/tmp")
    return tempfile.mkdtemp(prefix="hvdump-it-", dir=base)


def run(cmd, **kw):
    """Runs cmd (a list), returns CompletedProcess with text output."""
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    return subprocess.run(cmd, **kw)


def out_text(p):
    def dec(b):
        return b.decode(errors="replace") if isinstance(b, bytes) else (b or "")
    return (dec(p.stdout) + dec(p.stderr)).strip()


# The standard image set: below 4 GiB at 0, after a hole, and above 4 GiB.
IMAGE_LAYOUT = (("low.img", 0x0, "8M", 11),
                ("mid.img", 0x10000000, "4M", 12),
                ("high.img", 0x100000000, "4M", 13))


def make_images(wd, layout=IMAGE_LAYOUT):
    """Writes the images; returns (list of 'FILE@GPA', stats dict)."""
    specs = []
    total = zero = 0
    for name, gpa, size, seed in layout:
        path = os.path.join(wd, name)
        p = run([sys.executable, mkimage_path(), path, "--size", size,
                 "--seed", str(seed), "--stats"])
        if p.returncode:
            print("mkimage failed: " + out_text(p))
            sys.exit(1)
        st = json.loads(p.stdout)
        total += st["pages"]
        zero += st["zero"]
        specs.append("%s@0x%x" % (path, gpa))
    return specs, {"pages": total, "zero": zero}


def read_pages(spec):
    """Yields (pfn, page bytes) for one 'FILE@GPA'."""
    path, gpa = spec.rsplit("@", 1)
    pfn = int(gpa, 0) // PAGE
    with open(path, "rb") as f:
        while True:
            b = f.read(PAGE)
            if not b:
                break
            yield pfn, b
            pfn += 1


def is_flattened(path):
    with open(path, "rb") as f:
        return f.read(16).rstrip(b"\0") == b"makedumpfile"


def reassemble(flat, out):
    """makedumpfile -R out < flat; returns (ok, message)."""
    with open(flat, "rb") as f:
        p = run(["makedumpfile", "-R", out], stdin=f)
    return p.returncode == 0 and os.path.exists(out), out_text(p)
