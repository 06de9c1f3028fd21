#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A libvirt test domain for hvdump: the busybox test guest (tests/guest/)
# direct-booted by libvirtd under TCG, with pvpanic and
# <on_crash>preserve</on_crash> so that a panic leaves a dumpable domain.
#
# Source it (". tests/daemon/libvirt-env.sh") and call:
#   lv_start_daemons        start libvirtd and virtlogd when not running
#   lv_define NAME DIR      create the transient domain NAME; DIR gets the
#                           kernel, initramfs, console.log and cmd.sock
#   lv_wait_ready NAME DIR [TIMEOUT]   until the guest printed READY
#   lv_guest_cmd DIR LINE   one line to the guest's command port (ttyS1)
#   lv_wait_state NAME STATE [TIMEOUT] until virsh domstate says STATE
#   lv_destroy NAME         destroy it (ignores errors)
# Or run it: libvirt-env.sh start NAME DIR | destroy NAME.
# Needs root (qemu:///system).  Exit status 77 (skip) when libvirt is absent.
LV_URI=${LV_URI:-qemu:///system}
LV_VIRSH="virsh -q -c $LV_URI"

lv_start_daemons() {
    command -v libvirtd >/dev/null 2>&1 || { echo "libvirtd not installed" >&2; return 77; }
    [ "$(id -u)" = 0 ] || { echo "needs root for qemu:///system" >&2; return 77; }
    pgrep -x virtlogd >/dev/null 2>&1 || virtlogd -d
    pgrep -x libvirtd >/dev/null 2>&1 || libvirtd -d
    i=0
    while ! $LV_VIRSH version >/dev/null 2>&1; do
        i=$((i + 1)); [ $i -gt 50 ] && { echo "libvirtd did not come up" >&2; return 1; }
        sleep 0.2
    done
}

lv_define() {
    name=$1 dir=$2
    here=$(cd "$(dirname "${LV_HERE:-$0}")" && pwd)
    src=${HVDUMP_SRCDIR:-$here/../..}
    kdir=$(sh "$src/tests/guest/fetch-kernel.sh") || return 1
    initrd=$(sh "$src/tests/guest/build-initramfs.sh") || return 1
    mkdir -p "$dir"
    chmod 755 "$dir"
    # QEMU runs as an unprivileged user: give it copies it can read.
    cp "$kdir/vmlinuz" "$dir/vmlinuz"
    cp "$initrd" "$dir/initramfs.cpio.gz"
    chmod 644 "$dir/vmlinuz" "$dir/initramfs.cpio.gz"
    rm -f "$dir/console.log" "$dir/cmd.sock"
    cat > "$dir/domain.xml" <<XML
<domain type='qemu'>
  <name>$name</name>
  <memory unit='MiB'>${LV_MEM_MIB:-192}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$dir/vmlinuz</kernel>
    <initrd>$dir/initramfs.cpio.gz</initrd>
    <cmdline>console=ttyS0 panic=0 hvfill=${LV_FILL_MIB:-8}</cmdline>
  </os>
  <features><acpi/><vmcoreinfo state='on'/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>preserve</on_crash>
  <devices>
    <serial type='file'><source path='$dir/console.log'/><target port='0'/></serial>
    <serial type='unix'><source mode='bind' path='$dir/cmd.sock'/><target port='1'/></serial>
    <panic model='isa'><address type='isa' iobase='0x505'/></panic>
    <memballoon model='none'/>
  </devices>
</domain>
XML
    $LV_VIRSH create "$dir/domain.xml" >/dev/null
}

lv_wait_ready() {
    name=$1 dir=$2 t=${3:-240}
    i=0
    while ! grep -q HVDUMP-GUEST-READY "$dir/console.log" 2>/dev/null; do
        i=$((i + 1))
        [ $i -gt $((t * 2)) ] && { echo "guest $name not ready after ${t}s" >&2; return 1; }
        sleep 0.5
    done
}

lv_guest_cmd() {
    dir=$1 line=$2
    /usr/bin/python3 - "$dir/cmd.sock" "$line" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n"); s.close()
PY
}

lv_wait_state() {
    name=$1 want=$2 t=${3:-120}
    i=0
    while [ "$($LV_VIRSH domstate "$name" 2>/dev/null | head -1)" != "$want" ]; do
        i=$((i + 1))
        [ $i -gt $((t * 2)) ] && { echo "$name: not '$want' after ${t}s" >&2; return 1; }
        sleep 0.5
    done
}

lv_destroy() {
    $LV_VIRSH destroy "$1" >/dev/null 2>&1 || true
    $LV_VIRSH undefine "$1" >/dev/null 2>&1 || true
}

if [ "${0##*/}" = libvirt-env.sh ]; then
    set -eu
    LV_HERE=$0
    case "${1:-}" in
        start) lv_start_daemons; lv_define "$2" "$3"; lv_wait_ready "$2" "$3" ;;
        destroy) lv_destroy "$2" ;;
        *) echo "usage: $0 start NAME DIR | destroy NAME" >&2; exit 2 ;;
    esac
fi
