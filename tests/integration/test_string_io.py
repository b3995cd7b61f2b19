"""String I/O emulation honours the guest's own protections, on both
backends (AMD SVM under QEMU, Intel VMX under Bochs): the strio guest runs
REP INS/OUTS from CPL 3 into a supervisor page and across page boundaries
onto read-only and not-present pages, from CPL 0 against CR0.WP and SMAP,
and through ES segments the CPU refuses. Its handlers report each #PF/#GP
(error code, CR2, ECX and the index register, addresses relative to its
test pages) and whether the pages that must not change did not."""

import pytest

from guests import create_and_start, guest_lines, wait_state

# What a CPU does for each case (Intel SDM vol. 3 §4.6-4.7, §6.15; AMD APM
# vol. 2 §5.6, §8.4.2). err: the #PF error code, P=1 W=2 U=4; vector 128 is
# the guest's INT 0x80 after an instruction that completed.
EXPECTED = [
    # CPL 3: a supervisor page, whatever the count: no byte, no iteration.
    "user-insb-super vector=14 err=0x7 cr2=SUPER+0x0 ecx=16 edi=SUPER+0x0 SUPER=intact",
    # CPL 3, byte elements up to the boundary, then the read-only page.
    "user-insb-ro vector=14 err=0x7 cr2=URO+0x0 ecx=4 edi=URO+0x0 tail=e9e9e9e9 URO=intact",
    # A dword split over the boundary: its writable half is not written.
    "user-insl-split-ro vector=14 err=0x7 cr2=URO+0x0 ecx=1 edi=UBUF+0xffe tail=5a5a URO=intact",
    # Onto a not-present page: P clear in the error code.
    "user-insb-np vector=14 err=0x6 cr2=NP+0x0 ecx=2 edi=NP+0x0 tail=e9e9",
    "user-outsb-np out=[xyz] vector=14 err=0x4 cr2=NP+0x0 ecx=3 esi=NP+0x0",
    "user-outsw-split-np out=[] vector=14 err=0x4 cr2=NP+0x0 ecx=1 esi=UBUF2+0xfff",
    "user-insb-ok vector=128 err=0x0 ecx=0 edi=UBUF+0x4 head=e9e9e9e95a",
    # CPL 0: CR0.WP makes read-only pages read-only for the supervisor too.
    "kernel-insb-ro-wp vector=14 err=0x3 cr2=URO+0x0 ecx=4 edi=URO+0x0 URO=intact",
    "kernel-insb-ro-nowp vector=128 err=0x0 ecx=0 edi=URO+0x4 head=e9e9e9e95a",
    # SMAP: a user page only with RFLAGS.AC set.
    "kernel-insb-smap vector=14 err=0x3 cr2=UBUF+0x0 ecx=4 edi=UBUF+0x0 UBUF=intact",
    "kernel-insb-smap-ac vector=128 err=0x0 ecx=0 edi=UBUF+0x4 head=e9e9e9e95a",
    # Segmentation: #GP(0) at the element beyond ES's limit, or at once for
    # an ES that is not writable.
    "kernel-insb-es-limit vector=13 err=0x0 ecx=2 edi=0x1000 tail=5a5ae9e9",
    "kernel-insb-es-readonly vector=13 err=0x0 ecx=4 edi=SUPER+0x0 SUPER=intact",
    "NP=intact",
    "done",
]


@pytest.fixture
def clean(guest_hv):
    con = guest_hv.console()
    yield con
    for line in con.run("vm list").lines[1:]:
        con.command(f"vm destroy {line.split()[0]}")


def test_string_io_gets_exactly_the_faults_the_cpu_would_raise(clean):
    con = clean
    start = len(con.text())
    create_and_start(con, "sio", "strio", "mem=16M")
    info = wait_state(con, "sio", {"stopped", "crashed"}, timeout=120)
    lines = [l[len("strio: "):] for l in guest_lines(con, "sio", start)
             if l.startswith("strio: ")]
    assert "smap not offered" not in lines, "both targets' CPUs offer SMAP"
    assert lines == EXPECTED
    assert info["state"] == "stopped" and info["exit_code"] == "0", info
