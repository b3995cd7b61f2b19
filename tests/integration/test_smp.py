"""The hypervisor on every CPU: the APs started from the MADT (QEMU) or a
census (Bochs, whose OVMF has no ACPI tables), each with its own timer and
SVM or VMX on, reported by `cpu`; a CPU that fails to start is reported and
the others go on; VMs placed on other CPUs (`vm pin`) run there, move
between CPUs without losing state, and CPU 0 can still stop, inspect and
type into them. QEMU runs multi-threaded TCG so the CPUs really run side by
side on the 2-core host; Bochs runs VMX with two CPUs."""

import os
import re
import shutil
import time

import pytest

from conftest import BOOT_TIMEOUT, INSTANCE_ROOT, make_instance
from hvconsole import footprint_settles_at, memory_footprint
from guests import (counter_values, create_and_start, guest_lines, uptime, vcpu_run_ms,
                    wait_state)
from test_dirty import harvest, start_writers, write_while_harvesting
from test_vcpus import count_lines, wait_counts

MTTCG = ["-accel", "tcg,thread=multi"]
CPUS = {"qemu": 4, "bochs": 2}


def start(name, target, cpus, config=None):
    workdir = os.path.join(INSTANCE_ROOT, f"smp-{name}-{target}")
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    extra = {"extra_args": MTTCG} if target == "qemu" else {}
    inst = make_instance(target, workdir, cpus=cpus, config=config, **extra)
    inst.target = target
    inst.start()
    try:
        inst.wait_prompt(BOOT_TIMEOUT)
    except Exception:
        inst.kill()
        raise
    return inst


@pytest.fixture(scope="module", params=sorted(CPUS))
def smp_hv(request):
    inst = start("shared", request.param, CPUS[request.param])
    yield inst
    inst.kill()


@pytest.fixture
def con(smp_hv):
    c = smp_hv.console()
    yield c
    for line in c.run("vm list").lines[1:]:
        c.command(f"vm destroy {line.split()[0]}")


def cpu_table(con):
    """'cpu' as (cpus_online, {index: {key: value}})."""
    res = con.run("cpu")
    assert res.ok, res
    table = {}
    for line in res.lines:
        m = re.match(r"cpu(\d+): (.*)", line)
        if not m:
            continue
        fields, rest = {}, m.group(2)
        if " why=" in rest:
            rest, fields["why"] = rest.split(" why=", 1)
        fields.update(kv.split("=", 1) for kv in rest.split())
        table[int(m.group(1))] = fields
    return int(res.fields()["cpus_online"]), table


def pin(con, vm, cpu):
    res = con.run(f"vm pin {vm} all {cpu}")
    assert res.ok, res
    assert res.fields()["vcpu0"] == f"cpu {cpu}"
    assert con.run(f"vm info {vm}").fields()["vcpu0_cpu"] == str(cpu)


def test_every_cpu_comes_online_with_its_own_timer(smp_hv, con):
    cpus = CPUS[smp_hv.target]
    assert f"smp: {cpus} of {cpus} CPUs online" in con.text()
    online, before = cpu_table(con)
    assert online == cpus and sorted(before) == list(range(cpus))
    assert len({c["apic_id"] for c in before.values()}) == cpus, before
    for i, c in before.items():
        assert c["state"] == "online", (i, c)
        assert int(c["timer_khz"]) > 0, (i, c)
    time.sleep(2)
    _, after = cpu_table(con)
    for i in before:
        assert int(after[i]["ticks"]) > int(before[i]["ticks"]), (i, before[i], after[i])


