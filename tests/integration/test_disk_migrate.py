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
from test_disk_crash import sector_round  # noqa: E402
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
    a.port = b.port = port
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


@pytest.mark.parametrize("mode", ["rounds", "mirror"])
def test_a_vm_moves_with_its_disk_and_a_writing_guest_finds_every_block(boot, tmp_path, mode):
    a, b, _, b_img = pair(boot, tmp_path, a_disks=[("d", "64M")])
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
    # A downtime no round meets: five rounds, each with the guest writing.
    st = migrate(ca, "r", B_IP, extra=f"disk_mode={mode} downtime=1 rounds=5")
    assert st["phase"] == "done", st
    assert int(st["disks"]) == 1
    assert int(st["round"]) >= 4, st
    if mode == "mirror":
        assert int(st["disk_mirrored_writes"]) > 0, st
    assert int(st["disk_blocks_sent"]) >= 256  # 16 MiB in 64 KiB blocks
    assert vm_state(ca, "r") is None
    # The guest goes on over there: its rounds keep counting.
    since = len(cb.text())
    cb.wait_for(r"\[vm:r\] blktest: acked round=\d+", 60, start=since)
    assert cb.run("vm pause r").ok
    acked = max(int(x) for x in re.findall(r"\[vm:r\] blktest: acked round=(\d+)", cb.text()))
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
    # Every sector of the rounds' area is one whole write of a round at
    # least as new as the last one the guest saw acknowledged.
    b.kill()
    out = tmp_path / "d.raw"
    hvdisk("export", b_img, "d", out)
    raw = out.read_bytes()
    rounds = [sector_round(raw, sec) for sec in range(128 * 8)]
    assert min(rounds) >= acked and max(rounds) <= acked + 1, (acked, min(rounds), max(rounds))


def fill(con, disk, seed, start, count, timeout=180):
    """A blktest guest writes its pattern over sectors start..start+count."""
    since = len(con.text())
    assert con.run(f"vm create f blktest mem=16M disk={disk} -- mode=pattern seed={seed} "
                   f"start={start} count={count}").ok
    assert con.run("vm start f").ok
    con.wait_for(r"\[vm:f\] blktest: done", timeout, start=since)
    assert not [l for l in guest_lines(con, "f", since) if "FAIL" in l]
    assert con.run("vm destroy f").ok


def fragments(con):
    out = []
    for line in con.run("ds fragments").lines:
        if "=" in line and not line.startswith("fragments:"):
            fid, *kvs = line.split()
            f = dict(kv.split("=", 1) for kv in kvs)
            f["id"] = fid
            out.append(f)
    return out


def test_a_cold_transfer_cut_by_the_link_resumes_from_its_checkpoint(boot, tmp_path):
    a, b, _, _ = pair(boot, tmp_path, a_disks=[("big", "96M")],
                      b_config="disk_checkpoint=4M\n")
    ca, cb = a.console(), b.console()
    fill(ca, "big", 11, 0, 96 * 2048)
    want = disk_sum(ca, "big")
    r = cb.command("disk receive")
    assert not r.ok and "migrate listen" in r.error, "no peers: refused"
    assert cb.run(f"disk receive from={A_IP}").ok
    # Refused for a disk a VM writes: its content would change under the copy.
    assert ca.run("vm create busy blktest mem=16M disk=big -- mode=info").ok
    r = ca.command(f"disk send big {B_IP}")
    assert not r.ok and "attached writable" in r.error
    assert ca.run("vm destroy busy").ok

    assert ca.run(f"disk send big {B_IP}").ok
    deadline = time.time() + 120
    while int(cb.run("disk status").fields().get("incoming_bytes_sent", 0)) < 40 * MIB:
        assert time.time() < deadline
        time.sleep(0.2)
    a.monitor("set_link n0 off")
    st = wait_disk_xfer(ca, 60)
    assert st["phase"] == "failed", st
    a.monitor("set_link n0 on")
    wait_field(cb, "disk status", "incoming_phase", "failed", timeout=60)
    frags = fragments(cb)
    assert len(frags) == 1 and frags[0]["disk"] == "big", frags
    reached = int(frags[0]["offset"])
    assert reached >= 36 * MIB, frags  # checkpoints every 4 MiB
    # Not a disk yet.
    assert not cb.command("disk info big").ok

    time.sleep(RX_SETTLE_S)
    assert ca.run(f"disk send big {B_IP}").ok
    st = wait_disk_xfer(ca, 180)
    assert st["phase"] == "done", st
    assert int(st["resumed_at"]) == reached
    assert int(st["bytes_total"]) <= 96 * MIB - reached + 64 * 1024
    assert disk_sum(cb, "big") == want
    assert fragments(cb) == []
    # The same content, so the same content ID.
    assert info(cb, "disk info big")["content_id"] == info(ca, "disk info big")["content_id"]


