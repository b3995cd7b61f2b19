"""Driving a Linux guest (Debian's kernel, busybox initramfs from
tools/fetch-linux.sh) through its serial console: 'vm send' types, the
console shows its output as '[vm:NAME] line'."""

import itertools
import os
import re
import time

from conftest import ROOT
from guests import guest_lines

LINUX_DIR = os.path.join(ROOT, "build", "linux")
KERNEL = os.path.join(LINUX_DIR, "vmlinuz")
INITRD = os.path.join(LINUX_DIR, "initrd.img")
PROMPT = "hv-linux# "
CMDLINE = "console=ttyS0 quiet"
# Emulated time to the shell prompt: seconds under QEMU TCG, minutes under
# Bochs (measured figures in README, "Run Linux in a VM").
BOOT_TIMEOUT = {"qemu": 240, "bochs": 1800}

_markers = itertools.count(1)


def payload_present():
    return os.path.exists(os.path.join(LINUX_DIR, ".built"))


def create(con, name, mem="256M", cmdline=CMDLINE, initrd="initrd.img", kernel="vmlinuz",
           cpus=1):
    return con.command(f"vm create {name} {kernel} mem={mem} cpus={cpus} module={initrd} "
                       f"-- {cmdline}")


def boot(con, name, target, **kwargs):
    """Creates and starts a Linux VM; returns seconds from 'vm start' to its
    shell prompt."""
    r = create(con, name, **kwargs)
    assert r.ok, r.error
    return start(con, name, target)


def start(con, name, target):
    since = len(con.text())
    t0 = time.monotonic()
    assert con.run(f"vm start {name}").ok
    wait_prompt(con, name, since, BOOT_TIMEOUT[target])
    return time.monotonic() - t0


def wait_prompt(con, name, since, timeout):
    """The prompt ends a line only once something follows it: wait for the
    init banner, then for the prompt in the VM's output ring."""
    con.wait_for(rf"\[vm:{name}\] hv-linux: init running", timeout, start=since)
    deadline = time.monotonic() + 30
    while PROMPT not in con.run(f"vm output {name} 3").text():
        assert time.monotonic() < deadline, f"{name}: no shell prompt"
        time.sleep(0.3)


def sh(con, name, command, timeout=60):
    """Runs a shell command in the guest; returns its output lines. The
    command is framed by markers the shell computes, so the echo of the
    typed line is never taken for output; lines of a TICK_LOOP running in
    the background are left out (CI saw one land between the markers)."""
    n = next(_markers)
    since = len(con.text())
    line = f"echo @@$(({n}*2))@@; {command}; echo @@$(({n}*2+1))@@"
    assert con.run(f'vm send {name} "{line}"').ok
    con.wait_for(rf"\[vm:{name}\] @@{2 * n + 1}@@", timeout, start=since)
    out = guest_lines(con, name, since)
    first = out.index(f"@@{2 * n}@@")
    return [l for l in out[first + 1:out.index(f"@@{2 * n + 1}@@")]
            if not TICK_LINE.fullmatch(l)]


def send(con, name, line):
    assert con.run(f'vm send {name} "{line}"').ok


TICK_LINE = re.compile(r"tick \d+ [\d.]+")
TICK_LOOP = "i=0; while true; do i=$((i+1)); echo tick $i $(cut -d' ' -f1 /proc/uptime); " \
            "sleep 0.2; done &"


def ticks(con, name, since=0):
    """(counter, uptime) from 'tick N UPTIME' lines the guest loop prints."""
    out = []
    for line in guest_lines(con, name, since):
        # The echo of a command typed meanwhile may start the line.
        m = re.search(r"tick (\d+) (\d+\.\d+)$", line)
        if m:
            out.append((int(m.group(1)), float(m.group(2))))
    return out
