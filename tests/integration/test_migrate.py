"""Live migration between two QEMU instances on one link: a counter goes on
counting on the destination, a guest writing its memory arrives with every
page right (with the default dirty log and with each mode QEMU has), and failures (refused stream, destination killed mid-transfer)
leave the guest running on the source, after which a retry works; and the
way back."""

import os
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from guests import counter_values  # noqa: E402
from hvconsole import footprint_settles_at, memory_footprint  # noqa: E402
from netpair import MAC_B, RX_SETTLE_S, start_pair, wait_field  # noqa: E402

A_IP, B_IP = "10.0.0.1", "10.0.0.2"


def migrate(src, name, dst_ip, timeout=180, extra=""):
    """Starts a migration and waits for it to end; returns the status."""
    assert src.run(f"migrate send {name} {dst_ip} {extra}".strip()).ok
    deadline = time.time() + timeout
    while True:
        f = src.run("migrate status").fields()
        if f["phase"] in ("done", "failed", "outcome-unknown"):
            return f
        assert time.time() < deadline, f"migration did not end: {f}"
        time.sleep(0.5)


def vm_state(con, name):
    for line in con.run("vm list").lines[1:]:
        words = line.split()
        if words[0] == name:
            return words[1]
    return None


def memtouch_says(con, vm, cmd, pattern, timeout=60):
    start = len(con.text())
    assert con.run(f"vm send {vm} {cmd}").ok
    return con.wait_for(rf"\[vm:{vm}\] memtouch: {pattern}", timeout, start=start)


@pytest.mark.parametrize("handover", ["confirmed", "pipelined"])
def test_counter_continues_on_the_destination(boot, handover):
    """Confirmed: GO waits for READY. Pipelined: GO follows END at once.
    The pipelined VM is strict about unbacked accesses (unbacked=stop) and
    stays so on the destination."""
    a, b = start_pair(boot)
    ca, cb = a.console(), b.console()
    assert cb.run(f"migrate listen from={A_IP}").ok
    unbacked = "stop" if handover == "pipelined" else "abort"
    assert ca.run(f"vm create c counter interval=20 unbacked={unbacked}").ok
    assert ca.run("vm start c").ok
    time.sleep(1.5)

    st = migrate(ca, "c", B_IP, extra=f"handover={handover}")
    assert st["phase"] == "done" and st["handover"] == handover, st
    assert int(st["downtime_ms"]) < int(st["total_ms"])
    assert int(st["zero_pages"]) > 10000  # a 64 MiB guest using a few pages
    assert int(st["bytes"]) < 64 << 20
    # Gone from the source, running on the destination.
    assert vm_state(ca, "c") is None
    assert vm_state(cb, "c") in ("running", "halted")
    assert cb.run("vm info c").fields()["unbacked"] == unbacked
    inc = cb.run("migrate status").fields()
    assert inc["incoming_phase"] == "done" and inc["incoming_vm"] == "c"
    # TLS by default, the same suite on both ends.
    suite = "tls1.2 TLS-ECDHE-PSK-WITH-CHACHA20-POLY1305-SHA256"
    assert st["channel"] == suite and inc["incoming_channel"] == suite, (st, inc)

    time.sleep(1.5)
    before, after = counter_values(ca, "c"), counter_values(cb, "c")
    assert len(before) > 10 and len(after) > 10, (before[-3:], after[:3])
    # None skipped, none repeated, across the hand-over.
    seq = before + after
    assert seq == list(range(seq[0], seq[0] + len(seq))), (before[-5:], after[:5])


def memtouch_on_a_pair(boot, args):
    """Two instances that take migrations from each other, and memtouch
    (4096 pages of 64 MiB) running on A: the consoles."""
    a, b = start_pair(boot)
    ca, cb = a.console(), b.console()
    assert cb.run(f"migrate listen from={A_IP}").ok
    assert ca.run(f"migrate listen from={B_IP}").ok
    assert ca.run(f"vm create m memtouch mem=64M pages=4096 {args} report=0").ok
    assert ca.run("vm start m").ok
    return ca, cb


# AMD's legacy performance counters, as the guest set them (an event
# select with GuestOnly, a counter near its 48-bit top): they travel in a
# VCPU_MSRS record.
PERF_MSRS = {0xc0010002: 0x200004300c0, 0xc0010006: 0xfffffff00001}