def wait_bytes(con, command, key, at_least, timeout=120):
    deadline = time.time() + timeout
    while int(con.run(command).fields().get(key, 0)) < at_least:
        assert time.time() < deadline, f"{key} never reached {at_least}"
        time.sleep(0.2)


def test_a_destination_killed_mid_transfer_resumes_after_its_reboot(boot, tmp_path):
    a, b, _, b_img = pair(boot, tmp_path, a_disks=[("big", "96M")],
                          b_config="disk_checkpoint=4M\n")
    ca, cb = a.console(), b.console()
    fill(ca, "big", 12, 0, 96 * 2048)
    want = disk_sum(ca, "big")
    assert cb.run(f"disk receive from={A_IP}").ok
    assert ca.run(f"disk send big {B_IP}").ok
    wait_bytes(cb, "disk status", "incoming_bytes_sent", 40 * MIB)
    b.kill()
    st = wait_disk_xfer(ca, 60)
    assert st["phase"] == "failed", st

    # The same datastore image, a new boot: the fragment is there, hidden.
    b2 = boot(wait=False, net=f"connect:{a.port}", mac=MAC_B, disk=str(b_img),
              config=f"ip={B_IP}/24\n")
    cb = b2.console()
    b2.wait_prompt(BOOT_TIMEOUT)
    time.sleep(RX_SETTLE_S)
    frags = fragments(cb)
    assert len(frags) == 1, frags
    reached = int(frags[0]["offset"])
    assert reached >= 36 * MIB - 4 * MIB, frags
    assert "big" not in cb.run("disk list").text()
    assert cb.run(f"disk receive from={A_IP}").ok
    assert ca.run(f"disk send big {B_IP}").ok
    st = wait_disk_xfer(ca, 180)
    assert st["phase"] == "done", st
    assert int(st["resumed_at"]) == reached
    assert disk_sum(cb, "big") == want


def test_a_source_killed_leaves_a_fragment_until_it_expires_or_is_dropped(boot, tmp_path):
    a_img = store_image(tmp_path, "a.img", "256M", [("big", "96M"), ("other", "96M")])
    b_img = store_image(tmp_path, "b.img", "256M")
    port = hvlaunch.free_port()
    # The destination listens on the link, so a source booted again can
    # plug in again.
    b = boot(wait=False, net=f"listen:{port}", mac=MAC_B, disk=str(b_img),
             config=f"ip={B_IP}/24\nfragment_expire=45\n")
    cb = b.console()
    time.sleep(0.3)

    def source():
        a = boot(wait=False, net=f"connect:{port}", mac=MAC_A, disk=str(a_img),
                 config=f"ip={A_IP}/24\n")
        ca = a.console()
        a.wait_prompt(BOOT_TIMEOUT)
        time.sleep(RX_SETTLE_S)
        return a, ca

    a, ca = source()
    b.wait_prompt(BOOT_TIMEOUT)
    fill(ca, "big", 13, 0, 64 * 2048)
    fill(ca, "other", 14, 0, 64 * 2048)
    assert cb.run(f"disk receive from={A_IP}").ok
    assert ca.run(f"disk send big {B_IP}").ok
    wait_bytes(cb, "disk status", "incoming_bytes_sent", 16 * MIB)
    a.kill()
    st = wait_field(cb, "disk status", "incoming_phase", "failed", timeout=60)
    # Keepalive (~9 s) or the rate watchdog (20 s) notices, whichever first.
    why = st.fields()["incoming_reason"]
    assert "stopped answering" in why or "nothing from the peer" in why, why
    frags = fragments(cb)
    assert len(frags) == 1 and frags[0]["disk"] == "big", frags
    # Dropped by hand ...
    r = cb.command(f"ds fragments drop {frags[0]['id']}")
    assert r.ok, r.error
    assert fragments(cb) == []
    assert not cb.command("ds fragments drop 99").ok
    # ... or when it has made no progress for fragment_expire seconds.
    a, ca = source()
    assert ca.run(f"disk send other {B_IP}").ok
    wait_field(cb, "disk status", "incoming_disk", "other", timeout=30)
    wait_bytes(cb, "disk status", "incoming_bytes_sent", 16 * MIB)
    a.kill()
    wait_field(cb, "disk status", "incoming_phase", "failed", timeout=60)
    assert [f["disk"] for f in fragments(cb)] == ["other"]
    since = len(cb.text())
    cb.wait_for(r"disk other: fragment \d+ dropped: no progress for \d+ s", 60, start=since)
    assert fragments(cb) == []
    assert "other" not in cb.run("disk list").text()


