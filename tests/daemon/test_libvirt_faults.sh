#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# libvirt faults mid-dump, for `hvdump dump DOMAIN` and for hvdumpd:
#  - libvirtd restarted: the dump completes (memory is read from QEMU's
#    process), the guest we paused is resumed over a new connection, and
#    hvdumpd reconnects and still collects a later crash;
#  - libvirtd stopped and not back: hvdump resumes the guest through QEMU's
#    monitor socket and libvirt sees it running once it is back;
#  - the domain undefined (becomes transient): the dump completes;
#  - the domain destroyed and undefined (vanishes): exit 1, one line, no
#    file; hvdumpd reports the job failed and keeps answering.
# The guest is big enough (768 MiB, 448 MiB filled) for a single-threaded
# kdump-zlib dump to last a while under TCG.
set -u
. "$(dirname "$0")/common.sh"
lv_start_daemons || exit $?
export LV_MEM_MIB=768 LV_FILL_MIB=448
G=$WORK/guest

lv_up() {
    i=0
    while ! $LV_VIRSH version >/dev/null 2>&1; do
        i=$((i + 1)); [ $i -gt 100 ] && return 1
        sleep 0.2
    done
}
stop_libvirtd() {
    p=$(pgrep -xo libvirtd) || return 0
    kill "$p"
    while kill -0 "$p" 2>/dev/null; do sleep 0.1; done
}
start_libvirtd() { libvirtd -d; lv_up; }
# The vCPUs run: the guest answers a ping on its command port.
guest_alive() {
    $PY - "$G/cmd.sock" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(20); s.connect(sys.argv[1])
s.sendall(b"ping\n"); buf = b""
while b"HVDUMP-PONG" not in buf:
    d = s.recv(256)
    if not d: sys.exit(1)
    buf += d
PY
}
# cli_dump OUT: starts a slow dump in the background ($CPID), returns once
# it reads memory (first progress line).
cli_dump() {
    rm -f "$1" "$1.partial"
    "$HVDUMP" dump "$NAME" "$1" --format kdump-zlib --threads 1 \
        --progress=json 2>"$1.err" &
    CPID=$!
    i=0
    while ! grep -q '"progress"' "$1.err" 2>/dev/null; do
        i=$((i + 1)); [ $i -gt 600 ] && return 1
        sleep 0.1
    done
}
# cli_wait OUT: waits for it; $RC, $MSG (stderr without progress lines).
cli_wait() {
    wait "$CPID"; RC=$?
    MSG=$(grep -v '^{"' "$1.err")  # not the JSON progress lines
}
one_line() { test "$(printf '%s\n' "$1" | grep -c .)" -eq 1; }
no_partial() { test ! -e "$1.partial"; }
boot_persistent() {
    boot_guest
    redefine
}
# Defining a running transient domain makes it persistent (its live XML:
# the UUID must match).
redefine() {
    $LV_VIRSH dumpxml "$NAME" > "$G/live.xml" && $LV_VIRSH define "$G/live.xml" >/dev/null
}
persistent() { test "$($LV_VIRSH dominfo "$NAME" | awk '/^Persistent:/ {print $2}')" = "$1"; }

boot_persistent

# --- CLI: libvirtd restarted mid-dump
out=$WORK/restart.kdump
check "cli restart: dump under way" cli_dump "$out"
check "cli restart: guest paused while dumping" lv_wait_state "$NAME" paused 5
stop_libvirtd; start_libvirtd
kill -0 "$CPID" 2>/dev/null && echo "# libvirtd was back before the dump ended"
cli_wait "$out"
check "cli restart: exit 0 ($MSG)" test "$RC" -eq 0
check "cli restart: dump verifies" "$HVDUMP" verify "$out"
check "cli restart: no partial file" no_partial "$out"
check "cli restart: guest running (libvirt)" lv_wait_state "$NAME" running 30
check "cli restart: guest running (answers ping)" guest_alive
rm -f "$out"

# --- CLI: libvirtd stopped and not back before the dump ends
out=$WORK/stopped.kdump
check "cli stopped: dump under way" cli_dump "$out"
stop_libvirtd
cli_wait "$out"
check "cli stopped: exit 0" test "$RC" -eq 0
check "cli stopped: one line says it resumed through QEMU's monitor ($MSG)" \
    bash -c 'test "$(printf "%s\n" "$1" | grep -c .)" -eq 1 && grep -q "resumed the guest through QEMU" <<<"$1"' _ "$MSG"
check "cli stopped: guest running while libvirtd is down (ping)" guest_alive
check "cli stopped: dump verifies" "$HVDUMP" verify "$out"
check "cli stopped: no partial file" no_partial "$out"
start_libvirtd
check "cli stopped: libvirt sees the guest running once back" lv_wait_state "$NAME" running 30
rm -f "$out"

# --- CLI: undefined mid-dump (persistent -> transient)
out=$WORK/undef.kdump
check "cli undefine: dump under way" cli_dump "$out"
$LV_VIRSH undefine "$NAME" >/dev/null
cli_wait "$out"
check "cli undefine: exit 0 ($MSG)" test "$RC" -eq 0
check "cli undefine: dump verifies" "$HVDUMP" verify "$out"
check "cli undefine: guest running, now transient" lv_wait_state "$NAME" running 30
check "cli undefine: domain is transient" persistent no
rm -f "$out"
redefine