def perf_msrs_read(con):
    return {msr: int(memtouch_says(con, "m", f"\"m {msr:x}\"", rf"msr 0x{msr:x} = 0x([0-9a-f]+)\s")
                     .group(1), 16) for msr in PERF_MSRS}


def test_writing_guest_arrives_intact_and_goes_back(boot):
    ca, cb = memtouch_on_a_pair(boot, "rate=2000")
    for msr, value in PERF_MSRS.items():
        memtouch_says(ca, "m", f"\"m {msr:x} {value:x}\"", f"msr 0x{msr:x} = 0x{value:x}")
    time.sleep(2)

    st = migrate(ca, "m", B_IP)
    assert st["phase"] == "done", st
    rounds = [int(x) for x in st["pages_per_round"].split()]
    assert len(rounds) >= 2 and rounds[1] > 0, rounds  # it wrote during pre-copy
    memtouch_says(cb, "m", "v", "verify ok 4096 pages")
    assert perf_msrs_read(cb) == PERF_MSRS

    # And back again, with the dirty log of the first trip gone.
    st = migrate(cb, "m", A_IP)
    assert st["phase"] == "done", st
    memtouch_says(ca, "m", "v", "verify ok 4096 pages")
    assert perf_msrs_read(ca) == PERF_MSRS
    assert ca.run("dirty stats m").fields()["active"] == "no"


# The tracking modes QEMU (SVM + NPT) has; PML is VMX-only and the
# migration pair runs under QEMU.
QEMU_DIRTY_MODES = ("wp", "ad")


@pytest.mark.parametrize("mode,chosen_by", [(m, "option") for m in QEMU_DIRTY_MODES] +
                         [("wp", "dirty-start")])
def test_writing_guest_migrates_intact_with_each_dirty_mode(boot, mode, chosen_by):
    """The source's dirty log runs in the mode asked for: with 'migrate send
    ... mode=M', or by a log the operator started ('dirty start NAME
    mode=M'), which the migration then uses (it harvests it once and goes on
    from there). The guest keeps writing, in random order, all along."""
    a, b = start_pair(boot)
    ca, cb = a.console(), b.console()
    assert cb.run(f"migrate listen from={A_IP}").ok
    assert ca.run("vm create m memtouch mem=64M pages=4096 rate=2000 mode=rand report=0").ok
    assert ca.run("vm start m").ok
    time.sleep(1)
    if chosen_by == "dirty-start":
        f = ca.run(f"dirty start m mode={mode}").fields()
        assert f["mode"] == mode, f
        option = ""
    else:
        option = f" mode={mode}"

    # Capped, and with a target below what one round leaves (~800 pages at
    # 100 Mbit/s fit 300 ms), so the pre-copy lasts long enough to look at
    # the log it uses (whole pages: deltas would end it before a look sees a
    # harvest).
    assert ca.run(f"migrate send m {B_IP} bandwidth=100 downtime=100 delta=off{option}").ok
    seen = []
    deadline = time.time() + 180
    while True:
        st = ca.run("migrate status").fields()
        if st["phase"] in ("done", "failed", "outcome-unknown"):
            break
        if st["phase"] == "precopy":
            d = ca.command("dirty stats m")  # the VM is gone from here once done
            if d.ok:
                seen.append(d.fields())
        assert time.time() < deadline, f"migration did not end: {st}"
        time.sleep(0.2)
    assert st["phase"] == "done", st
    assert st["dirty_mode"] == mode, st
    rounds = [int(x) for x in st["pages_per_round"].split()]
    assert len(rounds) >= 2 and rounds[1] > 0, rounds  # it wrote during pre-copy
    # The migration ran on a log in that mode, harvesting it round after round.
    assert seen, "the pre-copy ended before 'dirty stats' could be read"
    assert all(d["active"] == "yes" and d["mode"] == mode for d in seen), seen
    # Each round after the first is one harvest; the last round can end
    # between two looks at the log.
    assert int(seen[-1]["harvests"]) >= max(1, min(2, len(rounds) - 2)), (seen[-1], rounds)
    if mode == "wp":
        assert int(seen[-1]["wp_faults"]) > 0, seen[-1]
    else:
        assert int(seen[-1]["wp_faults"]) == 0, seen[-1]

    assert vm_state(ca, "m") is None
    memtouch_says(cb, "m", "v", "verify ok 4096 pages")
    # Still writing there, and still right.
    memtouch_says(cb, "m", "s", "written .* running")
    time.sleep(1)
    memtouch_says(cb, "m", "v", "verify ok 4096 pages")
    assert cb.run("dirty stats m").fields()["active"] == "no", "the log does not travel"