def test_a_counter_moving_between_cpus_counts_on_without_a_gap(smp_hv, con):
    last = CPUS[smp_hv.target] - 1
    start_at = len(con.text())
    create_and_start(con, "mover", "counter", "mem=4M", "interval=20")
    for cpu in (1, last, 0, last):
        pin(con, "mover", cpu)
        seen = len(counter_values(con, "mover", start_at))
        con.wait_for(r"\[vm:mover\] counter: \d+\n", 60, start=len(con.text()))
        deadline = time.monotonic() + 60
        while len(counter_values(con, "mover", start_at)) < seen + 5:
            assert time.monotonic() < deadline, f"no progress on cpu {cpu}"
            time.sleep(0.2)
    assert con.run("vm pause mover").fields()["state"] == "paused"
    time.sleep(0.5)
    vals = counter_values(con, "mover", start_at)
    assert vals == list(range(vals[0], vals[0] + len(vals))), "a number lost or repeated"
    time.sleep(1)
    assert counter_values(con, "mover", start_at) == vals, "a paused VM on cpu %d ran" % last


def test_memtouch_on_other_cpus_keeps_its_memory(smp_hv, con):
    """Written on one CPU, moved while writing, verified on another."""
    last = CPUS[smp_hv.target] - 1
    assert con.run("vm create m1 memtouch mem=16M report=0").ok
    pin(con, "m1", last)
    assert con.run("vm start m1").ok
    time.sleep(1.5)
    pin(con, "m1", 1)
    time.sleep(1.5)
    start_at = len(con.text())
    con.run("vm send m1 p")
    con.wait_for(r"\[vm:m1\] memtouch: paused", 30, start=start_at)
    pin(con, "m1", 0)
    con.run("vm send m1 c")
    pin(con, "m1", last)
    con.run("vm send m1 c")
    con.run("vm send m1 v")
    con.run("vm send m1 s")
    con.wait_for(r"\[vm:m1\] memtouch: written .*\n", 60, start=start_at)
    lines = guest_lines(con, "m1", start_at)
    sums = [l for l in lines if l.startswith("memtouch: checksum")]
    assert len(sums) == 2 and sums[0] == sums[1], lines
    assert any(re.fullmatch(r"memtouch: verify ok \d+ pages", l) for l in lines), lines
    status = [l for l in lines if l.startswith("memtouch: written")][-1]
    assert int(status.split()[2]) > 0, status  # it did write before the pause


def test_typing_into_a_vm_on_another_cpu(smp_hv, con):
    assert con.run("vm create m2 memtouch mem=8M report=0 idle").ok
    pin(con, "m2", 1)
    assert con.run("vm start m2").ok
    start_at = len(con.text())
    con.send("vm console m2\r")
    con.wait_for(r"^attached to m2; Ctrl-\] detaches\nok\n", 30, start=start_at)
    start_at = len(con.text())
    con.send("s\r")
    con.wait_for(r"memtouch: written 0 passes 0 pages \d+ base 0x[0-9a-f]+ paused", 30,
                 start=start_at)
    con.send("\x1d")
    con.wait_prompt()
    assert con.run("vm destroy m2").ok
    assert "m2" not in con.run("vm list").text()


def test_placement_refusals(smp_hv, con):
    if smp_hv.target != "qemu":
        pytest.skip("the refusals are the same code on both backends")
    create_and_start(con, "far", "counter", "mem=4M", "interval=100")
    res = con.command("vm pin far 0 9")
    assert not res.ok and res.error == "cpu 9 is not online (see 'cpu')"
    res = con.command("vm pin far 1 2")
    assert not res.ok and res.error == "VM 'far' has one vCPU: 0 or all (not '1')"


def memtouch_says(con, name, line, expect):
    start = len(con.text())
    con.run(f"vm send {name} {line}")
    return con.wait_for(rf"\[vm:{name}\] memtouch: {expect}", 60, start=start)


def start_idle_memtouch(con, name):
    """A sequential memtouch, idle until resumed: its first data page and
    how many pages it writes."""
    start_at = len(con.text())
    create_and_start(con, name, "memtouch", "mem=16M", "report=0", "idle", "rate=400",
                     "mode=seq")
    m = con.wait_for(rf"\[vm:{name}\] memtouch: ready base 0x([0-9a-f]+) pages (\d+) rate", 30,
                     start=start_at)
    return int(m.group(1), 16) >> 12, int(m.group(2))


