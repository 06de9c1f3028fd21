# SPDX-License-Identifier: GPL-2.0-or-later
"""Faults in the middle of `hvdump dump --qmp`: each must end with the
documented exit code (1 failure, 3 cancelled by a signal), a clear one-line
message, no output or .partial file left behind, and the guest running again
when it still exists.

  - SIGINT, SIGTERM, SIGHUP to hvdump           -> 3, guest running
  - output disk full (a 32 MiB tmpfs)           -> 1, "space", guest running
  - disk full at the very start (a one-page tmpfs) and at the very end (a
    tmpfs 256 KiB short of the ELF dump's allocated size) -> 1, "space", guest running
  - output directory removed mid-dump           -> 1, guest running
  - output pipe closed early (| head -c 1000)   -> non-zero, guest running
  - guest quits (QMP `quit` on the harness socket) -> 1
  - QEMU killed with SIGKILL                    -> 1, "QEMU ... exited"

"Mid-dump" is caught by starting hvdump with --threads 1 --format kdump-zlib
--progress=json and injecting the fault at its first progress line; the
guest's memory is filled (--fill) so a dump lasts long enough. A fault that
comes too late shows up as exit 0 and fails the check."""
import glob
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hvtest  # noqa: E402

sys.path.insert(0, os.path.join(hvtest.SRCDIR, "tests", "guest"))
from guest import Guest  # noqa: E402

KDIR = os.environ.get("HVDUMP_KERNEL_DIR", os.path.expanduser("~/.cache/hvdump/kernel"))
FILL = int(os.environ.get("HVDUMP_FAULT_FILL", "128"))


def message_lines(stderr):
    """stderr without progress JSON: what a user reads."""
    return [l for l in stderr.splitlines()
            if l.strip() and '"event":"progress"' not in l.replace(" ", "")]


def leftovers(out):
    return [p for p in glob.glob(out + "*") if os.path.exists(p)]


class Dump:
    """One hvdump dump, started so that the caller can act mid-dump."""

    def __init__(self, hv, g, out, fmt="kdump-zlib", extra=()):
        self.out = out
        self.p = subprocess.Popen(
            [hv, "dump", "--qmp", g.qmp_path, out, "--format", fmt, "--threads", "1",
             "--progress=json"] + list(extra),
            stdout=subprocess.PIPE if out == "-" else subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True)
        self.err = []

    def wait_progress(self, timeout=60):
        """Reads stderr up to the first progress line; False if the dump
        ended (or printed nothing) first."""
        t0 = time.monotonic()
        for line in self.p.stderr:
            self.err.append(line.rstrip("\n"))
            if '"progress"' in line:
                return True
            if time.monotonic() - t0 > timeout:
                break
        return False

    def finish(self, timeout=120):
        _out, rest = self.p.communicate(timeout=timeout)
        self.err += (rest or "").splitlines()
        return self.p.returncode, "\n".join(self.err)


def check_fault(c, what, rc, stderr, want_rc, out, g=None, want_text=None):
    msgs = message_lines(stderr)
    print("     [%s: rc %s, message %r]" % (what, rc, msgs[-1] if msgs else None))
    if isinstance(want_rc, int):
        c.ok(rc == want_rc, "%s: exit %d" % (what, want_rc), "rc %s: %s" % (rc, stderr[-400:]))
    else:
        c.ok(rc not in (0, None), "%s: non-zero exit" % what, "rc %s" % rc)
    errs = [m for m in msgs if not m.lstrip().startswith("{")]
    c.ok(len(errs) == 1 and len(errs[0]) < 300 and errs[0].startswith("hvdump"),
         "%s: a clear one-line message" % what, repr(msgs))
    if want_text:
        c.ok(any(all(w.lower() in m.lower() for w in want_text) for m in msgs),
             "%s: message mentions %s" % (what, " and ".join(want_text)), repr(msgs))
    if out != "-":
        left = leftovers(out)
        c.ok(not left, "%s: no output or .partial file left" % what, repr(left))
    if g is not None:
        st = g.status()
        c.ok(st == "running", "%s: guest running again" % what, st)


def signal_case(c, hv, g, wd, sig):
    name = signal.Signals(sig).name
    out = os.path.join(wd, "sig-%s.kdump" % name)
    d = Dump(hv, g, out)
    if not c.ok(d.wait_progress(), "%s: dump started" % name, "\n".join(d.err)):
        d.finish()
        return
    d.p.send_signal(sig)
    rc, err = d.finish()
    check_fault(c, name, rc, err, 3, out, g)


def disk_full_case(c, hv, g, wd):
    mnt = os.path.join(wd, "small")
    os.makedirs(mnt)
    p = hvtest.run(["mount", "-t", "tmpfs", "-o", "size=32m", "hvdump-test", mnt])
    if p.returncode != 0:
        print("SKIP disk full: cannot mount a tmpfs: " + hvtest.out_text(p))
        return
    try:
        out = os.path.join(mnt, "full.elf")
        p = hvtest.run([hv, "dump", "--qmp", g.qmp_path, out, "--format", "elf",
                        "--progress=none"], timeout=300)
        check_fault(c, "disk full", p.returncode, hvtest.out_text(p), 1, out, g,
                    want_text=("space",))
        c.ok(not os.listdir(mnt), "disk full: the tmpfs is empty again", repr(os.listdir(mnt)))
    finally:
        hvtest.run(["umount", mnt])


