"""Guests on both backends: AMD SVM with nested paging (QEMU TCG) and Intel
VMX with EPT (Bochs): lifecycle, guest platform, isolation, memory
accounting. Every test runs once per target (guest_hv)."""

import re
import time

import pytest

from guests import counter_values, create_and_start, guest_lines, uptime, vm_info, wait_state
from hvconsole import footprint_settles_at, memory_footprint


@pytest.fixture
def clean(guest_hv):
    """The target's console; destroys every VM a test left behind."""
    con = guest_hv.console()
    yield con
    for line in con.run("vm list").lines[1:]:
        con.command(f"vm destroy {line.split()[0]}")


def test_backend_matches_the_target(guest_hv):
    cpu = guest_hv.console().run("cpu").fields()
    if guest_hv.target == "bochs":
        assert cpu["guest_backend"] == "vmx"
        for feature in ("ept", "ept_ad", "pml", "unrestricted_guest", "vpid"):
            assert f"{feature}=yes" in cpu["vmx_features"].split(), cpu["vmx_features"]
    else:
        assert cpu["guest_backend"] == "svm"


def test_hello_prints_and_stops_with_its_exit_code(clean):
    con = clean
    start = len(con.text())
    create_and_start(con, "h1", "hello", "mem=8M", "exit=7", "greeting")
    info = wait_state(con, "h1", "stopped")
    assert info["exit_code"] == "7"
    assert info["reason"] == "debug exit with code 7"
    lines = guest_lines(con, "h1", start)
    assert lines[0] == "Hello from the hello guest! cmdline='exit=7 greeting' mem=8192 KiB"


def test_cpuid_and_msr_policy_as_the_guest_sees_it(clean):
    con = clean
    start = len(con.text())
    create_and_start(con, "pol", "hello", "msr=0x1b")  # APIC base: emulated
    wait_state(con, "pol", "stopped")
    lines = guest_lines(con, "pol", start)
    assert "hello: cpuid hypervisor='HvResearchV1' hv_bit=1 vmx=0 svm=0 x2apic=0 xsave=0" in lines
    assert "hello: msr 0x1b = 0xfee00900" in lines
    start = len(con.text())
    create_and_start(con, "gp", "hello", "msr=0xc0010114")  # VM_CR: unknown to guests
    info = wait_state(con, "gp", "stopped")
    assert info["exit_code"] == str(0x80 + 13), "rdmsr of an unknown MSR must raise #GP"
    assert any(l.startswith("guest fault: vector 13") for l in guest_lines(con, "gp", start))


def test_counter_counts_alongside_a_spinning_vm(clean):
    con = clean
    create_and_start(con, "spin", "memtouch", "mem=16M", "report=0")
    start = len(con.text())
    create_and_start(con, "c1", "counter", "mem=4M", "interval=50")
    hv_t0 = uptime(con)
    t0 = time.monotonic()
    latencies = []
    while time.monotonic() - t0 < 4:
        t = time.monotonic()
        assert con.run("uptime").ok
        latencies.append(time.monotonic() - t)
        time.sleep(0.2)
    vals = counter_values(con, "c1", start)
    # The hypervisor's own clock: under Bochs it is emulated time.
    elapsed = uptime(con) - hv_t0
    assert vals[:2] == [0, 1]
    assert vals == list(range(len(vals))), "numbers skipped or repeated"
    assert len(vals) >= 0.6 * elapsed / 0.05, (len(vals), elapsed)
    assert max(latencies) < 1.0, f"console stalled for {max(latencies):.2f} s"
    assert vm_info(con, "spin")["state"] == "running"


def test_escape_is_stopped_and_others_are_unharmed(clean):
    con = clean
    create_and_start(con, "c2", "counter", "mem=4M", "interval=50")
    start = len(con.text())
    create_and_start(con, "esc", "escape", "mem=4M", "unbacked=stop")
    info = wait_state(con, "esc", "crashed")
    assert info["reason"].startswith("write outside guest memory at GPA 0x401000 "), info
    assert "RIP 0x" in info["reason"]
    lines = guest_lines(con, "esc", start)
    # It reaches its own platform, never the host's: the VM's 440FX host
    # bridge (QEMU's q35 would read 0x29c08086) and its 24-bit PM timer.
    assert "escape: pci config read 0x12378086" in lines, lines
    assert any(re.fullmatch(r"escape: pm timer 0x[0-9a-f]{1,6}", l) for l in lines), lines
    assert "escape: the write went through!" not in lines
    before = counter_values(con, "c2")[-1]
    time.sleep(1)
    assert counter_values(con, "c2")[-1] > before, "the other VM stopped counting"
    assert con.run("mem").ok


