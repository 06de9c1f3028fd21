#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build the test guest's initramfs: busybox-static plus a few kernel modules
# (qemu_fw_cfg so that -device vmcoreinfo learns the VMCOREINFO address,
# pvpanic so that a panic reaches QEMU as GUEST_PANICKED).
#
# Usage: tests/guest/build-initramfs.sh
#   Prints the path of the cached image ($CACHE/initramfs.cpio.gz, next to
#   vmlinuz). The image is rebuilt only when this script, the kernel release
#   or busybox changes (their hash is kept in initramfs.hash).
#
# The guest's /init (kernel command line knobs):
#   hvfill=MiB      memory filled with mixed data in a tmpfs (default 64):
#                   1/4 text, 1/4 random, 1/4 byte patterns, 1/4 marker pages
#   On ttyS0 (console) it prints "HVDUMP-GUEST-READY" when set up.
#   On ttyS1 it reads one command per line and answers on ttyS1:
#     ping          -> "HVDUMP-PONG"
#     panic         -> echo c > /proc/sysrq-trigger (no answer)
#     fill N        -> fills N more MiB of random data, "HVDUMP-DONE 0"
#     run CMD...    -> runs CMD with sh, its output, then "HVDUMP-DONE <rc>"
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
KDIR=$(sh "$HERE/fetch-kernel.sh")
KREL=$(cat "$KDIR/release")
BUSYBOX=${BUSYBOX:-/bin/busybox}
OUT="$KDIR/initramfs.cpio.gz"
HASH=$( { cat "$0"; echo "$KREL"; sha256sum < "$BUSYBOX"; } | sha256sum | cut -d' ' -f1)
if [ -f "$OUT" ] && [ "$(cat "$KDIR/initramfs.hash" 2>/dev/null)" = "$HASH" ]; then
    echo "$OUT"
    exit 0
fi

file "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' ||
    { echo "build-initramfs: $BUSYBOX is not static (install busybox-static)" >&2; exit 1; }

ROOT=$(mktemp -d /tmp/hvdump-initramfs.XXXXXX)
trap 'rm -rf "$ROOT"' EXIT
mkdir -p "$ROOT/bin" "$ROOT/proc" "$ROOT/sys" "$ROOT/dev" "$ROOT/fill" \
         "$ROOT/tmp" "$ROOT/lib/modules"
cp "$BUSYBOX" "$ROOT/bin/busybox"
for app in $("$BUSYBOX" --list); do
    [ "$app" = busybox ] || ln -s busybox "$ROOT/bin/$app"
done
# The kernel needs /dev/console before /init runs (devtmpfs is mounted later).
( cd "$ROOT/dev" && mknod -m 600 console c 5 1 && mknod -m 666 null c 1 3 ) ||
    echo "build-initramfs: mknod failed; relying on devtmpfs" >&2

# Module order matters: pvpanic before its bus glue.
for m in drivers/firmware/qemu_fw_cfg.ko drivers/misc/pvpanic/pvpanic.ko \
         drivers/misc/pvpanic/pvpanic-mmio.ko drivers/misc/pvpanic/pvpanic-pci.ko; do
    if [ -f "$KDIR/modules/kernel/$m" ]; then
        cp "$KDIR/modules/kernel/$m" "$ROOT/lib/modules/"
        basename "$m" >> "$ROOT/lib/modules/order"
    fi
done

cat > "$ROOT/init" <<'EOF'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs -o size=95% fill /fill
mount -t tmpfs tmp /tmp
echo 1 > /proc/sys/kernel/sysrq
for m in $(cat /lib/modules/order 2>/dev/null); do
    insmod "/lib/modules/$m" || echo "HVDUMP-GUEST-WARN insmod $m failed"
done

FILL=64
for arg in $(cat /proc/cmdline); do
    case "$arg" in hvfill=*) FILL=${arg#hvfill=} ;; esac
done
Q=$((FILL / 4))
# Text: kallsyms is ~5 MiB of varied ASCII; repeat it up to the quarter.
n=0
while [ $(( $(stat -c %s /fill/text 2>/dev/null || echo 0) / 1048576 )) -lt "$Q" ] && [ $n -lt 64 ]; do
    cat /proc/kallsyms >> /fill/text; n=$((n + 1))
done
[ -f /fill/text ] && truncate -s $((Q * 1048576)) /fill/text
dd if=/dev/urandom of=/fill/random bs=1048576 count="$Q" 2>/dev/null
tr '\000' '\125' < /dev/zero | head -c $((Q * 1048576 / 2)) > /fill/pattern55
tr '\000' '\377' < /dev/zero | head -c $((Q * 1048576 / 2)) > /fill/patternff
# Marker pages: a recognisable string tests can grep for in a dump.
yes 'HVDUMP-MARKER-PAGE-0123456789abcdef' | head -c $((Q * 1048576)) > /fill/marker
sync

# Something for crash's ps and bt -a to show.
for i in 1 2 3; do sleep 1000000 & done
( while :; do sleep 1; done ) &

echo "HVDUMP-GUEST-INFO release=$(uname -r) fill=${FILL}MiB vmcoreinfo=$(cat /sys/kernel/vmcoreinfo 2>/dev/null | tr ' ' ,)"
echo "HVDUMP-GUEST-READY"

if [ -c /dev/ttyS1 ]; then
    stty -F /dev/ttyS1 -echo icanon -onlcr 2>/dev/null
    exec 3<>/dev/ttyS1
    extra=0
    while read -r cmd args <&3; do
        case "$cmd" in
            ping) echo "HVDUMP-PONG" >&3 ;;
            panic) echo c > /proc/sysrq-trigger ;;
            fill)
                extra=$((extra + 1)); name=/fill/extra.$extra
                dd if=/dev/urandom of="$name" bs=1048576 count="${args:-16}" 2>/dev/null
                echo "HVDUMP-DONE $?" >&3 ;;
            run)
                sh -c "$args" >&3 2>&3 </dev/null
                echo "HVDUMP-DONE $?" >&3 ;;
            "") ;;
            *) echo "HVDUMP-UNKNOWN $cmd" >&3 ;;
        esac
    done
fi
echo "HVDUMP-GUEST-NOCMD"
while :; do sleep 3600; done
EOF
chmod 755 "$ROOT/init"

( cd "$ROOT" && find . | sort | cpio -o -H newc --quiet -R 0:0 ) | gzip -6 > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "$HASH" > "$KDIR/initramfs.hash"
echo "$OUT"
