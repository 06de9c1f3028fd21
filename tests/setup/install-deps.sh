#!/bin/sh
# Installs everything hvdump needs to build and to run its full test suite on
# a fresh Debian 12 machine (as root, or with sudo).  Idempotent and quiet
# when everything is already there.
set -eu
PKGS="meson ninja-build pkg-config gcc clang libc6-dev \
 libglib2.0-dev libjson-glib-dev libvirt-dev zlib1g-dev libdeflate-dev \
 liblzo2-dev libsnappy-dev libzstd-dev \
 qemu-system-x86 libvirt-daemon-system libvirt-clients crash makedumpfile \
 python3 python3-drgn python3-libkdumpfile busybox-static cpio binutils \
 util-linux procps"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
        || missing="$missing $p"
done
if [ -n "$missing" ]; then
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO=sudo
    echo "install-deps: installing:$missing" >&2
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >&2
fi
