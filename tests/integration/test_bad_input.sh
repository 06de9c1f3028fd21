#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# hvdump convert/info/verify on bad input and hostile output conditions:
# truncated/corrupt vmcores, bad FILE@GPA images, usage errors, existing
# output (--force), mode 0600, full disk, closed pipe, SIGINT.  Each failure
# must be one clear line on stderr, a non-zero exit (never a crash), and no
# output or .partial file left behind.
set -u

: "${HVDUMP:?set HVDUMP to the hvdump binary}"
HERE=$(cd "$(dirname "$0")" && pwd)
SRCDIR=${HVDUMP_SRCDIR:-$(dirname "$(dirname "$HERE")")}
MKIMAGE=${MKIMAGE:-$SRCDIR/tests/tools/mkimage.py}
DUMPCMP=${DUMPCMP:-${HVDUMP_BUILDDIR:-/nonexistent}/tests/tools/dumpcmp}
PY=/usr/bin/python3
[ -x "$HVDUMP" ] || { echo "SKIP: $HVDUMP not executable"; exit 77; }
[ -x "$PY" ] || { echo "SKIP: $PY missing"; exit 77; }

WD=$(mktemp -d "${TMPDIR:-/tmp}/hvdump-bad-XXXXXX")
MNT=""
cleanup() {
    [ -n "$MNT" ] && umount "$MNT" 2>/dev/null
    if [ "$FAILS" -eq 0 ] && [ -z "${HVDUMP_KEEP:-}" ]; then rm -rf "$WD"; else echo "kept $WD"; fi
}
FAILS=0 CHECKS=0
trap cleanup EXIT

