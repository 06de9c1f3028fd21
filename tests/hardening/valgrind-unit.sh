#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs every unit test program of a (non-sanitized) build under valgrind;
# fails on any memory error or definite leak.
#
#   tests/hardening/valgrind-unit.sh [BUILD_DIR]     (default: build)
#
# Per-program time limit: HVDUMP_VALGRIND_TIMEOUT seconds (default 120).
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-${MESON_BUILD_ROOT:-$SRC/build}}
LIMIT=${HVDUMP_VALGRIND_TIMEOUT:-120}

command -v valgrind >/dev/null || { echo "valgrind not installed: SKIP"; exit 77; }
# GSlice would hide heap errors behind its own allocator; gc-friendly clears
# pointers on free so leaks are reported as such.
export G_SLICE=always-malloc G_DEBUG=gc-friendly
export G_TEST_SRCDIR="$SRC/tests/unit"
mkdir -p "$BUILD/valgrind-logs"

status=0
n=0
for t in "$BUILD"/tests/unit/test-*; do
    [ -x "$t" ] && [ -f "$t" ] || continue
    name=$(basename "$t")
    log="$BUILD/valgrind-logs/$name.log"
    n=$((n + 1))
    start=$(date +%s)
    HVDUMP_UNDER_VALGRIND=1 timeout "$LIMIT" valgrind -q --error-exitcode=99 --leak-check=full \
        --errors-for-leak-kinds=definite --show-leak-kinds=definite \
        --track-origins=no --trace-children=no --log-file="$log.vg" \
        "$t" >"$log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    case $rc in
    0)  echo "ok: $name (${secs}s)" ;;
    99) echo "FAIL: $name: valgrind errors (${secs}s), see $log.vg"
        grep -m 5 -E 'Invalid|uninitialised|definitely lost|Mismatched' "$log.vg" | sed 's/^/    /'
        status=1 ;;
    124) echo "FAIL: $name: over ${LIMIT}s under valgrind"; status=1 ;;
    *)  echo "FAIL: $name: test failed under valgrind (exit $rc), see $log"; status=1 ;;
    esac
done
[ $n -gt 0 ] || { echo "no unit test programs in $BUILD/tests/unit"; exit 1; }
exit $status
