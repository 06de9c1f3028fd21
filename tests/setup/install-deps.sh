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
 util-linux procps file valgrind"
# The libraries hvdump builds against and links at run time: brought to the
# mirror's current versions every run, so that a machine installed earlier
# tests what a fresh one gets (a libzstd security update once changed which
# frames decode).
LIBS="libzstd-dev libzstd1 zlib1g-dev zlib1g libdeflate-dev libdeflate0 \
 liblzo2-dev liblzo2-2 libsnappy-dev libsnappy1v5 libglib2.0-dev libglib2.0-0 \
 libjson-glib-dev libjson-glib-1.0-0 libvirt-dev libvirt0"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
        || missing="$missing $p"
done
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
# A mirror that cannot be reached leaves what is installed: say so, go on.
$SUDO apt-get update -qq >&2 || echo "install-deps: apt-get update failed; using the package lists there are" >&2
if [ -n "$missing" ]; then
    echo "install-deps: installing:$missing" >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >&2
fi
before=$(dpkg-query -W -f='${Package}=${Version} ' $LIBS 2>/dev/null)
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --only-upgrade $LIBS >/dev/null ||
    echo "install-deps: could not upgrade the build libraries" >&2
after=$(dpkg-query -W -f='${Package}=${Version} ' $LIBS 2>/dev/null)
[ "$before" = "$after" ] || echo "install-deps: upgraded build libraries: $after" >&2
