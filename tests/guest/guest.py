#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Start and drive the hvdump test guest (QEMU TCG, busybox initramfs).

Usage (shell):
  guest.py start --dir DIR [--mem MiB] [--smp N] [--fill MiB] [--timeout S]
                 [--qemu-arg ARG ...]
      Boots the guest detached, waits for HVDUMP-GUEST-READY, prints
      key=value lines: pid, dir, qmp (left free for hvdump), harness_qmp,
      cmd (guest command socket), console (serial log), boot_s.
  guest.py qmp DIR JSON              one QMP command on the harness socket
  guest.py hmp DIR 'info status'     one HMP command (human-monitor-command)
  guest.py status DIR                prints the run state (running, paused,
                                     guest-panicked, ...)
  guest.py stop DIR | cont DIR       pause / resume the vCPUs
  guest.py dump DIR OUT [--format elf|kdump-zlib|kdump-lzo|kdump-snappy|win-dmp]
                                     QEMU's own dump-guest-memory (paging=false)
  guest.py panic DIR [--timeout S]   sysrq-c in the guest, waits for
                                     guest-panicked
  guest.py cmd DIR 'run uname -r'    one line to the guest's command port
  guest.py kill DIR                  stop that guest
  guest.py stop-all --prefix PATH    stop the guests whose --dir is under PATH
                                     (the registry is shared: never all)

Python: `from guest import Guest; g = Guest.start(dir); g.qmp("stop"); ...`

QEMU here is 7.2; the flags below were checked against it:
  -action panic=pause   the default is shutdown: the vmcore would be gone.
  -device pvpanic       ISA device; the guest needs pvpanic.ko and
                        pvpanic-mmio.ko (ACPI QEMU0001) loaded, otherwise
                        a panic is invisible to QEMU (status stays running).
  -device vmcoreinfo    only useful when the guest loads qemu_fw_cfg.ko,
                        which writes the VMCOREINFO address into fw_cfg;
                        without it QEMU's dumps carry no VMCOREINFO note.
  Two -qmp sockets: a QMP unix socket serves one client at a time, so
  qmp.sock is left for hvdump and the harness uses harness-qmp.sock.
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REGISTRY = os.path.join(os.environ.get("HVDUMP_CACHE",
                                       os.path.expanduser("~/.cache/hvdump")),
                        "guests")
READY = b"HVDUMP-GUEST-READY"
_ENDS = (b"HVDUMP-DONE", b"HVDUMP-PONG", b"HVDUMP-UNKNOWN")


def kernel_dir():
    out = subprocess.run(["sh", os.path.join(HERE, "fetch-kernel.sh")],
                         check=True, capture_output=True, text=True).stdout
    return out.strip().splitlines()[-1]


def initramfs():
    out = subprocess.run(["sh", os.path.join(HERE, "build-initramfs.sh")],
                         check=True, capture_output=True, text=True).stdout
    return out.strip().splitlines()[-1]