def test_a_write_past_ram_ends_as_a_master_abort(clean):
    """Without unbacked=stop, the escape guest's write past its RAM reaches
    nothing, as on a PC: it reads back all ones, the VM goes on to its end,
    the access is counted and its page logged once."""
    con = clean
    start = len(con.text())
    create_and_start(con, "ma", "escape", "mem=4M")
    info = wait_state(con, "ma", {"stopped", "crashed"})
    assert info["state"] == "stopped" and info["exit_code"] == "1", info
    assert info["unbacked"] == "abort" and int(info["mmio.unclaimed"]) == 2, info
    lines = guest_lines(con, "ma", start)
    assert "escape: it reads back 0xffffffff" in lines, lines
    assert "escape: the write went through!" not in lines
    logged = re.findall(r"vm ma: vcpu 0: (read|write) at GPA 0x401000 \(RIP 0x[0-9a-f]+\), "
                        r"where it has no RAM and no device", con.text()[start:])
    assert logged == ["write"], logged


def test_long_mode_switch_inside_the_guest(clean):
    """PAE paging, EFER.LME, CR0.PG, a 64-bit code segment and back to
    compatibility mode; the guest sees only its own CR0/CR4/EFER bits."""
    con = clean
    start = len(con.text())
    create_and_start(con, "lm", "hello", "mem=8M", "long")
    info = wait_state(con, "lm", {"stopped", "crashed"})
    assert info["state"] == "stopped" and info["exit_code"] == "0", info
    assert ("hello: long mode value=0x3456789abcdef012 cr0=0x80000011 cr4=0x20 efer=0x500"
            in guest_lines(con, "lm", start))
    assert int(info["efer"], 16) & 0x500 == 0x500, "vm info shows long mode active"


def test_reset_request_restarts_only_that_vm(clean):
    """A reset the guest asks for (keyboard controller 0xFE, 0xCF9) restarts
    that VM from its image, as a PC resets; the others carry on."""
    con = clean
    start = len(con.text())
    create_and_start(con, "c5", "counter", "mem=4M", "interval=50")
    for how in ("kbc", "cf9"):
        since = len(con.text())
        create_and_start(con, f"r-{how}", "hello", f"reset={how}")
        deadline = time.monotonic() + 60
        while int(vm_info(con, f"r-{how}")["resets"]) < 2:
            assert time.monotonic() < deadline, vm_info(con, f"r-{how}")
            time.sleep(0.2)
        lines = guest_lines(con, f"r-{how}", since)
        assert lines.count(f"hello: requesting a reset through {how}") >= 2, lines
        assert "hello: the reset did not happen" not in lines
        assert vm_info(con, f"r-{how}")["state"] in ("running", "halted")
        assert con.run(f"vm destroy r-{how}").ok
    vals = counter_values(con, "c5", start)
    assert vals == list(range(len(vals))) and len(vals) > 5, vals
    assert con.run("vm destroy c5").ok


def test_triple_fault_and_guest_exceptions(clean):
    con = clean
    create_and_start(con, "tf", "hello", "triple")
    info = wait_state(con, "tf", "crashed")
    assert info["reason"].startswith("triple fault at RIP 0x")
    start = len(con.text())
    create_and_start(con, "ud", "hello", "ud")
    info = wait_state(con, "ud", "stopped")
    assert info["exit_code"] == str(0x86), "the guest handles its own #UD"
    assert any(l.startswith("guest fault: vector 6") for l in guest_lines(con, "ud", start))


def test_pause_and_resume(clean):
    con = clean
    create_and_start(con, "c3", "counter", "mem=4M", "interval=20")
    time.sleep(0.5)
    assert con.run("vm pause c3").fields()["state"] == "paused"
    time.sleep(0.3)
    frozen = counter_values(con, "c3")
    time.sleep(0.8)
    assert counter_values(con, "c3") == frozen, "a paused VM kept running"
    con.run("vm resume c3")
    time.sleep(0.5)
    after = counter_values(con, "c3")
    assert after[len(frozen)] == frozen[-1] + 1, "resume must continue with the next number"


