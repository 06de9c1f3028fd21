#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Fetch Debian's cloud kernel and its debug symbols into a cache outside the
# clone, so CI and reruns on the same machine reuse the ~300 MB download.
# Prints the cache directory holding vmlinuz, vmlinux and the version string.
set -eu
CACHE="${HVDUMP_CACHE:-$HOME/.cache/hvdump}/kernel"
mkdir -p "$CACHE"
if [ -f "$CACHE/ready" ] && [ -f "$CACHE/modules-ready" ]; then
    echo "$CACHE"
    exit 0
fi
if [ -f "$CACHE/ready" ]; then
    # Older cache without modules: fetch just the image package again.
    KREL=$(cat "$CACHE/release")
    TMP=$(mktemp -d "$CACHE/dl.XXXXXX")
    ( cd "$TMP" && apt-get download -qq "linux-image-$KREL-unsigned" >&2 )
    dpkg -x "$TMP"/*.deb "$TMP/root"
    rm -rf "$CACHE/modules"
    mv "$TMP/root/lib/modules/$KREL" "$CACHE/modules"
    rm -rf "$TMP"
    touch "$CACHE/modules-ready"
    echo "$CACHE"
    exit 0
fi
# Newest ABI that has both the unsigned image and the -dbg package.
VER=$(apt-cache search --names-only '^linux-image-[0-9.]+-[0-9]+-cloud-amd64-dbg$' \
      | sed -n 's/^linux-image-\([0-9.]*-[0-9]*\)-cloud-amd64-dbg .*/\1/p' | sort -V | tail -1)
if [ -z "$VER" ]; then
    apt-get update -qq >&2
    VER=$(apt-cache search --names-only '^linux-image-[0-9.]+-[0-9]+-cloud-amd64-dbg$' \
          | sed -n 's/^linux-image-\([0-9.]*-[0-9]*\)-cloud-amd64-dbg .*/\1/p' | sort -V | tail -1)
fi
[ -n "$VER" ] || { echo "fetch-kernel: no cloud-amd64 -dbg kernel in apt" >&2; exit 1; }
KREL="$VER-cloud-amd64"
TMP=$(mktemp -d "$CACHE/dl.XXXXXX")
( cd "$TMP" && apt-get download -qq "linux-image-$KREL-unsigned" "linux-image-$KREL-dbg" >&2 )
for deb in "$TMP"/*.deb; do dpkg -x "$deb" "$TMP/root"; done
cp "$TMP/root/boot/vmlinuz-$KREL" "$CACHE/vmlinuz"
cp "$TMP/root/usr/lib/debug/boot/vmlinux-$KREL" "$CACHE/vmlinux"
# The initramfs picks a few modules (pvpanic) from here.
rm -rf "$CACHE/modules"
mv "$TMP/root/lib/modules/$KREL" "$CACHE/modules"
echo "$KREL" > "$CACHE/release"
rm -rf "$TMP"
touch "$CACHE/ready" "$CACHE/modules-ready"
echo "$CACHE"