class QMP:
    """A short-lived QMP connection (one client per socket at a time)."""

    def __init__(self, path, timeout=600):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self._read()  # greeting
        self.execute("qmp_capabilities")

    def _read(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("QMP socket closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def execute(self, cmd, args=None):
        msg = {"execute": cmd}
        if args:
            msg["arguments"] = args
        return self.raw(msg)

    def raw(self, msg):
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            reply = self._read()
            if "event" in reply:
                continue
            if "error" in reply:
                raise RuntimeError("QMP %s: %s" % (msg.get("execute"),
                                                   reply["error"].get("desc")))
            return reply.get("return")

    def close(self):
        self.sock.close()


class Guest:
    def __init__(self, d):
        self.dir = os.path.abspath(d)
        self.qmp_path = os.path.join(self.dir, "qmp.sock")
        self.harness_qmp = os.path.join(self.dir, "harness-qmp.sock")
        self.cmd_path = os.path.join(self.dir, "cmd.sock")
        self.console = os.path.join(self.dir, "console.log")
        with open(os.path.join(self.dir, "qemu.pid")) as f:
            self.pid = int(f.read())

    @classmethod
    def start(cls, d, mem=512, smp=2, fill=64, timeout=180, qemu_args=()):
        d = os.path.abspath(d)
        os.makedirs(d, exist_ok=True)
        kdir = kernel_dir()
        initrd = initramfs()
        for name in ("qmp.sock", "harness-qmp.sock", "cmd.sock", "console.log"):
            try:
                os.unlink(os.path.join(d, name))
            except FileNotFoundError:
                pass
        argv = [
            "qemu-system-x86_64", "-accel", "tcg", "-m", str(mem),
            "-smp", str(smp), "-nodefaults", "-display", "none",
            "-kernel", os.path.join(kdir, "vmlinuz"), "-initrd", initrd,
            # KASLR stays on: real guests have it.
            "-append", "console=ttyS0 panic=0 hvfill=%d" % fill,
            "-device", "vmcoreinfo", "-device", "pvpanic",
            "-action", "panic=pause", "-no-reboot",
            "-qmp", "unix:%s/qmp.sock,server=on,wait=off" % d,
            "-qmp", "unix:%s/harness-qmp.sock,server=on,wait=off" % d,
            "-serial", "file:%s/console.log" % d,
            "-chardev", "socket,id=cmd,path=%s/cmd.sock,server=on,wait=off" % d,
            "-serial", "chardev:cmd",
        ] + list(qemu_args)
        t0 = time.monotonic()
        log = open(os.path.join(d, "qemu.log"), "wb")
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        with open(os.path.join(d, "qemu.pid"), "w") as f:
            f.write(str(proc.pid))
        os.makedirs(REGISTRY, exist_ok=True)
        with open(os.path.join(REGISTRY, str(proc.pid)), "w") as f:
            f.write(d)
        g = cls(d)
        g.boot_s = None
        while True:
            if proc.poll() is not None:
                raise RuntimeError("qemu exited (%d): %s" % (
                    proc.returncode, open(os.path.join(d, "qemu.log")).read()))
            try:
                with open(g.console, "rb") as f:
                    if READY in f.read():
                        break
            except FileNotFoundError:
                pass
            if time.monotonic() - t0 > timeout:
                g.kill()
                raise TimeoutError("guest not ready after %ds, see %s"
                                   % (timeout, g.console))
            time.sleep(0.5)
        g.boot_s = time.monotonic() - t0
        return g

    def qmp(self, cmd, args=None):
        q = QMP(self.harness_qmp)
        try:
            return q.execute(cmd, args)
        finally:
            q.close()

    def qmp_raw(self, msg):
        q = QMP(self.harness_qmp)
        try:
            return q.raw(msg)
        finally:
            q.close()

    def hmp(self, line):
        return self.qmp("human-monitor-command", {"command-line": line})

    def status(self):
        return self.qmp("query-status")["status"]

    def stop(self):
        self.qmp("stop")

    def cont(self):
        self.qmp("cont")

    def dump(self, out, fmt="elf"):
        args = {"paging": False, "protocol": "file:" + os.path.abspath(out)}
        if fmt != "elf":
            args["format"] = fmt
        self.qmp("dump-guest-memory", args)  # synchronous without detach

    def cmd(self, line, timeout=120, wait=True):
        """Send one command line; return its output up to HVDUMP-DONE/PONG."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(self.cmd_path)
        try:
            s.sendall(line.encode() + b"\n")
            if not wait:
                time.sleep(2)  # let the chardev hand the bytes over
                return ""
            buf = b""
            while True:
                lines = buf.split(b"\n")[:-1]  # complete lines only
                if any(l.startswith(m) for l in lines for m in _ENDS):
                    break
                chunk = s.recv(4096)
                if not chunk:
                    break
                buf += chunk
            return buf.decode(errors="replace")
        finally:
            s.close()

    def panic(self, timeout=120):
        # A line sent just before the client disconnects can be lost when a
        # loaded TCG guest is slow to drain its UART: resend until it shows.
        t0 = time.monotonic()
        while True:
            self.cmd("panic", wait=False)
            t1 = time.monotonic()
            while self.status() != "guest-panicked" and time.monotonic() - t1 < 30:
                time.sleep(0.5)
            if self.status() == "guest-panicked":
                return
            if time.monotonic() - t0 > timeout:
                raise TimeoutError("guest did not report a panic (pvpanic?)")

    def kill(self):
        try:
            os.kill(self.pid, signal.SIGTERM)
            for _ in range(50):
                os.kill(self.pid, 0)
                try:
                    os.waitpid(self.pid, os.WNOHANG)
                except ChildProcessError:
                    pass
                time.sleep(0.1)
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            os.unlink(os.path.join(REGISTRY, str(self.pid)))
        except FileNotFoundError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()


def _is_qemu(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return b"qemu-system" in f.read().split(b"\0")[0]
    except OSError:
        return False


def stop_all(prefix):
    """Kill the registered guests whose directory lies under prefix.

    The registry is shared by everyone using this HOME, so a prefix is
    required: other people's guests must survive our cleanup."""
    if not os.path.isdir(REGISTRY):
        return
    prefix = os.path.abspath(prefix).rstrip("/") + "/"
    for name in os.listdir(REGISTRY):
        entry = os.path.join(REGISTRY, name)
        try:
            with open(entry) as f:
                d = os.path.abspath(f.read().strip()) + "/"
        except OSError:
            continue
        if not d.startswith(prefix):
            continue
        pid = int(name)
        if _is_qemu(pid):
            os.kill(pid, signal.SIGKILL)
            print("killed", pid, d)
        os.unlink(entry)


def main():
    ap = argparse.ArgumentParser(description="hvdump test guest")
    sub = ap.add_subparsers(dest="op", required=True)
    p = sub.add_parser("start")
    p.add_argument("--dir", required=True)
    p.add_argument("--mem", type=int, default=512)
    p.add_argument("--smp", type=int, default=2)
    p.add_argument("--fill", type=int, default=64)
    p.add_argument("--timeout", type=int, default=180)
    p.add_argument("--qemu-arg", action="append", default=[])
    for op in ("status", "stop", "cont", "kill"):
        sub.add_parser(op).add_argument("dir")
    p = sub.add_parser("qmp"); p.add_argument("dir"); p.add_argument("json")
    p = sub.add_parser("hmp"); p.add_argument("dir"); p.add_argument("line")
    p = sub.add_parser("cmd"); p.add_argument("dir"); p.add_argument("line")
    p = sub.add_parser("dump"); p.add_argument("dir"); p.add_argument("out")
    p.add_argument("--format", default="elf")
    p = sub.add_parser("panic"); p.add_argument("dir")
    p.add_argument("--timeout", type=int, default=120)
    p = sub.add_parser("stop-all")
    p.add_argument("--prefix", required=True,
                   help="only guests whose --dir lies under this path")
    a = ap.parse_args()

    if a.op == "start":
        g = Guest.start(a.dir, a.mem, a.smp, a.fill, a.timeout, a.qemu_arg)
        print("pid=%d\ndir=%s\nqmp=%s\nharness_qmp=%s\ncmd=%s\nconsole=%s\nboot_s=%.1f"
              % (g.pid, g.dir, g.qmp_path, g.harness_qmp, g.cmd_path,
                 g.console, g.boot_s))
        return 0
    if a.op == "stop-all":
        stop_all(a.prefix)
        return 0
    g = Guest(a.dir)
    if a.op == "qmp":
        print(json.dumps(g.qmp_raw(json.loads(a.json))))
    elif a.op == "hmp":
        sys.stdout.write(g.hmp(a.line))
    elif a.op == "status":
        print(g.status())
    elif a.op == "stop":
        g.stop()
    elif a.op == "cont":
        g.cont()
    elif a.op == "dump":
        g.dump(a.out, a.format)
    elif a.op == "panic":
        g.panic(a.timeout)
    elif a.op == "cmd":
        sys.stdout.write(g.cmd(a.line))
    elif a.op == "kill":
        g.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