def test_memtouch_verifies_its_memory(clean):
    con = clean
    create_and_start(con, "m1", "memtouch", "mem=16M", "report=0")
    time.sleep(1.5)
    start = len(con.text())
    con.run("vm send m1 p")
    con.wait_for(r"\[vm:m1\] memtouch: paused", 10, start=start)
    con.run("vm send m1 c")
    con.run("vm send m1 c")
    con.run("vm send m1 v")
    con.wait_for(r"\[vm:m1\] memtouch: verify .*\n", 30, start=start)
    lines = guest_lines(con, "m1", start)
    sums = [l for l in lines if l.startswith("memtouch: checksum")]
    assert len(sums) == 2 and sums[0] == sums[1], "a paused guest's memory must not change"
    assert any(re.fullmatch(r"memtouch: verify ok \d+ pages", l) for l in lines), lines


def test_console_attach_sends_input_and_detaches(clean):
    con = clean
    create_and_start(con, "m2", "memtouch", "mem=8M", "report=0", "idle")
    start = len(con.text())
    con.send("vm console m2\r")  # attached: no prompt until Ctrl-]
    con.wait_for(r"^attached to m2; Ctrl-\] detaches\nok\n", 10, start=start)
    start = len(con.text())
    con.send("s\r")
    con.wait_for(r"^memtouch: written 0 passes 0 pages \d+ base 0x[0-9a-f]+ paused", 10, start=start)
    con.send("\x1d")
    con.wait_prompt()
    assert con.run("version").ok


def test_vm_info_lists_registers_and_exit_reasons(clean):
    con = clean
    create_and_start(con, "c4", "counter", "mem=4M", "interval=10")
    time.sleep(1)
    info = vm_info(con, "c4")
    for key in ("rip", "rsp", "rflags", "cr0", "cr3", "efer", "exits"):
        assert key in info
    assert int(info["exits.hlt"]) > 10
    assert int(info["exits.memory"]) > 10   # local APIC accesses
    assert int(info["exit.hlt"]) == int(info["exits.hlt"])
    assert int(info["lapic_timer_fired"]) > 10


def test_command_errors(clean):
    con = clean
    cases = {
        "vm start nosuch": "no VM named 'nosuch'",
        "vm create x nosuchimage": "no guest image 'nosuchimage'",
        "vm create x hello mem=1M": "memory must be 2 MiB to 3 GiB",
        "vm create x hello mem=lots": "bad memory size 'lots'",
        "vm create bad/name hello": "invalid VM name",
        "vm frobnicate": "unknown vm subcommand",
        "vm create": "usage: vm create NAME IMAGE",
        "vm info": "usage: vm info NAME",
    }
    for cmd, msg in cases.items():
        res = con.command(cmd)
        assert not res.ok and msg in res.error, (cmd, res.error)
    con.run("vm create dup hello")
    res = con.command("vm create dup hello")
    assert not res.ok and "exists already" in res.error
    con.run("vm start dup")
    wait_state(con, "dup", "stopped")
    res = con.command("vm start dup")
    assert not res.ok and "only a created VM can start" in res.error
    res = con.command("vm resume dup")
    assert not res.ok and "not paused" in res.error


def test_memory_runs_out_cleanly_and_comes_back(clean):
    con = clean
    free0 = con.run("mem").number("free")
    before = memory_footprint(con)
    made = 0
    while True:
        res = con.command(f"vm create fill{made} hello mem=64M")
        if not res.ok:
            assert "not enough memory" in res.error, res.error
            break
        made += 1
        assert made < 20
    assert made >= 5  # 512 MiB of host RAM holds at least five 64 MiB guests
    assert con.run("mem").number("free") < free0
    for i in range(made):
        con.run(f"vm destroy fill{i}")
    assert not footprint_settles_at(con, before), "destroying VMs must return every page"


