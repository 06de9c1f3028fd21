#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Open a vmcore with crash(8) and check that what it shows is sane.
#
# Usage: tests/consumers/check_crash.sh VMCORE [--panic] [--vmlinux PATH]
#   VMCORE may be ELF, kdump-compressed or flattened (crash reads all three).
#   --panic  the dump was taken after the guest panicked (sysrq-c): the
#            backtraces must show the sysrq crash path.
# Exit 0 only if every check passes; prints one line per check, and on
# failure the tail of crash's output. The output is kept in $VMCORE.crash.txt
# unless KEEP_OUTPUT=0.
#
# Checks: sys (RELEASE equals the kernel's release), log ("Linux version"),
# ps (one swapper per CPU), the task list walked from init_task (init and
# sleep, i.e. real task_structs read through the dump), bt -a, and no fatal
# crash lines (read/seek errors, excluded pages, unsupported format).
#
# Known crash 8.0.2 limits with the Debian 6.1.1xx kernel, whatever the
# dump format (so not checked):
#  - `ps` lists only the swapper tasks: this kernel has the flexible-array
#    struct pid.numbers[] (a 6.5 change backported), which crash 8.0.2 reads
#    with the old size, so its pid xarray walk finds no task. The list walk
#    below checks the same task_structs another way.
#  - `bt` of an idle CPU in a non-panic dump fails with "read of stack at
#    fffffe..." (crash 8.0.2 cannot use the cpu_entry_area exception stacks).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
VMCORE=""
PANIC=0
KDIR=${HVDUMP_KERNEL_DIR:-$HOME/.cache/hvdump/kernel}
VMLINUX="$KDIR/vmlinux"
while [ $# -gt 0 ]; do
    case "$1" in
        --panic) PANIC=1 ;;
        --vmlinux) VMLINUX=$2; shift ;;
        -*) echo "usage: $0 VMCORE [--panic] [--vmlinux PATH]" >&2; exit 2 ;;
        *) VMCORE=$1 ;;
    esac
    shift
done
[ -n "$VMCORE" ] || { echo "usage: $0 VMCORE [--panic] [--vmlinux PATH]" >&2; exit 2; }
RELEASE=$(cat "$KDIR/release")

TMP=$(mktemp -d /tmp/check_crash.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
# Each command writes its own file (crash's "echo" markers would interleave
# with buffered command output).
cat > "$TMP/cmds" <<EOF
sys > $TMP/SYS
log > $TMP/LOG
ps > $TMP/PS
list -o task_struct.tasks -s task_struct.comm -h init_task > $TMP/TASKS
bt -a > $TMP/BT
q
EOF
OUT="$TMP/out"
crash -s "$VMLINUX" "$VMCORE" -i "$TMP/cmds" < /dev/null > "$OUT" 2>&1
RC=$?
[ "${KEEP_OUTPUT:-1}" = 1 ] && cat "$OUT" "$TMP"/SYS "$TMP"/LOG "$TMP"/PS "$TMP"/TASKS "$TMP"/BT > "$VMCORE.crash.txt" 2>/dev/null

FAILS=0
ok()   { echo "crash: ok   $1"; }
fail() { echo "crash: FAIL $1"; FAILS=$((FAILS + 1)); }
section() { cat "$TMP/$1" 2>/dev/null; }

[ $RC -eq 0 ] && ok "exit status 0" || fail "exit status $RC"
[ -s "$TMP/BT" ] && ok "all commands ran" || fail "crash stopped before the end"

rel=$(section SYS | sed -n 's/^ *RELEASE: *//p')
[ "$rel" = "$RELEASE" ] && ok "sys RELEASE $rel" || fail "sys RELEASE '$rel' != '$RELEASE'"
section SYS | grep -q 'MEMORY: *[1-9]' && ok "sys MEMORY" || fail "sys shows no MEMORY"

section LOG | grep -q "Linux version $RELEASE" && ok "log has the boot banner" \
    || fail "log lacks 'Linux version $RELEASE'"
n=$(section LOG | wc -l)
[ "$n" -gt 50 ] && ok "log has $n lines" || fail "log has only $n lines"

section PS | grep -q 'swapper/0' && ok "ps shows swapper/0" || fail "ps lacks swapper/0"

t=$(section TASKS)
echo "$t" | grep -q 'comm = "init' && ok "task list has init" || fail "task list lacks init"
ns=$(echo "$t" | grep -c 'comm = "sleep')
[ "$ns" -ge 3 ] && ok "task list has $ns sleep tasks" || fail "task list has $ns sleep tasks (want >= 3)"
nt=$(echo "$t" | grep -c 'comm = ')
[ "$nt" -ge 20 ] && ok "task list has $nt tasks" || fail "task list has only $nt tasks"

bt=$(section BT)
nbt=$(echo "$bt" | grep -c '^PID: ')
[ "$nbt" -ge 1 ] && ok "bt -a shows $nbt tasks" || fail "bt -a shows no task"
if [ $PANIC = 1 ]; then
    echo "$bt" | grep -q 'sysrq_handle_crash' && ok "bt shows sysrq_handle_crash" \
        || fail "bt lacks sysrq_handle_crash"
    echo "$bt" | grep -qE '\b(panic|crash_kexec|__crash_kexec)\b' && ok "bt shows panic" \
        || fail "bt lacks panic"
    section SYS | grep -q 'PANIC: .*sysrq triggered crash' && ok "sys PANIC is the sysrq crash" \
        || fail "sys PANIC is not 'sysrq triggered crash'"
fi

# Fatal signs anywhere; the cpu_entry_area stack failure is crash's, see above.
bad=$(cat "$OUT" "$TMP"/SYS "$TMP"/LOG "$TMP"/PS "$TMP"/TASKS "$TMP"/BT 2>/dev/null | \
      grep -E 'crash: cannot|read error|seek error|page excluded|not a supported file format|do not match|invalid kernel virtual address|WARNING: .*(corrupt|invalid)|No such file' \
      | grep -v 'read of stack at fffffe' | head -5)
[ -z "$bad" ] && ok "no fatal lines" || fail "fatal lines: $(echo "$bad" | tr '\n' '|')"

if [ $FAILS -ne 0 ]; then
    echo "--- crash output (tail) ---"
    tail -20 "$OUT"; tail -15 "$TMP/BT" 2>/dev/null
    exit 1
fi
echo "crash: PASS $VMCORE"
exit 0
