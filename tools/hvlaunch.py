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
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import hvconsole  # noqa: E402
import hvinstance  # noqa: E402
from hvinstance import (DEFAULT_ESP, DEFAULT_IMAGE, EmulatorInstance,  # noqa: E402
                        LaunchError, read_files)

free_port = hvinstance.free_port  # the tests and benchmarks use hvlaunch.free_port

OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"
NIC_MODELS = {"virtio": "virtio-net-pci", "e1000": "e1000", "e1000e": "e1000e"}


class Instance(EmulatorInstance):
    """One QEMU process running hv.efi.

    net: None, "user", "listen:PORT" or "connect:PORT" (a back-to-back
    socket link to another instance, see ../shared/PLATFORM.md), or
    "user+listen:PORT" (user-mode networking on a hub with the socket link,
    so a connecting instance reaches the same DHCP server and gateway).
    boot: "disk" (FAT image with EFI/BOOT/BOOTX64.EFI), "kernel" (-kernel)
    or "pxe" (OVMF's PXE over user-mode networking and TFTP).
    """

    EMULATOR = "QEMU"
    DIR_PREFIX = "hv"
    CMD_FILE = "qemu.cmd"
    OUTPUT_FILE = "qemu.log"
    CONNECT_TIMEOUT = 30.0
    PROMPT_TIMEOUT = 90.0

    def __init__(self, workdir=None, name="hv", mem="512M", cpus=1, vars_file=None,
                 boot="disk", cmdline="", config=None, net=None, nic="virtio",
                 mac=None, disk=None, image=DEFAULT_IMAGE, esp=DEFAULT_ESP,
                 extra_args=(), console="socket", allow_reboot=False, guests=()):
        super().__init__(workdir=workdir, name=name, config=config, guests=guests, esp=esp)
        self.mem = mem
        self.cpus = cpus
        self.vars_file = vars_file or os.path.join(self.dir, "vars.fd")
        self.boot = boot
        self.cmdline = cmdline
        self.net = net
        self.nic = nic
        self.mac = mac
        self.disk = disk
        self.image = image
        self.extra_args = list(extra_args)
        self.console_mode = console
        self.allow_reboot = allow_reboot
        self.console_sock = os.path.join(self.dir, "console.sock")
        self.monitor_sock = os.path.join(self.dir, "monitor.sock")
        self.console_log = os.path.join(self.dir, "console.log")
        self.qemu_log = self.output_log

    # ---- command line -------------------------------------------------

    def _boot_args(self):
        if self.boot == "kernel":
            args = ["-kernel", self.image]
            if self.cmdline:
                args += ["-append", self.cmdline]
            return args
        if self.boot == "disk":
            esp = self.prepare_esp()
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
        elif self.net.startswith("user+fwd:"):
            # User-mode networking with one TCP port of the instance (at
            # 10.0.2.15) reachable from the host: for relays and peers that
            # run on the host side.
            host_port, guest_port = (int(p) for p in self.net[len("user+fwd:"):].split(":"))
            netdev = f"user,id=n0,hostfwd=tcp:127.0.0.1:{host_port}-10.0.2.15:{guest_port}"
        elif self.net.startswith("listen:"):
            netdev = f"socket,id=n0,listen=127.0.0.1:{int(self.net[7:])}"
        elif self.net.startswith("connect:"):
            netdev = f"socket,id=n0,connect=127.0.0.1:{int(self.net[8:])}"
        else:
            raise LaunchError(f"unknown net {self.net!r} "
                              "(user, user+fwd:HOSTPORT:PORT, listen:PORT, connect:PORT, user+listen:PORT)")
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

    def command_line(self):
        for path in (self.console_sock, self.monitor_sock):
            if os.path.exists(path):
                os.unlink(path)
        return self.qemu_args()

    # ---- lifecycle ----------------------------------------------------

    def spawn(self, args):
        if self.console_mode == "stdio":
            return subprocess.Popen(args)
        return super().spawn(args)

    def console_address(self):
        return self.console_sock if os.path.exists(self.console_sock) else None

    def prompt_came_unseen(self):
        # The socket drops what the UART sends while no client is
        # connected (wait=off); the log file keeps it. A prompt that came
        # before we connected is asked for again with an empty line.
        return "\nhv> " in self.read_console_log()

    def exit_report(self):
        return self.read_qemu_log()

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

    def read_console_log(self):
        """Everything the UART sent, also before a client connected."""
        return hvconsole.clean(read_files(self.console_log))

    def read_qemu_log(self):
        return self.read_emulator_output()


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
    p.add_argument("--net", help="user | user+fwd:HOSTPORT:PORT | listen:PORT | connect:PORT | user+listen:PORT "
                   "(user-mode net shared with instances that connect)")
    p.add_argument("--nic", default="virtio", choices=sorted(NIC_MODELS))
    p.add_argument("--mac", help="MAC address of the NIC")
    p.add_argument("--disk", help="raw disk image attached as virtio-blk")
    p.add_argument("--guest", action="append", default=[],
                   help="file to put in the boot disk's guests folder (repeatable)")
    p.add_argument("--image", default=DEFAULT_IMAGE, help="hv.efi to boot")
    p.add_argument("--qemu-arg", action="append", default=[], metavar="ARG",
                   help="one more QEMU argument, appended as given (repeatable; write "
                   "--qemu-arg=-device for values that start with '-')")
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
                    guests=a.guest, extra_args=a.qemu_arg)
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
