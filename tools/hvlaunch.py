#!/usr/bin/python3
"""Starts one hypervisor instance under QEMU/OVMF (TCG, AMD SVM target).

Used by people (``make run``, or by hand) and by the integration tests (as a
library: ``Instance``). The serial console and the QEMU monitor are Unix
sockets in the instance's directory, so several instances can run at once
and any number of clients (tools/hvctl.py, socat, the tests) can talk to
them.

Examples:
    tools/hvlaunch.py --console stdio                 # like 'make run'
    tools/hvlaunch.py --name a --net listen:5555      # first of a linked pair
    tools/hvlaunch.py --name b --net connect:5555     # second one
    tools/hvctl.py --socket build/instances/a/console.sock mem
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import hvconsole  # noqa: E402

OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"
DEFAULT_IMAGE = os.path.join(ROOT, "build", "hv.efi")
DEFAULT_ESP = os.path.join(ROOT, "build", "esp.img")
NIC_MODELS = {"virtio": "virtio-net-pci", "e1000": "e1000", "e1000e": "e1000e"}


class LaunchError(Exception):
    pass


def _copy_sparse(src, dst):
    subprocess.run(["cp", "--sparse=always", src, dst], check=True)


def _write_config_into_esp(esp, config_text, workdir):
    path = os.path.join(workdir, "hv.cfg")
    with open(path, "w") as f:
        f.write(config_text)
    subprocess.run(["mcopy", "-o", "-i", esp, path, "::/EFI/BOOT/hv.cfg"], check=True)


def prepare_esp(template, workdir, config=None, guests=()):
    """A private copy of the boot disk image with hv.cfg and guests/ added."""
    esp = os.path.join(workdir, "esp.img")
    _copy_sparse(template, esp)
    if config is not None:
        _write_config_into_esp(esp, config, workdir)
    if guests:
        subprocess.run(["mmd", "-i", esp, "::/EFI/BOOT/guests"], check=True)
        subprocess.run(["mcopy", "-i", esp] + list(guests) + ["::/EFI/BOOT/guests/"],
                       check=True)
    return esp


class Instance:
    """One QEMU process running hv.efi.

    net: None, "user", "listen:PORT" or "connect:PORT" (a back-to-back
    socket link to another instance, see ../shared/PLATFORM.md), or
    "user+listen:PORT" (user-mode networking on a hub with the socket link,
    so a connecting instance reaches the same DHCP server and gateway).
    boot: "disk" (FAT image with EFI/BOOT/BOOTX64.EFI), "kernel" (-kernel)
    or "pxe" (OVMF's PXE over user-mode networking and TFTP).
    """

    def __init__(self, workdir=None, name="hv", mem="512M", cpus=1, vars_file=None,
                 boot="disk", cmdline="", config=None, net=None, nic="virtio",
                 mac=None, disk=None, image=DEFAULT_IMAGE, esp=DEFAULT_ESP,
                 extra_args=(), console="socket", allow_reboot=False, guests=()):
        self.name = name
        self.own_dir = workdir is None
        self.dir = workdir or tempfile.mkdtemp(prefix=f"hv-{name}-")
        os.makedirs(self.dir, exist_ok=True)
        self.mem = mem
        self.cpus = cpus
        self.vars_file = vars_file or os.path.join(self.dir, "vars.fd")
        self.boot = boot
        self.cmdline = cmdline
        self.config = config
        self.net = net
        self.nic = nic
        self.mac = mac
        self.disk = disk
        self.image = image
        self.esp = esp
        self.extra_args = list(extra_args)
        self.console_mode = console
        self.allow_reboot = allow_reboot
        self.guests = list(guests)
        self.console_sock = os.path.join(self.dir, "console.sock")
        self.monitor_sock = os.path.join(self.dir, "monitor.sock")
        self.console_log = os.path.join(self.dir, "console.log")
        self.qemu_log = os.path.join(self.dir, "qemu.log")
        self.proc = None
        self._console = None
        self.started_at = None

    # ---- command line -------------------------------------------------

    def _boot_args(self):
        if self.boot == "kernel":
            args = ["-kernel", self.image]
            if self.cmdline:
                args += ["-append", self.cmdline]
            return args
        if self.boot == "disk":
            esp = prepare_esp(self.esp, self.dir, self.config, self.guests)
            return ["-drive", f"if=none,id=esp,format=raw,file={esp}",
                    "-device", "ide-hd,drive=esp,bootindex=0"]
        if self.boot == "pxe":
            tftp = os.path.join(self.dir, "tftp")
            os.makedirs(tftp, exist_ok=True)
            shutil.copy(self.image, os.path.join(tftp, "BOOTX64.EFI"))
            if self.config is not None:
                with open(os.path.join(tftp, "hv.cfg"), "w") as f:
                    f.write(self.config)
            return []
        raise LaunchError(f"unknown boot mode {self.boot!r}")

    def _net_args(self):
        model = NIC_MODELS.get(self.nic)
        if model is None:
            raise LaunchError(f"unknown NIC {self.nic!r} (one of {', '.join(NIC_MODELS)})")
        mac = f",mac={self.mac}" if self.mac else ""
        if self.boot == "pxe":
            tftp = os.path.join(self.dir, "tftp")
            return ["-netdev", f"user,id=n0,tftp={tftp},bootfile=BOOTX64.EFI",
                    "-device", f"{model},netdev=n0,romfile=,bootindex=0{mac}"]
        if not self.net:
            return []
        if self.net.startswith("user+listen:"):
            # A hub joining the NIC, user-mode networking (its DHCP server
            # and gateway) and a socket link: instances connecting to the
            # socket share the segment and get leases from the same server.
            port = int(self.net[len("user+listen:"):])
            return ["-netdev", "hubport,id=n0,hubid=0",
                    "-device", f"{model},netdev=n0,romfile={mac}",
                    "-netdev", "user,id=u0",
                    "-netdev", "hubport,id=hu0,hubid=0,netdev=u0",
                    "-netdev", f"socket,id=s0,listen=127.0.0.1:{port}",
                    "-netdev", "hubport,id=hs0,hubid=0,netdev=s0"]
        if self.net == "user":
            netdev = "user,id=n0"
        elif self.net.startswith("listen:"):
            netdev = f"socket,id=n0,listen=127.0.0.1:{int(self.net[7:])}"
        elif self.net.startswith("connect:"):
            netdev = f"socket,id=n0,connect=127.0.0.1:{int(self.net[8:])}"
        else:
            raise LaunchError(f"unknown net {self.net!r} "
                              "(user, listen:PORT, connect:PORT, user+listen:PORT)")
        return ["-netdev", netdev, "-device", f"{model},netdev=n0,romfile={mac}"]

    def qemu_args(self):
        if not os.path.exists(self.vars_file):
            shutil.copy(OVMF_VARS, self.vars_file)
        args = ["qemu-system-x86_64", "-machine", "q35", "-cpu", "max",
                "-m", str(self.mem), "-smp", str(self.cpus), "-nodefaults",
                "-display", "none",
                "-drive", f"if=pflash,format=raw,readonly=on,file={OVMF_CODE}",
                "-drive", f"if=pflash,format=raw,file={self.vars_file}",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
        if not self.allow_reboot:
            args.append("-no-reboot")  # a reset ends QEMU: tests see it
        if self.console_mode == "stdio":
            args += ["-chardev", "stdio,id=con0,mux=on,signal=off",
                     "-serial", "chardev:con0", "-mon", "chardev=con0"]
        else:
            args += ["-chardev",
                     f"socket,id=con0,path={self.console_sock},server=on,wait=off,"
                     f"logfile={self.console_log}",
                     "-serial", "chardev:con0",
                     "-monitor", f"unix:{self.monitor_sock},server=on,wait=off"]
        args += self._boot_args()
        args += self._net_args()
        if self.disk:
            args += ["-drive", f"if=none,id=disk0,format=raw,file={self.disk}",
                     "-device", "virtio-blk-pci,drive=disk0"]
        return args + self.extra_args

    # ---- lifecycle ----------------------------------------------------

    def start(self):
        for path in (self.console_sock, self.monitor_sock):
            if os.path.exists(path):
                os.unlink(path)
        args = self.qemu_args()
        with open(os.path.join(self.dir, "qemu.cmd"), "w") as f:
            f.write(" ".join(args) + "\n")
        if self.console_mode == "stdio":
            self.proc = subprocess.Popen(args)
        else:
            log = open(self.qemu_log, "wb")
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        self.started_at = time.monotonic()
        return self

    def console(self, timeout=30.0):
        if self._console is None:
            deadline = time.monotonic() + timeout
            while not os.path.exists(self.console_sock):
                if self.proc.poll() is not None:
                    raise LaunchError(f"QEMU exited with {self.proc.returncode}: "
                                      f"{self.read_qemu_log()}")
                if time.monotonic() > deadline:
                    raise LaunchError("console socket did not appear")
                time.sleep(0.05)
            self._console = hvconsole.connect(self.console_sock, timeout)
        return self._console

    def wait_prompt(self, timeout=90.0):
        """Connects and waits for the first prompt; returns seconds since start."""
        deadline = time.monotonic() + timeout
        con = self.console(timeout)
        nudged = False
        while True:
            try:
                con.wait_prompt(min(1.0, max(0.0, deadline - time.monotonic())))
                return time.monotonic() - self.started_at
            except hvconsole.ConsoleError:
                if con.closed or time.monotonic() >= deadline:
                    raise
            # The socket drops what the UART sends while no client is
            # connected (wait=off); the log file keeps it. A prompt that came
            # before we connected is asked for again with an empty line.
            if not nudged and "\nhv> " in self.read_console_log():
                con.send("\r")
                nudged = True

    def monitor(self, command, timeout=10.0):
        """Runs an HMP monitor command and returns its output."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(self.monitor_sock)
        buf = b""
        try:
            while b"(qemu) " not in buf:
                buf += s.recv(4096)
            s.sendall(command.encode() + b"\n")
            buf = b""
            deadline = time.monotonic() + timeout
            while buf.count(b"(qemu) ") < 1 and time.monotonic() < deadline:
                chunk = s.recv(4096)
                if not chunk:
                    break
                buf += chunk
        finally:
            s.close()
        text = hvconsole.clean(buf.decode("latin-1"))
        lines = [l for l in text.split("\n") if not l.startswith("(qemu)") and l.strip()]
        # The first line is the echo of the command.
        return "\n".join(lines[1:] if lines and command in lines[0] else lines)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_exit(self, timeout=30.0):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        if self._console is not None:
            self._console.close()
            self._console = None
        if self.alive():
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.proc.kill()
            self.proc.wait(10)

    def read_console_log(self):
        try:
            with open(self.console_log, "rb") as f:
                return hvconsole.clean(f.read().decode("latin-1"))
        except FileNotFoundError:
            return ""

    def read_qemu_log(self):
        try:
            with open(self.qemu_log, "rb") as f:
                return f.read().decode("latin-1")
        except FileNotFoundError:
            return ""

    def cleanup(self):
        self.kill()
        if self.own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()


def free_port():
    """A TCP port free right now on 127.0.0.1 (for -netdev socket links)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--name", default="hv", help="instance name (directory build/instances/NAME)")
    p.add_argument("--dir", help="instance directory (default build/instances/NAME)")
    p.add_argument("--mem", default="512M", help="guest RAM for QEMU, e.g. 1G")
    p.add_argument("--cpus", type=int, default=1)
    p.add_argument("--vars", help="OVMF variable store to use (kept across runs)")
    p.add_argument("--boot", default="disk", choices=["disk", "kernel", "pxe"])
    p.add_argument("--append", default="", help="load options (key=value ...), -kernel boot")
    p.add_argument("--config", help="file to place as hv.cfg beside the image")
    p.add_argument("--net", help="user | listen:PORT | connect:PORT | user+listen:PORT "
                   "(user-mode net shared with instances that connect)")
    p.add_argument("--nic", default="virtio", choices=sorted(NIC_MODELS))
    p.add_argument("--mac", help="MAC address of the NIC")
    p.add_argument("--disk", help="raw disk image attached as virtio-blk")
    p.add_argument("--guest", action="append", default=[],
                   help="file to put in the boot disk's guests folder (repeatable)")
    p.add_argument("--image", default=DEFAULT_IMAGE, help="hv.efi to boot")
    p.add_argument("--console", default="socket", choices=["socket", "stdio"],
                   help="stdio: console on this terminal (Ctrl-A X quits)")
    p.add_argument("--daemon", action="store_true",
                   help="return once QEMU runs (socket console only)")
    a = p.parse_args()

    workdir = a.dir or os.path.join(ROOT, "build", "instances", a.name)
    os.makedirs(workdir, exist_ok=True)
    vars_file = a.vars
    if a.console == "stdio" and not vars_file and not a.dir:
        vars_file = os.path.join(ROOT, "build", "OVMF_VARS.fd")
    config = None
    if a.config:
        with open(a.config) as f:
            config = f.read()
    inst = Instance(workdir=workdir, name=a.name, mem=a.mem, cpus=a.cpus, vars_file=vars_file,
                    boot=a.boot, cmdline=a.append, config=config, net=a.net, nic=a.nic,
                    mac=a.mac, disk=a.disk, image=a.image, console=a.console,
                    guests=a.guest)
    inst.start()
    if a.console == "stdio":
        sys.exit(inst.proc.wait())
    print(f"instance {a.name}: pid {inst.proc.pid}")
    print(f"  console: {inst.console_sock}  (tools/hvctl.py --socket {inst.console_sock} CMD)")
    print(f"  monitor: {inst.monitor_sock}")
    print(f"  log:     {inst.console_log}")
    if a.daemon:
        with open(os.path.join(workdir, "qemu.pid"), "w") as f:
            f.write(f"{inst.proc.pid}\n")
        return
    try:
        sys.exit(inst.proc.wait())
    except KeyboardInterrupt:
        inst.kill()


if __name__ == "__main__":
    main()
