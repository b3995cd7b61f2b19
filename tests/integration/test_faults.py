"""Fatal paths in the hypervisor: exceptions and panics print a register
dump and a symbolic backtrace, then halt cleanly."""

import pytest

from hvconsole import ConsoleError

FAULTS = {
    "ud": "#UD invalid opcode",
    "gp": "#GP general protection",
    "pf": "#PF page fault",
    "de": "#DE divide error",
}


@pytest.mark.parametrize("kind", sorted(FAULTS))
def test_exception_prints_a_dump_and_halts(boot, kind):
    inst = boot(config="debug=1\n")
    con = inst.console()
    con.send(f"debug fault {kind}\r")
    con.wait_for(r"\*\*\* hypervisor halted", 30)
    out = con.text()
    assert f"*** FATAL EXCEPTION {FAULTS[kind]}" in out
    assert "at debug_fault+0x" in out, "the faulting function must be named"
    for reg in ("rip", "rsp", "rax", "r15", "cr2", "cr3", "efer"):
        assert f"\n{reg} " in out or f" {reg} " in out, f"{reg} missing from the dump"
    bt = out.split("backtrace:", 1)[1]
    assert "debug_fault+" in bt and "cmd_debug+" in bt and "shell_feed+" in bt
    if kind == "pf":
        assert "cr2    0x00007ffffffff000" in out
    # Halted: QEMU stays up, the shell no longer answers. Only a timeout
    # proves that: "closed" (QEMU or the socket gone) is another failure.
    assert inst.alive()
    start = len(con.text())
    con.send("version\r")
    with pytest.raises(ConsoleError, match=r"^timed out waiting for '\^name: hv'"):
        con.wait_for(r"^name: hv", 3, start=start)
    assert inst.alive() and not con.closed


def test_panic_reports_file_and_line(boot):
    inst = boot(config="debug=1\n")
    con = inst.console()
    con.send("debug panic\r")
    con.wait_for(r"\*\*\* hypervisor halted", 30)
    out = con.text()
    assert "*** PANIC at hv/shell/cmd_debug.c:" in out
    assert "panic requested with 'debug panic'" in out
    assert "cmd_debug+" in out.split("backtrace:", 1)[1]


def test_panic_can_reboot_instead(boot):
    inst = boot(config="debug=1\npanic=reboot\n", allow_reboot=True)
    con = inst.console()
    con.send("debug panic\r")
    con.wait_for(r"\*\*\* hypervisor rebooting", 30)
    con.wait_for(r"hv: UEFI loader starting", 120)