@pytest.mark.parametrize("mode", ("wp", "best"))
def test_dirty_log_of_a_vm_on_another_cpu_misses_nothing(smp_hv, con, mode):
    """The guest writes on its own CPU while CPU 0 harvests: every harvest
    holds it off that CPU while the tables change (the shootdown), and the
    pages seen over the harvests are exactly those written. The best mode is
    A/D bits on QEMU, PML on Bochs. The log also follows the VM to another
    CPU and back."""
    last = CPUS[smp_hv.target] - 1
    base, npages = start_idle_memtouch(con, "dl")
    pin(con, "dl", last)
    f = con.run("dirty start dl" + ("" if mode == "best" else f" mode={mode}")).fields()
    want = {"wp": "wp", "best": "pml" if smp_hv.target == "bochs" else "ad"}[mode]
    assert f["mode"] == want, f
    seen = set()
    memtouch_says(con, "dl", "r", "resumed")
    for cpu in (last, last, 0, last, last):
        time.sleep(0.3)
        seen |= harvest(con, "dl")
        pin(con, "dl", cpu)
    memtouch_says(con, "dl", "p", "paused")
    seen |= harvest(con, "dl")
    written = int(memtouch_says(con, "dl", "s", r"written (\d+) passes").group(1))
    assert written > 0
    data = set(range(base, base + npages))
    expected = {base + p for p in range(min(written, npages))}
    assert seen & data == expected, (
        f"written {written}: missed {sorted(expected - seen)[:10]}, "
        f"extra {sorted((seen - expected) & data)[:10]}")
    s = con.run("dirty stats dl").fields()
    harvests = int(s["harvests"])
    assert harvests == 6, s
    # The start and the five harvests made while it ran on cpu `last` held
    # it; the one made while it was on cpu 0 did not need to.
    assert int(s["shootdowns"]) == 6, s
    assert con.run("dirty stop dl").ok
    memtouch_says(con, "dl", "v", r"verify ok \d+ pages")


def test_a_cpu_that_fails_to_start_is_reported_and_the_others_go_on():
    inst = start("fail", "qemu", 3, config="debug_fail_cpu=1\n")
    try:
        con = inst.console()
        assert "smp: cpu 1 (APIC ID 1) is not online: debug_fail_cpu names it" in con.text()
        assert "smp: 2 of 3 CPUs online" in con.text()
        online, before = cpu_table(con)
        assert online == 2
        assert before[1]["state"] == "failed" and before[1]["why"] == "debug_fail_cpu names it"
        time.sleep(1)
        _, after = cpu_table(con)
        for i in (0, 2):
            assert after[i]["state"] == "online"
            assert int(after[i]["ticks"]) > int(before[i]["ticks"]), (i, before[i], after[i])
        create_and_start(con, "c", "counter", "mem=4M", "interval=20")
        res = con.command("vm pin c all 1")
        assert not res.ok and res.error == "cpu 1 is not online (see 'cpu')"
        pin(con, "c", 2)
        con.wait_for(r"\[vm:c\] counter: 3\n", 60)
    finally:
        inst.kill()


def test_cpus_setting_limits_the_cpus_used():
    """cpus=2 of 4; main_cpu names a CPU that is not started, so the main
    loop stays on CPU 0 with a warning."""
    inst = start("limit", "qemu", 4, config="cpus=2\nmain_cpu=3\n")
    try:
        con = inst.console()
        online, table = cpu_table(con)
        assert online == 2 and sorted(table) == [0, 1]
        assert "smp: 2 of 4 CPUs online" in con.text()
        assert ("smp: main_cpu=3 is not an online CPU (see 'cpu'); the main loop stays on cpu 0"
                in con.text())
        assert con.run("cpu").fields()["main_cpu"] == "0"
    finally:
        inst.kill()


