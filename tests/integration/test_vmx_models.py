"""Intel CPUs that cannot run guests: Bochs models whose VMX lacks what the
backend needs. The hypervisor must say why and keep its console."""

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