MTTCG = ["-accel", "tcg,thread=multi"]


def pin(con, vm, cpu):
    res = con.run(f"vm pin {vm} all {cpu}")
    assert res.ok and res.fields()["vcpu0"] == f"cpu {cpu}", res


def test_a_vm_on_another_cpu_migrates_there_and_back(boot):
    """The guest keeps writing on CPU 1 while CPU 0 sends it: every change of
    its tables (log start, each harvest, stop) holds it off CPU 1 first, and
    the pause before the last round stops it there. It arrives intact, is
    placed on CPU 1 at the destination too, and comes back intact."""
    a, b = start_pair(boot, cpus=2, extra_args=MTTCG)
    ca, cb = a.console(), b.console()
    assert cb.run(f"migrate listen from={A_IP}").ok
    assert ca.run(f"migrate listen from={B_IP}").ok
    assert ca.run("vm create m memtouch mem=64M pages=4096 rate=2000 mode=rand report=0").ok
    pin(ca, "m", 1)
    assert ca.run("vm start m").ok
    time.sleep(1)

    for src, dst, dst_ip in ((ca, cb, B_IP), (cb, ca, A_IP)):
        assert src.run(f"migrate send m {dst_ip} bandwidth=100").ok
        deadline = time.time() + 180
        while True:
            st = src.run("migrate status").fields()
            if st["phase"] in ("done", "failed", "outcome-unknown"):
                break
            assert time.time() < deadline, f"migration did not end: {st}"
            time.sleep(0.2)
        assert st["phase"] == "done", st
        rounds = [int(x) for x in st["pages_per_round"].split()]
        assert len(rounds) >= 2 and rounds[1] > 0, rounds  # it wrote during pre-copy
        # Its log was started and harvested while it ran on cpu 1: each
        # change held it off that CPU (the last harvest follows the pause,
        # which held it already, so it kicks nothing but still counts).
        assert int(st["harvests"]) >= len(rounds) - 1, st
        assert int(st["shootdowns"]) == int(st["harvests"]) + 1, st
        assert vm_state(src, "m") is None
        memtouch_says(dst, "m", "v", "verify ok 4096 pages")
        assert dst.run("vm info m").fields()["vcpu0_cpu"] == "1"  # as on the source
        memtouch_says(dst, "m", "s", "written .* running")
    memtouch_says(ca, "m", "v", "verify ok 4096 pages")


def test_fast_dirtier_is_throttled_to_the_end(boot):
    a, b = start_pair(boot)
    ca, cb = a.console(), b.console()
    assert cb.run(f"migrate listen from={A_IP}").ok
    # Writes its 16 MiB as fast as it can (1,000-2,700 pages/s under TCG, 33-88
    # Mbit/s, measured); the link is held to 20 Mbit/s, below that whatever
    # the host's load (at 100 Mbit/s a slow run converged on its own).
    assert ca.run("vm create m memtouch mem=32M pages=4096 rate=0 report=0").ok
    assert ca.run("vm start m").ok
    time.sleep(1)
    st = migrate(ca, "m", B_IP, extra="bandwidth=20 rounds=6", timeout=300)
    assert st["phase"] == "done", st
    assert st["converging"] == "no", st
    assert int(st["throttle_pct"]) > 0, st
    rounds = [int(x) for x in st["pages_per_round"].split()]
    assert len(rounds) <= 7, rounds
    memtouch_says(cb, "m", "v", "verify ok 4096 pages")
    inc = cb.run("migrate status").fields()
    assert int(inc["incoming_round"]) == len(rounds) - 1


def test_refused_stream_leaves_the_guest_running(boot):
    a, b = start_pair(boot)
    ca, cb = a.console(), b.console()
    assert cb.run("migrate listen from=10.0.0.99").ok  # not A
    assert ca.run("vm create c counter interval=20").ok
    assert ca.run("vm start c").ok

    st = migrate(ca, "c", B_IP)
    assert st["phase"] == "failed" and "refused" in st["reason"], st
    assert vm_state(ca, "c") in ("running", "halted")
    assert vm_state(cb, "c") is None
    n = len(counter_values(ca, "c"))
    time.sleep(1)
    assert len(counter_values(ca, "c")) > n, "the counter goes on at the source"

    # A VM name the destination has already is refused too.
    assert cb.run(f"migrate listen from={A_IP}").ok
    assert cb.run("vm create c hello").ok
    st = migrate(ca, "c", B_IP)
    assert st["phase"] == "failed" and "exists" in st["reason"], st
    assert vm_state(cb, "c") == "created"
    # Renamed, it goes.
    st = migrate(ca, "c", B_IP, extra="as=c2")
    assert st["phase"] == "done", st
    assert vm_state(cb, "c2") in ("running", "halted")


