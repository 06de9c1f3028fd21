#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# hvdumpd taking real dumps: on request (one at a time per domain, cancel),
# automatically on a guest panic (sidecar, crash opens it), after=restart,
# retention.  Exits 77 (skip) if dumping over libvirt is unavailable.
set -u
. "$(dirname "$0")/common.sh"
lv_start_daemons || exit $?
boot_guest
CONF="[daemon]
spool=$SPOOL
socket=$SOCK
[collect]
domains=hvdump-test-*
format=elf
after=restart
keep=2"
start_daemon "$CONF"

# --- probe: is the dump path there at all?
out=$("$HVDUMP" --daemon "$SOCK" dump "$NAME" --format kdump-zlib --path probe.kdump 2>&1); rc=$?
if grep -q 'not wired' <<<"$out"; then
    echo "SKIP: dumping over libvirt is not wired yet: $out"
    exit 77
fi
check "request dump completes" test $rc -eq 0 -a -f "$SPOOL/$NAME/probe.kdump"
check "request dump has a sidecar" test -f "$SPOOL/$NAME/probe.json"
check "guest resumed after a request dump" lv_wait_state "$NAME" running 10
check "sidecar sha256 matches the dump" test "$($PY -c 'import json,sys;print(json.load(open(sys.argv[1]))["sha256"])' "$SPOOL/$NAME/probe.json")" = "$(sha256sum < "$SPOOL/$NAME/probe.kdump" | cut -d' ' -f1)"

# --- one dump per domain at a time; cancel leaves nothing
mapfile -t R < <($PY "$WORK/ctl.py" "$SOCK" \
    "{\"execute\":\"dump\",\"arguments\":{\"domain\":\"$NAME\",\"path\":\"c1.elf\"}}" \
    "{\"execute\":\"dump\",\"arguments\":{\"domain\":\"$NAME\",\"path\":\"c2.elf\"}}" \
    "{\"execute\":\"cancel\",\"arguments\":{\"domain\":\"$NAME\"}}")
check "first dump accepted" test "$(kind "${R[0]}")" = return
check "second dump of the same domain refused (Busy)" test "$(kind "${R[1]}")" = Busy
check "cancel accepted" test "$(kind "${R[2]}")" = return
check "cancel logged" wait_log "cancelled" 60
check "no partial file after cancel" test -z "$(ls "$SPOOL/$NAME" | grep -E '^c1')"
check "guest resumed after cancel" lv_wait_state "$NAME" running 10

# --- auto-dump on panic (format=elf from the config), then after=restart
lv_guest_cmd "$WORK/guest" panic
check "panic noticed" wait_log "$NAME: panicked" 60
check "crash dump completed" wait_log "$NAME: dump [0-9]* completed" 300
check "after=restart done" wait_log "$NAME: after=restart done" 60
check "domain running again" lv_wait_state "$NAME" running 60
DUMP=$(ls "$SPOOL/$NAME"/*.elf 2>/dev/null | head -1)
SC=${DUMP%.elf}.json
check "dump in SPOOL/DOMAIN/TIMESTAMP.elf" test -f "$DUMP"
check "sidecar has the panic message" grep -q '"panic_message" : "sysrq triggered crash' "$SC"
check "sidecar has the kernel release" grep -q "\"kernel_release\" : \"$(cat /root/.cache/hvdump/kernel/release)\"" "$SC"
if command -v crash >/dev/null; then
    out=$(printf 'bt\nquit\n' | timeout 300 crash -s /root/.cache/hvdump/kernel/vmlinux "$DUMP" 2>&1)
    check "crash shows the panic backtrace" grep -q 'sysrq_handle_crash' <<<"$out"
fi

# --- retention with keep=2 over real dumps: three request dumps, two kept
lv_wait_ready "$NAME" "$WORK/guest" 120
for i in 1 2 3; do "$HVDUMP" --daemon "$SOCK" dump "$NAME" >/dev/null; sleep 1; done
check "keep=2 enforced in the domain's directory" test "$(ls "$SPOOL/$NAME"/*.elf | wc -l)" -eq 2
check "the crash dump (oldest) was the one removed" test ! -e "$DUMP" -a ! -e "$SC"

# --- a crash while hvdumpd is down: collected when it starts, and only once
# (one crash is one QEMU process: a second start finds its dump there)
stop_daemon
NOW_CONF="[daemon]
spool=$SPOOL
socket=$SOCK
[collect]
domains=hvdump-test-*
format=kdump-zlib
after=none
keep=5"
lv_guest_cmd "$WORK/guest" panic
check "panicked while hvdumpd was down" lv_wait_state "$NAME" crashed 60
before=$(ls "$SPOOL/$NAME"/*.kdump 2>/dev/null | wc -l)
from=$(($(wc -l < "$WORK/hvdumpd.log") + 1))
start_daemon "$NOW_CONF"
check "found crashed at start-up" \
    bash -c "for i in \$(seq 150); do tail -n +$from '$WORK/hvdumpd.log' | grep -q 'found crashed' && exit 0; sleep 0.2; done; exit 1"
check "  and dumped" \
    bash -c "for i in \$(seq 600); do tail -n +$from '$WORK/hvdumpd.log' | grep -q '$NAME: dump [0-9]* completed' && exit 0; sleep 0.5; done; exit 1"
check "  one new crash dump" test "$(ls "$SPOOL/$NAME"/*.kdump | wc -l)" -eq $((before + 1))
check "  its sidecar names the QEMU process" grep -q '"qemu_pid"' "$(ls -t "$SPOOL/$NAME"/*.json | head -1)"
stop_daemon
from=$(($(wc -l < "$WORK/hvdumpd.log") + 1))
start_daemon "$NOW_CONF"
check "restarted: the same crash is known as collected" \
    bash -c "for i in \$(seq 150); do tail -n +$from '$WORK/hvdumpd.log' | grep -q 'already collected' && exit 0; sleep 0.2; done; exit 1"
sleep 2
check "  and not dumped again" test "$(ls "$SPOOL/$NAME"/*.kdump | wc -l)" -eq $((before + 1))
stop_daemon
# The test domain is transient: destroyed, it is gone; boot a new one.
$LV_VIRSH destroy "$NAME" >/dev/null
boot_guest
start_daemon "$CONF"

# --- the domain vanishes mid-dump: a failed dump, no partial file
"$HVDUMP" --daemon "$SOCK" dump "$NAME" --path gone.elf --no-wait >/dev/null
$LV_VIRSH destroy "$NAME" >/dev/null
check "vanished domain: dump failed and logged" wait_log "$NAME: dump [0-9]* failed" 60
check "vanished domain: no file left" test -z "$(ls "$SPOOL/$NAME" | grep '^gone')"
finish
