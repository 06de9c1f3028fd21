#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# hvdumpd under load:
#  1. 50 clients hammering the control socket (query-dumps, bad lines,
#     pipelined requests, one client that never reads) while a slow dump
#     runs: every request answered, no client refused or stalled, no fd
#     leaked, the dump completes and verifies.
#  2. three domains panicking at once: each dumped exactly once, the dumps
#     run concurrently, each dump is that domain's, after=destroy applied
#     once per domain, no partial file left.
# Exits 77 (skip) if dumping over libvirt is unavailable.
set -u
. "$(dirname "$0")/common.sh"
cp "$HERE/hammer.py" "$WORK/hammer.py"
lv_start_daemons || exit $?

# Three domains of different sizes, so that a dump's memory size tells
# which domain it came from.  A is the slow one (a few hundred MiB filled).
DOMS=(a b c)
declare -A MEM=([a]=640 [b]=256 [c]=320) FILL=([a]=480 [b]=32 [c]=64)
# Not hvdump-test-*: other tests' daemons watch that glob and would race
# ours for these domains' crash events if run side by side.
PREFIX=hvdump-load-$$
dom() { echo "$PREFIX-$1"; }
trap 'for x in "${DOMS[@]}"; do lv_destroy "$(dom "$x")"; done; cleanup' EXIT
for x in "${DOMS[@]}"; do
    LV_MEM_MIB=${MEM[$x]} LV_FILL_MIB=${FILL[$x]} lv_define "$(dom "$x")" "$WORK/guest-$x" || exit 1
done
for x in "${DOMS[@]}"; do
    lv_wait_ready "$(dom "$x")" "$WORK/guest-$x" 400 || exit 1
done

start_daemon "[daemon]
spool=$SPOOL
socket=$SOCK
socket-group=adm
[collect]
domains=$PREFIX-*
format=kdump-zlib
after=destroy"
wait_log "connected to" 30 || { echo "hvdumpd did not connect to libvirt"; cat "$WORK/hvdumpd.log"; exit 1; }