def test_the_main_loop_runs_on_the_cpu_main_cpu_names():
    """main_cpu=2: the console, network and harvests run on CPU 2 and the
    boot CPU serves guests like any other. A new VM starts on CPU 2; pinned
    to CPU 0 it counts there (its lines reach the console through CPU 2),
    and its dirty log, harvested from CPU 2, holds it off CPU 0 for every
    harvest and misses no page."""
    inst = start("main2", "qemu", 3, config="main_cpu=2\n")
    try:
        con = inst.console()
        assert "smp: the main loop moves to cpu 2; cpu 0 runs guests placed on it" in con.text()
        assert re.search(r"console ready after \d+ ms \(main loop on cpu 2\)", con.text())
        assert con.run("cpu").fields()["main_cpu"] == "2"
        base, npages = start_idle_memtouch(con, "dl")
        assert con.run("vm info dl").fields()["vcpu0_cpu"] == "2", "placed on the main CPU"
        pin(con, "dl", 0)
        _, before = cpu_table(con)
        assert con.run("dirty start dl mode=wp").ok
        memtouch_says(con, "dl", "r", "resumed")
        seen = set()
        for _ in range(4):
            time.sleep(0.3)
            seen |= harvest(con, "dl")
        memtouch_says(con, "dl", "p", "paused")
        seen |= harvest(con, "dl")
        written = int(memtouch_says(con, "dl", "s", r"written (\d+) passes").group(1))
        assert written > 0
        expected = {base + p for p in range(min(written, npages))}
        data = set(range(base, base + npages))
        assert seen & data == expected, (sorted(expected - seen)[:10],
                                         sorted((seen - expected) & data)[:10])
        s = con.run("dirty stats dl").fields()
        assert int(s["harvests"]) == 5 and int(s["shootdowns"]) == 6, s
        assert con.run("dirty stop dl").ok
        memtouch_says(con, "dl", "v", r"verify ok \d+ pages")
        _, after = cpu_table(con)
        assert int(after[0]["ticks"]) > int(before[0]["ticks"]), (before[0], after[0])
        assert con.run("vm destroy dl").ok
    finally:
        inst.kill()


