"""Retired pages: taken out of service from the console, kept in UEFI NVRAM
and honoured after a reboot with the same OVMF variable store (the
allocator never hands them out); a damaged NVRAM record is reported and
ignored, and the instance still boots."""

import os
import re


def memmap_page(con, offset_mib):
    """A page inside the largest usable region of the memory map."""
    best = None
    for line in con.run("memmap").lines:
        # 0xSTART-0xEND PAGES FIRMWARE-TYPE KIND ATTRIBUTES
        m = re.match(r"\s*0x([0-9a-f]+)-0x([0-9a-f]+)\s+\d+\s+\S+\s+(\S+)", line)
        if m and m.group(3) == "free":
            start, end = int(m.group(1), 16), int(m.group(2), 16)
            if not best or end - start > best[1] - best[0]:
                best = (start, end)
    assert best, con.run("memmap").text()
    return (best[0] + (offset_mib << 20) + 0xfff) & ~0xfff


def test_retired_pages_survive_a_reboot(boot, tmp_path):
    vars_file = str(tmp_path / "vars.fd")
    a = boot(vars_file=vars_file, config="debug=1\n")
    con = a.console()
    f = con.run("mce").fields()
    assert f["retired_pages"] == "0"
    pages = [memmap_page(con, 64), memmap_page(con, 96)]
    for p in pages:
        r = con.run(f"mce retire 0x{p:x}").fields()
        assert r["state"] == "retired (was free)" and r["saved"] == "yes", r
    assert con.run(f"mce retire 0x{pages[0]:x}").fields()["state"] == "already retired"
    assert int(con.run("mem").fields()["retired"].split()[0]) >= 2
    a.kill()

    b = boot(vars_file=vars_file, config="debug=1\n")
    con = b.console()
    r = con.run("mce")
    f = r.fields()
    assert f["retired_pages"] == "2" and f["nvram_at_boot"] == "2 pages from NVRAM", r.text()
    listed = [int(m.group(1), 16) for m in
              (re.match(r"page 0x([0-9a-f]+) reason operator", l) for l in r.lines) if m]
    assert listed == sorted(pages)
    got = con.run("debug alloc-all", timeout=300).fields()
    assert int(got["allocated"]) > 50000 and got["retired_handed_out"] == "0", got

    # The operator override puts one back, and that survives a reboot too.
    assert con.run(f"mce forget 0x{pages[0]:x}").fields()["state"] == "in service"
    b.kill()
    c = boot(vars_file=vars_file)
    f = c.console().run("mce").fields()
    assert f["retired_pages"] == "1", f


def test_corrupt_record_is_reported_and_ignored(boot, tmp_path):
    vars_file = str(tmp_path / "vars.fd")
    a = boot(vars_file=vars_file, config="debug=1\n")
    assert a.console().run("debug nvram-corrupt").ok
    a.kill()
    b = boot(vars_file=vars_file)
    con = b.console()
    f = con.run("mce").fields()
    assert f["retired_pages"] == "0"
    assert f["nvram_at_boot"] == "record ignored: record checksum mismatch", f
    assert any("retired-page record in NVRAM ignored" in l for l in con.run("log").lines)


def test_console_errors(boot):
    con = boot().console()
    for cmd, want in (("mce retire 0x1234", "not a page address"),
                      ("mce retire banana", "not a page address"),
                      ("mce forget 0x5000000", "is not retired"),
                      ("mce frob", "usage: mce")):
        r = con.command(cmd)
        assert not r.ok and want in r.error, (cmd, r.error)