ok()   { CHECKS=$((CHECKS + 1)); echo "ok   $*"; }
fail() { CHECKS=$((CHECKS + 1)); FAILS=$((FAILS + 1)); echo "FAIL $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }
no_file() { [ ! -e "$1" ] && [ ! -e "$1.partial" ]; }

# Error lines on stderr; warnings (e.g. "VMCOREINFO not found" for raw
# images) come before the error and are not part of it.
err_lines() { grep -v ': warning: ' "$WD/stderr" | grep -c .; }

# expect_exit WHAT WANT_RC OUT -- CMD...
# WANT_RC: a number, or "nz" for any non-zero exit below 128.  OUT: a path
# that must not exist afterwards (nor OUT.partial), or "-".
expect_exit() {
    local what=$1 want=$2 out=$3; shift 4
    "$@" >"$WD/stdout" 2>"$WD/stderr" </dev/null
    local rc=$? lines msg
    lines=$(err_lines)
    msg=$(head -c 300 "$WD/stderr" | tr '\n' '|')
    if [ $rc -ge 128 ]; then
        fail "$what: killed by signal $((rc - 128)) ($msg)"; return
    fi
    if [ "$want" = nz ] && [ $rc -eq 0 ]; then
        fail "$what: exit 0, want failure"; return
    fi
    if [ "$want" != nz ] && [ $rc -ne "$want" ]; then
        fail "$what: exit $rc, want $want ($msg)"; return
    fi
    # Usage errors (2) may print usage text; runtime errors are one line.
    if [ $rc -ne 0 ] && [ $rc -ne 2 ] && [ "$lines" -ne 1 ]; then
        fail "$what: want one line on stderr, got $lines: $msg"; return
    fi
    if [ "$out" != - ] && { [ -e "$out" ] || [ -e "$out.partial" ]; }; then
        fail "$what: output or .partial file left behind"; return
    fi
    ok "$what (exit $rc: $msg)"
}

conv() { "$HVDUMP" convert --progress=none "$@"; }
mkimg() { "$PY" "$MKIMAGE" "$@" >/dev/null || { echo "mkimage failed"; exit 1; }; }

mkimg "$WD/small.img" --size 1M --seed 5
mkimg "$WD/rand.img" --size 16M --seed 6 --kinds random

# --- Usage errors -------------------------------------------------------
expect_exit "no arguments" 2 - -- "$HVDUMP"
expect_exit "convert without -o" 2 - -- conv "$WD/small.img@0"
expect_exit "unknown format" 2 "$WD/o1" -- conv "$WD/small.img@0" --format kdump-bzip -o "$WD/o1"
expect_exit "bad --threads" 2 "$WD/o1" -- conv "$WD/small.img@0" --threads zero -o "$WD/o1"
expect_exit "unknown option" 2 "$WD/o1" -- conv "$WD/small.img@0" --frobnicate -o "$WD/o1"

# --- Bad images -----------------------------------------------------------
head -c 5000 "$WD/small.img" >"$WD/odd.img"
expect_exit "image not a multiple of the page size" nz "$WD/o2" -- conv "$WD/odd.img@0" -o "$WD/o2"
expect_exit "GPA not page aligned" nz "$WD/o2" -- conv "$WD/small.img@0x123" -o "$WD/o2"
expect_exit "overlapping @GPA ranges" nz "$WD/o2" -- \
    conv "$WD/small.img@0" "$WD/rand.img@0x80000" -o "$WD/o2"
expect_exit "same image twice at one GPA" nz "$WD/o2" -- \
    conv "$WD/small.img@0x100000" "$WD/small.img@0x100000" -o "$WD/o2"
expect_exit "missing image file" nz "$WD/o2" -- conv "$WD/nope.img@0" -o "$WD/o2"
expect_exit "bad GPA syntax: bad usage" 2 "$WD/o2" -- conv "$WD/small.img@0xzz" -o "$WD/o2"
expect_exit "a leading zero is decimal (010000 is not page aligned), not octal" 2 "$WD/o2" -- \
    conv "$WD/small.img@010000" -o "$WD/o2"

# --- Output handling ------------------------------------------------------
expect_exit "missing output directory" 1 "$WD/nodir/out" -- \
    conv "$WD/small.img@0" -o "$WD/nodir/out"

(umask 000; conv "$WD/small.img@0" -o "$WD/good.kdump" 2>"$WD/stderr")
rc=$?
if [ $rc -ne 0 ]; then
    fail "convert small image (exit $rc: $(head -c 300 "$WD/stderr"))"
    echo "cannot continue without a working convert"; echo "test_bad_input: $FAILS failed"; exit 1
fi
ok "convert small image"
mode=$(stat -c %a "$WD/good.kdump")
check "output mode 0600 under umask 000 (got $mode)" [ "$mode" = 600 ]
check "no .partial left after success" [ ! -e "$WD/good.kdump.partial" ]

cp "$WD/good.kdump" "$WD/exists"
sum_before=$(md5sum <"$WD/exists")
expect_exit "existing output without --force" 1 - -- conv "$WD/rand.img@0" -o "$WD/exists"
check "existing output untouched" [ "$(md5sum <"$WD/exists")" = "$sum_before" ]
check "no .partial next to the refused output" [ ! -e "$WD/exists.partial" ]
if conv "$WD/rand.img@0" -o "$WD/exists" --force 2>"$WD/stderr"; then
    check "--force replaced the output" [ "$(md5sum <"$WD/exists")" != "$sum_before" ]
    mode=$(stat -c %a "$WD/exists")
    check "--force output mode 0600 (got $mode)" [ "$mode" = 600 ]
    if [ -x "$DUMPCMP" ]; then
        check "--force output matches its image (dumpcmp)" "$DUMPCMP" "$WD/exists" "$WD/rand.img@0"
    fi
else
    fail "convert --force over an existing file: $(head -c 300 "$WD/stderr")"
fi

# --- Truncated and corrupt vmcores ---------------------------------------
conv "$WD/small.img@0" "$WD/rand.img@0x1000000" --format elf -o "$WD/good.elf" 2>/dev/null ||
    fail "convert to elf"
conv "$WD/small.img@0" "$WD/rand.img@0x1000000" --format kdump-zlib --flat -o "$WD/good.flat" \
    2>/dev/null || fail "convert to flattened kdump-zlib"
for good in good.kdump good.elf good.flat; do
    [ -e "$WD/$good" ] || continue
    expect_exit "verify accepts $good" 0 - -- "$HVDUMP" verify "$WD/$good"
done

size_of() { stat -c %s "$1"; }
corrupt_at() { # FILE OFFSET: flip bytes at OFFSET
    printf '\xde\xad\xbe\xef\x55\xaa\x00\xff' | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
: >"$WD/empty.dump"
head -c 100 "$WD/good.kdump" >"$WD/kdump-100b"
head -c $(($(size_of "$WD/good.kdump") / 2)) "$WD/good.kdump" >"$WD/kdump-half"
head -c $(($(size_of "$WD/good.elf") / 2)) "$WD/good.elf" >"$WD/elf-half"
head -c 3000 "$WD/good.elf" >"$WD/elf-3000b"
head -c $(($(size_of "$WD/good.flat") - 5000)) "$WD/good.flat" >"$WD/flat-cut"
cp "$WD/good.kdump" "$WD/kdump-magic"; corrupt_at "$WD/kdump-magic" 0
cp "$WD/good.elf" "$WD/elf-magic"; corrupt_at "$WD/elf-magic" 0
cp "$WD/good.flat" "$WD/flat-magic"; corrupt_at "$WD/flat-magic" 0
cp "$WD/good.elf" "$WD/elf-phoff"; corrupt_at "$WD/elf-phoff" 32      # e_phoff
cp "$WD/good.kdump" "$WD/kdump-hdr"; corrupt_at "$WD/kdump-hdr" 428   # block_size, sub_hdr_size
# kdump-desc: the first page descriptor points far past the end of the file.
# kdump-data: bytes inside the first zlib-compressed page are flipped (zlib's
# checksum makes that detectable; raw pages could not be).
conv "$WD/small.img@0" --format kdump-zlib -o "$WD/good.zlib" 2>/dev/null || fail "convert to kdump-zlib"
"$PY" - "$WD/good.zlib" "$WD/kdump-desc" "$WD/kdump-data" <<'PYEOF' || fail "corrupting kdump-zlib"
import struct, sys
src, desc_out, data_out = sys.argv[1:4]
b = bytearray(open(src, "rb").read())
bs, sub, bmp = struct.unpack_from("<iiI", b, 428)
d0 = (1 + sub + bmp) * bs
d = bytearray(b); struct.pack_into("<q", d, d0, 1 << 50); open(desc_out, "wb").write(d)
i = d0
while True:
    off, size, flags = struct.unpack_from("<qII", b, i)
    if flags & 1 and size > 16:
        break
    i += 24
for k in range(4, 12):
    b[off + k] ^= 0x5a
open(data_out, "wb").write(b)
PYEOF
head -c 3000000 /dev/urandom >"$WD/garbage.dump" 2>/dev/null

# Structure broken: every command fails.
for f in empty.dump kdump-100b elf-3000b kdump-magic elf-magic flat-magic elf-phoff kdump-hdr \
         garbage.dump; do
    expect_exit "info $f" 1 - -- "$HVDUMP" info "$WD/$f"
    expect_exit "verify $f" 1 - -- "$HVDUMP" verify "$WD/$f"
    expect_exit "convert $f" nz "$WD/out-$f" -- conv "$WD/$f" -o "$WD/out-$f"
done
# Pages broken or missing: info may describe the headers, verify and convert fail.
for f in kdump-half elf-half flat-cut kdump-desc kdump-data; do
    "$HVDUMP" info "$WD/$f" >/dev/null 2>&1
    rc=$?
    check "info $f does not crash (exit $rc)" [ $rc -lt 128 ]
    expect_exit "verify $f" 1 - -- "$HVDUMP" verify "$WD/$f"
    expect_exit "convert $f" nz "$WD/out-$f" -- conv "$WD/$f" -o "$WD/out-$f"
done

# --- Full disk -----------------------------------------------------------
MNT="$WD/tiny"
mkdir -p "$MNT"
if mount -t tmpfs -o size=2m tmpfs "$MNT" 2>"$WD/stderr"; then
    expect_exit "disk full (2 MiB tmpfs, 16 MiB random image)" 1 "$MNT/out" -- \
        conv "$WD/rand.img@0" --format kdump-zstd -o "$MNT/out"
    grep -qi "space" "$WD/stderr" && ok "disk full message mentions space" ||
        fail "disk full message does not mention space: $(head -c 300 "$WD/stderr")"
    check "tmpfs left empty" [ -z "$(ls -A "$MNT")" ]
    umount "$MNT"; MNT=""
else
    echo "SKIP: disk-full check: cannot mount tmpfs: $(head -1 "$WD/stderr")"
    MNT=""
fi

# --- Reader of stdout goes away -------------------------------------------
"$HVDUMP" convert --progress=none "$WD/rand.img@0" --format kdump-lzo -o - 2>"$WD/stderr" |
    head -c 100 >/dev/null
rc=${PIPESTATUS[0]}
msg=$(head -c 300 "$WD/stderr" | tr '\n' '|')
if [ "$rc" -eq 141 ]; then
    fail "closed pipe: hvdump killed by SIGPIPE, no message"
elif [ "$rc" -eq 1 ] && [ "$(err_lines)" -eq 1 ]; then
    ok "closed pipe: exit 1 with one line: $msg"
else
    fail "closed pipe: exit $rc, stderr: $msg"
fi

# --- SIGINT mid-convert -----------------------------------------------------
mkimg "$WD/big.img" --size 512M --seed 7 --kinds random,text,zero
OUT="$WD/big.kdump"
set -m # our own process group, so the background job does not ignore SIGINT
"$HVDUMP" convert --progress=none "$WD/big.img@0" --format kdump-zlib --threads 1 -o "$OUT" \
    2>"$WD/stderr" &
pid=$!
set +m
for _ in $(seq 200); do
    [ -s "$OUT.partial" ] && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.05
done
sleep 0.3
if kill -INT $pid 2>/dev/null; then
    wait $pid
    rc=$?
    msg=$(head -c 300 "$WD/stderr" | tr '\n' '|')
    check "SIGINT: exit 3 (got $rc: $msg)" [ $rc -eq 3 ]
    check "SIGINT: no output and no .partial left" no_file "$OUT"
else
    wait $pid
    fail "SIGINT: convert of 512 MiB finished (exit $?) before the signal; make the image bigger"
fi
rm -f "$WD/big.img"

# --- verify checks hvdumpd's sidecar SHA-256 where there is one
head -c 1048576 /dev/urandom > "$WD/sc.img"
"$HVDUMP" convert "$WD/sc.img@0" -o "$WD/sc.kdump" --progress=none 2>/dev/null
out=$("$HVDUMP" verify "$WD/sc.kdump" 2>&1)
check "verify without a sidecar says so" grep -q 'no sidecar SHA-256' <<<"$out"
printf '{"sha256": "%s"}\n' "$(sha256sum < "$WD/sc.kdump" | cut -d' ' -f1)" > "$WD/sc.json"
out=$("$HVDUMP" verify "$WD/sc.kdump" 2>&1)
check "verify with a matching sidecar says so" grep -q 'SHA-256 matches' <<<"$out"
printf '{"sha256": "%064d"}\n' 0 > "$WD/sc.json"
out=$("$HVDUMP" verify "$WD/sc.kdump" 2>&1); rc=$?
check "verify with a sidecar that disagrees fails (exit 1)" \
    test $rc -eq 1 -a -n "$(grep 'differs from' <<<"$out")"

# --- the user's locale reaches GOption's help (it showed "[OPTION?]")
out=$(LC_ALL=C.UTF-8 "$HVDUMP" info --help 2>&1)
check "help in a UTF-8 locale shows [OPTION…]" grep -q 'OPTION…' <<<"$out"

# --- guest text with escape sequences, control bytes and bad UTF-8 in a
# vmcore: `hvdump info` shows it escaped, `info --json` parses
head -c 1048576 /dev/zero > "$WD/esc.img"
printf 'OSRELEASE=6.1\033]0;pwned\007\037\377\nPAGESIZE=4096\n' > "$WD/esc.vmci"
"$HVDUMP" convert "$WD/esc.img@0" -o "$WD/esc.kdump" --vmcoreinfo "$WD/esc.vmci" \
    --progress=none 2>/dev/null
"$HVDUMP" info "$WD/esc.kdump" > "$WD/esc.txt" 2>&1
check "info: no raw escape or control byte from the guest" \
    $PY -c 'import sys; t=open(sys.argv[1],"rb").read(); sys.exit(any(b < 0x20 and b != 0x0a for b in t))' "$WD/esc.txt"
check "info: the escape is shown as \\x1b" grep -q 'OSRELEASE=6.1\\x1b]0;pwned' "$WD/esc.txt"
"$HVDUMP" info --json "$WD/esc.kdump" > "$WD/esc.json" 2>/dev/null
check "info --json: parses, no control characters in strings" \
    $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); r=d["vmcoreinfo"]["osrelease"]; sys.exit(any(ord(c) < 0x20 or 0x7f <= ord(c) < 0xa0 for c in r))' "$WD/esc.json"

# --- `hvdump __guardian`, run by hand (or through sudo), removes no file it
# was not told about by the dump that created it (a QEMU that never answers:
# each run waits out its reconnect tries, ~10 s)
echo keep > "$WD/victim"
echo keep > "$WD/victim.partial"
"$HVDUMP" __guardian qmp "$WD/no-qmp.sock" "$WD/victim" 3< <(printf A) 2>"$WD/stderr"
check "guardian: a path not ending in .partial is left in place" test -s "$WD/victim"
"$HVDUMP" __guardian qmp "$WD/no-qmp.sock" "$WD/victim.partial" 3< <(printf A) 2>"$WD/stderr"
check "guardian: a .partial it was not told about is left in place" test -s "$WD/victim.partial"
"$HVDUMP" __guardian qmp "$WD/no-qmp.sock" "$WD/victim.partial" 3< <(printf 'AP1:2\n') 2>"$WD/stderr"
check "guardian: a .partial that is another file is left in place" test -s "$WD/victim.partial"
check "  and it says so" grep -q "not the partial file of this dump" "$WD/stderr"

echo "test_bad_input: $CHECKS checks, $FAILS failed"
[ "$FAILS" -eq 0 ]
