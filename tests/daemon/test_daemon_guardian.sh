#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# hvdumpd SIGKILLed while a requested dump holds the guest paused: the
# guardian it started (hvdumpd re-executed as `hvdumpd __guardian`) resumes
# the domain and removes the partial file.  A dump that completes leaves no
# guardian behind.
set -u
. "$(dirname "$0")/common.sh"
lv_start_daemons || exit $?
# Enough memory, a good part of it random, for a slow kdump-zlib dump.
LV_MEM_MIB=768 LV_FILL_MIB=512 boot_guest
UUID=$($LV_VIRSH domuuid "$NAME" | head -1)
CONF="[daemon]
spool=$SPOOL
socket=$SOCK
[collect]
domains=$NAME
format=kdump-zlib"
start_daemon "$CONF"
guardians() { pgrep -f "__guardian libvirt .*$UUID" | tr '\n' ' '; }

# --- a dump that completes: the guardian is told so and exits
# (retried: another test may be restarting libvirtd meanwhile)
for i in 1 2 3; do
    "$HVDUMP" --daemon "$SOCK" dump "$NAME" --path ok.kdump >/dev/null && break
    rm -f "$SPOOL/$NAME/ok.kdump"; sleep 3
done
check "a normal dump completes" test -f "$SPOOL/$NAME/ok.kdump"
check "guest running after it" lv_wait_state "$NAME" running 10
check "no guardian left after a completed dump" test -z "$(guardians)"
rm -f "$SPOOL/$NAME/ok.kdump" "$SPOOL/$NAME/ok.json"

# --- SIGKILL mid-dump (throttled, so that "mid-dump" lasts on any machine)
throttle "$DPID"
# Retried while hvdumpd is (re)connecting to libvirt.
for i in $(seq 1 30); do
    r=$($PY "$WORK/ctl.py" "$SOCK" \
        "{\"execute\":\"dump\",\"arguments\":{\"domain\":\"$NAME\",\"path\":\"killed.kdump\"}}")
    [ "$(kind "$r")" = return ] && break
    sleep 1
done
check "dump request accepted ($r)" test "$(kind "$r")" = return
caught=
for i in $(seq 1 1200); do # up to a minute
    if [ -e "$SPOOL/$NAME/killed.kdump.partial" ] &&
       [ "$($LV_VIRSH domstate "$NAME" 2>/dev/null | head -1)" = paused ]; then
        caught=1; break
    fi
    [ -e "$SPOOL/$NAME/killed.kdump" ] && break
    sleep 0.05
done
check "caught the dump with the guest paused and a partial file" test -n "$caught"
check "a guardian is running for the domain" test -n "$(guardians)"
unthrottle
kill -9 "$DPID"; wait "$DPID" 2>/dev/null; DPID=
T0=$(date +%s.%N)
check "domain running again within 10 s of the SIGKILL" lv_wait_state "$NAME" running 10
echo "# resumed after $(echo "$(date +%s.%N) - $T0" | bc 2>/dev/null || echo '?') s"
gone() { for i in $(seq 1 50); do [ ! -e "$1" ] && return 0; sleep 0.1; done; return 1; }
check "no .partial left" gone "$SPOOL/$NAME/killed.kdump.partial"
check "no dump left" test ! -e "$SPOOL/$NAME/killed.kdump"
check "guardian logged the rescue" wait_log "guardian: .* domain resumed" 10
for i in $(seq 1 50); do [ -z "$(guardians)" ] && break; sleep 0.1; done
check "the guardian exited" test -z "$(guardians)"
check "the guest still answers" lv_wait_state "$NAME" running 2

# --- a restarted daemon works again with the rescued domain
rm -f "$SOCK"
start_daemon "$CONF"
"$HVDUMP" --daemon "$SOCK" dump "$NAME" --format kdump-zstd --path again.kdump >/dev/null
check "dump after the rescue completes" test -f "$SPOOL/$NAME/again.kdump"
check "the dump opens" "$HVDUMP" verify "$SPOOL/$NAME/again.kdump"
finish
