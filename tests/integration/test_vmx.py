"""VMX-only behaviour under Bochs: CPUs whose VMX lacks what the backend
needs (the hypervisor must say why and keep its console), and leaving VMX
operation before the firmware powers the machine off. The guest suites
themselves run on both targets (test_guests.py, test_multiboot.py)."""

import pytest

from conftest import shared_instance


@pytest.mark.parametrize("model,reason", [
    ("core2_penryn_t9600", "guests need EPT (extended page tables), which this CPU lacks"),
    ("corei5_lynnfield_750",
     "guests start with paging off, which needs VMX unrestricted guest"),
])
def test_cpu_without_what_guests_need(model, reason):
    inst = shared_instance(f"vmx-{model}", "bochs", cpu=model)
    try:
        con = inst.console()
        assert f"guests unavailable: {reason}; the console still works" in con.text()
        cpu = con.run("cpu").fields()
        assert cpu["vmx"] == "yes" and cpu["guest_backend"] == "none"
        if model.startswith("core2"):
            assert "ept=no" in cpu["vmx_features"]
        else:
            assert "ept=yes" in cpu["vmx_features"]
            assert "unrestricted_guest=no" in cpu["vmx_features"]
        res = con.command("vm create g hello")
        assert not res.ok and res.error == f"guests cannot run here: {reason}"
        assert con.run("version").ok
        assert con.run("mem").ok
    finally:
        inst.kill()


def test_poweroff_with_a_guest_running_leaves_vmx_first():
    inst = shared_instance("vmx-poweroff", "bochs")
    try:
        con = inst.console()
        con.run("vm create c counter mem=4M interval=20")
        con.run("vm start c")
        con.wait_for(r"\[vm:c\] counter: 3\n", 60, start=0)
        con.send("poweroff\r")
        # Bochs ends when the firmware powers off; it exits 1 whatever happens
        # (PLATFORM.md), so the proof is that it ended at all.
        assert inst.wait_exit(120) is not None, "Bochs kept running after poweroff"
        assert "powering off" in con.text()
    finally:
        inst.kill()