def test_a_full_destination_fails_the_migration_and_the_guest_runs_on(boot, tmp_path):
    a, b, _, _ = pair(boot, tmp_path, a_disks=[("d", "96M")], b_size="64M")
    ca, cb = a.console(), b.console()
    fill(ca, "d", 15, 0, 80 * 2048)
    want = disk_sum(ca, "d")
    assert cb.run(f"migrate listen from={A_IP}").ok
    assert ca.run("vm create c counter interval=20 disk=d").ok
    assert ca.run("vm start c").ok
    st = migrate(ca, "c", B_IP)
    assert st["phase"] == "failed", st
    assert "full" in st["reason"], st
    assert vm_state(ca, "c") in ("running", "halted")
    assert vm_state(cb, "c") is None
    # Nothing half-recorded is left, and the datastore there is healthy.
    assert fragments(cb) == []
    f = info(cb, "ds")
    assert f["state"] in ("ok", "full"), f
    assert "problem" not in f or f["state"] == "full"
    assert disk_sum(ca, "d") == want


def test_a_live_migration_cut_during_the_bulk_copy_resumes_and_keep_yes_keeps(boot, tmp_path):
    a, b, _, _ = pair(boot, tmp_path, a_disks=[("d", "96M")],
                      b_config="disk_checkpoint=4M\n")
    ca, cb = a.console(), b.console()
    fill(ca, "d", 16, 0, 96 * 2048)
    want = disk_sum(ca, "d")
    assert cb.run(f"migrate listen from={A_IP}").ok
    # A guest that never writes its disk: its content ID stays, so a kept
    # fragment of it may be resumed.
    assert ca.run("vm create c counter interval=20 disk=d").ok
    assert ca.run("vm start c").ok
    assert ca.run(f"migrate send c {B_IP}").ok
    wait_bytes(cb, "migrate status", "incoming_disk_bytes", 40 * MIB)
    a.monitor("set_link n0 off")
    deadline = time.time() + 60
    while ca.run("migrate status").fields()["phase"] not in ("failed", "done"):
        assert time.time() < deadline
        time.sleep(0.5)
    a.monitor("set_link n0 on")
    assert ca.run("migrate status").fields()["phase"] == "failed"
    assert vm_state(ca, "c") in ("running", "halted")
    wait_field(cb, "migrate status", "incoming_phase", "failed", timeout=60)
    frags = fragments(cb)
    assert len(frags) == 1 and int(frags[0]["offset"]) >= 32 * MIB, frags

    time.sleep(RX_SETTLE_S)
    st = migrate(ca, "c", B_IP, extra="keep=yes")
    assert st["phase"] == "done", st
    assert int(st["disk_bytes_resumed"]) == int(frags[0]["offset"]), st
    assert vm_state(cb, "c") in ("running", "halted")
    assert disk_sum(ca, "d") == want  # kept here
    assert cb.run("vm pause c").ok
    assert disk_sum(cb, "d") == want
    assert fragments(cb) == []


def test_a_child_of_a_base_the_destination_holds_sends_only_its_own_blocks(boot, tmp_path):
    a, b, _, _ = pair(boot, tmp_path, a_disks=[("g", "64M")], b_disks=[("g", "64M")])
    ca, cb = a.console(), b.console()
    fill(ca, "g", 1, 0, 16384)  # 8 MiB: 128 blocks
    assert ca.run("disk snapshot g").ok  # base g@1, as the store names snapshots
    for child, seed in (("c1", 2), ("c2", 3)):
        assert ca.run(f"disk create {child} 64M base=g@1").ok
        fill(ca, child, seed, 0, 2048)  # 1 MiB of its own: 16 blocks
    sums = {d: disk_sum(ca, d) for d in ("c1", "c2")}
    # The destination has a base called g@1 too, with other content.
    assert cb.run("disk snapshot g").ok
    assert cb.run(f"migrate listen from={A_IP}").ok

    # Never trusted by name: c1 travels whole, its base's blocks included.
    assert ca.run("vm create v1 counter interval=50 disk=c1").ok
    assert ca.run("vm start v1").ok
    st = migrate(ca, "v1", B_IP)
    assert st["phase"] == "done", st
    assert int(st["disk_bases_skipped"]) == 0, st
    assert int(st["disk_blocks_total"]) == 128, st
    assert cb.run("vm destroy v1").ok
    assert info(cb, "disk info c1")["parent"] == "-"
    assert disk_sum(cb, "c1") == sums["c1"]

    # The real base goes over once, and stays a base with its content ID.
    assert cb.run("disk delete g").ok
    assert cb.run("disk delete g@1").ok
    assert cb.run("disk receive").ok  # from the peers VMs may come from
    assert ca.run(f"disk send g@1 {B_IP}").ok
    st = wait_disk_xfer(ca)
    assert st["phase"] == "done", st
    g = info(cb, "disk info g@1")
    assert g["base"] == "1" and g["content_id"] == info(ca, "disk info g@1")["content_id"]

    # Now only c2's own 16 blocks move, and c2 is re-parented onto it.
    assert ca.run("vm create v2 counter interval=50 disk=c2").ok
    assert ca.run("vm start v2").ok
    st = migrate(ca, "v2", B_IP)
    assert st["phase"] == "done", st
    assert int(st["disk_bases_skipped"]) == 1, st
    assert int(st["disk_blocks_total"]) == 16, st
    assert int(st["disk_bytes"]) <= 16 * 65536, st
    assert cb.run("vm destroy v2").ok
    assert info(cb, "disk info c2")["parent"] == "g@1"
    assert disk_sum(cb, "c2") == sums["c2"]