nfds() { ls "/proc/$DPID/fd" | wc -l; }
jfield() { # jfield FILE KEY
    $PY -c 'import json,sys;print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}
query() { $PY "$WORK/ctl.py" "$SOCK" '{"execute":"query-dumps"}'; }
quiet() { "$@" >/dev/null 2>&1; }

# ---------------------------------------------------------------- 1. clients
A=$(dom a)
BASE_FDS=$(nfds)
# Throttled (10% duty cycle) so that the dump outlasts the storm on any
# machine: the replies are what is measured, not the dump's speed.
throttle "$DPID"
out=$("$HVDUMP" --daemon "$SOCK" dump "$A" --format kdump-zlib --path load.kdump --no-wait 2>&1); rc=$?
if grep -q 'not wired' <<<"$out"; then
    echo "SKIP: dumping over libvirt is not wired yet: $out"; exit 77
fi
check "slow dump of $A accepted" test $rc -eq 0
wait_log "$A: dump [0-9]* started" 30
summary=$(timeout 300 $PY "$WORK/hammer.py" "$SOCK" 50 20 "$A"); rc=$?
unthrottle "$DPID"
echo "# hammer: $summary"
sfield() { $PY -c 'import json,sys;print(json.loads(sys.argv[1])[sys.argv[2]])' "$summary" "$1" 2>/dev/null; }
check "50 clients: every request got a well-formed reply, none refused or timed out" \
    test $rc -eq 0 -a "$(sfield ok)" = 50
check "50 clients: 2050 replies (query-dumps, bad JSON, non-object, unknown command, not UTF-8)" \
    test "$(sfield replies)" = 2050
check "a client that never reads its replies did not stall the others (slowest client < 20 s)" \
    $PY -c 'import sys;sys.exit(not float(sys.argv[1]) < 20)' "$(sfield max_client_s)"
check "query-dumps saw the dump running during the storm" test "$(sfield saw_running)" -gt 0
check "slow dump completed" wait_log "$A: dump [0-9]* completed: $SPOOL/$A/load.kdump" 600
check "slow dump verifies" quiet "$HVDUMP" verify "$SPOOL/$A/load.kdump"
# Request dumps land in the domain's directory: clear it for the crash part.
rm -f "$SPOOL/$A/load.kdump" "$SPOOL/$A/load.json"
check "$A running again after the request dump" lv_wait_state "$A" running 30
i=0; while [ "$(nfds)" -ne "$BASE_FDS" ] && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
check "daemon fd count back to its baseline ($BASE_FDS, now $(nfds))" \
    test "$(nfds)" -eq "$BASE_FDS" || ls -l "/proc/$DPID/fd"
check "daemon still answers" grep -q '"return"' <<<"$(query)"

# ---------------------------------------------------------------- 2. crashes
# Lines on a guest's command port can be lost when a loaded TCG guest is
# slow to drain its UART: send to all three at once, resend to the ones
# that have not panicked after a while.
panic_all() {
    $PY - "$@" <<'PY'
import socket, sys, time
socks = []
for path in sys.argv[1:]:
    s = socket.socket(socket.AF_UNIX); s.connect(path); socks.append(s)
for s in socks:
    s.sendall(b"panic\n")
time.sleep(2)
for s in socks:
    s.close()
PY
}
crashed() { [ "$($LV_VIRSH domstate "$1" 2>/dev/null | head -1)" != running ]; }
# The guests panic seconds apart (TCG, serial lines); throttled, each
# dump lasts long enough for the three to run side by side.
throttle "$DPID"
# Meanwhile a member of the socket's group attacks the control socket
# (bounded by the client: 200 connections, 64 MiB lines): the crashes
# must still be collected and root still answered.
cp "$HERE/hostile_client.py" "$WORK/hostile_client.py"
AS_MEMBER="setpriv --reuid=nobody --regid=nogroup --groups=adm"
$AS_MEMBER $PY "$WORK/hostile_client.py" "$SOCK" idle 200 600 >"$WORK/idle.out" 2>&1 &
ATTACK_IDLE=$!
( for i in 1 2 3; do
      $AS_MEMBER $PY "$WORK/hostile_client.py" "$SOCK" deep
      $AS_MEMBER $PY "$WORK/hostile_client.py" "$SOCK" endless 64
  done ) >"$WORK/attacks.out" 2>&1 &
ATTACK_LINES=$!
for try in 1 2 3 4; do
    todo=()
    for x in "${DOMS[@]}"; do crashed "$(dom "$x")" || todo+=("$WORK/guest-$x/cmd.sock"); done
    [ ${#todo[@]} -eq 0 ] && break
    panic_all "${todo[@]}"
    for i in $(seq 30); do
        n=0; for x in "${DOMS[@]}"; do crashed "$(dom "$x")" || n=$((n + 1)); done
        [ $n -eq 0 ] && break
        sleep 1
    done
done
for x in "${DOMS[@]}"; do
    dn=$(dom "$x")
    check "$dn: panic noticed" wait_log "$dn: panicked" 60
done
for x in "${DOMS[@]}"; do
    dn=$(dom "$x")
    check "$dn: crash dump completed" wait_log "$dn: dump [0-9]* completed" 600
    check "$dn: after=destroy done" wait_log "$dn: after=destroy done" 60
done
out=$(query)
check "root answered while the socket is under attack" grep -q '"return"' <<<"$out"
wait $ATTACK_LINES
check "attacks answered, not crashed on ($(tr '\n' ' ' < "$WORK/attacks.out" | head -c 200))" \
    test "$(grep -c 'nested too deeply\|request line too long' "$WORK/attacks.out")" -eq 6
kill $ATTACK_IDLE 2>/dev/null; wait $ATTACK_IDLE 2>/dev/null
check "the idle flood was held to 16 connections ($(cat "$WORK/idle.out"))" grep -q '^held 16 ' "$WORK/idle.out"
unthrottle "$DPID"
sleep 3 # late duplicate events would start a second dump now
LOG=$WORK/hvdumpd.log
for x in "${DOMS[@]}"; do
    dn=$(dom "$x")
    events=$(grep -c "^hvdumpd: $dn: panicked" "$LOG")
    echo "# $dn: $events crash event(s) from libvirt"
    check "$dn: one crash dump started" test "$(grep -c "^hvdumpd: $dn: dump [0-9]* started (crash" "$LOG")" -eq 1
    check "$dn: after=destroy applied once" test "$(grep -c "^hvdumpd: $dn: after=destroy done" "$LOG")" -eq 1
    check "$dn: no failed dump or after= error" test -z "$(grep -E "^hvdumpd: $dn: (dump [0-9]* failed|after=|cannot dump)" "$LOG" | grep -v 'after=destroy done')"
    check "$dn: destroyed (transient domain gone)" test -z "$($LV_VIRSH domstate "$dn" 2>/dev/null)"
    files=$(ls "$SPOOL/$dn" 2>/dev/null)
    dump=$(ls "$SPOOL/$dn"/*.kdump 2>/dev/null)
    sc=${dump%.kdump}.json
    check "$dn: exactly one dump and one sidecar in the spool" \
        test "$(wc -l <<<"$files")" -eq 2 -a "$(ls "$SPOOL/$dn"/*.kdump | wc -l)" -eq 1 -a -f "$sc"
    check "$dn: sidecar names the domain" test "$(jfield "$sc" domain)" = "$dn" -a "$(jfield "$sc" trigger)" = crash
    check "$dn: sidecar sha256 matches" test "$(jfield "$sc" sha256)" = "$(sha256sum < "$dump" | cut -d' ' -f1)"
    check "$dn: dump verifies" quiet "$HVDUMP" verify "$dump"
    info=$("$HVDUMP" info "$dump" 2>&1)
    check "$dn: dump has the guest's VMCOREINFO" grep -q "OSRELEASE=$(cat /root/.cache/hvdump/kernel/release)" <<<"$info"
    # Guest RAM sizes differ per domain: the dump's must be this domain's.
    pages=$(sed -n 's/^pages: *\([0-9]*\) total.*/\1/p' <<<"$info")
    check "$dn: dump is of this domain's RAM (${MEM[$x]} MiB: $pages pages)" \
        test "${pages:-0}" -eq $((MEM[$x] * 256))
done
check "no *.partial left in the spool" test -z "$(find "$SPOOL" -name '*.partial')"

# Concurrency: every crash dump started before any of them ended.
q=$(query)
check "the three crash dumps overlapped in time" $PY - "$q" <<'PY'
import json, sys
jobs = [j for j in json.loads(sys.argv[1])["return"] if j["trigger"] == "crash"]
print("# crash dumps (s from first start):", *(
    f'{j["domain"][-1]}: {(j["start_usec"] - min(k["start_usec"] for k in jobs)) / 1e6:.1f}'
    f'-{(j["end_usec"] - min(k["start_usec"] for k in jobs)) / 1e6:.1f}' for j in jobs))
sys.exit(not (len(jobs) == 3 and all(j["status"] == "completed" for j in jobs) and
              max(j["start_usec"] for j in jobs) < min(j["end_usec"] for j in jobs)))
PY
i=0; while [ "$(nfds)" -ne "$BASE_FDS" ] && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
check "daemon fd count back to its baseline after the crash dumps ($BASE_FDS, now $(nfds))" \
    test "$(nfds)" -eq "$BASE_FDS" || ls -l "/proc/$DPID/fd"
finish
