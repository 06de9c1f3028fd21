# SPDX-License-Identifier: GPL-2.0-or-later
"""SIGKILL of hvdump mid-dump must not leave the guest paused forever: the
guardian process (dumper/guardian.c) resumes it and removes the partial
file.  Also: a guest that was paused before hvdump started is not resumed
by the guardian when hvdump is killed."""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hvtest  # noqa: E402

sys.path.insert(0, os.path.join(hvtest.SRCDIR, "tests", "guest"))
from guest import Guest  # noqa: E402


def start_dump(hv, g, out):
    """hvdump dump, slow on purpose (zlib, one thread); returns the process
    once its first progress line shows it is reading memory."""
    p = subprocess.Popen([hv, "dump", "--qmp", g.qmp_path, out, "--format", "kdump-zlib",
                          "--threads", "1", "--progress=json"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    line = p.stderr.readline()
    return p, line


def wait_status(g, want, timeout=15):
    end = time.time() + timeout
    st = g.status()
    while st != want and time.time() < end:
        time.sleep(0.2)
        st = g.status()
    return st


def main():
    hvtest.need_guest()
    hv = hvtest.hvdump_path()
    wd = hvtest.workdir()
    c = hvtest.Checks("guardian")
    # 1 GiB with 512 MiB filled: a one-thread zlib dump takes many seconds.
    g = Guest.start(os.path.join(wd, "guest"), mem=1024, smp=2, fill=512)
    try:
        out = os.path.join(wd, "killed.kdump")
        p, line = start_dump(hv, g, out)
        c.ok(b'"progress"' in line, "dump started (progress line)", line.decode(errors="replace"))
        c.ok(g.status() == "paused", "guest paused while dumping", g.status())
        p.send_signal(signal.SIGKILL)
        p.wait()
        st = wait_status(g, "running")
        c.ok(st == "running", "guest running again after SIGKILL of hvdump", st)
        end = time.time() + 10
        while os.path.exists(out + ".partial") and time.time() < end:
            time.sleep(0.2)
        c.ok(not os.path.exists(out + ".partial"), "partial file removed")
        c.ok(not os.path.exists(out), "no dump file")

        # A guest paused by someone else stays paused, whatever happens to us.
        g.stop()
        p, line = start_dump(hv, g, out)
        p.send_signal(signal.SIGKILL)
        p.wait()
        time.sleep(3)
        c.ok(g.status() == "paused", "a guest we did not pause stays paused", g.status())
        g.cont()

        # A normal dump still works and leaves no guardian behind.
        p = hvtest.run([hv, "dump", "--qmp", g.qmp_path, out, "--format", "kdump-lzo",
                        "--progress=none", "--force"])
        c.ok(p.returncode == 0, "normal dump after the kills", hvtest.out_text(p))
        c.ok(g.status() == "running", "guest running after the normal dump", g.status())
        left = subprocess.run(["pgrep", "-f", "__guardian qmp " + g.qmp_path],
                              capture_output=True, text=True).stdout.strip()
        c.ok(left == "", "no guardian process left", left)
    finally:
        g.kill()
    c.finish(wd)


if __name__ == "__main__":
    main()
