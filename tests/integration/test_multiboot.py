"""Multiboot kernels that nobody here wrote: QEMU's tests/multiboot suite,
built from Debian's qemu source package (tools/build-qemu-multiboot.sh),
loaded from the boot disk's guests folder and run unchanged, on both
targets (SVM under QEMU, VMX under Bochs). They print on
the debug console port (0xe9) and report through isa-debug-exit (0xf4)."""

import os

import pytest

from conftest import ROOT, TARGETS, shared_instance
from guests import guest_lines, wait_state

KERNELS = os.path.join(ROOT, "build", "qemu-multiboot")


@pytest.fixture(scope="module", params=TARGETS)
def mbhv(request):
    """One instance per target with the kernels in its guests folder."""
    if not os.path.exists(os.path.join(KERNELS, ".built")):
        pytest.fail("run 'make integration' (builds the QEMU multiboot kernels first)")
    files = [os.path.join(KERNELS, f) for f in sorted(os.listdir(KERNELS))
             if f.endswith((".elf", ".bin", ".txt"))]
    inst = shared_instance("multiboot", request.param, guests=files)
    yield inst
    inst.kill()


def run_to_stop(con, name, image, *args):
    start = len(con.text())
    con.run(f"vm create {name} {image} " + " ".join(args))
    con.run(f"vm start {name}")
    info = wait_state(con, name, {"stopped", "crashed"})
    return info, guest_lines(con, name, start)


def test_images_come_from_the_boot_disk(mbhv):
    images = {l.split()[0]: l.split()[2] for l in mbhv.console().run("vm images").lines[1:]}
    for name in ("mmap.elf", "modules.elf", "module.txt", "aout_kludge_1.bin"):
        assert images.get(name) == "disk", images


def test_mmap_reports_our_memory_layout(mbhv):
    info, out = run_to_stop(mbhv.console(), "mmap", "mmap.elf", "mem=64M")
    assert info["exit_code"] == "0", info
    assert "Lower memory: 639k" in out
    assert "Upper memory: 64512k" in out
    assert "0x0 - 0x9fc00: type 1 [entry size: 20]" in out
    assert "0x100000 - 0x4000000: type 1 [entry size: 20]" in out
    # The same kernel under QEMU prints the same lines for its own layout.
    expected = open(os.path.join(KERNELS, "mmap.out")).read()
    assert "Lower memory: 639k" in expected and "0x0 - 0x9fc00: type 1" in expected


def test_modules_and_their_command_lines(mbhv):
    info, out = run_to_stop(mbhv.console(), "mods", "modules.elf",
                            '"module=module.txt argument"', "module=module.txt")
    assert info["exit_code"] == "0"
    assert out[0].startswith("Module list with 2 entries at ")
    entries = [l for l in out if "] Module: " in l]
    assert len(entries) == 2
    assert entries[0].endswith("(56 bytes) 'module.txt argument'")
    assert entries[1].endswith("(56 bytes) 'module.txt'")
    content = "         Content: 'This is a test file that is used as a multiboot module.'"
    assert out.count(content) == 2
    # QEMU's expected output for the same module, for comparison.
    assert "(56 bytes) 'module.txt argument'" in open(os.path.join(KERNELS, "modules.out")).read()


@pytest.mark.parametrize("scenario", [1, 2, 3, 4])
def test_aout_kludge_valid_layouts_run(mbhv, scenario):
    info, _ = run_to_stop(mbhv.console(), f"aout{scenario}", f"aout_kludge_{scenario}.bin")
    assert info["state"] == "stopped" and info["exit_code"] == "0", info


@pytest.mark.parametrize("scenario,message", [
    (5, "invalid load_addr address"),
    (6, "invalid load_end_addr address"),
    (7, "invalid header_addr address"),
    (8, "invalid bss_end_addr address"),
    (9, "invalid bss_end_addr address"),
])
def test_aout_kludge_invalid_layouts_are_refused(mbhv, scenario, message):
    con = mbhv.console()
    res = con.command(f"vm create bad{scenario} aout_kludge_{scenario}.bin")
    assert not res.ok and res.error.endswith(message), res.error
    if scenario < 9:  # QEMU prints the same complaint for these
        expected = open(os.path.join(KERNELS, "aout_kludge.out")).read()
        assert f"qemu-system-x86_64: {message}" in expected
