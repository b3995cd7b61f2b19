"""Migration in the middle of everything else, on two instances of two CPUs
each (QEMU, multi-threaded TCG): VMs go back and forth between them, one
with two vCPUs, from and to CPU 1, while on both sides other VMs, some with
two vCPUs, are created, placed, dirty logged, harvested, moved and
destroyed, for a bounded time. Then what went back and forth is intact,
every page is back on both sides, and each console answered throughout."""

import itertools
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from hvconsole import footprint_settles_at, memory_footprint  # noqa: E402
from netpair import start_pair  # noqa: E402
from test_migrate import A_IP, B_IP, MTTCG, memtouch_says, pin, vm_state  # noqa: E402

CHURN_S = 45
COMMAND_TIMEOUT = 20


def churn(side):
    """Commands for one console, for good: a small VM at a time (every other
    one with two vCPUs) created on a CPU, dirty logged and harvested, moved
    to the other CPU, harvested, destroyed."""
    for j in itertools.count():
        name, cpu = f"s{side}{j}", j % 2
        if j % 2:
            create = f"vm create {name} smp mem=16M cpus=2 count"
        else:
            create = f"vm create {name} counter mem=4M interval=5"
        yield from (create, f"vm pin {name} all {cpu}", f"vm start {name}",
                    f"dirty start {name}", f"dirty harvest {name}",
                    f"vm pin {name} all {1 - cpu}", f"dirty harvest {name}",
                    f"vm destroy {name}")


def counts(con, name, since):
    """The 'count:' lines the smp guest printed: per vCPU and IPIs lost."""
    out = []
    for line in con.text()[since:].split("\n"):
        m = re.fullmatch(rf"\[vm:{name}\] count: ([\d ]+) lost (\d+)", line)
        if m:
            out.append(([int(x) for x in m.group(1).split()], int(m.group(2))))
    return out


def test_stress_migrating_while_vms_come_and_go_on_every_cpu(boot):
    a, b = start_pair(boot, cpus=2, extra_args=MTTCG)
    ca, cb = a.console(), b.console()
    cons = {"a": ca, "b": cb}
    ip = {"a": A_IP, "b": B_IP}
    assert cb.run(f"migrate listen from={A_IP}").ok
    assert ca.run(f"migrate listen from={B_IP}").ok
    before = {s: memory_footprint(c) for s, c in cons.items()}

    assert ca.run("vm create m memtouch mem=16M pages=2048 rate=500 mode=rand report=0").ok
    assert ca.run("vm create k smp mem=16M cpus=2 count").ok
    for vm in ("m", "k"):
        pin(ca, vm, 1)
        assert ca.run(f"vm start {vm}").ok
    where = {"m": "a", "k": "a"}
    time.sleep(1)

    churners = {s: churn(s) for s in cons}
    slowest, moves, steps = 0.0, 0, 0
    deadline = time.monotonic() + CHURN_S
    while time.monotonic() < deadline or moves < 4:
        vm = ("m", "k")[moves % 2]
        src = where[vm]
        dst = "b" if src == "a" else "a"
        since = len(cons[dst].text())
        assert cons[src].run(f"migrate send {vm} {ip[dst]}").ok
        end = time.monotonic() + 240
        while True:
            for s, c in cons.items():
                cmd = next(churners[s])
                t0 = time.monotonic()
                res = c.command(cmd, timeout=COMMAND_TIMEOUT)
                slowest = max(slowest, time.monotonic() - t0)
                assert res.ok, (s, cmd, res.error)
                steps += 1
            st = cons[src].run("migrate status").fields()
            if st["phase"] in ("done", "failed", "outcome-unknown"):
                break
            assert time.monotonic() < end, f"migration of {vm} did not end: {st}"
        assert st["phase"] == "done", st
        assert vm_state(cons[src], vm) is None
        assert vm_state(cons[dst], vm) == "running"
        where[vm] = dst
        # It arrives placed as it ran on the source (the PLACEMENT record).
        info = cons[dst].run(f"vm info {vm}").fields()
        assert all(" cpu=1 " in info[f"vcpu{i}"] for i in range(int(info["vcpus"]))), info
        if vm == "m":
            memtouch_says(cons[dst], "m", "v", "verify ok 2048 pages")
        else:  # its vCPUs count on and take their IPIs on the destination
            cons[dst].wait_for(r"\[vm:k\] count: .* lost \d+\n", 30, start=since)
            seen = counts(cons[dst], "k", since)
            assert seen and all(lost == 0 for _, lost in seen), seen[-3:]
            assert len(seen[-1][0]) == 2
        moves += 1

    memtouch_says(cons[where["m"]], "m", "v", "verify ok 2048 pages")
    for vm, s in where.items():
        assert cons[s].run(f"vm destroy {vm}").ok
    for s, c in cons.items():
        for line in c.run("vm list").lines[1:]:
            assert c.run(f"vm destroy {line.split()[0]}").ok
        assert c.run("vm list").lines[1:] == []
        # What left kept its memory as a seed for its return: a cache.
        assert c.run("migrate seeds drop all").ok
        assert c.run("mem").number("migration_seeds") == 0
        assert not footprint_settles_at(c, before[s]), f"{s}: pages lost"
    assert moves >= 4 and steps > 0
    print(f"stress: {moves} migrations and {steps} other commands in {CHURN_S} s, "
          f"slowest command {slowest:.2f} s")


def test_a_vcpu_whose_cpu_the_destination_lacks_arrives_on_cpu_0(boot):
    """The source runs vCPU 1 on CPU 1; the destination's CPU 1 did not come
    up: that vCPU arrives on CPU 0 with a warning saying why, vCPU 0 where
    it was, and both count on without losing an IPI."""
    a, b = start_pair(boot, cpus=2, extra_args=MTTCG,
                      b_config="ip=10.0.0.2/24\ndebug_fail_cpu=1\n")
    ca, cb = a.console(), b.console()
    assert cb.run(f"migrate listen from={A_IP}").ok
    assert ca.run("vm create k smp mem=16M cpus=2 count").ok
    assert ca.run("vm pin k 1 1").ok
    assert ca.run("vm start k").ok
    ca.wait_for(r"\[vm:k\] count: ", 60)
    since = len(cb.text())
    assert ca.run(f"migrate send k {B_IP}").ok
    deadline = time.monotonic() + 180
    while (st := ca.run("migrate status").fields())["phase"] not in ("done", "failed",
                                                                     "outcome-unknown"):
        assert time.monotonic() < deadline, st
        time.sleep(0.2)
    assert st["phase"] == "done", st
    cb.wait_for(r"vm k: vcpu 1 stays on cpu 0, not on cpu 1 as on the source: "
                r"cpu 1 is not online", 10, start=since)
    info = cb.run("vm info k").fields()
    assert " cpu=0 " in info["vcpu0"] and " cpu=0 " in info["vcpu1"], info
    cb.wait_for(r"\[vm:k\] count: .* lost \d+\n", 30, start=since)
    seen = counts(cb, "k", since)
    assert seen and all(lost == 0 for _, lost in seen), seen[-3:]
    assert len(seen[-1][0]) == 2

