#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# hvdump list, libvirt monitor/pause, and hvdumpd's control socket against a
# real libvirtd and test domain.  None of this needs the dump path.
set -u
. "$(dirname "$0")/common.sh"
lv_start_daemons || exit $?
boot_guest

# --- hvdump list
out=$("$HVDUMP" list 2>&1)
check "list shows the running domain as dumpable" \
    grep -qE "^[0-9]+ +$NAME +running +[0-9]+ MiB +yes" <<<"$out"
[ $FAILS -gt 0 ] && echo "$out"
out=$("$HVDUMP" list -c test:///default 2>&1); rc=$?
check "list refuses a non-QEMU driver" test $rc -ne 0 -a -n "$(grep 'QEMU driver' <<<"$out")"
out=$("$HVDUMP" list stray 2>&1); rc=$?
check "list: usage error" test $rc -eq 2

# --- monitor and pause over libvirt
HVDUMP_LV_DOMAIN=$NAME "$LV_MONITOR_TEST" >"$WORK/monitor.log" 2>&1
check "libvirt lookup/monitor/pause (test-libvirt-monitor)" test $? -eq 0
grep -q "^not ok\|ERROR" "$WORK/monitor.log" && cat "$WORK/monitor.log"

# --- version
out=$("$HVDUMPD" --version 2>&1); rc=$?
check "hvdumpd --version" test $rc -eq 0 -a -n "$(grep -E '^hvdumpd [0-9]+\.[0-9]+' <<<"$out")"

# --- configuration errors
printf '[collect]\nafter=sometimes\n' > "$WORK/bad.conf"
"$HVDUMPD" --config "$WORK/bad.conf" 2>"$WORK/bad.err"; rc=$?
check "bad config: exit 2 with the reason" test $rc -eq 2 -a -n "$(grep 'after=' "$WORK/bad.err")"

# --- retention at start-up: keep=2 drops the oldest of three
mkdir -p "$SPOOL/old-vm"
for i in 1 2 3; do
    head -c 1000 /dev/zero > "$SPOOL/old-vm/2024010${i}T000000Z.kdump"
    echo '{}' > "$SPOOL/old-vm/2024010${i}T000000Z.json"
    touch -d "2024-01-0$i" "$SPOOL/old-vm/2024010${i}T000000Z.kdump"
done
GROUP=adm
start_daemon "[daemon]
spool=$SPOOL
socket=$SOCK
socket-group=$GROUP
[collect]
domains=hvdump-test-*
format=kdump-zlib
keep=2"
check "retention at start: oldest removed" test ! -e "$SPOOL/old-vm/20240101T000000Z.kdump"
check "retention at start: its sidecar removed" test ! -e "$SPOOL/old-vm/20240101T000000Z.json"
check "retention at start: newer kept" test -e "$SPOOL/old-vm/20240103T000000Z.kdump" -a -e "$SPOOL/old-vm/20240102T000000Z.kdump"
check "socket mode 0660, group $GROUP" test "$(stat -c '%a %G' "$SOCK")" = "660 $GROUP"

# --- protocol errors, all on one connection, which stays usable
ln -s /etc "$SPOOL/escape"
mapfile -t R < <($PY "$WORK/ctl.py" "$SOCK" \
    'this is not json' \
    '{"execute":"format-disk"}' \
    "{\"execute\":\"dump\",\"arguments\":{\"domain\":\"$NAME\",\"path\":\"../x.kdump\"}}" \
    "{\"execute\":\"dump\",\"arguments\":{\"domain\":\"$NAME\",\"path\":\"/tmp/x.kdump\"}}" \
    "{\"execute\":\"dump\",\"arguments\":{\"domain\":\"$NAME\",\"path\":\"escape/x.kdump\"}}" \
    '{"execute":"dump","arguments":{"domain":"hvdump-no-such-domain"}}' \
    "{\"execute\":\"dump\",\"arguments\":{\"domain\":\"$NAME\",\"format\":\"rar\"}}" \
    '{"execute":"cancel","arguments":{"id":12345}}' \
    '{"execute":"query-dumps","id":"q1"}')
check "9 replies on one connection" test ${#R[@]} -eq 9
check "malformed JSON -> GenericError" test "$(kind "${R[0]}")" = GenericError
check "unknown command -> CommandNotFound" test "$(kind "${R[1]}")" = CommandNotFound
check "path with .. refused" test "$(kind "${R[2]}")" = GenericError
check "absolute path refused" test "$(kind "${R[3]}")" = GenericError
check "path through a symlink refused" test "$(kind "${R[4]}")" = GenericError
check "unknown domain -> DeviceNotFound" test "$(kind "${R[5]}")" = DeviceNotFound
check "unknown format refused" test "$(kind "${R[6]}")" = GenericError
check "cancel of nothing refused" test "$(kind "${R[7]}")" = GenericError
check "query-dumps answers after errors, id echoed" \
    test "$(kind "${R[8]}")" = return -a -n "$(grep '"id":"q1"' <<<"${R[8]}")"
check "nothing written outside the spool" test ! -e /etc/x.kdump -a ! -e /tmp/x.kdump

# --- authorisation (SO_PEERCRED)
out=$(runuser -u nobody -- $PY "$WORK/ctl.py" "$SOCK" '{"execute":"query-dumps"}' 2>&1)
check "nobody cannot even connect (mode 0660)" grep -q 'Permission denied' <<<"$out"
out=$(setpriv --reuid=nobody --regid=nogroup --groups="$GROUP" \
      $PY "$WORK/ctl.py" "$SOCK" '{"execute":"query-dumps"}' 2>&1)
check "a member of the socket's group is served" test "$(kind "$out")" = return
chmod 0666 "$SOCK"   # a misconfiguration: the peer check still holds
out=$(runuser -u nobody -- $PY "$WORK/ctl.py" "$SOCK" '{"execute":"query-dumps"}' 2>&1)
check "nobody refused by SO_PEERCRED even with a 0666 socket" \
    test "$(kind "$(head -1 <<<"$out")")" = PermissionDenied
chmod 0660 "$SOCK"
check "refusal logged" wait_log "refused peer uid 65534" 5

# --- hostile clients (a member of the socket's group): the daemon stays up,
# bounded, and root is still served.  Each attack is bounded by the client
# itself (256 MiB sent, 200 connections), so a regression fails the test
# rather than the machine.
cp "$HERE/hostile_client.py" "$WORK/hostile_client.py"
AS_MEMBER="setpriv --reuid=nobody --regid=nogroup --groups=$GROUP"
out=$($AS_MEMBER $PY "$WORK/hostile_client.py" "$SOCK" deep 2>&1)
check "60,000 nested '[': an error reply, no crash" grep -q 'nested too deeply' <<<"$out"
check "  hvdumpd still running" kill -0 "$DPID"
rss_before=$(ps -o rss= -p "$DPID")
out=$($AS_MEMBER $PY "$WORK/hostile_client.py" "$SOCK" endless 256 2>&1)
check "a line without end is cut off" grep -q 'request line too long' <<<"$out"
rss_after=$(ps -o rss= -p "$DPID")
check "  memory did not follow it (RSS $rss_before -> $rss_after KiB)" \
    test $((rss_after - rss_before)) -lt 20000
$AS_MEMBER $PY "$WORK/hostile_client.py" "$SOCK" idle 200 8 >"$WORK/idle.out" 2>&1 &
IDLE=$!
for i in $(seq 150); do [ -s "$WORK/idle.out" ] && break; sleep 0.2; done
check "200 idle connections of one member: all but 16 refused ($(cat "$WORK/idle.out"))" \
    grep -q '^held 16 refused 184' "$WORK/idle.out"
out=$($PY "$WORK/ctl.py" "$SOCK" '{"execute":"query-dumps"}')
check "  root is served meanwhile" test "$(kind "$out")" = return
out=$(setpriv --reuid=daemon --regid=nogroup --groups="$GROUP" \
      $PY "$WORK/ctl.py" "$SOCK" '{"execute":"query-dumps"}' 2>&1)
check "  and so is another member" test "$(kind "$out")" = return
kill "$IDLE" 2>/dev/null; wait "$IDLE" 2>/dev/null

# --- SIGHUP is not fatal; a second instance does not take the socket
kill -HUP "$DPID"
check "SIGHUP: logged as ignored" wait_log "SIGHUP ignored" 10
check "  hvdumpd still running" kill -0 "$DPID"
"$HVDUMPD" --config "$WORK/hvdumpd.conf" 2>"$WORK/second.err"; rc=$?
check "a second hvdumpd on the same socket refuses to start" \
    test $rc -ne 0 -a -n "$(grep 'another hvdumpd' "$WORK/second.err")"
out=$($PY "$WORK/ctl.py" "$SOCK" '{"execute":"query-dumps"}')
check "  the first one still answers on its socket" test "$(kind "$out")" = return

# --- the hvdump client
out=$("$HVDUMP" --daemon "$SOCK" query 2>&1)
check "hvdump --daemon query prints the job list" grep -q '^\[' <<<"$out"
out=$("$HVDUMP" --daemon "$SOCK" dump hvdump-no-such-domain 2>&1); rc=$?
check "hvdump --daemon dump of an unknown domain fails clearly" \
    test $rc -eq 1 -a -n "$(grep DeviceNotFound <<<"$out")"
out=$("$HVDUMP" --daemon "$WORK/nonexistent.sock" query 2>&1); rc=$?
check "hvdump --daemon: no daemon -> error" test $rc -eq 1
out=$("$HVDUMP" --daemon "$SOCK" 2>&1); rc=$?
check "hvdump --daemon: usage" test $rc -eq 2

# --- libvirtd restart: the daemon reconnects
LVPID=$(pgrep -xo libvirtd)
kill "$LVPID"
while kill -0 "$LVPID" 2>/dev/null; do sleep 0.2; done
check "connection loss noticed" wait_log "lost the connection to libvirt" 30
libvirtd -d
check "reconnected after libvirtd restart" \
    bash -c "for i in \$(seq 100); do [ \$(grep -c 'connected to' '$WORK/hvdumpd.log') -ge 2 ] && exit 0; sleep 0.3; done; exit 1"
check "domain still there after the restart" lv_wait_state "$NAME" running 30

stop_daemon
check "socket removed on SIGTERM" test ! -e "$SOCK"
finish
