"""Dirty-page tracking on both targets: write protection and A/D bits on
NPT (QEMU) and EPT (Bochs), PML on EPT. The memtouch guest writes exactly
the pages it is told to; every harvest must hold every page written since
the previous one, and no page of memtouch's data area that was not."""

import re
import time

import pytest

from guests import create_and_start

MODES = ("wp", "ad", "pml")


@pytest.fixture
def con(guest_hv):
    c = guest_hv.console()
    yield c
    for line in c.run("vm list").lines[1:]:
        c.command(f"vm destroy {line.split()[0]}")


def supports(guest_hv, mode):
    return mode != "pml" or guest_hv.target == "bochs"


def start_memtouch(con, name, *args):
    start = len(con.text())
    create_and_start(con, name, "memtouch", "mem=16M", "report=0", *args)
    # Up to the next word: numbers arrive a few digits at a time.
    m = con.wait_for(rf"\[vm:{name}\] memtouch: ready base 0x([0-9a-f]+) pages (\d+) rate", 30,
                     start=start)
    base_gfn = int(m.group(1), 16) >> 12
    return base_gfn, int(m.group(2))


def harvest(con, name):
    res = con.run(f"dirty harvest {name} list")
    pages = set()
    for line in res.lines:
        m = re.fullmatch(r"gfn 0x([0-9a-f]+) count (\d+)", line)
        if m:
            first = int(m.group(1), 16)
            pages.update(range(first, first + int(m.group(2))))
    assert int(res.fields()["dirty_pages"]) == len(pages)
    return pages


def send(con, name, line, expect):
    start = len(con.text())
    con.run(f"vm send {name} \"{line}\"")
    return con.wait_for(rf"\[vm:{name}\] memtouch: {expect}", 60, start=start)


def write(con, name, first, count):
    send(con, name, f"w {first} {count}", f"wrote {count} pages from {first}\n")


def stats(con, name):
    return con.run(f"dirty stats {name}").fields()


@pytest.mark.parametrize("mode", MODES)
def test_harvests_are_exact_at_4k(guest_hv, con, mode):
    base, npages = start_memtouch(con, "dt", "idle")
    data = set(range(base, base + npages))
    res = con.command(f"dirty start dt mode={mode}")
    if not supports(guest_hv, mode):
        assert not res.ok and "PML needs Intel VMX" in res.error, res
        return
    assert res.ok and res.fields()["mode"] == mode and res.fields()["granularity"] == "4k"
    harvest(con, "dt")  # whatever the guest did before: not under test

    write(con, "dt", 10, 5)
    got = harvest(con, "dt")
    assert got & data == {base + p for p in range(10, 15)}
    assert len(got - data) < 32, "only the guest's own stack and variables besides"

    write(con, "dt", 3, 1)
    write(con, "dt", 100, 2)
    write(con, "dt", 3, 1)
    assert harvest(con, "dt") & data == {base + 3, base + 100, base + 101}
    assert not harvest(con, "dt") & data, "nothing written since the last harvest"

    s = stats(con, "dt")
    assert s["mode"] == mode and int(s["harvests"]) == 4
    if mode == "wp":
        assert int(s["wp_faults"]) >= 9
    else:
        assert int(s["wp_faults"]) == 0
    if mode == "pml":
        assert int(s["pml_entries"]) >= 9


@pytest.mark.parametrize("mode", MODES)
def test_continuous_writes_are_never_missed(guest_hv, con, mode):
    if not supports(guest_hv, mode):
        pytest.skip("PML is VMX-only (refusal checked in test_harvests_are_exact_at_4k)")
    base, npages = start_memtouch(con, "dc", "idle", "rate=400", "mode=seq")
    con.run(f"dirty start dc mode={mode}")
    seen = set()
    send(con, "dc", "r", "resumed")
    for _ in range(6):
        time.sleep(0.25)
        seen |= harvest(con, "dc")
    send(con, "dc", "p", "paused")
    seen |= harvest(con, "dc")
    m = send(con, "dc", "s", r"written (\d+) passes (\d+) pages")
    written = int(m.group(1))
    assert written > 0
    expected = {base + p for p in range(min(written, npages))}
    assert seen & set(range(base, base + npages)) == expected, (
        f"written {written}: missed {sorted(expected - seen)[:10]}, "
        f"extra {sorted((seen - expected) & set(range(base, base + npages)))[:10]}")


# Rounds of memtouch writes (FIRST, COUNT) after 'dirty start': the same
# pages again round after round, single pages and runs at odd and even
# indexes, in several 2 MiB regions (512 pages each: 0, 1, 3 and 5), with
# pages and whole regions added in one round and left out in the next.
REARM_ROUNDS = [
    [(0, 40), (101, 1), (250, 7), (1001, 2)],
    [(0, 40), (101, 1), (250, 7), (1001, 2), (40, 3), (3001, 1)],
    [(0, 40), (250, 7), (2000, 5)],
    [(1, 1), (3, 1), (6, 1), (101, 1), (40, 3), (1001, 2)],
    [(0, 40), (101, 1), (250, 7), (1001, 2), (2000, 5), (3001, 1)],
]