def test_stress_placing_moving_and_destroying_vms_leaks_nothing(smp_hv, con):
    """VMs created, placed, moved, paused, tracked and destroyed for a bounded
    time while others keep running on every CPU, one of them dirty logged
    and harvested throughout from CPU 0, and two-vCPU VMs dirty logged
    while their vCPUs move to different CPUs: afterwards every page is back, the tracked writer's
    memory is intact, and the console answered every command meanwhile."""
    if smp_hv.target != "qemu":
        pytest.skip("four CPUs under QEMU; Bochs' two run the other tests")
    cpus = CPUS["qemu"]
    before = memory_footprint(con)
    for i in range(cpus):  # one steady writer per CPU throughout
        assert con.run(f"vm create w{i} memtouch mem=8M report=0").ok
        pin(con, f"w{i}", i)
        assert con.run(f"vm start w{i}").ok
    assert con.run("dirty start w1").ok
    rounds, slowest, deadline = 0, 0.0, time.monotonic() + 30
    while time.monotonic() < deadline:
        name, cpu = f"s{rounds}", rounds % cpus
        image = ("counter interval=5", "memtouch report=0", "hello")[rounds % 3]
        if rounds % 4 == 0:
            image = "counter interval=5"  # dirty logging wants it running
        steps = [f"vm create {name} {image.split()[0]} mem=4M {' '.join(image.split()[1:])}",
                 f"vm pin {name} all {cpu}", f"vm start {name}",
                 f"vm pin {name} all {(cpu + 1) % cpus}", f"vm pause {name}",
                 f"vm pin w{rounds % cpus} 0 {(rounds + 2) % cpus}",
                 f"vm resume {name}", f"vm info {name}", f"vm destroy {name}"]
        if rounds % 4 == 0:  # a two-vCPU VM dirty logged while its vCPUs move apart
            steps[0] = f"vm create {name} smp mem=16M cpus=2 count"
            steps[3:4] = [f"dirty start {name}", f"dirty harvest {name}",
                          f"vm pin {name} 1 {(cpu + 1) % cpus}", f"dirty harvest {name}",
                          f"vm pin {name} 0 {(cpu + 2) % cpus}", f"dirty harvest {name}",
                          f"dirty stop {name}"]
        steps.append("dirty harvest w1")
        for cmd in steps:
            t0 = time.monotonic()
            res = con.command(cmd, timeout=20)
            slowest = max(slowest, time.monotonic() - t0)
            # A hello guest may have stopped already: resume refuses it.
            assert res.ok or (image == "hello" and cmd.startswith(("vm pause", "vm resume"))), \
                (cmd, res.error)
        rounds += 1
    s = con.run("dirty stats w1").fields()
    assert int(s["harvests"]) >= rounds and int(s["total_dirty_pages"]) > 0, s
    assert con.run("dirty stop w1").ok
    for i in range(cpus):
        start_at = len(con.text())
        con.run(f"vm send w{i} v")
        con.wait_for(rf"\[vm:w{i}\] memtouch: verify ok \d+ pages", 60, start=start_at)
        assert con.run(f"vm destroy w{i}").ok
    assert con.run("vm list").lines[1:] == []
    assert not footprint_settles_at(con, before), "pages lost"
    assert rounds >= 5, rounds
    print(f"stress: {rounds} rounds in 30 s, slowest command {slowest:.2f} s")


def test_a_machine_check_on_another_cpu_poisons_the_vm_there(smp_hv, con):
    """QEMU's `mce` raises #MC on CPU 1 itself: its own handler reads its own
    banks into its own queue, CPU 0 acts on it (holding the VM that CPU 1
    runs) and the guest, whose code is in that page, stops with the reason."""
    if smp_hv.target != "qemu":
        pytest.skip("Bochs emulates no machine-check banks")
    before = int(con.run("mce").fields()["uncorrected"])
    create_and_start(con, "mc", "counter", "mem=4M", "interval=20")
    pin(con, "mc", 1)
    con.wait_for(r"\[vm:mc\] counter: \d+\n", 60, start=len(con.text()))
    hpa = int(con.run("mce where mc:0x100000").fields()["hpa"], 16)
    # Paused, CPU 1 idles in the hypervisor: under TCG an #MC taken while
    # a guest runs goes to the guest.
    assert con.run("vm pause mc").ok
    smp_hv.monitor(f"mce 1 9 0xbd000000000000c0 0x7 0x{hpa:x} 0x8c")
    deadline = time.monotonic() + 30
    while int((f := con.run("mce").fields())["uncorrected"]) == before:
        assert time.monotonic() < deadline, f
        time.sleep(0.2)
    assert f"of VM mc (GPA 0x100000) poisoned and retired" in f["last"], f
    assert con.run("vm resume mc").ok
    info = wait_state(con, "mc", "crashed")
    assert "poisoned guest page 0x100000 " in info["reason"], info
    assert info["vcpu0_cpu"] == "1"


