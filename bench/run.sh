#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# hvdump performance benchmark: hvdump vs QEMU dump-guest-memory on
# a paused TCG test guest, plus hvdump convert of raw images for RSS growth.
#
#   bench/run.sh [--mem MiB] [--fill MiB] [--runs N] [--threads 1,2,nproc]
#                [--image-gib G] [--out DIR] [--no-guest] [--image-runs N]
#
# Prints a Markdown table and saves it to OUT/results.md (default OUT:
# ${TMPDIR:-/tmp}/hvdump-bench; it needs room for two guest-sized dumps and,
# in image mode, the generated images, ~30% of their size thanks to holes).
# Uses $HVDUMP_BUILD (default SRC/build, configured with the project's
# default buildtype, debugoptimized, if missing) for the binary.
# bench/run.sh --help lists every option (--reuse-guest DIR, --no-guest,
# --image-dir DIR, --image-formats, ...).
# Needs root (hvdump reads QEMU's memory with process_vm_readv), QEMU, the
# test kernel (tests/guest/fetch-kernel.sh) and /usr/bin/python3.
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${HVDUMP_BUILD:-$SRC/build}
if [ ! -f "$BUILD/build.ninja" ]; then
    meson setup "$BUILD" "$SRC" >/dev/null
fi
ninja -C "$BUILD" dumper/cli/hvdump >/dev/null
BT=$(meson introspect --buildoptions "$BUILD" 2>/dev/null |
     /usr/bin/python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="buildtype"))' 2>/dev/null || echo "?")
CMD="bench/run.sh $*"
exec /usr/bin/python3 "$SRC/bench/bench.py" --hvdump "$BUILD/dumper/cli/hvdump" \
    --buildtype "$BT" --cmdline "$CMD" "$@"
