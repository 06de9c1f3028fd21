#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs every libFuzzer target for SECONDS each (default 20) from the seed
# corpora in tests/fuzz/corpus/, prints one summary line per target and a
# total, and fails when any target crashes, leaks, hangs or trips a sanitizer.
#
#   tests/fuzz/run.sh [SECONDS] [TARGET...]
#
# Builds $HVDUMP_FUZZ_BUILD (default build-fuzz) with clang when needed.
# New inputs go to BUILD/fuzz-corpus/TARGET (the source tree is not touched);
# a crashing input is kept as BUILD/fuzz-artifacts/TARGET-crash-*.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${HVDUMP_FUZZ_BUILD:-$SRC/build-fuzz}
SECS=${HVDUMP_FUZZ_SECONDS:-${1:-20}}
[ $# -gt 0 ] && shift
TARGETS=${*:-"fuzz_reader fuzz_flat fuzz_notes fuzz_vmcoreinfo fuzz_hmp_mtree
  fuzz_hmp_registers fuzz_hmp_gpa2hva fuzz_qmp_json fuzz_config fuzz_control
  fuzz_periodic fuzz_guest_meta fuzz_sidecar fuzz_qemu_source"}

if [ ! -f "$BUILD/build.ninja" ]; then
    CC=clang meson setup "$BUILD" "$SRC" -Dfuzzing=true -Dwerror=true >/dev/null ||
        { echo "fuzz: cannot configure $BUILD"; exit 1; }
fi
# Inside `meson test` (HVDUMP_FUZZ_NO_BUILD=1) the targets are already built.
if [ -z "${HVDUMP_FUZZ_NO_BUILD:-}" ]; then
    ninja -C "$BUILD" $(for t in $TARGETS; do echo "tests/fuzz/$t"; done) >/dev/null ||
        { echo "fuzz: build failed"; exit 1; }
fi

# GLib criticals and warnings abort in the targets (fuzz_common.h).
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

mkdir -p "$BUILD/fuzz-artifacts" "$BUILD/fuzz-logs"
status=0
total=0
for t in $TARGETS; do
    exe="$BUILD/tests/fuzz/$t"
    if [ ! -x "$exe" ]; then
        echo "$t: SKIP (not built)"
        continue
    fi
    work="$BUILD/fuzz-corpus/$t"
    mkdir -p "$work"
    seeds="$SRC/tests/fuzz/corpus/$t"
    [ -d "$seeds" ] || seeds=
    log="$BUILD/fuzz-logs/$t.log"
    # -max_len: the dump seeds are up to tens of KiB; text parsers need less.
    # fuzz_guest_meta: a guest image, room for a note and page tables.
    # fuzz_qmp_json: past the 4 KiB line cap and 32 nesting levels.
    case $t in fuzz_reader|fuzz_flat|fuzz_guest_meta) maxlen=262144 ;;
               fuzz_qmp_json) maxlen=65536 ;; *) maxlen=16384 ;; esac
    "$exe" -max_total_time="$SECS" -timeout=20 -rss_limit_mb=2048 \
        -max_len=$maxlen -print_final_stats=1 \
        -artifact_prefix="$BUILD/fuzz-artifacts/$t-" \
        "$work" $seeds >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
    corp=$(ls "$work" | wc -l)
    total=$((total + SECS))
    if [ $rc -eq 0 ]; then
        echo "$t: OK ${SECS}s runs=${runs:-?} cov=${cov:-?} corpus=$corp"
    else
        status=1
        art=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
        echo "$t: FAIL (exit $rc) ${SECS}s runs=${runs:-?} input=${art:-?} log=$log"
        grep -m 3 -E 'ERROR: |runtime error|CRITICAL|deadly signal' "$log" | sed 's/^/    /'
    fi
done
echo "fuzz: ${total}s in total, $( [ $status -eq 0 ] && echo 'no crashes' || echo 'CRASHES FOUND')"
exit $status
