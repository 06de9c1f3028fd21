#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The layers' include directions, checked over every #include in the tree
# rooted at $1 (default: this checkout).  Each folder may include only
# itself and the folders listed for it:
#   common/          -
#   formats/         common
#   guest-mem/       common
#   dumper/engine/   common formats guest-mem
#   dumper/libvirt/  ... engine
#   dumper/daemon/   ... engine libvirt
#   dumper/cli/      ... engine libvirt
# and only dumper/libvirt, daemon and cli may include <libvirt/...>.
# Prints one line per break and exits 1 when there is any.
set -u
ROOT=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT" || exit 2

checked=0
out=$(for folder in common formats guest-mem dumper/engine dumper/libvirt dumper/daemon dumper/cli; do
    [ -d "$folder" ] || { echo "layers: $folder/ is missing"; continue; }
    for f in "$folder"/*.c "$folder"/*.h; do
        [ -f "$f" ] && printf '%s\n' "$f"
    done
done | awk '
function allowed(folder) {
    if (folder == "common") return "common"
    if (folder == "formats") return "common formats"
    if (folder == "guest-mem") return "common guest-mem"
    base = "common formats guest-mem dumper/engine"
    if (folder == "dumper/engine") return base
    if (folder == "dumper/libvirt") return base " dumper/libvirt"
    if (folder == "dumper/daemon") return base " dumper/libvirt dumper/daemon"
    if (folder == "dumper/cli") return base " dumper/libvirt dumper/cli"
    return ""
}
/^layers:/ { print; next }
{
    file = $0
    folder = file
    sub(/\/[^\/]*$/, "", folder)
    ok = allowed(folder)
    n = 0
    files++
    while ((getline line < file) > 0) {
        n++
        if (line !~ /^[ \t]*#[ \t]*include[ \t]*["<]/)
            continue
        inc = line
        sub(/^[ \t]*#[ \t]*include[ \t]*/, "", inc)
        quote = substr(inc, 1, 1)
        path = substr(inc, 2)
        sub(/[">].*$/, "", path)
        if (quote == "<") {
            if (path ~ /^libvirt\// && folder !~ /^dumper\/(libvirt|daemon|cli)$/)
                printf "%s:%d: %s/ may not include <%s> (libvirt belongs to dumper/libvirt, daemon, cli)\n", file, n, folder, path
            continue
        }
        if (path !~ /\//) {
            # A bare "file.h" would dodge the check: name the layer.
            printf "%s:%d: include \"%s\" without its layer'"'"'s folder\n", file, n, path
            continue
        }
        hit = 0
        k = split(ok, prefixes, " ")
        for (i = 1; i <= k; i++)
            if (index(path, prefixes[i] "/") == 1)
                hit = 1
        if (!hit)
            printf "%s:%d: %s/ may not include \"%s\" (allowed: %s)\n", file, n, folder, path, ok
    }
    close(file)
}
END { printf "checked %d\n", files }')
checked=$(printf '%s\n' "$out" | sed -n 's/^checked //p')
breaks=$(printf '%s\n' "$out" | grep -v '^checked ')
[ -z "$breaks" ] || printf '%s\n' "$breaks"
if [ "${checked:-0}" -eq 0 ]; then
    echo "layers: no source files found under $ROOT"
    exit 1
fi
if [ -n "$breaks" ]; then
    echo "layers: $(printf '%s\n' "$breaks" | wc -l) break(s) in $checked files"
    exit 1
fi
echo "layers: $checked files, no breaks"