def test_a_changed_source_disk_is_not_resumed_and_its_fragment_is_dropped(boot, tmp_path):
    a, b, _, _ = pair(boot, tmp_path, a_disks=[("s", "48M")], b_config="disk_checkpoint=2M\n")
    ca, cb = a.console(), b.console()
    fill(ca, "s", 21, 0, 48 * 2048)
    assert cb.run(f"disk receive from={A_IP}").ok
    assert ca.run(f"disk send s {B_IP}").ok
    wait_bytes(cb, "disk status", "incoming_bytes_sent", 16 * MIB)
    a.monitor("set_link n0 off")
    assert wait_disk_xfer(ca, 60)["phase"] == "failed"
    a.monitor("set_link n0 on")
    wait_field(cb, "disk status", "incoming_phase", "failed", timeout=60)
    assert len(fragments(cb)) == 1
    # The source disk changes meanwhile: a new content ID.
    fill(ca, "s", 22, 0, 64)
    time.sleep(RX_SETTLE_S)
    since = len(cb.text())
    assert ca.run(f"disk send s {B_IP}").ok
    st = wait_disk_xfer(ca, 120)
    assert st["phase"] == "done", st
    assert int(st["resumed_at"]) == 0, st
    cb.wait_for(r"disk s: fragment \d+ dropped, not resumed: the source disk changed since",
                10, start=since)
    assert disk_sum(cb, "s") == disk_sum(ca, "s")


def test_shared_disks_travel_as_identity_only(boot, tmp_path):
    img = store_image(tmp_path, "one.img", "256M", [("s1", "32M"), ("s2", "32M")])
    copy = tmp_path / "two.img"
    copy.write_bytes(img.read_bytes())  # one datastore, seen by both
    port = hvlaunch.free_port()
    a = boot(wait=False, net=f"listen:{port}", mac=MAC_A, disk=str(img),
             config=f"ip={A_IP}/24\n")
    a.console()
    time.sleep(0.3)
    b = boot(wait=False, net=f"connect:{port}", mac=MAC_B, disk=str(copy),
             config=f"ip={B_IP}/24\n")
    ca, cb = a.console(), b.console()
    a.wait_prompt(BOOT_TIMEOUT)
    b.wait_prompt(BOOT_TIMEOUT)
    time.sleep(RX_SETTLE_S)
    assert cb.run(f"migrate listen from={A_IP}").ok
    # Unchanged since the copy: the destination's disk is the source's.
    assert ca.run("vm create c counter interval=50 disk=s1").ok
    assert ca.run("vm start c").ok
    st = migrate(ca, "c", B_IP, extra="disks=shared")
    assert st["phase"] == "done", st
    assert int(st["disk_bytes"]) == 0 and int(st["bytes"]) < 2 * MIB, st
    assert vm_state(cb, "c") in ("running", "halted")
    assert ca.command("disk info s1").ok, "a shared disk is never deleted"
    # Written here after the copy: the destination's is not the same disk.
    fill(ca, "s2", 5, 0, 64)
    assert ca.run("vm create d counter interval=50 disk=s2").ok
    assert ca.run("vm start d").ok
    st = migrate(ca, "d", B_IP, extra="disks=shared")
    assert st["phase"] == "failed", st
    assert "content IDs differ" in st["reason"], st
    assert vm_state(ca, "d") in ("running", "halted")
    assert vm_state(cb, "d") is None
