# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the hvdumpd test scripts: a test domain, a daemon, assertions.
HERE=$(cd "$(dirname "$0")" && pwd)
LV_HERE=$HERE/libvirt-env.sh
. "$HERE/libvirt-env.sh"
HVDUMP=${HVDUMP:?set by meson}
HVDUMPD=${HVDUMPD:?set by meson}
export HVDUMP_SRCDIR=${HVDUMP_SRCDIR:-$HERE/../..}
PY=/usr/bin/python3
NAME=hvdump-test-$$
WORK=$(mktemp -d /tmp/hvdump-daemon.XXXXXX)
chmod 755 "$WORK"
cp "$HERE/ctl.py" "$WORK/ctl.py"
DPID=
FAILS=0

cleanup() {
    unthrottle
    [ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
    lv_destroy "$NAME"
    [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

ok() { echo "ok - $*"; }
fail() { echo "FAIL - $*"; FAILS=$((FAILS + 1)); }
check() { # check DESCRIPTION COMMAND...
    d=$1; shift
    if "$@"; then ok "$d"; else fail "$d"; fi
}
# The error class of a reply line, or "return".
kind() {
    $PY -c 'import json,sys
r=json.loads(sys.argv[1])
print("return" if "return" in r else r["error"]["class"])' "$1"
}

# start_daemon CONFIG_TEXT: writes $WORK/hvdumpd.conf, starts hvdumpd,
# waits for its socket ($SOCK).
SOCK=$WORK/run/ctl.sock
SPOOL=$WORK/spool
start_daemon() {
    printf '%s\n' "$1" > "$WORK/hvdumpd.conf"
    mkdir -p "$WORK/run"
    chmod 755 "$WORK/run"
    "$HVDUMPD" --config "$WORK/hvdumpd.conf" 2>>"$WORK/hvdumpd.log" &
    DPID=$!
    i=0
    while ! [ -S "$SOCK" ]; do
        i=$((i + 1))
        if [ $i -gt 100 ] || ! kill -0 "$DPID" 2>/dev/null; then
            echo "hvdumpd did not start:"; cat "$WORK/hvdumpd.log"; exit 1
        fi
        sleep 0.1
    done
}
# throttle PID: stops and continues PID (all its threads) in a 10% duty
# cycle in the background, so a dump takes ~10x as long on any machine and
# a test can act in the middle of it.  unthrottle [PID] ends that (and
# continues PID).
THROTTLE_PID=
throttle() {
    ( while kill -STOP "$1" 2>/dev/null; do
          sleep 0.09; kill -CONT "$1" 2>/dev/null || break; sleep 0.01
      done ) &
    THROTTLE_PID=$!
}
unthrottle() {
    [ -n "$THROTTLE_PID" ] || return 0
    kill "$THROTTLE_PID" 2>/dev/null; wait "$THROTTLE_PID" 2>/dev/null
    THROTTLE_PID=
    [ -n "${1:-}" ] && kill -CONT "$1" 2>/dev/null
    return 0
}
stop_daemon() {
    kill "$DPID"; wait "$DPID" 2>/dev/null || true; DPID=
}
# wait_log PATTERN [TIMEOUT]
wait_log() {
    i=0
    while ! grep -q -- "$1" "$WORK/hvdumpd.log"; do
        i=$((i + 1)); [ $i -gt $((${2:-60} * 5)) ] && return 1
        sleep 0.2
    done
}
boot_guest() {
    lv_define "$NAME" "$WORK/guest" || exit 1
    lv_wait_ready "$NAME" "$WORK/guest" || exit 1
}
finish() {
    if [ -n "${DPID}" ]; then stop_daemon; fi
    if [ "$FAILS" -gt 0 ]; then
        echo "--- hvdumpd log"; cat "$WORK/hvdumpd.log" 2>/dev/null
        echo "$FAILS check(s) failed"; exit 1
    fi
    echo "all passed"; exit 0
}