def test_debug_exceptions_reach_the_guests_own_handler(guest_hv, clean):
    """#DB is intercepted on SVM (and #AC on both) only to keep exception
    loops from holding the CPU: the guest's handler sees what the CPU
    would have given it, DR6 included, and DR7.GD is cleared on delivery."""
    con = clean
    start = len(con.text())
    create_and_start(con, "dbg", "trapstorm", "mem=4M")
    info = wait_state(con, "dbg", "stopped")
    assert info["exit_code"] == "0", info
    lines = guest_lines(con, "dbg", start)
    found = {}
    for l in lines:
        m = re.fullmatch(r"trapstorm: (single-step|data breakpoint|general detect) "
                         r"traps=(\d+) dr6=0x([0-9a-f]+)(?: dr7=0x([0-9a-f]+))?", l)
        if m:
            found[m.group(1)] = (int(m.group(2)), int(m.group(3), 16), m.group(4))
    assert set(found) == {"single-step", "data breakpoint", "general detect"}, lines
    traps, dr6, _ = found["single-step"]
    assert traps in (5, 6) and dr6 & 0x4000, found  # BS
    traps, dr6, _ = found["data breakpoint"]
    assert traps == 1 and dr6 & 0x1, found  # B0
    traps, dr6, dr7 = found["general detect"]
    if guest_hv.target == "qemu" and traps == 0:
        # QEMU's TCG does not implement DR7.GD: the MOV DR just runs.
        assert int(dr7, 16) & 0x2000, found
    else:
        assert traps == 1 and dr6 & 0x2000 and not int(dr7, 16) & 0x2000, found  # BD, GD gone
    # SVM intercepts #DB and #AC, VMX only #AC: each #DB went through the host.
    reflected = int(info["exceptions_reflected"])
    if guest_hv.target == "qemu":
        assert reflected == sum(f[0] for f in found.values()), (reflected, found)
    else:
        assert reflected == 0, reflected


def test_an_exception_raised_while_delivering_itself_spins_only_its_vm(guest_hv, clean):
    """CVE-2015-5307 (#AC raised while delivering #AC, here on VMX): the VM
    loops through exits, the host and other VMs go on, and the VM can be
    destroyed. (storm=db is CVE-2015-8104's #DB loop for SVM hardware.)"""
    if guest_hv.target == "qemu":
        # A watchpoint hit while QEMU's TCG delivers an exception intercepted
        # by nested SVM aborts QEMU (qemu_mutex_lock_iothread assertion), and
        # TCG does not check alignment: the storm runs on Bochs only. The #DB
        # intercept on SVM is checked by the test above.
        pytest.skip("QEMU TCG cannot run either exception loop")
    con = clean
    storm = "ac"
    start = len(con.text())
    create_and_start(con, "c1", "counter", "mem=4M", "interval=50")
    create_and_start(con, "storm", "trapstorm", "mem=4M", f"storm={storm}")
    # The whole line: the console may have sent only part of it so far.
    con.wait_for(r"\[vm:storm\] trapstorm: (storm|this CPU does not|#DB delivered).*\n", 60,
                 start=start)
    lines = guest_lines(con, "storm", start)
    if "trapstorm: this CPU does not raise #AC" in lines:
        pytest.skip("the emulated CPU does not check alignment")
    assert f"trapstorm: storm {storm}" in lines, lines
    first = int(vm_info(con, "storm")["exceptions_reflected"])
    t0 = uptime(con)
    count_start = len(con.text())
    while uptime(con) - t0 < 2.0:
        t = time.monotonic()
        assert con.run("uptime").ok
        assert time.monotonic() - t < 2.0, "console stalled"
        time.sleep(0.2)
    info = vm_info(con, "storm")
    assert info["state"] == "running", info
    later = int(info["exceptions_reflected"])
    assert later > first + 100, (first, later)
    assert len(counter_values(con, "c1", count_start)) >= 10
    assert con.run("vm destroy storm").ok
    assert vm_info(con, "c1")["state"] == "running"


def test_side_channel_plan_is_shown_and_applied_between_vms(clean):
    """IBPB when the vCPU about to run belongs to another VM (where the CPU
    offers IBPB), VERW before entry where the CPU needs and offers it: the
    plan is in `cpu`, and two VMs taking turns make the IBPB count grow."""
    con = clean
    cpu = con.run("cpu").fields()
    for key in ("ibpb_between_vms", "ibpb_issued", "verw_before_entry"):
        assert key in cpu, cpu
    before = int(cpu["ibpb_issued"])
    create_and_start(con, "s1", "counter", "mem=4M", "interval=20")
    create_and_start(con, "s2", "counter", "mem=4M", "interval=20")
    time.sleep(1.5)
    cpu = con.run("cpu").fields()
    after = int(cpu["ibpb_issued"])
    if cpu["ibpb_between_vms"] == "yes":
        assert after > before + 10, (before, after)
    else:
        assert cpu["ibpb_between_vms"] in ("the CPU offers no IBPB",
                                           "the CPU refused the IBPB write to PRED_CMD"), cpu
        assert after == before
