"""Multiboot kernels that nobody here wrote: QEMU's tests/multiboot suite,
built from Debian's qemu source package (tools/build-qemu-multiboot.sh),
loaded from the boot disk's guests folder and run unchanged, on both
targets (SVM under QEMU, VMX under Bochs). They print on
the debug console port (0xe9) and report through isa-debug-exit (0xf4)."""

import os
import re

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
    """Runs a kernel to its end; (vm info, guest output lines). The VM is
    destroyed afterwards so the instance's memory lasts the module."""
    start = len(con.text())
    con.run(f"vm create {name} {image} " + " ".join(args))
    con.run(f"vm start {name}")
    info = wait_state(con, name, {"stopped", "crashed"})
    lines = guest_lines(con, name, start)
    con.run(f"vm destroy {name}")
    return info, lines


def test_images_come_from_the_boot_disk(mbhv):
    images = {l.split()[0]: l.split()[2] for l in mbhv.console().run("vm images").lines[1:]}
    for name in ("mmap.elf", "modules.elf", "module.txt", "aout_kludge_1.bin"):
        assert images.get(name) == "disk", images


# ---- QEMU's expected outputs (tests/multiboot/*.out) -------------------

CASE_RE = re.compile(r"^=== Running test case: (\S+) (.*) ===$", re.M)


def strip_blank_ends(lines):
    """Without the blank lines at either end (separators in the .out files)."""
    lines = list(lines)
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def qemu_expected(out_file):
    """{(kernel, QEMU arguments): [lines the kernel printed]} from one of
    QEMU's .out files (run_test.sh writes a header per case, a blank line,
    then the kernel's output; blank lines around it are separators)."""
    with open(os.path.join(KERNELS, out_file)) as f:
        parts = CASE_RE.split(f.read())
    cases = {}
    for kernel, args, body in zip(parts[1::3], parts[2::3], parts[3::3]):
        cases[(kernel, args)] = strip_blank_ends(body.split("\n"))
    return cases


def qemu_case(out_file, kernel, args=""):
    cases = qemu_expected(out_file)
    assert (kernel, args) in cases, f"{out_file} has no case {kernel} {args}: {sorted(cases)}"
    return cases[(kernel, args)]


# What legitimately differs between QEMU's run and ours, and nothing else:
# where the boot information and the modules were placed (hex addresses),
# and RAM sizes that follow from -m / mem=.
MMAP_UPPER = re.compile(r"^Upper memory: \d+k$")
MMAP_ENTRY = re.compile(r"^0x([0-9a-f]+) - 0x([0-9a-f]+): type (\d+) \[entry size: (\d+)\]$")
MMAP_ADDR = re.compile(r"^(mmap start: +|mmap end: +|real mmap end: +)0x[0-9a-f]+$")
MOD_LIST = re.compile(r"^Module list with (\d+) entries at [0-9a-f]+$")
MOD_ENTRY = re.compile(r"^\[[0-9a-f]+\] Module: [0-9a-f]+ - [0-9a-f]+ (\(\d+ bytes\) '.*')$")


def normalise_mmap(lines):
    """mmap.elf's output with the layout-dependent parts replaced: the
    upper-memory size, the addresses of the map itself and every e820 entry
    at or above 1 MiB (the RAM size and the platform's reserved ranges:
    QEMU's BIOS ROM, our local APIC). Entries below 1 MiB stay as they are."""
    out = []
    for line in lines:
        m = MMAP_ENTRY.match(line)
        if m and int(m.group(1), 16) >= 0x100000:
            continue
        line = MMAP_UPPER.sub("Upper memory: <size>k", line)
        line = MMAP_ADDR.sub(r"\1<addr>", line)
        out.append(line)
    return out


def normalise_modules(lines):
    """modules.elf's output with the addresses of the module list and of
    the modules replaced; counts, sizes, strings and contents stay."""
    out = []
    for line in lines:
        line = MOD_LIST.sub(r"Module list with \1 entries at <addr>", line)
        line = MOD_ENTRY.sub(r"[<addr>] Module: <addr> - <addr> \1", line)
        out.append(line)
    return out


def mmap_fields(lines):
    """(upper memory in KiB, e820 entries as (start, end, type, size),
    mmap start, mmap end, real mmap end) from mmap.elf's output."""
    upper, entries, addrs = None, [], {}
    for line in lines:
        if line.startswith("Upper memory: "):
            upper = int(line.split()[2].rstrip("k"))
        m = MMAP_ENTRY.match(line)
        if m:
            entries.append((int(m.group(1), 16), int(m.group(2), 16), int(m.group(3)),
                            int(m.group(4))))
        if MMAP_ADDR.match(line):
            addrs[line.rsplit(":", 1)[0].strip()] = int(line.split()[-1], 16)
    return upper, entries, addrs