def test_a_broadcast_machine_check_meets_on_every_cpu_and_is_acted_on_once():
    """Intel broadcasts a #MC to every CPU. QEMU does so with `mce -b` (its
    other CPUs find an uncorrected error without an address in bank 1), on
    a CPU that calls itself GenuineIntel: all four CPUs enter the handler
    and meet, the real error's page is retired once, and the hypervisor goes
    on. Then a fatal one (processor context corrupt, on CPU 2): that CPU
    panics, once, and the others stop instead of going on."""
    workdir = os.path.join(INSTANCE_ROOT, "smp-mcebcast-qemu")
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    inst = make_instance("qemu", workdir, cpus=4,
                         extra_args=MTTCG + ["-cpu", "max,vendor=GenuineIntel"])
    inst.start()
    try:
        inst.wait_prompt(BOOT_TIMEOUT)
        con = inst.console()
        f = con.run("mce").fields()
        assert f["broadcast"].startswith("yes") and f["broadcast_rounds"] == "0", f
        inst.monitor("mce -b 0 9 0xbd000000000000c0 0x7 0xabcd000 0x8c")
        deadline = time.monotonic() + 30
        while "0xabcd000" not in (f := con.run("mce").fields()).get("last", ""):
            assert time.monotonic() < deadline, f
            time.sleep(0.2)
        assert f["exceptions"] == "4" and f["broadcast_rounds"] == "1", f
        assert f["broadcast_timeouts"] == "0", f
        assert re.fullmatch(r"4 of 4 CPUs, monarch cpu[0-3]", f["broadcast_last"]), f
        assert f["pages_retired_this_boot"] == "1", f
        assert f["last"] == "bank 9: free page 0xabcd000 retired", f
        assert cpu_table(con)[0] == 4, "every CPU is still online"

        start_at = len(con.text())
        inst.monitor("mce -b 2 1 0xa200000000000000 0x5 0 0")
        con.wait_for(r"processor context corrupt", 30, start=start_at)
        time.sleep(2)
        assert con.text()[start_at:].count("processor context corrupt") == 1, \
            con.text()[start_at:]
    finally:
        inst.kill()


def test_a_corrected_error_on_another_cpu_is_found_by_that_cpu_polling(smp_hv, con):
    """A corrected error raises no #MC (QEMU records it in the bank only):
    only polling finds it, and only CPU 3 can read CPU 3's banks. It polls
    them between its turns and queues what it finds for CPU 0."""
    if smp_hv.target != "qemu":
        pytest.skip("Bochs emulates no machine-check banks")
    before = con.run("mce").fields()
    start_at = len(con.text())
    smp_hv.monitor("mce 3 1 0x9400000000000000 0 0x5bad000 0")
    con.wait_for(r"mce: corrected error in bank 1 \(status 0x9400000000000000\)", 30,
                 start=start_at)
    after = con.run("mce").fields()
    assert int(after["corrected"]) == int(before["corrected"]) + 1, after
    assert int(after["found_by_polling"]) == int(before["found_by_polling"]) + 1, after
    assert after["exceptions"] == before["exceptions"], "no #MC was raised"


# ---- one VM's vCPUs on different CPUs ----

def spread(con, vm, ncpus):
    """vCPU i of vm on CPU i (mod the CPUs): its vCPUs run side by side."""
    for i in range(ncpus):
        res = con.run(f"vm pin {vm} {i} {i}")
        assert res.ok and res.fields()[f"vcpu{i}"] == f"cpu {i}", res


def run_spread(con, name, cpus, *args):
    """The smp guest with each vCPU on its own CPU, run to its end: its
    final 'vm info' and its lines."""
    since = len(con.text())
    assert con.run(f"vm create {name} smp cpus={cpus} mem=16M {' '.join(args)}").ok
    spread(con, name, cpus)
    assert con.run(f"vm start {name}").ok
    info = wait_state(con, name, {"stopped", "crashed"}, timeout=300)
    assert info["exit_code"] == "0", info
    return info, guest_lines(con, name, since)


def test_spread_vcpus_pass_the_smp_checks(smp_hv, con):
    """The smp guest's checks (INIT and start-up, fixed IPIs to physical and
    logical destinations, shorthands, NMI, lowest priority, each vCPU's
    timer, INIT of a running vCPU) with each vCPU on its own CPU: every
    message crosses CPUs, and every check passes as on one CPU."""
    cpus = CPUS[smp_hv.target]
    info, lines = run_spread(con, "sp", cpus)
    assert f"smp: {cpus} cpus, 0 failed" in lines, lines
    for i in range(cpus):
        assert f"cpu={i} " in info[f"vcpu{i}"], info