def start_slow_transfer(ca, cb, mem, mbit_s):
    """B accepts from A; VM m (memtouch, enough written memory and a
    bandwidth cap that the transfer takes seconds) is in pre-copy to B."""
    assert cb.run(f"migrate listen from={A_IP}").ok
    assert ca.run(f"vm create m memtouch mem={mem} rate=0 report=0").ok
    assert ca.run("vm start m").ok
    time.sleep(2)
    assert ca.run(f"migrate send m {B_IP} bandwidth={mbit_s}").ok
    wait_field(ca, "migrate status", "phase", "precopy", timeout=30)
    time.sleep(1)


def test_destination_killed_mid_transfer_then_retry(boot):
    a, b = start_pair(boot)
    ca, cb = a.console(), b.console()
    start_slow_transfer(ca, cb, "256M", 200)
    b.kill()

    f = wait_field(ca, "migrate status", "phase", "failed", timeout=120).fields()
    # TCP keepalive (~9 s) or the source's own stall bound (10 s).
    assert any(w in f["reason"] for w in ("acknowledging", "reset", "stopped answering")), f
    assert vm_state(ca, "m") in ("running", "halted")
    assert ca.run("dirty stats m").fields()["active"] == "no"
    memtouch_says(ca, "m", "v", r"verify ok \d+ pages", timeout=120)

    # A new destination on the same link: the retry goes through.
    b2 = boot(wait=False, net=f"connect:{a.port}", nic="virtio", mac=MAC_B,
              config=f"ip={B_IP}/24\n")
    b2.wait_prompt(120)
    time.sleep(RX_SETTLE_S)
    c2 = b2.console()
    assert c2.run(f"migrate listen from={A_IP}").ok
    assert ca.run("vm send m p").ok  # stop writing so the retry converges quickly
    st = migrate(ca, "m", B_IP, timeout=300)
    assert st["phase"] == "done", st
    memtouch_says(c2, "m", "v", r"verify ok \d+ pages", timeout=120)


def test_link_cut_mid_transfer_then_retry(boot):
    a, b = start_pair(boot)
    ca, cb = a.console(), b.console()
    start_slow_transfer(ca, cb, "128M", 100)
    a.monitor("set_link n0 off")  # the cable, as A's NIC sees it

    f = wait_field(ca, "migrate status", "phase", "failed", timeout=60).fields()
    assert "acknowledging" in f["reason"] or "stopped answering" in f["reason"], f
    assert vm_state(ca, "m") in ("running", "halted")
    # Both sides notice within the same bound: the destination's keepalive
    # gives up on the silent source and drops its partial copy.
    inc = wait_field(cb, "migrate status", "incoming_phase", "failed", timeout=20).fields()
    assert "stopped answering" in inc["incoming_reason"], inc

    a.monitor("set_link n0 on")
    wait_field(ca, "net", "link", "up")
    assert ca.run("vm send m p").ok
    st = migrate(ca, "m", B_IP, timeout=300)
    assert st["phase"] == "done", st
    memtouch_says(cb, "m", "v", r"verify ok \d+ pages", timeout=120)