def test_mmap_output_matches_qemus_except_the_layout(mbhv):
    info, out = run_to_stop(mbhv.console(), "mmap", "mmap.elf", "mem=64M")
    assert info["exit_code"] == "0", info
    out = strip_blank_ends(out)
    expected = qemu_case("mmap.out", "mmap.elf")  # QEMU's default -m 128M
    assert normalise_mmap(out) == normalise_mmap(expected)

    # Our own layout for mem=64M: conventional memory below the EBDA, the
    # BIOS area, then RAM from 1 MiB to the top, the local APIC reserved.
    upper, entries, addrs = mmap_fields(out)
    assert upper == 64512
    assert (0x0, 0x9fc00, 1, 20) in entries
    assert (0x100000, 0x4000000, 1, 20) in entries
    assert all(end > start for start, end, _, _ in entries)
    # What the kernel derives from the map must agree with it, as it does
    # in QEMU's run: upper memory is the RAM from 1 MiB up to the first
    # hole, and walking the entries ends exactly at mmap_addr + length.
    for lines in (out, expected):
        upper, entries, addrs = mmap_fields(lines)
        high = [e for e in entries if e[0] == 0x100000 and e[2] == 1]
        assert len(high) == 1 and (high[0][1] - 0x100000) // 1024 == upper, lines
        assert addrs["real mmap end"] == addrs["mmap end"] > addrs["mmap start"], lines
        assert addrs["mmap end"] - addrs["mmap start"] == 24 * len(entries), lines


def qemu_initrd_to_modules(initrd):
    """QEMU's -initrd list ('a,b c', ',,' for a literal comma) as the
    module="..." words of our 'vm create'."""
    mods = [m.replace("\0", ",") for m in initrd.replace(",,", "\0").split(",")]
    return [f'"module={m}"' for m in mods]


# The cases of QEMU's run_test.sh for modules.elf, as its -initrd values.
MODULE_CASES = [
    "",
    "module.txt",
    "module.txt argument",
    "module.txt argument,,with,,commas",
    "module.txt,module.txt argument,module.txt",
]


@pytest.mark.parametrize("initrd", MODULE_CASES, ids=["none", "one", "argument", "commas",
                                                       "three"])
def test_modules_output_matches_qemus(mbhv, initrd):
    mods = qemu_initrd_to_modules(initrd) if initrd else []
    info, out = run_to_stop(mbhv.console(), f"mods{MODULE_CASES.index(initrd)}",
                            "modules.elf", *mods)
    assert info["exit_code"] == "0", info
    out = strip_blank_ends(out)
    expected = qemu_case("modules.out", "modules.elf", f"-initrd {initrd}" if initrd else "")
    # Same count, same strings, sizes and contents, same lines in the same order.
    assert normalise_modules(out) == normalise_modules(expected)

    # The addresses we replaced must still be consistent: entries of 16
    # bytes from the list address, each module [start, end) of its size
    # and apart from the others.
    lst = int(out[0].split()[-1], 16)  # "Module list with N entries at ADDR"
    ranges = []
    for i, line in enumerate(l for l in out if " Module: " in l):
        m = re.match(r"^\[([0-9a-f]+)\] Module: ([0-9a-f]+) - ([0-9a-f]+) \((\d+) bytes\)", line)
        entry, start, end = (int(m.group(k), 16) for k in (1, 2, 3))
        assert entry == lst + 16 * i, line
        assert end - start == int(m.group(4)), line
        ranges.append((start, end))
    ranges.sort()
    assert all(a[1] <= b[0] for a, b in zip(ranges, ranges[1:])), ranges


@pytest.mark.parametrize("scenario", [1, 2, 3, 4])
def test_aout_kludge_valid_layouts_run(mbhv, scenario):
    info, out = run_to_stop(mbhv.console(), f"aout{scenario}", f"aout_kludge_{scenario}.bin")
    assert info["state"] == "stopped" and info["exit_code"] == "0", info
    # They print nothing, under QEMU as here.
    assert strip_blank_ends(out) == qemu_case("aout_kludge.out", f"aout_kludge_{scenario}.bin")


QEMU_PREFIX = "qemu-system-x86_64: "


@pytest.mark.parametrize("scenario", [5, 6, 7, 8])
def test_aout_kludge_invalid_layouts_are_refused_as_qemu_does(mbhv, scenario):
    expected = qemu_case("aout_kludge.out", f"aout_kludge_{scenario}.bin")
    assert len(expected) == 1 and expected[0].startswith(QEMU_PREFIX), expected
    message = expected[0][len(QEMU_PREFIX):]
    res = mbhv.console().command(f"vm create bad{scenario} aout_kludge_{scenario}.bin")
    assert not res.ok and res.error.split(": ")[-1] == message, (res.error, message)


def test_aout_kludge_kernel_beyond_4g_is_refused(mbhv):
    # load_addr 0xfffff000 plus the file's size passes 4 GiB. QEMU says
    # "kernel does not fit in address space"; we check bss_end_addr first,
    # which (0xfffff001) lies below the end of the loaded file.
    res = mbhv.console().command("vm create bad9 aout_kludge_9.bin")
    assert not res.ok and res.error.endswith("invalid bss_end_addr address"), res.error
