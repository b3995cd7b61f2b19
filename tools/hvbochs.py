#!/usr/bin/python3
"""Starts one hypervisor instance under Bochs/OVMF (the Intel VMX + EPT target).

QEMU here cannot emulate VMX; Debian's Bochs can (see ../shared/PLATFORM.md).
This is the Bochs counterpart of tools/hvlaunch.py, with the same interface
for the tests (``BochsInstance``): a private copy of the boot disk image with
hv.cfg and guests/ added, the serial console on a TCP port (Bochs has no Unix
sockets), headless display, no debugger prompt, and a wall-clock limit.

Examples:
    tools/hvbochs.py                       # console on this terminal via TCP
    tools/hvbochs.py --cpu corei7_sandy_bridge --timeout 600
    tools/hvctl.py --tcp 127.0.0.1:PORT mem
"""

import argparse
import os
import select
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

from hvinstance import DEFAULT_ESP, EmulatorInstance, free_port, read_files  # noqa: E402

OVMF_PARTS = ("/usr/share/OVMF/OVMF_VARS.fd", "/usr/share/OVMF/OVMF_CODE.fd")
VGA_BIOS = "/usr/share/vgabios/vgabios.bin"
BOCHS = "bochs-bin"
# EPT, unrestricted guest, EPT A/D and PML (PLATFORM.md).
DEFAULT_CPU = "corei7_skylake_x"
# The boot disk image's geometry (Makefile: ESP_SECTORS = 65 * 16 * 63).
ESP_GEOMETRY = "cylinders=65, heads=16, spt=63"


def _ovmf_rom(workdir):
    """Bochs takes one flat ROM: the variable store followed by the code."""
    rom = os.path.join(workdir, "OVMF.fd")
    with open(rom, "wb") as out:
        for part in OVMF_PARTS:
            with open(part, "rb") as f:
                out.write(f.read())
    return rom


class BochsInstance(EmulatorInstance):
    """One Bochs process running hv.efi from a FAT boot disk."""

    EMULATOR = "Bochs"
    DIR_PREFIX = "hvbochs"
    CMD_FILE = "bochs.cmd"
    OUTPUT_FILE = "bochs.out"
    CONNECT_TIMEOUT = 60.0
    PROMPT_TIMEOUT = 300.0
    POPEN_IN_DIR = True

    def __init__(self, workdir=None, name="hv", megs=512, cpu=DEFAULT_CPU, ips=100_000_000,
                 config=None, guests=(), esp=DEFAULT_ESP, timeout=None, cpus=1):
        super().__init__(workdir=workdir, name=name, config=config, guests=guests, esp=esp)
        self.megs = megs
        self.cpu = cpu
        self.ips = ips
        self.cpus = cpus
        self.timeout = timeout
        self.port = free_port()
        self.bochs_log = os.path.join(self.dir, "bochs.log")

    def bochsrc(self):
        esp = self.prepare_esp()
        lock = esp + ".lock"  # left behind by a killed run, refused by the next
        if os.path.exists(lock):
            os.unlink(lock)
        return "\n".join([
            f"megs: {self.megs}",
            f"cpu: model={self.cpu}, count={self.cpus}, ips={self.ips}",
            f"romimage: file={_ovmf_rom(self.dir)}",
            f"vgaromimage: file={VGA_BIOS}",
            f"ata0-master: type=disk, path={esp}, mode=flat, {ESP_GEOMETRY}",
            "boot: disk",
            f"com1: enabled=1, mode=socket-server, dev=127.0.0.1:{self.port}",
            # Headless: the RFB server waits for no viewer.
            'display_library: rfb, options="timeout=0"',
            # Without a dummy sound driver Bochs' ALSA probe aborts the run.
            "sound: driver=dummy",
            "clock: sync=none, time0=local",
            "info: action=ignore",
            "error: action=ignore",
            "panic: action=fatal",
            f"log: {self.bochs_log}",
            "",
        ])

    def command_line(self):
        rc_path = os.path.join(self.dir, "bochsrc")
        with open(rc_path, "w") as f:
            f.write(self.bochsrc())
        # bochs-bin stops at its debugger prompt first: continue, then quit.
        dbg = os.path.join(self.dir, "debugger.rc")
        with open(dbg, "w") as f:
            f.write("c\nquit\n")
        args = [BOCHS, "-q", "-rc", dbg, "-f", rc_path]
        if self.timeout:
            args = ["timeout", "-s", "KILL", str(int(self.timeout))] + args
        return args

    def console_address(self):
        # Bochs listens once it runs and serves one connection: there is
        # nothing to look at before trying to connect.
        return ("127.0.0.1", self.port)

    def read_emulator_output(self):
        return read_files(self.output_log, self.bochs_log)

    def read_bochs_output(self):
        return self.read_emulator_output()


def _interactive(con):
    """Copies the console to this terminal and lines typed here to it."""
    seen = 0
    try:
        while True:
            text = con.text()
            sys.stdout.write(text[seen:])
            sys.stdout.flush()
            seen = len(text)
            r, _, _ = select.select([sys.stdin], [], [], 0.2)
            if r:
                line = sys.stdin.readline()
                if not line:
                    return
                con.send(line.rstrip("\n") + "\r")
            if con.closed:
                return
    except KeyboardInterrupt:
        return


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--name", default="bochs", help="instance name (build/instances/NAME)")
    p.add_argument("--cpu", default=DEFAULT_CPU, help="Bochs CPU model")
    p.add_argument("--megs", type=int, default=512, help="machine RAM in MiB")
    p.add_argument("--cpus", type=int, default=1, help="processors (Bochs' cpu count)")
    p.add_argument("--config", help="file to place as hv.cfg beside the image")
    p.add_argument("--guest", action="append", default=[],
                   help="file to put in the boot disk's guests folder (repeatable)")
    p.add_argument("--timeout", type=int, default=3600, help="kill Bochs after SECONDS")
    p.add_argument("--daemon", action="store_true",
                   help="print the console port and return once Bochs runs")
    a = p.parse_args()

    workdir = os.path.join(ROOT, "build", "instances", a.name)
    shutil.rmtree(workdir, ignore_errors=True)
    config = None
    if a.config:
        with open(a.config) as f:
            config = f.read()
    inst = BochsInstance(workdir=workdir, name=a.name, megs=a.megs, cpu=a.cpu, config=config,
                         guests=a.guest, timeout=a.timeout, cpus=a.cpus)
    inst.start()
    print(f"instance {a.name}: pid {inst.proc.pid}, console on 127.0.0.1:{inst.port}")
    if a.daemon:
        return
    try:
        _interactive(inst.console())
    finally:
        inst.kill()


if __name__ == "__main__":
    main()