def test_console_errors(boot):
    a, _ = start_pair(boot)
    ca = a.console()
    for cmd, want in (("migrate", "usage: migrate"),
                      ("migrate send nosuch 10.0.0.2", "no VM named"),
                      ("migrate send", "usage: migrate send"),
                      ("migrate listen", "give 1-8 peers"),
                      ("migrate listen from=10.0.0.300", "not an IPv4 address"),
                      ("migrate cancel", "no migration is in progress"),
                      ("migrate seeds drop nosuch", "no seed of a VM named 'nosuch'"),
                      ("migrate seeds now", "usage: migrate seeds")):
        r = ca.command(cmd)
        assert not r.ok and want in r.error, (cmd, r.error)
    assert ca.run("vm create c counter").ok
    r = ca.command("migrate send c 10.0.0.2 downtime=0")
    assert not r.ok and "bad option" in r.error
    r = ca.command("migrate send c 10.0.0.2:0")
    assert not r.ok and "port" in r.error
    for opt, form in (("signatures=maybe", "(signatures=on|off)"), ("delta=1", "(delta=on|off)"),
                      ("speed=3", "options: downtime")):
        r = ca.command(f"migrate send c 10.0.0.2 {opt}")
        assert not r.ok and "bad option" in r.error and form in r.error, r.error
    r = ca.command("migrate send c 10.0.0.2 mode=bogus")
    assert not r.ok and "bad option" in r.error and "mode=wp|ad|pml" in r.error
    # Refused before anything starts: the VM is left as it was, free to go.
    r = ca.command("migrate send c 10.0.0.2 mode=pml")
    assert not r.ok and "PML needs Intel VMX" in r.error, r.error
    assert ca.run("dirty start c mode=wp").ok
    r = ca.command("migrate send c 10.0.0.2 mode=ad")
    assert not r.ok and "runs in mode wp already" in r.error, r.error
    assert ca.run("dirty stats c").fields()["mode"] == "wp"
    assert ca.run("vm start c").ok and vm_state(ca, "c") == "running"
    r = ca.command("migrate cancel")
    assert not r.ok and "no migration is in progress" in r.error


def test_guest_with_poisoned_pages_migrates_with_them(boot):
    a, b = start_pair(boot)
    ca, cb = a.console(), b.console()
    assert cb.run(f"migrate listen from={A_IP}").ok
    # memtouch, idle: its pages are written once and then left alone.
    assert ca.run("vm create m memtouch mem=64M pages=8192 idle report=0").ok
    assert ca.run("vm start m").ok
    m = memtouch_says(ca, "m", "s", r"written .* base (0x[0-9a-f]+) ")
    base = int(m.group(1), 16)
    memtouch_says(ca, "m", '"w 0 8192"', "wrote 8192 pages from 0")
    bad = [base + 100 * 4096, base + 5000 * 4096]
    for gpa in bad:
        r = ca.run(f"mce inject m:0x{gpa:x}").fields()
        assert r["owner"] == "guest", r
    assert ca.run("vm pause m").ok  # so both checksums see the same memory
    before = ca.run("vm memsum m").fields()
    assert before["poisoned"].split() == [f"0x{g:x}" for g in bad]

    st = migrate(ca, "m", B_IP)
    assert st["phase"] == "done" and st["poison_pages"] == "2", st
    after = cb.run("vm memsum m").fields()
    # The same two pages are poisoned there; every other page is the same.
    assert after["poisoned"] == before["poisoned"]
    assert after["checksum"] == before["checksum"] and after["pages"] == before["pages"]
    assert vm_state(cb, "m") == "paused"  # as it was on the source
    assert cb.run("vm info m").fields()["poisoned_pages"] == "2"

    # Touching one on the destination fails as it would have on the source.
    assert cb.run("vm resume m").ok
    cb.run("vm send m \"w 100 1\"")
    deadline = time.time() + 20
    while vm_state(cb, "m") != "crashed":
        assert time.time() < deadline, cb.run("vm list").text()
        time.sleep(0.2)
    reason = cb.run("vm info m").fields()["reason"]
    assert f"poisoned guest page 0x{bad[0]:x} " in reason, reason


OTHER_KEY = "00112233445566778899aabbccddeeff"


def test_a_peer_without_the_key_is_refused_before_any_vm_exists(boot):
    """Authentication: B holds another key. The handshake fails on both
    sides, B creates no VM and allocates no guest memory, A's VM runs on;
    a plaintext peer is refused by a TLS side too."""
    a, b = start_pair(boot, b_config=f"ip={B_IP}/24\nmigrate_psk={OTHER_KEY}\n")
    ca, cb = a.console(), b.console()
    assert cb.run(f"migrate listen from={A_IP}").ok
    assert ca.run("vm create c counter interval=20").ok
    assert ca.run("vm start c").ok
    before = memory_footprint(cb)
    st = migrate(ca, "c", B_IP, timeout=60)
    assert st["phase"] == "failed", st
    assert "different key" in st["reason"], st
    assert vm_state(ca, "c") in ("running", "halted")
    assert vm_state(cb, "c") is None
    inc = cb.run("migrate status").fields()
    assert inc.get("incoming_phase") in ("failed", "idle", None), inc
    assert not footprint_settles_at(cb, before)
    assert "(hidden)" in cb.run("config").text() and OTHER_KEY not in cb.run("config").text()


