# SPDX-License-Identifier: GPL-2.0-or-later
"""hvdump dump --qmp of a guest whose RAM is a shared memory-backend file
in tmpfs (memory-backend-file,share=on, as with vhost-user): the RAM is
read from the file, skipping its holes, instead of through QEMU.  The dump
holds the guest's pages exactly (dumpcmp against the file of the paused
guest); the file's allocated size does not change (a read fault on a tmpfs
hole allocates the page: the old code, which mapped the file and read
every page, grew it to the guest's full size); hvdump's peak RSS stays far
below the guest's size (the old mapping kept every page it touched)."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hvtest  # noqa: E402

sys.path.insert(0, os.path.join(hvtest.SRCDIR, "tests", "guest"))
from guest import Guest  # noqa: E402

VMLINUX = os.path.expanduser("~/.cache/hvdump/kernel/vmlinux")
MEM_MIB = 1024
# A touched 1 GiB mapping counts ~1024 MiB in RSS; hvdump itself needs
# ~40 MiB.  Anything near the guest's size means pages are kept mapped.
RSS_LIMIT_MIB = 256


def run_rss(argv, env):
    """Runs argv; returns (returncode, output, peak RSS in MiB)."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    out = p.stdout.read().decode(errors="replace")
    _pid, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, out, ru.ru_maxrss / 1024.0


def main():
    hvtest.need_guest(VMLINUX)
    hv = hvtest.hvdump_path()
    dumpcmp = hvtest.dumpcmp_path()
    wd = hvtest.workdir()
    c = hvtest.Checks("dump-filebacked")
    shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else wd
    ram = os.path.join(shm, "hvdump-it-ram-%d" % os.getpid())
    g = Guest.start(os.path.join(wd, "guest"), mem=MEM_MIB, smp=2, fill=128, qemu_args=[
        "-object", "memory-backend-file,id=ram0,size=%dM,mem-path=%s,share=on" % (MEM_MIB, ram),
        "-machine", "memory-backend=ram0"])
    env = dict(os.environ, G_MESSAGES_DEBUG="all")
    try:
        # Paused by us, so that the file holds exactly what the dump saw.
        g.stop()
        blocks = os.stat(ram).st_blocks
        c.ok(blocks * 512 < MEM_MIB * 3 // 4 << 20,
             "backing file mostly holes before the dumps (%d MiB allocated)" % (blocks >> 11))
        for fmt in ("kdump-zlib", "elf"):
            out = os.path.join(wd, "guest." + fmt)
            rc, text, rss = run_rss([hv, "dump", "--qmp", g.qmp_path, out, "--format", fmt,
                                     "-j", "2", "--progress=none"], env)
            if not c.ok(rc == 0, "%s: dump of the file-backed guest" % fmt, text):
                continue
            c.ok("read from QEMU's shared backing file " + ram in text,
                 "%s: RAM read from the backing file, not process_vm_readv" % fmt, text)
            c.ok(rss < RSS_LIMIT_MIB, "%s: peak RSS %.0f MiB < %d MiB for a %d MiB guest" %
                 (fmt, rss, RSS_LIMIT_MIB, MEM_MIB))
            c.ok(oct(os.stat(out).st_mode & 0o777) == "0o600", "%s: mode 0600" % fmt)
            now = os.stat(ram).st_blocks
            c.ok(now == blocks, "%s: backing file's allocation unchanged (%d -> %d MiB)" %
                 (fmt, blocks >> 11, now >> 11))
            p = hvtest.run([hv, "verify", out])
            c.ok(p.returncode == 0, "%s: hvdump verify" % fmt, hvtest.out_text(p))
        # Below 4 GiB the pc machine maps the file at guest-physical 0.
        # dumpcmp reads the file's holes too, so it comes after the checks
        # of its allocation.
        out = os.path.join(wd, "guest.kdump-zlib")
        if os.path.exists(out):
            p = hvtest.run([dumpcmp, out, "%s@0" % ram])
            c.ok(p.returncode == 0, "kdump-zlib: every page equals the backing file",
                 hvtest.out_text(p))
        c.ok(g.status() == "paused", "guest we had paused is left paused", g.status())
    finally:
        g.kill()
        try:
            os.unlink(ram)
        except FileNotFoundError:
            pass
    c.finish(wd)


if __name__ == "__main__":
    main()
