#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Same bytes from two hvdump binaries: for a restructuring that must not
change what is written.

  compare-binaries.py OLD_HVDUMP NEW_HVDUMP [--mem MiB] [--fill MiB]

Boots the test guest, pauses it, dumps it with both binaries in every
format (and flattened kdump to a pipe, reassembled with makedumpfile -R
for the comparison), and compares each pair byte for byte.  Bytes may differ only in the first 16 KiB, where the headers
carry the time of the dump (the kdump header's timestamp); the offsets that
differ are printed so that a reader can check they are that.  Prints one
line per format and exits 1 on any other difference."""
import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "guest"))
from guest import Guest  # noqa: E402

FORMATS = ["elf", "kdump-zlib", "kdump-lzo", "kdump-snappy", "kdump-zstd"]


def differing_offsets(a, b):
    out = subprocess.run(["cmp", "-l", a, b], capture_output=True, text=True)
    offs = []
    for line in out.stdout.splitlines():
        offs.append(int(line.split()[0]) - 1)
    extra = "EOF" in out.stderr
    return offs, extra


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--mem", type=int, default=512)
    ap.add_argument("--fill", type=int, default=64)
    a = ap.parse_args()
    bad = 0
    with tempfile.TemporaryDirectory(prefix="hvcmp-") as d:
        g = Guest.start(os.path.join(d, "g"), mem=a.mem, fill=a.fill)
        try:
            g.stop()
            for fmt in FORMATS:
                for flat in ([False, True] if fmt != "elf" else [False]):
                    outs = []
                    for tag, exe in (("old", a.old), ("new", a.new)):
                        out = os.path.join(d, "%s-%s%s" % (tag, fmt, "-flat" if flat else ""))
                        if flat:
                            with open(out, "wb") as f:
                                subprocess.run([exe, "dump", "--qmp", g.qmp_path, "-",
                                                "--format", fmt, "--progress=none"],
                                               stdout=f, check=True)
                        else:
                            subprocess.run([exe, "dump", "--qmp", g.qmp_path, out,
                                            "--format", fmt, "--progress=none"], check=True)
                        outs.append(out)
                    if flat:
                        # The flattened stream writes the kdump header (with
                        # its timestamp) as its last records: compare the
                        # files makedumpfile -R reassembles instead.
                        for o in outs:
                            with open(o, "rb") as f:
                                subprocess.run(["makedumpfile", "-R", o + ".re"], stdin=f,
                                               check=True, stdout=subprocess.DEVNULL)
                            os.replace(o + ".re", o)
                    offs, extra = differing_offsets(*outs)
                    name = fmt + (" flat" if flat else "")
                    size = os.path.getsize(outs[0])
                    # Timestamps live in the first block (kdump header) or
                    # in the note area near the start; a flattened stream
                    # carries the header in its first records.
                    outside = [o for o in offs if o >= 16384]
                    if extra or outside or os.path.getsize(outs[1]) != size:
                        print("DIFF %s: %d bytes differ, %d outside the header area, sizes %d/%d"
                              % (name, len(offs), len(outside), size, os.path.getsize(outs[1])))
                        bad += 1
                    else:
                        print("same %s: %d bytes, %d differ (header timestamps at %s)"
                              % (name, size, len(offs), sorted(set(o // 8 * 8 for o in offs))))
                    for o in outs:
                        os.unlink(o)
        finally:
            g.kill()
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
