#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Open a vmcore with libkdumpfile (python3-libkdumpfile 0.5.1) and check it.

Usage: tests/consumers/check_kdumpfile.py VMCORE
  Run with /usr/bin/python3. VMCORE: ELF or kdump-compressed (libkdumpfile
  cannot read flattened files).
Exit 0 only if every check passes; prints one line per check.

Checks: arch.name is x86_64, linux.uts.release equals the kernel's release,
reading SYMBOL(init_uts_ns) as a kernel virtual address (page-table walk)
gives that release, the same bytes read by physical address (via
NUMBER(phys_base)) agree, and SYMBOL(mem_section) (a direct-map address)
reads as a kernel pointer.
"""


import os as _os
import sys as _sys
# meson sets MALLOC_PERTURB_ for the tests; drgn 0.0.22 + libkdumpfile 0.5.1
# then crash in their own teardown after every check passed (exit 139).  It
# is meant for hvdump's code, not for the consumers: run them without it.
if _os.environ.pop("MALLOC_PERTURB_", None) is not None:
    _os.execv(_sys.executable, [_sys.executable] + _sys.argv)

import os
import struct
import sys

KDIR = os.environ.get("HVDUMP_KERNEL_DIR",
                      os.path.expanduser("~/.cache/hvdump/kernel"))
START_KERNEL_MAP = 0xffffffff80000000
UTS_FIELD = 65  # sizeof new_utsname fields; release is the third

fails = 0


def ok(msg):
    print("kdumpfile: ok   " + msg)


def fail(msg):
    global fails
    fails += 1
    print("kdumpfile: FAIL " + msg)


def flattened(path):
    with open(path, "rb") as f:
        return f.read(12) == b"makedumpfile"


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    path = sys.argv[1]
    with open(os.path.join(KDIR, "release")) as f:
        release = f.read().strip()

    import kdumpfile

    if flattened(path):
        fail("open: flattened file; libkdumpfile cannot read it (makedumpfile -R first)")
        return 1
    try:
        k = kdumpfile.kdumpfile(path)
    except Exception as e:
        fail("open: %s: %s" % (type(e).__name__, e))
        return 1
    ok("opened, format %s" % k.attr.get("file.format"))

    arch = k.attr.get("arch.name")
    if arch == "x86_64":
        ok("arch.name x86_64")
    else:
        fail("arch.name is %r" % arch)

    try:
        k.attr["addrxlat.ostype"] = "linux"
    except Exception as e:
        fail("addrxlat.ostype=linux: %s: %s" % (type(e).__name__, e))
        return 1

    try:
        rel = str(k.attr["linux.uts.release"])
        if rel == release:
            ok("linux.uts.release " + rel)
        else:
            fail("linux.uts.release %r != %r" % (rel, release))
    except Exception as e:
        fail("linux.uts.release: %s: %s" % (type(e).__name__, e))

    try:
        syms = k.attr["linux.vmcoreinfo.SYMBOL"]
        uts = int(syms["init_uts_ns"])
        try:
            name_off = int(k.attr["linux.vmcoreinfo.OFFSET"]["uts_namespace.name"])
        except Exception:
            name_off = 0
        off = name_off + 2 * UTS_FIELD
        vbytes = bytes(k.read(kdumpfile.KDUMP_KVADDR, uts + off, UTS_FIELD))
        vrel = vbytes.split(b"\0")[0].decode(errors="replace")
        if vrel == release:
            ok("KVADDR read of init_uts_ns: %s" % vrel)
        else:
            fail("KVADDR read of init_uts_ns gives %r" % vrel)
        phys_base = int(k.attr["linux.vmcoreinfo.NUMBER"]["phys_base"]) & (2**64 - 1)
        paddr = (uts + off - START_KERNEL_MAP + phys_base) & (2**64 - 1)
        pbytes = bytes(k.read(kdumpfile.KDUMP_KPHYSADDR, paddr, UTS_FIELD))
        if pbytes == vbytes:
            ok("KPHYSADDR read at 0x%x agrees" % paddr)
        else:
            fail("KPHYSADDR read at 0x%x differs: %r" % (paddr, pbytes[:32]))
        ms = int(syms["mem_section"])
        root = struct.unpack("<Q", bytes(k.read(kdumpfile.KDUMP_KVADDR, ms, 8)))[0]
        if root >= 0xffff800000000000:
            ok("direct-map read of mem_section: root 0x%x" % root)
        else:
            fail("mem_section[0] = 0x%x is not a kernel pointer" % root)
    except Exception as e:
        fail("memory reads: %s: %s" % (type(e).__name__, e))

    if fails:
        return 1
    print("kdumpfile: PASS " + path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
