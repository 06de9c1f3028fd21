#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Make a positive control for the consumer checks out of QEMU's own dump.

Usage: tests/consumers/qemu_kdump_fixup.py IN OUT [--version STRING]
  IN: a seekable kdump-compressed file (QEMU writes kdump flattened:
      run `makedumpfile -R IN < qemu.kdump` first).
  OUT: a copy with the two header fields QEMU leaves wrong filled in:
      - disk_dump_header.utsname (sysname, nodename, release, version,
        machine): libkdumpfile takes arch and release from it only when all
        five are non-empty;
      - kdump_sub_header.phys_base: QEMU writes 0, the guest's value is
        NUMBER(phys_base) in VMCOREINFO (found as text in the file).
  The result must pass check_crash, check_drgn, check_kdumpfile and
  check_makedumpfile (see /work/shared/notes/format-facts.md). That proves
  the checkers can accept a good file, while QEMU's raw dumps prove they
  reject bad ones.
"""

import argparse
import os
import re
import shutil
import struct

KDIR = os.environ.get("HVDUMP_KERNEL_DIR",
                      os.path.expanduser("~/.cache/hvdump/kernel"))
UTS_OFF = 12        # after signature[8] and header_version
UTS_LEN = 65
BLOCK_SIZE_OFF = 428


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("inp")
    ap.add_argument("out")
    ap.add_argument("--version", default="#1 SMP hvdump-test")
    a = ap.parse_args()
    with open(os.path.join(KDIR, "release")) as f:
        release = f.read().strip()

    with open(a.inp, "rb") as f:
        head = f.read(1 << 20)
    if head[:8] != b"KDUMP   ":
        raise SystemExit("%s is not a seekable kdump file" % a.inp)
    m = re.search(rb"NUMBER\(phys_base\)=(-?\d+)", head)
    if not m:
        raise SystemExit("no NUMBER(phys_base) in the first MiB")
    phys_base = int(m.group(1)) & (2**64 - 1)
    block_size = struct.unpack_from("<i", head, BLOCK_SIZE_OFF)[0]

    shutil.copyfile(a.inp, a.out)
    fields = [b"Linux", b"(none)", release.encode(), a.version.encode(),
              b"x86_64", b"(none)"]
    with open(a.out, "r+b") as f:
        for i, v in enumerate(fields):
            f.seek(UTS_OFF + i * UTS_LEN)
            f.write(v[:UTS_LEN - 1].ljust(UTS_LEN, b"\0"))
        f.seek(block_size)  # kdump_sub_header starts with phys_base
        f.write(struct.pack("<Q", phys_base))
    print("%s: utsname filled, phys_base 0x%x" % (a.out, phys_base))


if __name__ == "__main__":
    main()