def test_spread_vcpus_run_at_once_and_lose_no_ipi(smp_hv, con):
    """A counting guest whose BSP sends each AP an IPI in turn: with its
    vCPUs on different CPUs they are in the guest at the same time (the
    vCPUs' time in the guest adds up to more than the time that passed),
    every vCPU counts on, no IPI is lost, and a vCPU moved to another CPU
    meanwhile goes on too."""
    cpus = CPUS[smp_hv.target]
    since = len(con.text())
    assert con.run(f"vm create sc smp cpus={cpus} mem=16M count").ok
    spread(con, "sc", cpus)
    assert con.run("vm start sc").ok
    wait_counts(con, "sc", since, 2, timeout=120)
    ran0, _ = vcpu_run_ms(con, "sc")
    t0 = uptime(con)
    time.sleep(4)
    ran1, info = vcpu_run_ms(con, "sc")
    elapsed = (uptime(con) - t0) * 1000
    in_guest = sum(b - a for a, b in zip(ran0, ran1))
    # One CPU could give them at most `elapsed` together.
    assert in_guest > 1.2 * elapsed, (in_guest, elapsed, info)
    moved = len(con.text())
    res = con.run(f"vm pin sc 1 {cpus - 1}")  # vCPU 1 joins the last one's CPU
    assert res.ok, res
    after = wait_counts(con, "sc", moved, 3, timeout=120)
    seen = count_lines(con, "sc", since)
    for (prev, _), (cur, _) in zip(seen, seen[1:]):
        assert len(cur) == cpus and all(c >= p for p, c in zip(prev, cur)), (prev, cur)
    first, last = seen[0][0], after[-1][0]
    assert all(c > p for p, c in zip(first, last)), (first, last)
    assert all(lost == 0 for _, lost in seen), seen
    print(f"spread: {cpus} vCPUs in the guest {in_guest} ms in {elapsed:.0f} ms "
          f"({in_guest / elapsed:.2f} CPUs at once)")


def test_a_spinlock_shared_by_spread_vcpus_counts_right(smp_hv, con):
    """Every vCPU, each on its own CPU, takes one test-and-set spinlock: the
    guarded count comes out right under real contention."""
    cpus = CPUS[smp_hv.target]
    _, lines = run_spread(con, "sl", cpus, "lock", "n=2000")
    assert f"lock: n=2000 cpus={cpus} count ok" in " ".join(lines), lines[-3:]


@pytest.mark.parametrize("mode", ["wp", "best"])
def test_spread_vcpus_writing_at_once_are_all_logged(smp_hv, con, mode):
    """Each vCPU on its own CPU writes its own pages, interleaved with the
    others' in the same 2 MiB regions, while CPU 0 harvests: write faults
    come on several CPUs at once (or the A/D bits and each vCPU's PML log
    fill there), and the harvests hold exactly the pages written."""
    cpus = CPUS[smp_hv.target]
    base, total = start_writers(con, "sw", cpus, "rate=400")
    spread(con, "sw", cpus)
    f = con.run("dirty start sw" + (" mode=wp" if mode == "wp" else "")).fields()
    seen = write_while_harvesting(con, "sw")
    top = 16 << 8  # 16 MiB in pages
    assert seen & set(range(base, top)) == set(range(base, base + total)), (
        f"mode {f['mode']}: missed {sorted(set(range(base, base + total)) - seen)[:10]}, "
        f"extra {sorted(seen & set(range(base + total, top)))[:10]}")
    s = con.run("dirty stats sw").fields()
    if mode == "wp":
        assert int(s["wp_faults"]) >= total, s
    assert int(s["shootdowns"]) >= int(s["harvests"]), s
