#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Checks that built executables carry the hardening the top meson.build asks
# for: PIE (ELF type DYN), full RELRO (GNU_RELRO + BIND_NOW), a non-executable
# stack, the stack protector (__stack_chk_fail) and FORTIFY_SOURCE (*_chk
# symbols).  FORTIFY is only defined in optimized builds without ASan, so
# --no-fortify skips that check.
#
#   tests/hardening/check.sh [--no-fortify] BINARY...
set -u
fortify=1
if [ "${1:-}" = "--no-fortify" ]; then
    fortify=0
    shift
fi
[ $# -gt 0 ] || { echo "usage: $0 [--no-fortify] BINARY..." >&2; exit 2; }

failed=0
check() { # binary, what, condition-result (0 = ok)
    if [ "$3" -eq 0 ]; then
        echo "ok: $1: $2"
    else
        echo "FAIL: $1: $2"
        failed=1
    fi
}

for bin in "$@"; do
    if [ ! -f "$bin" ]; then
        echo "FAIL: $bin: no such file"
        failed=1
        continue
    fi
    name=$(basename "$bin")
    hdr=$(readelf -h "$bin") || { echo "FAIL: $name: not an ELF file"; failed=1; continue; }
    dyn=$(readelf -d "$bin")
    phdrs=$(readelf -lW "$bin")
    syms=$(nm -D "$bin" 2>/dev/null)

    echo "$hdr" | grep -Eq 'Type:[[:space:]]+DYN'; check "$name" "PIE (ELF type DYN)" $?
    echo "$phdrs" | grep -q 'GNU_RELRO'; check "$name" "RELRO segment" $?
    # BIND_NOW shows as a (BIND_NOW) entry, a FLAGS bit, or FLAGS_1 NOW.
    echo "$dyn" | grep -Eq '\(BIND_NOW\)|\(FLAGS\).*BIND_NOW|\(FLAGS_1\).*NOW'
    check "$name" "full RELRO (BIND_NOW)" $?
    echo "$phdrs" | grep 'GNU_STACK' | grep -qv 'RWE'; check "$name" "non-executable stack" $?
    echo "$syms" | grep -q ' U __stack_chk_fail'; check "$name" "stack protector (__stack_chk_fail)" $?
    if [ $fortify -eq 1 ]; then
        n=$(echo "$syms" | grep -Ec ' U __[a-z0-9_]+_chk(@|$)')
        [ "$n" -gt 0 ]; check "$name" "FORTIFY_SOURCE ($n *_chk functions)" $?
    fi
done
exit $failed
