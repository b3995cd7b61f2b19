"""Boot paths (disk, -kernel, PXE), configuration, power control."""


def test_kernel_boot_takes_load_options(boot):
    inst = boot(boot="kernel", cmdline="name=kernel-test hz=250 bogus=1")
    con = inst.console()
    assert con.run("version").fields()["boot_source"] == "kernel"
    cfg = con.run("config").fields()
    assert cfg["name"].startswith("kernel-test")
    assert "250 Hz" in con.run("uptime").fields()["ticks"]
    assert any("unknown setting 'bogus'" in l for l in con.run("log").lines)


def test_config_file_beside_the_image(boot):
    inst = boot(config="# lab defaults\nhz = 500\nloglevel=info\n")
    con = inst.console()
    cfg = con.run("config").fields()
    assert cfg["config_file"].endswith("hv.cfg")
    assert cfg["hz"] == "500 (hv.cfg)"
    assert "500 Hz" in con.run("uptime").fields()["ticks"]


def test_pxe_boot_fetches_config_over_tftp(boot):
    inst = boot(boot="pxe", config="name=from-tftp\n")
    con = inst.console()
    assert con.run("version").fields()["boot_source"] == "network"
    cfg = con.run("config").fields()
    assert cfg["config_file"].startswith("tftp://") and cfg["config_file"].endswith("hv.cfg")
    assert cfg["name"] == "from-tftp (hv.cfg)"
    assert con.run("version").fields()["image"] == "BOOTX64.EFI"


def test_poweroff_ends_qemu(boot):
    inst = boot()
    inst.console().send("poweroff\r")
    assert inst.wait_exit(30) == 0
    assert "powering off" in inst.read_console_log()


def test_reboot_comes_back(boot):
    inst = boot(allow_reboot=True)
    con = inst.console()
    con.send("reboot\r")
    con.wait_for(r"^rebooting\n", 30)
    # The firmware runs again and starts hv.efi a second time.
    con.wait_for(r"hv: UEFI loader starting", 120)
    con.wait_for(r"console ready", 120)
    con.wait_prompt(60)
    assert float(con.run("uptime").fields()["uptime"].split()[0]) < 30