def test_plaintext_only_when_both_sides_say_insecure(boot):
    insecure = f"ip={A_IP}/24\nmigrate_insecure=1\n"
    a, b = start_pair(boot, a_config=insecure)
    ca, cb = a.console(), b.console()
    assert "migrate_insecure=1" in ca.run("log").text()
    assert cb.run(f"migrate listen from={A_IP}").ok
    assert ca.run("vm create c counter interval=20").ok
    st = migrate(ca, "c", B_IP, timeout=60)
    assert st["phase"] == "failed", st
    # B requires TLS and names what it saw.
    text = cb.run("log").text()
    assert "speaks plaintext" in text or "speaks plaintext" in cb.run("migrate status").text(), text[-2000:]
    assert vm_state(ca, "c") == "created"


def test_both_sides_insecure_migrate_in_plaintext_and_say_so(boot):
    a, b = start_pair(boot, a_config=f"ip={A_IP}/24\nmigrate_insecure=1\n",
                      b_config=f"ip={B_IP}/24\nmigrate_insecure=1\n")
    ca, cb = a.console(), b.console()
    assert cb.run(f"migrate listen from={A_IP}").ok
    assert ca.run("vm create c counter interval=20").ok
    assert ca.run("vm start c").ok
    st = migrate(ca, "c", B_IP, timeout=60)
    assert st["phase"] == "done", st
    assert st["channel"] == "insecure"
    assert cb.run("migrate status").fields()["incoming_channel"] == "insecure"


def seeds(con):
    """`migrate seeds` as {vm: {column: value}}."""
    lines = con.run("migrate seeds").lines
    head = lines[1].split()
    return {w[0]: dict(zip(head[1:], w[1:])) for w in (ln.split() for ln in lines[2:])}


def test_the_way_back_sends_only_what_changed(boot):
    """A→B, 300 pages written on B, 10 s later B→A: A kept the VM's memory
    as a seed, so B sends signatures and A asks again only for the pages
    that changed; the guest's own record of its pages checks them."""
    ca, cb = memtouch_on_a_pair(boot, "idle")
    memtouch_says(ca, "m", "\"w 0 4096\"", "wrote 4096 pages from 0")

    there = migrate(ca, "m", B_IP)
    assert there["phase"] == "done", there
    # Nothing of it was here before: every page travels.
    assert there["seed_pages"] == "0" and there["sig_pages"] == "0", there
    kept = seeds(ca)
    assert kept["m"]["pages"] == "16384", kept

    memtouch_says(cb, "m", "\"w 1000 300\"", "wrote 300 pages from 1000")
    time.sleep(10)
    # Hashed ahead while it was away.
    assert seeds(ca)["m"]["hashed"] == "16384", seeds(ca)

    back = migrate(cb, "m", A_IP)
    assert back["phase"] == "done", back
    memtouch_says(ca, "m", "v", "verify ok 4096 pages")
    signed, missed = int(back["sig_pages"]), int(back["sig_misses"])
    # Every page memtouch wrote is non-zero, so signed; the 300 it rewrote
    # on B (plus its page generation table and stack) are the misses.
    assert signed >= 4096, back
    assert 300 <= missed <= 340, back
    inc = ca.run("migrate status").fields()
    assert int(inc["incoming_sig_pages"]) == signed - missed, inc
    assert int(inc["incoming_sig_misses"]) == missed, inc
    # Downtime seen on the destination: from the pause's message to running,
    # short of the source's figure (which adds RUNNING's way back).
    assert int(inc["incoming_downtime_ms"]) <= int(back["downtime_ms"]) + 1, (inc, back)
    assert int(inc["incoming_downtime_error_ms"]) < 1000, inc
    # The wire carries the misses in full and 40 bytes for each other page.
    full = int(there["bytes"])
    assert int(back["bytes"]) < full * 0.15, (back["bytes"], full)
    print(f"way there {full} bytes, way back {back['bytes']} bytes "
          f"({signed} signatures, {missed} pages sent again)")
    # The seed has served and is gone here; B keeps the VM's image now.
    assert "m" not in seeds(ca) and "m" in seeds(cb)
    assert cb.run("migrate seeds drop m").fields()["dropped"] == "1"
    assert seeds(cb) == {}