def _short(pages, base):
    return sorted(p - base for p in pages)[:12]


@pytest.mark.parametrize("gran", ("4k", "2m"))
@pytest.mark.parametrize("mode", MODES)
def test_pages_written_again_are_reported_again(guest_hv, con, mode, gran):
    """Re-arming after a harvest: a page written in every round is reported
    in every round's harvest, and only the pages (at 2m: the regions) written
    in that round are. A re-arm that skips units, or leaves a page writable
    (wp), dirty (ad) or unlogged (pml), fails here (checked with seeded bugs:
    re-arm skipping odd units, dirty bits of odd pages left set). A missing
    TLB flush after the harvest (seeded too) did not fail it, nor any other
    test here: QEMU TCG and Bochs apparently drop cached guest translations
    on VM exit or entry by themselves, so no test here can prove that flush."""
    if not supports(guest_hv, mode):
        pytest.skip("PML is VMX-only (refusal checked in test_harvests_are_exact_at_4k)")
    base, npages = start_memtouch(con, "dr", "idle")
    assert base % 512 == 0, "memtouch's data area starts on a 2 MiB boundary"
    data = set(range(base, base + npages))
    per = 512 if gran == "2m" else 1
    res = con.run(f"dirty start dr mode={mode} gran={gran}").fields()
    assert res["mode"] == mode and res["granularity"] == gran, res
    harvest(con, "dr")  # whatever the guest did before: not under test

    for rnd, writes in enumerate(REARM_ROUNDS):
        before = stats(con, "dr")
        written = set()
        for first, count in writes:
            write(con, "dr", first, count)
            written.update(range(first, first + count))
        units = {p // per for p in written}
        expected = {base + u * per + i for u in units for i in range(per)} & data
        got = harvest(con, "dr") & data
        assert got == expected, (
            f"{mode}/{gran} round {rnd}: missed {_short(expected - got, base)}, "
            f"extra {_short(got - expected, base)} (page indexes from memtouch's base)")
        after = stats(con, "dr")
        if mode == "wp":  # every written unit faulted again, so it was protected again
            faults = int(after["wp_faults"]) - int(before["wp_faults"])
            assert faults >= len(units), f"round {rnd}: {faults} faults for {len(units)} units"
        if mode == "pml":  # every written unit was logged again (at 2m the CPU
            # logs a 2 MiB leaf once, when its dirty bit goes from 0 to 1)
            logged = int(after["pml_entries"]) - int(before["pml_entries"])
            assert logged >= len(units), f"round {rnd}: {logged} entries for {len(units)} units"
    assert not harvest(con, "dr") & data, "nothing written since the last harvest"
    assert int(stats(con, "dr")["harvests"]) == len(REARM_ROUNDS) + 2


def test_2m_granularity_marks_whole_regions_with_fewer_faults(guest_hv, con):
    base, npages = start_memtouch(con, "d2", "idle")
    assert base % 512 == 0, "memtouch's data area starts on a 2 MiB boundary"
    con.run("dirty start d2 mode=wp gran=2m")
    harvest(con, "d2")
    faults0 = int(stats(con, "d2")["wp_faults"])
    write(con, "d2", 10, 20)
    got = harvest(con, "d2")
    assert got & set(range(base, base + npages)) == set(range(base, base + 512))
    faults = int(stats(con, "d2")["wp_faults"]) - faults0
    assert 1 <= faults <= 4, f"{faults} faults for 20 pages in one region"


def test_pml_buffer_full_exits_lose_nothing(guest_hv, con):
    if guest_hv.target != "bochs":
        pytest.skip("PML is VMX-only")
    base, npages = start_memtouch(con, "dp", "idle")
    con.run("dirty start dp mode=pml")
    harvest(con, "dp")
    write(con, "dp", 0, 1500)
    s = stats(con, "dp")
    assert int(s["pml_full_exits"]) >= 2, s
    assert harvest(con, "dp") & set(range(base, base + npages)) == {base + p for p in range(1500)}


@pytest.mark.parametrize("mode", MODES)
def test_stop_leaves_memory_intact_and_writable(guest_hv, con, mode):
    if not supports(guest_hv, mode):
        pytest.skip("PML is VMX-only")
    start_memtouch(con, "ds", "idle")
    con.run(f"dirty start ds mode={mode}")
    write(con, "ds", 0, 64)
    harvest(con, "ds")
    write(con, "ds", 30, 10)
    before = send(con, "ds", "c", r"checksum (0x[0-9a-f]+) pages").group(1)
    con.run("dirty stop ds")
    assert stats(con, "ds")["active"] == "no"
    assert send(con, "ds", "c", r"checksum (0x[0-9a-f]+) pages").group(1) == before
    faults = int(stats(con, "ds")["wp_faults"])
    write(con, "ds", 0, 200)
    assert int(stats(con, "ds")["wp_faults"]) == faults, "writes fault after stop"
    send(con, "ds", "v", r"verify ok \d+ pages")
    assert con.run("vm info ds").fields()["state"] == "running"
    res = con.command("dirty harvest ds")
    assert not res.ok and "not running" in res.error


def test_console_errors(guest_hv, con):
    start_memtouch(con, "de", "idle")
    cases = {
        "dirty start nosuch": "no VM named 'nosuch'",
        "dirty start de mode=fast": "unknown mode 'fast'",
        "dirty start de gran=1g": "unknown option 'gran=1g'",
        "dirty stop de": "dirty tracking is not running for 'de'",
        "dirty frob de": "unknown dirty subcommand 'frob'",
        "dirty start": "usage: dirty",
        "dirty start de installers=2": "installers= takes 0 to 1 (the VM's vCPUs)",
        "dirty start de installers=x": "installers= takes 0 to 1",
        "dirty start de mode=wp gran=2m installers=0": "installers= needs gran=4k",
        "dirty start de mode=ad installers=1": "installers= applies to write protection",
    }
    for cmd, msg in cases.items():
        res = con.command(cmd)
        assert not res.ok and msg in res.error, (cmd, res.error)
    con.run("dirty start de")
    res = con.command("dirty start de")
    assert not res.ok and "running already" in res.error
    mode = stats(con, "de")["mode"]
    assert mode == ("pml" if guest_hv.target == "bochs" else "ad"), "the best mode by default"
    con.run("vm destroy de")  # tracking state goes with the VM


# The smp guest in "write" mode on the targets' vCPU counts: each vCPU writes
# its own pages, interleaved with the others' in the same 2 MiB regions.
WRITERS = {"qemu": 4, "bochs": 2}
WRITE_PAGES = 256  # a vCPU: with 2 or 4 vCPUs, whole 2 MiB regions


def start_writers(con, name, cpus, *args):
    start = len(con.text())
    create_and_start(con, name, "smp", f"cpus={cpus}", "mem=16M", "write",
                     f"pages={WRITE_PAGES}", *args)
    m = con.wait_for(rf"\[vm:{name}\] write: ready base 0x([0-9a-f]+) pages (\d+) cpus",
                     120, start=start)
    return int(m.group(1), 16) >> 12, int(m.group(2))


def write_while_harvesting(con, name):
    """Lets the writers go and harvests until they are done; every page
    any harvest reported."""
    start = len(con.text())
    con.run(f"vm send {name} g")
    seen = set()
    done = re.compile(rf"\[vm:{name}\] write: done pages \d+ passes \d+ tsc_per_page=\d+\n")
    deadline = time.monotonic() + 180
    while not done.search(con.text(), start):
        assert time.monotonic() < deadline, "the writers did not finish"
        time.sleep(0.15)
        seen |= harvest(con, name)
    return seen | harvest(con, name)


@pytest.mark.parametrize("mode", MODES + ("wp-installers",))
def test_vcpus_writing_at_once_are_all_logged(guest_hv, con, mode):
    """N vCPUs write their own interleaved pages at once (on one CPU, turn
    by turn) while the console harvests: the harvests hold exactly the
    pages written. With installers=1 only vCPU 0 takes a fault per page;
    a write of any other vCPU opens its whole 2 MiB region for the round,
    so far fewer faults, and whole regions reported (here the data area
    is whole regions, so the same pages)."""
    if not supports(guest_hv, mode):
        pytest.skip("PML is VMX-only (refusal checked in test_harvests_are_exact_at_4k)")
    cpus = WRITERS[guest_hv.target]
    base, total = start_writers(con, "dw", cpus, "rate=400")
    assert total == cpus * WRITE_PAGES and base % 512 == 0
    opts = "mode=wp installers=1" if mode == "wp-installers" else f"mode={mode}"
    f = con.run(f"dirty start dw {opts}").fields()
    assert f["installers"] == ("1" if mode == "wp-installers" else "all"), f
    seen = write_while_harvesting(con, "dw")
    top = 16 << 8  # 16 MiB in pages
    assert seen & set(range(base, top)) == set(range(base, base + total)), (
        f"missed {sorted(set(range(base, base + total)) - seen)[:10]}, "
        f"extra {sorted(seen & set(range(base + total, top)))[:10]}")
    s = stats(con, "dw")
    if mode == "wp":
        assert int(s["wp_faults"]) >= total and s["wp_region_faults"] == "0", s
    if mode == "wp-installers":
        # A region opens at most once a round (the harvest re-arms it page
        # by page); vCPU 0's pages fault one by one only until another
        # vCPU opens their region. Regions: the data area's, and the
        # kernel's (stacks, variables).
        rounds = int(s["harvests"])
        regions = total // 512 + 1
        assert 1 <= int(s["wp_region_faults"]) <= rounds * regions, s
        assert int(s["wp_faults"]) < total // 2, s
