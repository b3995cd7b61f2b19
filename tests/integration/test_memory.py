"""'mem' agrees with the firmware memory map it was built from."""

from hvconsole import parse_memmap

MIB_PAGES = 256
USABLE_KINDS = {"free", "boot-services", "hypervisor"}


def test_mem_matches_the_memory_map(hv):
    con = hv.console()
    regions = parse_memmap(con.run("memmap").lines)
    mem = con.run("mem")
    total = sum(r["pages"] for r in regions if r["kind"] != "mmio")
    usable = sum(r["pages"] for r in regions if r["kind"] in USABLE_KINDS)
    mmio = sum(r["pages"] for r in regions if r["kind"] == "mmio")

    assert mem.number("total") == total
    assert mem.number("usable") == usable
    assert mem.number("mmio") == mmio
    assert mem.number("reserved") == total - usable
    f = mem.fields()
    accounted = sum(mem.number(k) for k in ("free", "used", "retired") if k in f)
    accounted += sum(mem.number(k) for k in ("deferred",) if k in f)
    assert accounted == usable
    # QEMU was given 512 MiB; only the legacy hole below 1 MiB is missing.
    assert 511 * MIB_PAGES <= total <= 512 * MIB_PAGES
    # Almost everything is free after boot: the hypervisor is small.
    assert mem.number("used") < 16 * MIB_PAGES


def test_regions_are_sorted_and_disjoint(hv):
    regions = parse_memmap(hv.console().run("memmap").lines)
    for a, b in zip(regions, regions[1:]):
        assert a["end"] < b["start"], (a, b)
    for r in regions:
        assert r["end"] - r["start"] + 1 == r["pages"] * 4096
