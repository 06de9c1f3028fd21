#!/bin/sh
# The README's first command: sets up a fresh Debian machine (packages,
# build, the demo guest's kernel) and runs hvdump's main job on a built-in
# demo guest: boots a small Linux guest under QEMU (TCG), dumps it from the
# outside with `hvdump dump --qmp`, shows `hvdump info` of the dump and
# opens it in crash.  Needs root (reading QEMU's memory needs
# CAP_SYS_PTRACE).  Leaves the dump in ${DEMO_DIR:-/tmp/hvdump-demo}.
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
DIR=${DEMO_DIR:-/tmp/hvdump-demo}
FORMAT=${DEMO_FORMAT:-kdump-zstd}
cd "$SRC"

sh tests/setup/install-deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
KDIR=$(tests/guest/fetch-kernel.sh)

mkdir -p "$DIR"
/usr/bin/python3 tests/guest/guest.py stop-all --prefix "$DIR" >/dev/null 2>&1 || true
echo "demo: booting the demo guest (QEMU TCG, 512 MiB; ~30 s)"
/usr/bin/python3 tests/guest/guest.py start --dir "$DIR/guest" --mem 512 > "$DIR/guest.env"
QMP=$(sed -n 's/^qmp=//p' "$DIR/guest.env")
trap '/usr/bin/python3 tests/guest/guest.py kill "$DIR/guest" >/dev/null 2>&1 || true' EXIT

OUT="$DIR/demo.$FORMAT"
echo "demo: build/dumper/cli/hvdump dump --qmp $QMP $OUT --format $FORMAT --force"
build/dumper/cli/hvdump dump --qmp "$QMP" "$OUT" --format "$FORMAT" --force
echo "demo: guest state after the dump: $(/usr/bin/python3 tests/guest/guest.py status "$DIR/guest")"
build/dumper/cli/hvdump info "$OUT"
build/dumper/cli/hvdump verify "$OUT"
echo "demo: crash $KDIR/vmlinux $OUT  (sys, log | tail)"
printf 'sys\nlog | tail -5\nq\n' > "$DIR/crash.cmds"
crash -s "$KDIR/vmlinux" "$OUT" -i "$DIR/crash.cmds" 2>&1 | grep -v '^$' | grep -v '^bt: ' | head -30
