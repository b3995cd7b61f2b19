"""The hypervisor on every CPU: the APs started from the MADT (QEMU) or a
census (Bochs, whose OVMF has no ACPI tables), each with its own timer and
SVM or VMX on, reported by `cpu`; a CPU that fails to start is reported and
the others go on. QEMU runs multi-threaded TCG so the CPUs really run side
by side on the 2-core host."""

import os
import re
import shutil
import time

import pytest

from conftest import BOOT_TIMEOUT, INSTANCE_ROOT, make_instance

MTTCG = ["-accel", "tcg,thread=multi"]


def start(name, target, cpus, config=None):
    workdir = os.path.join(INSTANCE_ROOT, f"smp-{name}-{target}")
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    extra = {"extra_args": MTTCG} if target == "qemu" else {}
    inst = make_instance(target, workdir, cpus=cpus, config=config, **extra)
    inst.start()
    try:
        inst.wait_prompt(BOOT_TIMEOUT)
    except Exception:
        inst.kill()
        raise
    return inst


def cpu_table(con):
    """'cpu' as {index: {key: value}}, with cpus_online."""
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


@pytest.mark.parametrize("target,cpus", [("qemu", 4), ("bochs", 2)])
def test_every_cpu_comes_online_with_its_own_timer(target, cpus):
    inst = start("all", target, cpus)
    try:
        con = inst.console()
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
        # Guests still run (on the boot CPU, for now) beside the other CPUs.
        assert con.run("vm create c counter mem=4M interval=20").ok
        assert con.run("vm start c").ok
        con.wait_for(r"\[vm:c\] counter: 3\n", 120)
    finally:
        inst.kill()


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
        assert con.run("vm create c counter mem=4M interval=20").ok
        assert con.run("vm start c").ok
        con.wait_for(r"\[vm:c\] counter: 3\n", 60)
    finally:
        inst.kill()


def test_cpus_setting_limits_the_cpus_used():
    inst = start("limit", "qemu", 4, config="cpus=2\n")
    try:
        con = inst.console()
        online, table = cpu_table(con)
        assert online == 2 and sorted(table) == [0, 1]
        assert "smp: 2 of 4 CPUs online" in con.text()
    finally:
        inst.kill()