def small_tmpfs(mnt, size):
    os.makedirs(mnt)
    p = hvtest.run(["mount", "-t", "tmpfs", "-o", "size=%d" % size, "hvdump-test", mnt])
    if p.returncode != 0:
        print("SKIP %s: cannot mount a tmpfs: %s" % (mnt, hvtest.out_text(p)))
        return False
    return True


def disk_full_edges_case(c, hv, g, wd):
    """ENOSPC on the first write (headers) and on the last pages."""
    mnt = os.path.join(wd, "onepage")
    if small_tmpfs(mnt, 4096):
        try:
            out = os.path.join(mnt, "start.elf")
            p = hvtest.run([hv, "dump", "--qmp", g.qmp_path, out, "--format", "elf",
                            "--progress=none"], timeout=300)
            check_fault(c, "disk full at the start", p.returncode, hvtest.out_text(p), 1,
                        out, g, want_text=("space",))
        finally:
            hvtest.run(["umount", mnt])
    # The ELF size of this guest, from a dump that fits.
    ref = os.path.join(wd, "size-ref.elf")
    p = hvtest.run([hv, "dump", "--qmp", g.qmp_path, ref, "--format", "elf",
                    "--progress=none"], timeout=300)
    if not c.ok(p.returncode == 0, "reference ELF dump", hvtest.out_text(p)):
        return
    # The bytes it takes on disk: the ELF is sparse (zero pages are holes).
    size = os.stat(ref).st_blocks * 512
    c.ok(size < os.path.getsize(ref), "the ELF dump is sparse",
         "%d bytes allocated of %d" % (size, os.path.getsize(ref)))
    os.unlink(ref)
    mnt = os.path.join(wd, "almost")
    if small_tmpfs(mnt, size - 256 * 1024):
        try:
            out = os.path.join(mnt, "end.elf")
            p = hvtest.run([hv, "dump", "--qmp", g.qmp_path, out, "--format", "elf",
                            "--progress=none"], timeout=300)
            check_fault(c, "disk full at the end", p.returncode, hvtest.out_text(p), 1,
                        out, g, want_text=("space",))
            c.ok(not os.listdir(mnt), "disk full at the end: the tmpfs is empty again",
                 repr(os.listdir(mnt)))
        finally:
            hvtest.run(["umount", mnt])


def dir_removed_case(c, hv, g, wd):
    d_out = os.path.join(wd, "doomed")
    os.makedirs(d_out)
    out = os.path.join(d_out, "x.kdump")
    d = Dump(hv, g, out)
    if not c.ok(d.wait_progress(), "directory removed: dump started", "\n".join(d.err)):
        d.finish()
        return
    shutil.rmtree(d_out)
    rc, err = d.finish()
    check_fault(c, "output directory removed", rc, err, 1, out, g)
    c.ok(not os.path.exists(d_out), "directory removed: nothing recreated it")


def pipe_case(c, hv, g, wd):
    errf = os.path.join(wd, "pipe.err")
    script = ('"$0" dump --qmp "$1" - --format kdump-zstd --progress=none 2>"$2" '
              '| head -c 1000 >/dev/null; echo "${PIPESTATUS[0]}"')
    p = hvtest.run(["bash", "-c", script, hv, g.qmp_path, errf], timeout=300)
    rc = int(p.stdout.decode().strip() or "-1")
    with open(errf) as f:
        err = f.read()
    check_fault(c, "pipe closed", rc, err, None, "-", g)


def main():
    hvtest.need_guest(os.path.join(KDIR, "vmlinuz"))
    hv = hvtest.hvdump_path()
    wd = hvtest.workdir()
    c = hvtest.Checks("dump-faults")
    t0 = time.monotonic()

    g = Guest.start(os.path.join(wd, "guest1"), mem=512, smp=2, fill=FILL)
    try:
        print("guest booted in %.0fs (fill %d MiB)" % (g.boot_s, FILL))
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal_case(c, hv, g, wd, sig)
        disk_full_case(c, hv, g, wd)
        disk_full_edges_case(c, hv, g, wd)
        dir_removed_case(c, hv, g, wd)
        pipe_case(c, hv, g, wd)

        # The guest goes away: QMP quit on the harness socket mid-dump.
        out = os.path.join(wd, "quit.kdump")
        d = Dump(hv, g, out)
        if c.ok(d.wait_progress(), "quit: dump started", "\n".join(d.err)):
            try:
                g.qmp("quit")
            except (ConnectionError, OSError):
                pass  # QEMU may close the socket before answering
        rc, err = d.finish()
        check_fault(c, "guest quit", rc, err, 1, out)
    finally:
        g.kill()

    g = Guest.start(os.path.join(wd, "guest2"), mem=512, smp=2, fill=FILL)
    try:
        out = os.path.join(wd, "killed.kdump")
        d = Dump(hv, g, out)
        if c.ok(d.wait_progress(), "SIGKILL: dump started", "\n".join(d.err)):
            os.kill(g.pid, signal.SIGKILL)
        rc, err = d.finish()
        check_fault(c, "QEMU SIGKILLed", rc, err, 1, out, want_text=("QEMU", "exited"))
    finally:
        g.kill()
    print("total %.0fs" % (time.monotonic() - t0))
    c.finish(wd)


if __name__ == "__main__":
    main()
