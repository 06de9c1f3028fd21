#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# hvdumpd with a full spool (a small tmpfs): the oldest finished dumps over
# the whole spool are pruned while the new dump is written (never a
# *.partial, never other files), the new dump completes and opens.  When no
# room can be made the dump fails cleanly: no partial file, query-dumps says
# "failed" with a no-space message, the log says so, a requested dump's
# guest is resumed and a crashed guest is NOT destroyed by after=destroy.
set -u
. "$(dirname "$0")/common.sh"
lv_start_daemons || exit $?

spool_cleanup() {
    if [ -n "$DPID" ]; then kill "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; DPID=; fi
    mountpoint -q "$SPOOL" && umount "$SPOOL"
    cleanup
}
trap spool_cleanup EXIT

mkdir -p "$SPOOL"
if ! mount -t tmpfs -o size=400M,mode=0750 tmpfs "$SPOOL"; then
    echo "SKIP: cannot mount a tmpfs for the spool"; exit 77
fi
LV_FILL_MIB=48 boot_guest
CONF="[daemon]
spool=$SPOOL
socket=$SOCK
[collect]
domains=$NAME
format=kdump-zstd"
start_daemon "$CONF
after=none"

avail() { df --output=avail -B1 "$SPOOL" | tail -1 | tr -d ' '; }
# mkdump PATH BYTES DATE: a finished dump and its sidecar, dated.
mkdump() {
    mkdir -p "$(dirname "$1")"
    head -c "$2" /dev/zero > "$1"
    echo '{}' > "${1%.*}.json"
    touch -d "$3" "$1" "${1%.*}.json"
}
query_last() { # the last job of query-dumps: "status|error"
    $PY "$WORK/ctl.py" "$SOCK" '{"execute":"query-dumps"}' | $PY -c 'import json,sys
j=json.loads(sys.stdin.readline())["return"][-1]
print(j["status"] + "|" + j.get("error", ""))'
}

# --- how big is a dump of this guest?  (the spool has room for it now)
"$HVDUMP" --daemon "$SOCK" dump "$NAME" --path probe.kdump >/dev/null
check "probe dump written" test -s "$SPOOL/$NAME/probe.kdump"
D=$(( $(stat -c %s "$SPOOL/$NAME/probe.kdump") + $(stat -c %s "$SPOOL/$NAME/probe.json") ))
rm -f "$SPOOL/$NAME/probe.kdump" "$SPOOL/$NAME/probe.json"
echo "# a dump takes $D bytes"

# --- case 1: four older dumps of D/2 each over two domains, free space
# D/4: the new dump fits once the two oldest are gone, not before.
F=$(( D / 2 ))
O=$SPOOL/hvdump-test-other-$$
mkdump "$O/20200101T000000Z.kdump" $F "2020-01-01"
mkdump "$SPOOL/$NAME/20200201T000000Z.kdump" $F "2020-02-01"
mkdump "$O/20200301T000000Z.elf" $F "2020-03-01"
mkdump "$SPOOL/$NAME/20200401T000000Z.kdump" $F "2020-04-01"
# Never pruned: a partial (even an old one) and a file that is no dump.
head -c 4096 /dev/zero > "$O/20190101T000000Z.kdump.partial"
touch -d 2019-01-01 "$O/20190101T000000Z.kdump.partial"
BALLAST=$(( $(avail) - F / 2 ))
head -c $BALLAST /dev/zero > "$SPOOL/ballast.bin"
echo "# free before the dump: $(avail) bytes"

out=$("$HVDUMP" --daemon "$SOCK" dump "$NAME" 2>&1); rc=$?
check "dump into a full spool completes" test $rc -eq 0
NEW=$(ls "$SPOOL/$NAME"/2*.kdump 2>/dev/null | grep -v '/2020' | head -1)
check "the new dump is in the spool" test -n "$NEW" -a -f "$NEW"
check "oldest dump (other domain) pruned with its sidecar" \
    test ! -e "$O/20200101T000000Z.kdump" -a ! -e "$O/20200101T000000Z.json"
check "second oldest dump pruned with its sidecar" \
    test ! -e "$SPOOL/$NAME/20200201T000000Z.kdump" -a ! -e "$SPOOL/$NAME/20200201T000000Z.json"
check "newer dumps kept" \
    test -f "$O/20200301T000000Z.elf" -a -f "$SPOOL/$NAME/20200401T000000Z.kdump"
check "an old .partial is never pruned" test -f "$O/20190101T000000Z.kdump.partial"
check "a file that is no dump is never pruned" test -f "$SPOOL/ballast.bin"
check "pruning logged" grep -q "spool full ($NAME, dump [0-9]*): removed $O/20200101T000000Z.kdump" "$WORK/hvdumpd.log"
check "no partial of the new dump" test -z "$(ls "$SPOOL/$NAME" | grep partial)"
check "the new dump opens (hvdump verify)" "$HVDUMP" verify "$NEW"
check "query-dumps: completed" test "$(query_last | cut -d'|' -f1)" = completed
check "guest resumed" lv_wait_state "$NAME" running 10

# --- case 2: no room can be made (a non-dump file fills the spool); the
# other domain's only dump is kept, and the dump fails.
rm -rf "${SPOOL:?}"/* 
mkdump "$O/20200101T000000Z.kdump" 65536 "2020-01-01"
head -c $(( $(avail) - 262144 )) /dev/zero > "$SPOOL/ballast.bin"
out=$("$HVDUMP" --daemon "$SOCK" dump "$NAME" --path nospace.kdump 2>&1); rc=$?
check "dump with no room fails" test $rc -ne 0
check "another domain's only dump is never pruned" test -e "$O/20200101T000000Z.kdump"
check "no partial file left" test -z "$(ls -a "$SPOOL/$NAME" | grep nospace)"
q=$(query_last)
check "query-dumps: failed" test "${q%%|*}" = failed
check "query-dumps: no-space message ($q)" grep -q "no space left on device" <<<"$q"
check "log: dump failed, no space" grep -q "$NAME: dump [0-9]* failed: no space left on device" "$WORK/hvdumpd.log"
check "guest resumed after the failed dump" lv_wait_state "$NAME" running 10
check "client saw the error" grep -q "no space" <<<"$out"

# --- the same for a crash with after=destroy: the guest must survive.
stop_daemon
start_daemon "$CONF
after=destroy"
lv_guest_cmd "$WORK/guest" panic
check "panic noticed" wait_log "$NAME: panicked" 60
check "crash dump failed for lack of space" wait_log "$NAME: dump [0-9]* failed: no space" 120
check "after=destroy not applied, logged" wait_log "$NAME: after=destroy not applied" 10
sleep 1
check "crashed domain not destroyed" test "$($LV_VIRSH domstate "$NAME" 2>/dev/null | head -1)" = crashed
check "no partial file left after the crash dump" test -z "$(find "$SPOOL" -name '*.partial')"
finish
