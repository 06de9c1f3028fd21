#!/bin/sh
# Runs every hvdump test: installs what is missing, fetches the test guest's
# kernel (cached in ~/.cache/hvdump), builds with -Werror, runs the whole
# meson test suite (unit, integration with real QEMU guests, libvirtd and the
# real consumers), then the unit and bad-input tests again in an ASan+UBSan
# build.  Ends with a line "N passed, N failed, N skipped".
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${HVDUMP_BUILD:-$SRC/build}
ASAN=${HVDUMP_BUILD_ASAN:-$SRC/build-asan}
FUZZ=${HVDUMP_BUILD_FUZZ:-$SRC/build-fuzz}
cd "$SRC"

sh tests/setup/install-deps.sh || { echo "run-all: cannot install dependencies"; echo "0 passed, 1 failed"; exit 1; }
tests/guest/fetch-kernel.sh >/dev/null || echo "run-all: kernel download failed; guest tests will SKIP" >&2

status=0
setup() { # dir, extra args...
    dir=$1; shift
    if [ -f "$dir/build.ninja" ]; then
        meson setup --reconfigure "$dir" "$@" >/dev/null
    else
        meson setup "$dir" "$@" >/dev/null
    fi
}
setup "$BUILD" -Dwerror=true || status=1
ninja -C "$BUILD" || status=1
setup "$ASAN" -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug || status=1
ninja -C "$ASAN" || status=1
if [ -f "$FUZZ/build.ninja" ]; then
    meson setup --reconfigure "$FUZZ" -Dwerror=true -Dfuzzing=true >/dev/null || status=1
else
    CC=clang meson setup "$FUZZ" -Dwerror=true -Dfuzzing=true >/dev/null || status=1
fi
ninja -C "$FUZZ" || status=1
if [ $status -ne 0 ]; then
    echo "run-all: build failed"
    echo "0 passed, 1 failed"
    exit 1
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
meson test -C "$BUILD" --print-errorlogs --num-processes 1 ${HVDUMP_TEST_ARGS:-} || status=1
meson test -C "$ASAN" --print-errorlogs --num-processes 2 --suite unit --suite sanitize || status=1
meson test -C "$FUZZ" --print-errorlogs --num-processes 1 --suite fuzz || status=1

/usr/bin/python3 - "$BUILD/meson-logs/testlog.json" "$ASAN/meson-logs/testlog.json" "$FUZZ/meson-logs/testlog.json" <<'PY'
import json, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        failed += 1
        continue
    for line in lines:
        r = json.loads(line)["result"]
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
