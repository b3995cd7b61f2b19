"""Disks that move with their VMs, and disks sent alone, between two QEMU
instances on one link, each with its own datastore: a guest writing a
sequence-numbered pattern during a live migration finds every block right
afterwards and `disk sum` agrees on both sides; a child of a base the
destination holds sends only its own blocks; a transfer cut short (link
down, destination killed) resumes from its last checkpoint; a source that
dies leaves a fragment that is kept until dropped or expired; a full
destination fails the migration and the guest runs on."""

import os
import re
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from guests import guest_lines  # noqa: E402
import hvlaunch  # noqa: E402
from conftest import BOOT_TIMEOUT  # noqa: E402
from netpair import MAC_A, MAC_B, RX_SETTLE_S, wait_field  # noqa: E402
from test_disk import hvdisk, info, store_image  # noqa: E402
from test_migrate import migrate, vm_state  # noqa: E402

A_IP, B_IP = "10.0.0.1", "10.0.0.2"
MIB = 1 << 20


def pair(boot, tmp_path, a_disks=(), b_disks=(), a_size="256M", b_size="256M",
         a_config="", b_config=""):
    """Two linked instances, each booted with its own datastore image."""
    a_img = store_image(tmp_path, "a.img", a_size, a_disks)
    b_img = store_image(tmp_path, "b.img", b_size, b_disks)
    port = hvlaunch.free_port()
    a = boot(wait=False, net=f"listen:{port}", mac=MAC_A, disk=str(a_img),
             config=f"ip={A_IP}/24\n" + a_config)
    a.console()
    time.sleep(0.3)  # the listening side first
    b = boot(wait=False, net=f"connect:{port}", mac=MAC_B, disk=str(b_img),
             config=f"ip={B_IP}/24\n" + b_config)
    b.console()
    a.wait_prompt(BOOT_TIMEOUT)
    b.wait_prompt(BOOT_TIMEOUT)
    time.sleep(RX_SETTLE_S)
    return a, b, a_img, b_img


def disk_sum(con, name):
    return info(con, f"disk sum {name}")["sum"]


def wait_disk_xfer(con, timeout=180, key="phase"):
    deadline = time.time() + timeout
    while True:
        f = con.run("disk status").fields()
        if f.get(key) in ("done", "failed"):
            return f
        assert time.time() < deadline, f"disk transfer did not end: {f}"
        time.sleep(0.5)


def test_a_vm_moves_with_its_disk_and_a_writing_guest_finds_every_block(boot, tmp_path):
    a, b, _, _ = pair(boot, tmp_path, a_disks=[("d", "64M")])
    ca, cb = a.console(), b.console()
    assert cb.run(f"migrate listen from={A_IP}").ok
    # 16 MiB written first, so the bulk copy has something to carry.
    since = len(ca.text())
    assert ca.run("vm create w blktest mem=16M disk=d -- mode=pattern seed=7 start=0 "
                  "count=32768").ok
    assert ca.run("vm start w").ok
    ca.wait_for(r"\[vm:w\] blktest: done", 120, start=since)
    assert ca.run("vm destroy w").ok
    # Now a guest rewriting 512 KiB in rounds while it migrates.
    since = len(ca.text())
    assert ca.run("vm create r blktest mem=16M disk=d -- mode=rounds blocks=128").ok
    assert ca.run("vm start r").ok
    ca.wait_for(r"\[vm:r\] blktest: acked round=3\b", 60, start=since)
    st = migrate(ca, "r", B_IP)
    assert st["phase"] == "done", st
    assert int(st["disks"]) == 1
    assert int(st["disk_blocks_sent"]) >= 256  # 16 MiB in 64 KiB blocks
    assert vm_state(ca, "r") is None
    # The guest goes on over there: its rounds keep counting.
    since = len(cb.text())
    cb.wait_for(r"\[vm:r\] blktest: acked round=\d+", 60, start=since)
    assert cb.run("vm pause r").ok
    assert cb.run("vm destroy r").ok
    # keep=no (the default): the source's copy is gone.
    assert not ca.command("disk info d").ok
    # What the first guest wrote beyond the rounds' area is all there.
    since = len(cb.text())
    assert cb.run("vm create v blktest mem=16M disk=d -- mode=verify seed=7 start=1024 "
                  "count=31744").ok
    assert cb.run("vm start v").ok
    cb.wait_for(r"\[vm:v\] blktest: done", 120, start=since)
    lines = [l for l in guest_lines(cb, "v", since) if "FAIL" in l]
    assert not lines, lines
