# SPDX-License-Identifier: GPL-2.0-or-later
"""hvdump dump --qmp against a real booted guest (tests/guest/guest.py):
a running guest is paused and resumed, a paused or panicked one is left
as it was, the pages equal QEMU's own dump-guest-memory of the same paused
guest, the ELF carries kexec-style addresses drgn accepts, and a busy QMP
socket gives a clear error."""
import os
import socket
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hvtest  # noqa: E402

sys.path.insert(0, os.path.join(hvtest.SRCDIR, "tests", "guest"))
from guest import Guest  # noqa: E402

VMLINUX = os.path.expanduser("~/.cache/hvdump/kernel/vmlinux")


def loads(path):
    """PT_LOADs of an ELF core: list of (paddr, offset, filesz, vaddr)."""
    with open(path, "rb") as f:
        h = f.read(64)
        phoff, = struct.unpack_from("<Q", h, 32)
        phentsize, phnum = struct.unpack_from("<HH", h, 54)
        f.seek(phoff)
        out = []
        for _ in range(phnum):
            t, _fl, off, va, pa, fsz, _msz, _al = struct.unpack(
                "<IIQQQQQQ", f.read(phentsize)[:56])
            if t == 1:
                out.append((pa, off, fsz, va))
    return out


def read_phys(f, lds, pa, n, skip_vaddr_from=None):
    for p, off, sz, va in lds:
        if skip_vaddr_from is not None and va >= skip_vaddr_from:
            continue  # the kernel-text PT_LOAD repeats RAM: use the RAM ones
        if p <= pa and pa + n <= p + sz:
            f.seek(off + pa - p)
            return f.read(n)
    return None


def compare_with_qemu(ours, theirs):
    """Every MiB of QEMU's PT_LOADs must be in ours, byte for byte."""
    lo, lq = loads(ours), loads(theirs)
    diffs = 0
    with open(ours, "rb") as fo, open(theirs, "rb") as fq:
        for p, off, sz, _va in lq:
            for pa in range(p, p + sz, 1 << 20):
                n = min(1 << 20, p + sz - pa)
                if read_phys(fo, lo, pa, n, 0xffffffff80000000) != \
                        read_phys(fq, lq, pa, n):
                    diffs += 1
    return len(lq), diffs


def main():
    hvtest.need_guest(VMLINUX)
    hv = hvtest.hvdump_path()
    wd = hvtest.workdir()
    c = hvtest.Checks("dump-qmp")
    g = Guest.start(os.path.join(wd, "guest"), mem=512, smp=2, fill=32)
    try:
        # 1. Running guest: paused for the dump, running again afterwards.
        out = os.path.join(wd, "live.elf")
        p = hvtest.run([hv, "dump", "--qmp", g.qmp_path, out, "--format", "elf",
                        "--progress=none"])
        c.ok(p.returncode == 0, "dump of a running guest", hvtest.out_text(p))
        c.ok(g.status() == "running", "guest resumed after the dump", g.status())
        p = hvtest.run([hv, "verify", out])
        c.ok(p.returncode == 0, "hvdump verify (elf)", hvtest.out_text(p))
        lds = loads(out)
        kt = [l for l in lds if l[3] >= 0xffffffff80000000]
        c.ok(len(kt) == 1, "one kernel-text PT_LOAD", repr(kt))
        dm = [l[3] - l[0] for l in lds if l not in kt]
        c.ok(len(set(dm)) == 1 and dm[0] % (1 << 30) == 0 and dm[0] >= 1 << 63,
             "RAM PT_LOADs at one direct-map base", repr([hex(x) for x in dm]))

        try:
            import drgn  # noqa: F401
            have_drgn = True
        except ImportError:
            have_drgn = False
        if have_drgn:
            prog = drgn.Program()
            prog.set_core_dump(out)
            prog.load_debug_info([VMLINUX])
            c.ok(prog["page_offset_base"].value_() == dm[0],
                 "direct-map base equals the guest's page_offset_base",
                 hex(prog["page_offset_base"].value_()))
            rel = prog["init_uts_ns"].name.release.string_().decode()
            c.ok(rel == open(os.path.expanduser(
                "~/.cache/hvdump/kernel/release")).read().strip(),
                "drgn reads the guest's utsname", rel)

        # 2. Paused guest: same pages as QEMU's own dump; stays paused.
        g.stop()
        qemu_elf = os.path.join(wd, "qemu.elf")
        g.dump(qemu_elf)
        ours = os.path.join(wd, "paused.elf")
        p = hvtest.run([hv, "dump", "--qmp", g.qmp_path, ours, "--format", "elf",
                        "--progress=none"])
        c.ok(p.returncode == 0, "dump of a paused guest", hvtest.out_text(p))
        c.ok(g.status() == "paused", "a paused guest stays paused", g.status())
        n, diffs = compare_with_qemu(ours, qemu_elf)
        c.ok(n > 0 and diffs == 0, "pages equal QEMU's dump-guest-memory",
             "%d MiB differ" % diffs)
        os.unlink(qemu_elf)
        g.cont()

        # 3. kdump-zstd to a pipe (flattened), checked by hvdump verify.
        flat = os.path.join(wd, "out.flat")
        with open(flat, "wb") as f:
            cat = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=f)
            p = hvtest.run([hv, "dump", "--qmp", g.qmp_path, "-", "--progress=none"],
                           stdout=cat.stdin)
            cat.stdin.close()
            cat.wait()
        c.ok(p.returncode == 0 and hvtest.is_flattened(flat),
             "kdump to a pipe is flattened", hvtest.out_text(p))
        p = hvtest.run([hv, "verify", flat])
        c.ok(p.returncode == 0, "hvdump verify (flattened kdump)", hvtest.out_text(p))

        # 4. Busy QMP socket: clear error, exit 1, nothing written.
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(g.qmp_path)
        s.recv(4096)  # greeting: we are the client now
        busy = os.path.join(wd, "busy.elf")
        p = hvtest.run([hv, "dump", "--qmp", g.qmp_path, busy, "--qmp-timeout", "1000"])
        s.close()
        c.ok(p.returncode == 1 and "QMP socket busy" in hvtest.out_text(p)
             and not os.path.exists(busy), "busy QMP socket", hvtest.out_text(p))

        # 5. Usage errors exit 2.
        p = hvtest.run([hv, "dump", os.path.join(wd, "x.elf")])
        c.ok(p.returncode == 2, "dump without --qmp is a usage error", hvtest.out_text(p))

        # 6. A panicked guest (held by -action panic=pause) is not resumed.
        g.panic()
        out = os.path.join(wd, "panic.kdump")
        p = hvtest.run([hv, "dump", "--qmp", g.qmp_path, out, "--format", "kdump-zlib",
                        "--progress=none"])
        c.ok(p.returncode == 0, "dump of a panicked guest", hvtest.out_text(p))
        c.ok(g.status() == "guest-panicked", "panicked guest left as it was", g.status())
        p = hvtest.run([hv, "verify", out])
        c.ok(p.returncode == 0, "hvdump verify (kdump-zlib)", hvtest.out_text(p))
    finally:
        g.kill()
    c.finish(wd)


if __name__ == "__main__":
    main()
