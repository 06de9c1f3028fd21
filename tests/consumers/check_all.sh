#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Run every consumer check on one vmcore and print a one-line summary.
#
# Usage: tests/consumers/check_all.sh VMCORE [--panic] [--only crash,drgn,kdumpfile,makedumpfile]
#   Prints each checker's lines, then
#     SUMMARY VMCORE crash=PASS drgn=FAIL kdumpfile=PASS makedumpfile=FAIL
#   Exit status: 0 if all the selected checks pass (or SKIP: exit 77 of a
#   checker that cannot judge the file), 1 otherwise.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
VMCORE=""
PANIC=""
ONLY="crash,drgn,kdumpfile,makedumpfile"
while [ $# -gt 0 ]; do
    case "$1" in
        --panic) PANIC=--panic ;;
        --only) ONLY=$2; shift ;;
        *) VMCORE=$1 ;;
    esac
    shift
done
[ -n "$VMCORE" ] || { echo "usage: $0 VMCORE [--panic] [--only LIST]" >&2; exit 2; }
SUMMARY="SUMMARY $VMCORE"
RC=0
run() {
    name=$1; shift
    case ",$ONLY," in *",$name,"*) ;; *) return ;; esac
    "$@"; r=$?
    # 77: the checker could not judge the file (e.g. makedumpfile built
    # without zstd); shown as SKIP and not counted as a failure.
    if [ $r -eq 0 ]; then SUMMARY="$SUMMARY $name=PASS"
    elif [ $r -eq 77 ]; then SUMMARY="$SUMMARY $name=SKIP"
    else SUMMARY="$SUMMARY $name=FAIL"; RC=1; fi
}
run crash sh "$HERE/check_crash.sh" "$VMCORE" $PANIC
run drgn /usr/bin/python3 "$HERE/check_drgn.py" "$VMCORE" $PANIC
run kdumpfile /usr/bin/python3 "$HERE/check_kdumpfile.py" "$VMCORE"
run makedumpfile sh "$HERE/check_makedumpfile.sh" "$VMCORE"
echo "$SUMMARY"
exit $RC