# --- hvdumpd: libvirtd restarted during a requested dump and a crash dump
start_daemon "[daemon]
spool=$SPOOL
socket=$SOCK
[collect]
domains=$NAME
format=kdump-zlib
after=restart"
query() { # query ID: the job's status
    "$HVDUMP" --daemon "$SOCK" query | $PY -c 'import json,sys
for j in json.load(sys.stdin):
    if j["id"] == int(sys.argv[1]): print(j["status"], j.get("error", ""))' "$1"
}
wait_written() { # wait_written PARTIAL: the job writes
    i=0
    while [ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -lt 1048576 ]; do
        i=$((i + 1)); [ $i -gt 600 ] && return 1
        sleep 0.1
    done
}
conns() { grep -c 'connected to' "$WORK/hvdumpd.log"; }
# wait_count N PATTERN [TIMEOUT]: PATTERN in the daemon's log N times.
wait_count() {
    i=0
    while [ "$(grep -c -- "$2" "$WORK/hvdumpd.log")" -lt "$1" ]; do
        i=$((i + 1)); [ $i -gt $((${3:-60} * 5)) ] && return 1
        sleep 0.2
    done
}
crash_written() { # a crash dump's .partial in the domain's directory grows
    i=0
    while :; do
        p=$(ls "$SPOOL/$NAME"/*.partial 2>/dev/null | head -1)
        [ -n "$p" ] && [ "$(stat -c %s "$p" 2>/dev/null || echo 0)" -gt 1048576 ] && return 0
        i=$((i + 1)); [ $i -gt 600 ] && return 1
        sleep 0.1
    done
}

id=$("$HVDUMP" --daemon "$SOCK" dump "$NAME" --path req.kdump --no-wait | awk '{print $1}')
check "daemon restart: request dump under way" wait_written "$SPOOL/$NAME/req.kdump.partial"
n=$(conns)
stop_libvirtd; start_libvirtd
check "daemon restart: request dump completed" wait_log "$NAME: dump $id completed" 300
check "daemon restart: query-dumps says completed" test "$(query "$id")" = "completed "
check "daemon restart: dump verifies" "$HVDUMP" verify "$SPOOL/$NAME/req.kdump"
check "daemon restart: guest running again" lv_wait_state "$NAME" running 30
check "daemon restart: hvdumpd reconnected" wait_count $((n + 1)) 'connected to' 30

# Undefined during a requested dump.
id=$("$HVDUMP" --daemon "$SOCK" dump "$NAME" --path undef.kdump --no-wait | awk '{print $1}')
check "daemon undefine: dump under way" wait_written "$SPOOL/$NAME/undef.kdump.partial"
$LV_VIRSH undefine "$NAME" >/dev/null
check "daemon undefine: dump completed" wait_log "$NAME: dump $id completed" 300
check "daemon undefine: query-dumps says completed" test "$(query "$id")" = "completed "
check "daemon undefine: guest running" lv_wait_state "$NAME" running 30
redefine

# A crash dump with libvirtd restarted under it: completed, after=restart
# applied over the new connection.
lv_guest_cmd "$G" panic
check "daemon crash+restart: panic noticed" wait_log "$NAME: panicked" 60
check "daemon crash+restart: crash dump under way" crash_written
n=$(conns)
stop_libvirtd; start_libvirtd
check "daemon crash+restart: hvdumpd reconnected" wait_count $((n + 1)) 'connected to' 30
check "daemon crash+restart: crash dump completed" wait_log "dump [0-9]* completed: $SPOOL/$NAME/" 300
check "daemon crash+restart: after=restart done" wait_log "$NAME: after=restart done" 60
check "daemon crash+restart: crash dump verifies" "$HVDUMP" verify "$(ls "$SPOOL/$NAME"/*.kdump | head -1)"
check "daemon crash+restart: guest restarted" lv_wait_state "$NAME" running 60

# Still watching: a later crash is collected (QEMU truncated the console
# log when after=restart started it again).
check "daemon later crash: guest ready again" lv_wait_ready "$NAME" "$G" 240
lv_guest_cmd "$G" panic
check "daemon later crash: collected after the reconnect" \
    wait_count 2 "dump [0-9]* completed: $SPOOL/$NAME/" 300
check "daemon later crash: guest restarted again" wait_count 2 'after=restart done' 60
lv_wait_ready "$NAME" "$G" 240 || fail "guest ready after the second restart"

# --- hvdumpd: the domain destroyed and undefined mid-dump
id=$("$HVDUMP" --daemon "$SOCK" dump "$NAME" --path gone.kdump --no-wait | awk '{print $1}')
check "daemon vanish: dump under way" wait_written "$SPOOL/$NAME/gone.kdump.partial"
$LV_VIRSH destroy "$NAME" >/dev/null; $LV_VIRSH undefine "$NAME" >/dev/null
check "daemon vanish: dump failed and logged" wait_log "$NAME: dump $id failed" 120
st=$(query "$id")
check "daemon vanish: query-dumps says failed, QEMU exited ($st)" grep -q '^failed .*exited during the dump' <<<"$st"
check "daemon vanish: no file left" test -z "$(ls "$SPOOL/$NAME" | grep '^gone')"
check "daemon vanish: hvdumpd still answers" bash -c "\"$HVDUMP\" --daemon \"$SOCK\" query >/dev/null"
check "daemon vanish: hvdumpd still running" kill -0 "$DPID"
stop_daemon

# --- CLI: the domain destroyed and undefined mid-dump
boot_persistent
out=$WORK/gone.kdump
check "cli vanish: dump under way" cli_dump "$out"
$LV_VIRSH destroy "$NAME" >/dev/null; $LV_VIRSH undefine "$NAME" >/dev/null
cli_wait "$out"
check "cli vanish: exit 1" test "$RC" -eq 1
check "cli vanish: one line, QEMU exited ($MSG)" bash -c 'test "$(printf "%s\n" "$1" | grep -c .)" -eq 1 && grep -q "exited during the dump" <<<"$1"' _ "$MSG"
check "cli vanish: no file, no partial" test ! -e "$out" -a ! -e "$out.partial"
finish
