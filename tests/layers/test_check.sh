#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# check.sh fails on a layer break: a copy of the tree with one forbidden
# include added per rule must be refused, naming the file, and the copy as
# it is must pass.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0
copy() {
    rm -rf "$TMP/tree"
    mkdir -p "$TMP/tree/dumper"
    cp -r "$SRC/common" "$SRC/formats" "$SRC/guest-mem" "$TMP/tree/"
    for d in engine libvirt daemon cli; do cp -r "$SRC/dumper/$d" "$TMP/tree/dumper/"; done
}
copy
"$HERE/check.sh" "$TMP/tree" >/dev/null || { echo "not ok: the tree as it is fails"; fail=1; }
# file : include line that breaks a rule
while IFS='|' read -r file line; do
    copy
    printf '%s\n' "$line" >> "$TMP/tree/$file"
    out=$("$HERE/check.sh" "$TMP/tree")
    if [ $? -eq 0 ]; then
        echo "not ok: $file with $line passed"; fail=1
    elif ! printf '%s\n' "$out" | grep -q "^$file:"; then
        echo "not ok: $file with $line: the break does not name the file: $out"; fail=1
    else
        echo "ok: $file with $line refused"
    fi
done <<'CASES'
formats/codec.c|#include "guest-mem/source.h"
formats/writer.h|#include "dumper/engine/job.h"
guest-mem/qmp.c|#include "formats/codec.h"
common/hv_error.c|#include "formats/codec.h"
dumper/engine/job.c|#include "dumper/cli/cli.h"
dumper/engine/pipeline.c|#include "dumper/daemon/daemon_jobs.h"
dumper/engine/guardian.c|#include "dumper/libvirt/libvirt_conn.h"
dumper/engine/output.c|#include <libvirt/libvirt.h>
dumper/libvirt/libvirt_conn.c|#include "dumper/daemon/daemon_spool.h"
dumper/daemon/daemon_spool.c|#include "dumper/cli/cli_common.h"
formats/flat.c|#include "flat_private.h"
CASES
[ $fail -eq 0 ] && echo "layer check refuses every kind of break"
exit $fail
