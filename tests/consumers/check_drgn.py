#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Open a vmcore with drgn (python3-drgn 0.0.22) and check what it shows.

Usage: tests/consumers/check_drgn.py VMCORE [--panic] [--vmlinux PATH]
  Run with /usr/bin/python3 (the pyenv python on PATH lacks drgn).
  VMCORE: ELF or kdump-compressed (drgn reads kdump through libkdumpfile,
  which cannot read flattened files: reassemble those first).
  --panic: the dump was taken after sysrq-c; the crashed thread's stack
  must show the sysrq crash path.
Exit 0 only if every check passes; prints one line per check.

Checks: init_uts_ns.name.release equals the kernel's release, the task list
has init and >= 3 sleep tasks, a sleeping task's stack unwinds through
schedule, dmesg has the boot banner.
"""


import os as _os
import sys as _sys
# meson sets MALLOC_PERTURB_ for the tests; drgn 0.0.22 + libkdumpfile 0.5.1
# then crash in their own teardown after every check passed (exit 139).  It
# is meant for hvdump's code, not for the consumers: run them without it.
if _os.environ.pop("MALLOC_PERTURB_", None) is not None:
    _os.execv(_sys.executable, [_sys.executable] + _sys.argv)

import argparse
import os
import sys
import traceback

KDIR = os.environ.get("HVDUMP_KERNEL_DIR",
                      os.path.expanduser("~/.cache/hvdump/kernel"))

fails = 0


def ok(msg):
    print("drgn: ok   " + msg)


def fail(msg):
    global fails
    fails += 1
    print("drgn: FAIL " + msg)


def check(name, fn):
    """Run one check; an exception is that check's failure, not the end."""
    try:
        fn()
    except Exception as e:  # drgn.FaultError, LookupError, ...
        fail("%s: %s: %s" % (name, type(e).__name__, e))


def flattened(path):
    with open(path, "rb") as f:
        return f.read(12) == b"makedumpfile"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vmcore")
    ap.add_argument("--panic", action="store_true")
    ap.add_argument("--vmlinux", default=os.path.join(KDIR, "vmlinux"))
    a = ap.parse_args()
    with open(os.path.join(KDIR, "release")) as f:
        release = f.read().strip()

    import drgn
    from drgn.helpers.linux.pid import for_each_task
    from drgn.helpers.linux.printk import get_dmesg

    if flattened(a.vmcore):
        fail("open: flattened file; drgn cannot read it (makedumpfile -R first)")
        return 1
    prog = drgn.Program()
    try:
        prog.set_core_dump(a.vmcore)
        prog.load_debug_info([a.vmlinux])
    except Exception as e:
        fail("open: %s: %s" % (type(e).__name__, e))
        return 1
    ok("opened (flags %s)" % prog.flags)

    def uts():
        rel = prog["init_uts_ns"].name.release.string_().decode()
        if rel == release:
            ok("init_uts_ns release " + rel)
        else:
            fail("init_uts_ns release %r != %r" % (rel, release))
    check("uts", uts)

    tasks = []

    def task_list():
        for t in for_each_task(prog):
            tasks.append(t)
        comms = [t.comm.string_().decode() for t in tasks]
        nsleep = comms.count("sleep")
        if "init" in comms and nsleep >= 3 and len(comms) >= 20:
            ok("tasks: %d, init and %d sleep" % (len(comms), nsleep))
        else:
            fail("tasks: %d, init %s, %d sleep" % (len(comms), "init" in comms, nsleep))
    check("tasks", task_list)

    def sleeper_stack():
        for t in tasks:
            if t.comm.string_().decode() == "sleep":
                trace = prog.stack_trace(t)
                names = [fr.name for fr in trace if fr.name]
                if any("schedule" in n for n in names):
                    ok("sleep task %d stack: %s" % (t.pid.value_(),
                                                    " < ".join(names[:4])))
                else:
                    fail("sleep task stack has no schedule: %s" % names)
                return
        fail("no sleep task to unwind")
    check("stack", sleeper_stack)

    def dmesg():
        text = get_dmesg(prog).decode(errors="replace")
        if ("Linux version " + release) in text:
            ok("dmesg has the boot banner (%d lines)" % text.count("\n"))
        else:
            fail("dmesg lacks 'Linux version %s'" % release)
    check("dmesg", dmesg)

    if a.panic:
        def crashed():
            def names_of(thread):
                return [fr.name for fr in thread.stack_trace() if fr.name]

            def is_panic(names):
                return any("sysrq_handle_crash" in n or n == "panic" for n in names)

            names = names_of(prog.crashed_thread())
            if is_panic(names):
                ok("crashed thread: " + " < ".join(names[:6]))
                return
            # drgn 0.0.22 picks the crashed thread from the dump's CPU
            # choice (QEMU: CPU 0), not from panic_cpu: look at every CPU.
            for th in prog.threads():
                try:
                    n = names_of(th)
                except Exception:
                    continue
                if is_panic(n):
                    ok("panicking thread (tid %d; crashed_thread() gave %s): %s"
                       % (th.tid, " < ".join(names[:2]), " < ".join(n[:6])))
                    return
            fail("no thread's stack shows sysrq/panic; crashed_thread: %s" % names)
        check("crashed_thread", crashed)

    if fails:
        return 1
    print("drgn: PASS " + a.vmcore)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SystemExit:
        raise
    except BaseException:
        traceback.print_exc()
        sys.exit(1)
