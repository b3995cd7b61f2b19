"""Retired pages: taken out of service from the console, kept in UEFI NVRAM
and honoured after a reboot with the same OVMF variable store (the
allocator never hands them out); a damaged NVRAM record is reported and
ignored, and the instance still boots."""

import re

from hvconsole import largest_free_region
from netpair import wait_field


def memmap_page(con, offset_mib):
    """A page inside the largest usable region of the memory map."""
    start, _ = largest_free_region(con)
    return (start + (offset_mib << 20) + 0xfff) & ~0xfff


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


# QEMU's monitor `mce CPU BANK STATUS MCGSTATUS ADDR MISC`: an uncorrected,
# recoverable memory error (VAL UC EN MISCV ADDRV S; RIPV EIPV MCIP).
UC_STATUS = "0xbd000000000000c0"
MCG_RIPV = "0x7"


def qemu_mce(inst, addr):
    inst.monitor(f"mce 0 9 {UC_STATUS} {MCG_RIPV} 0x{addr:x} 0x8c")


def wait_mce(con, key, value):
    return wait_field(con, "mce", key, value).fields()


def test_hardware_errors_at_free_hypervisor_and_guest_pages(boot, tmp_path):
    inst = boot(vars_file=str(tmp_path / "vars.fd"))
    con = inst.console()
    assert con.run("mce").fields()["mca"] == "yes"

    free = memmap_page(con, 80)
    qemu_mce(inst, free)
    f = wait_mce(con, "uncorrected", "1")
    assert f["last"] == f"bank 9: free page 0x{free:x} retired", f

    # A page of the hypervisor's own image: the error is contained (the
    # restart IP is valid, the processor context is not corrupt), the page
    # is retired in place and never handed out once freed.
    image = None
    for line in inst.read_console_log().splitlines():
        m = re.search(r"image at 0x([0-9a-f]+)", line)
        if m:
            image = int(m.group(1), 16)
    assert image, "boot log without the image address"
    qemu_mce(inst, image + 0x3000)
    f = wait_mce(con, "uncorrected", "2")
    assert f["last"] == f"bank 9: hypervisor page 0x{image + 0x3000:x} retired", f
    assert con.run("version").ok

    # A guest's page.
    assert con.run("vm create c counter interval=20").ok
    assert con.run("vm start c").ok
    hpa = int(con.run("mce where c:0x100000").fields()["hpa"], 16)
    # Inject while the guest is paused: under TCG a #MC during guest
    # execution goes to the guest, not to the hypervisor.
    assert con.run("vm pause c").ok
    qemu_mce(inst, hpa)
    f = wait_mce(con, "uncorrected", "3")
    assert "of VM c (GPA 0x100000) poisoned and retired" in f["last"], f
    assert int(f["guest_pages_poisoned"]) == 1
    assert con.run("vm resume c").ok
    # The guest's code lives in that page: it is stopped, with the reason.
    import time
    deadline = time.time() + 20
    while "crashed" not in con.run("vm list").text():
        assert time.time() < deadline
        time.sleep(0.2)
    reason = con.run("vm info c").fields()["reason"]
    assert "poisoned guest page 0x100000 " in reason, reason
    assert con.run("version").ok  # the hypervisor carries on
    r = con.run("mce")
    listed = [l for l in r.lines if l.startswith("page ")]
    assert any(f"0x{free:x} reason uncorrected-error" in l for l in listed), r.text()
    assert any(f"0x{hpa:x} reason uncorrected-error" in l for l in listed), r.text()
    assert con.run("vm destroy c").ok


def test_machine_check_inside_the_safe_copy_is_survived(boot, tmp_path):
    import time
    inst = boot(vars_file=str(tmp_path / "vars.fd"), config="debug=1\n")
    con = inst.console()
    # QEMU's injected #MC is asynchronous: it is taken at the next
    # instruction boundary QEMU checks, which is now and then the loop
    # around the copy instead of the copy (seen at the call after it in
    # about 1 of 4 runs). Every landing must be survived with its page
    # retired; at least one of a few must go through the copy's fixup.
    for attempt in range(1, 7):
        target = memmap_page(con, 80 + 2 * attempt)
        start = con.send_command("debug mc-copy")
        con.wait_echo("debug mc-copy", start, 30)  # the copy loop now runs for 5 s
        time.sleep(1.0)
        qemu_mce(inst, target)
        r = con.reply("debug mc-copy", start, 60)
        assert r.ok, r
        f = wait_mce(con, "uncorrected", str(attempt))
        assert f["exceptions"] == str(attempt), f
        assert f["last"] == f"bank 9: free page 0x{target:x} retired", f
        if r.fields()["interrupted_by_machine_check"] == "yes":
            assert f["copies_interrupted"] == "1", f
            return
        assert f["copies_interrupted"] == "0", f
    raise AssertionError("no #MC of 6 landed inside copy_mc_safe")


def test_inject_twice_and_the_copy_benchmark(boot, tmp_path):
    con = boot(vars_file=str(tmp_path / "vars.fd")).console()
    page = memmap_page(con, 70)
    r = con.run(f"mce inject 0x{page:x}").fields()
    assert r["owner"] == "free" and r["action"] == f"free page 0x{page:x} retired", r
    assert int(r["handling_us"]) >= int(r["nvram_save_us"]) > 0, r
    r = con.run(f"mce inject 0x{page:x}").fields()
    assert r["action"] == f"page 0x{page:x} was already retired", r
    f = con.run("mce").fields()
    assert f["pages_retired_this_boot"] == "1" and f["retired_pages"] == "1", f
    # Both copies of the same pages run without a machine check.
    c = con.run("bench copy 200").fields()
    assert c["pages"] == "200" and int(c["memcpy_tsc"]) > 0 and int(c["copy_mc_safe_tsc"]) > 0
    r = con.command("bench copy 0")
    assert not r.ok and "N must be" in r.error
