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
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import hvconsole  # noqa: E402
import hvlaunch  # noqa: E402

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


class BochsInstance:
    """One Bochs process running hv.efi from a FAT boot disk."""

    def __init__(self, workdir=None, name="hv", megs=512, cpu=DEFAULT_CPU, ips=100_000_000,
                 config=None, guests=(), esp=hvlaunch.DEFAULT_ESP, timeout=None):
        self.name = name
        self.own_dir = workdir is None
        self.dir = workdir or tempfile.mkdtemp(prefix=f"hvbochs-{name}-")
        os.makedirs(self.dir, exist_ok=True)
        self.megs = megs
        self.cpu = cpu
        self.ips = ips
        self.config = config
        self.guests = list(guests)
        self.esp = esp
        self.timeout = timeout
        self.port = hvlaunch.free_port()
        self.bochs_log = os.path.join(self.dir, "bochs.log")
        self.output_log = os.path.join(self.dir, "bochs.out")
        self.proc = None
        self._console = None
        self.started_at = None

    def bochsrc(self):
        esp = hvlaunch.prepare_esp(self.esp, self.dir, self.config, self.guests)
        lock = esp + ".lock"  # left behind by a killed run, refused by the next
        if os.path.exists(lock):
            os.unlink(lock)
        return "\n".join([
            f"megs: {self.megs}",
            f"cpu: model={self.cpu}, count=1, ips={self.ips}",
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

    def start(self):
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
        with open(os.path.join(self.dir, "bochs.cmd"), "w") as f:
            f.write(" ".join(args) + "\n")
        out = open(self.output_log, "wb")
        self.proc = subprocess.Popen(args, cwd=self.dir, stdin=subprocess.DEVNULL, stdout=out,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.started_at = time.monotonic()
        return self

    def console(self, timeout=60.0):
        if self._console is None:
            if self.proc.poll() is not None:
                raise hvlaunch.LaunchError(f"Bochs exited with {self.proc.returncode}: "
                                           f"{self.read_bochs_output()[-2000:]}")
            self._console = hvconsole.connect(("127.0.0.1", self.port), timeout)
        return self._console

    def wait_prompt(self, timeout=300.0):
        """Connects and waits for the first prompt; returns seconds since start."""
        con = self.console()
        con.wait_prompt(timeout)
        return time.monotonic() - self.started_at

    def monitor(self, command, timeout=10.0):
        raise hvlaunch.LaunchError("Bochs has no QEMU monitor")

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
        if self.alive():
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.proc.kill()
            self.proc.wait(10)

    def read_console_log(self):
        return self._console.text() if self._console is not None else ""

    def read_bochs_output(self):
        text = ""
        for path in (self.output_log, self.bochs_log):
            try:
                with open(path, "rb") as f:
                    text += f.read().decode("latin-1")
            except FileNotFoundError:
                pass
        return text

    def cleanup(self):
        self.kill()
        if self.own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()


def _interactive(con):
    """Copies the console to this terminal and lines typed here to it."""
    seen = 0
    try:
        while True:
            text = con.text()
            sys.stdout.write(text[seen:])
            sys.stdout.flush()
            seen = len(text)
            import select
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
                         guests=a.guest, timeout=a.timeout)
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
