#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Check that makedumpfile (1.7.2) accepts a vmcore: it must re-filter it
# with -d 31 into a new kdump-compressed file.
#
# Usage: tests/consumers/check_makedumpfile.sh VMCORE [--vmlinux PATH] [--no-x]
#   A flattened VMCORE ("makedumpfile" signature) is first reassembled with
#   `makedumpfile -R` (which must succeed), and the result is re-filtered.
#   -x vmlinux is passed by default (makedumpfile then takes its symbols from
#   the debug kernel); --no-x makes it rely on the VMCOREINFO in the dump.
# Exit 0 only if every step passes; prints one line per step.
set -u
VMCORE=""
KDIR=${HVDUMP_KERNEL_DIR:-$HOME/.cache/hvdump/kernel}
VMLINUX="$KDIR/vmlinux"
USE_X=1
while [ $# -gt 0 ]; do
    case "$1" in
        --vmlinux) VMLINUX=$2; shift ;;
        --no-x) USE_X=0 ;;
        -*) echo "usage: $0 VMCORE [--vmlinux PATH] [--no-x]" >&2; exit 2 ;;
        *) VMCORE=$1 ;;
    esac
    shift
done
[ -n "$VMCORE" ] || { echo "usage: $0 VMCORE [--vmlinux PATH] [--no-x]" >&2; exit 2; }
TMP=$(mktemp -d /tmp/check_mdf.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
FAILS=0
ok()   { echo "makedumpfile: ok   $1"; }
fail() { echo "makedumpfile: FAIL $1"; FAILS=$((FAILS + 1)); }

IN="$VMCORE"
sig=$(head -c 12 "$VMCORE" 2>/dev/null)
if [ "$sig" = "makedumpfile" ]; then
    if makedumpfile -R "$TMP/reassembled" < "$VMCORE" > "$TMP/r.log" 2>&1; then
        ok "-R reassembled the flattened file ($(stat -c %s "$TMP/reassembled") bytes)"
        IN="$TMP/reassembled"
        [ "$(head -c 8 "$IN")" = "KDUMP   " ] && ok "reassembled file is kdump-compressed" \
            || fail "reassembled file has no KDUMP signature"
    else
        fail "-R failed: $(tail -3 "$TMP/r.log" | tr '\n' ' ')"
        exit 1
    fi
fi

XARG=""
[ $USE_X = 1 ] && XARG="-x $VMLINUX"
# shellcheck disable=SC2086
if makedumpfile -c -d 31 $XARG "$IN" "$TMP/filtered" > "$TMP/d.log" 2>&1; then
    ok "-d 31 re-filtered ($(stat -c %s "$TMP/filtered") bytes)"
    [ "$(head -c 8 "$TMP/filtered")" = "KDUMP   " ] && ok "output is kdump-compressed" \
        || fail "output has no KDUMP signature"
else
    fail "-d 31 failed: $(grep -v '^$' "$TMP/d.log" | tail -4 | tr '\n' ' ')"
fi

[ $FAILS -eq 0 ] || exit 1
echo "makedumpfile: PASS $VMCORE"
exit 0
