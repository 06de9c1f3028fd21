#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# hvdump dump DOMAIN FILE through a real libvirtd: every format opens in
# crash and drgn, libvirt reports the domain running again afterwards, a
# paused domain stays paused, and bad domains get one clear line.
set -u
. "$(dirname "$0")/common.sh"
lv_start_daemons || exit $?
boot_guest
CONS=$HVDUMP_SRCDIR/tests/consumers

for fmt in elf kdump-zlib kdump-lzo kdump-snappy kdump-zstd; do
    out=$WORK/dom.$fmt
    check "$fmt: hvdump dump DOMAIN FILE" "$HVDUMP" dump "$NAME" "$out" --format "$fmt" --progress=none
    check "$fmt: output mode 0600" test "$(stat -c %a "$out")" = 600
    check "$fmt: domain running again (libvirt)" lv_wait_state "$NAME" running 10
    check "$fmt: hvdump verify" "$HVDUMP" verify "$out"
    case $fmt in
    elf|kdump-zlib)
        # crash is slow on TCG-sized dumps: two formats cover both readers.
        check "$fmt: opens in crash" sh "$CONS/check_crash.sh" "$out" ;;
    esac
    check "$fmt: opens in drgn" $PY "$CONS/check_drgn.py" "$out"
    rm -f "$out" "$out.crash.txt"
done

# By UUID and by id, to stdout (flattened).
uuid=$($LV_VIRSH domuuid "$NAME")
check "by UUID to stdout is flattened" sh -c "'$HVDUMP' dump '$uuid' - --progress=none | head -c 16 | grep -q makedumpfile"
id=$($LV_VIRSH domid "$NAME")
check "by id" "$HVDUMP" dump "$id" "$WORK/byid.kdump" --progress=none
check "domain running after the id dump" lv_wait_state "$NAME" running 10

# A domain we did not pause stays paused.
$LV_VIRSH suspend "$NAME" >/dev/null
check "dump of a paused domain" "$HVDUMP" dump "$NAME" "$WORK/paused.kdump" --progress=none
check "paused domain stays paused" lv_wait_state "$NAME" paused 5
$LV_VIRSH resume "$NAME" >/dev/null

# SIGKILL mid-dump: the guardian resumes the domain and removes the partial.
"$HVDUMP" dump "$NAME" "$WORK/killed.kdump" --format kdump-zlib --threads 1 \
    --progress=json 2>"$WORK/killed.progress" &
kpid=$!
i=0
while ! grep -q '"progress"' "$WORK/killed.progress" 2>/dev/null && [ $i -lt 100 ]; do
    sleep 0.1; i=$((i + 1))
done
check "SIGKILL test: dump under way, domain paused" lv_wait_state "$NAME" paused 2
kill -9 $kpid; wait $kpid 2>/dev/null
check "SIGKILL of hvdump: guardian resumes the domain" lv_wait_state "$NAME" running 15
sleep 1
check "SIGKILL of hvdump: no partial file left" test ! -e "$WORK/killed.kdump.partial" -a ! -e "$WORK/killed.kdump"

# Errors: one line, non-zero, no file.
msg=$("$HVDUMP" dump no-such-domain-$$ "$WORK/x.kdump" 2>&1); rc=$?
check "unknown domain: exit 1" test $rc -eq 1
check "unknown domain: one line naming it" test "$(printf '%s\n' "$msg" | wc -l)" -eq 1 -a -n "$(printf '%s' "$msg" | grep no-such-domain)"
check "unknown domain: no file" test ! -e "$WORK/x.kdump"
finish
