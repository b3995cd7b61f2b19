"""Virtual disks end to end under QEMU (AMD SVM): the datastore on the
host's virtio-blk or NVMe disk (found at boot, or made with `ds format`),
the disk commands, guests writing and reading through their virtio-blk
device (the blktest guest and Debian's Linux with ext2), what survives a
new VM and a new boot, damage and a full store, and the hvdisk tool and
the hypervisor reading each other's work. Crash safety is in
test_disk_crash.py."""

import os
import random
import shutil
import struct
import subprocess

import pytest

from conftest import BOOT_TIMEOUT, INSTANCE_ROOT, ROOT, make_instance
from guests import guest_lines, wait_state
import linux

HVDISK = os.path.join(ROOT, "build", "hvdisk")
MIB = 1 << 20
PAGE = 4096


def hvdisk(*args, rc=0):
    r = subprocess.run([HVDISK] + [str(a) for a in args], capture_output=True, text=True)
    assert r.returncode == rc, f"hvdisk {args}: rc {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r.stdout


def nvme_args(path):
    return ["-drive", f"if=none,id=nv0,format=raw,file={path}",
            "-device", "nvme,serial=hvtest,drive=nv0"]


def store_image(tmp_path, name="ds.img", size="256M", disks=()):
    """A datastore image made by the host tool, with empty disks."""
    path = tmp_path / name
    hvdisk("create", path, size)
    for disk, disk_size in disks:
        hvdisk("create-disk", path, disk, disk_size)
    return path


def info(con, command):
    r = con.command(command)
    assert r.ok, r.error
    return r.fields()


def disk_list(con):
    out = {}
    for line in con.command("disk list").lines:
        name, *kvs = line.split()
        out[name] = dict(kv.split("=", 1) for kv in kvs)
    return out


def run_blktest(con, vm, disk, args, timeout=120, mem="16M"):
    """Runs the blktest guest on 'disk' to its end; returns its lines."""
    since = len(con.text())
    r = con.command(f"vm create {vm} blktest mem={mem} disk={disk} -- {args}")
    assert r.ok, r.error
    assert con.command(f"vm start {vm}").ok
    con.wait_for(rf"\[vm:{vm}\] blktest: done", timeout, start=since)
    lines = [l for l in guest_lines(con, vm, since) if l.startswith("blktest: ")]
    assert con.command(f"vm destroy {vm}").ok
    return lines


# ---- the datastore and the disk commands --------------------------------------


def test_ds_format_asks_for_confirmation_and_refuses_a_partitioned_disk(boot, tmp_path):
    blank = tmp_path / "blank.img"
    blank.write_bytes(b"")
    os.truncate(blank, 128 * MIB)
    mbr = tmp_path / "mbr.img"
    with open(mbr, "wb") as f:
        f.truncate(64 * MIB)
        f.seek(446)  # one Linux partition from LBA 2048
        f.write(bytes([0, 0, 0, 0, 0x83, 0, 0, 0]) + (2048).to_bytes(4, "little") +
                (4096).to_bytes(4, "little"))
        f.seek(510)
        f.write(b"\x55\xaa")
    hv = boot(disk=str(blank), extra_args=nvme_args(mbr))
    con = hv.console()
    blk = {l.split()[0]: l for l in con.command("blk").lines}
    assert "content=empty" in blk["vblk0"] and "content=mbr" in blk["nvme0n1"]
    assert info(con, "ds")["state"] == "none"
    r = con.command("ds format vblk0")
    assert not r.ok and "confirm=yes" in r.error
    r = con.command("ds format nvme0n1 confirm=yes")
    assert not r.ok and "holds mbr" in r.error and "force" in r.error
    r = con.command("ds format nosuch confirm=yes")
    assert not r.ok and "no block device" in r.error
    ds = info(con, "ds format vblk0 confirm=yes")
    assert ds["state"] == "ok" and ds["device"] == "vblk0" and ds["disks"] == "0"
    assert int(ds["size"].split()[0]) == 128 * MIB
    assert 0 < int(ds["free"].split()[0]) < 128 * MIB
    r = con.command("ds format vblk0 confirm=yes")
    assert not r.ok and "holds a datastore" in r.error
    # Formatting another device keeps the open datastore open, and says so.
    assert info(con, "ds format nvme0n1 confirm=yes force")["device"] == "vblk0"
    con.wait_for("nvme0n1 formatted; vblk0 stays the open one", 5, start=0)
    hv.kill()
    # Both are datastores now; the tool reads what the hypervisor wrote.
    assert hvdisk("list", blank).startswith("store ")
    assert hvdisk("list", mbr).startswith("store ")


def test_disk_commands_and_the_tool_agree(boot, tmp_path):
    img = store_image(tmp_path)
    hv = boot(disk=str(img))
    con = hv.console()
    ds = info(con, "ds")
    assert ds["state"] == "ok" and ds["device"] == "vblk0" and ds["disks"] == "0"
    created = info(con, "disk create a 64M")
    assert created["name"] == "a" and created["size"] == str(64 * MIB)
    assert created["allocated"] == "0" and created["parent"] == "-" and created["base"] == "0"
    for bad, why in [("disk create a 1M", "exists"), ("disk create b/c 1M", "name"),
                     ("disk create b 0", "size"), ("disk create b 1000", "size"),
                     ("disk create b 8M base=nosuch", "nosuch"),
                     ("disk create b 8M base=a", "snapshot"), ("disk info nosuch", "no disk"),
                     ("disk delete nosuch", "nosuch"), ("disk frob", "unknown")]:
        r = con.command(bad)
        assert not r.ok and why in r.error, (bad, r.error)
    snap = info(con, "disk snapshot a")
    base = snap["snapshot"]
    assert base == "a@1" and snap["parent"] == base
    assert info(con, f"disk info {base}")["base"] == "1"
    assert info(con, f"disk info {base}")["content_id"] == snap["content_id"]
    child = info(con, f"disk create c 64M base={base}")
    assert child["parent"] == base
    r = con.command(f"disk delete {base}")
    assert not r.ok and "dependent" in r.error
    sums = {d: info(con, f"disk sum {d}")["sum"] for d in ("a", base, "c")}
    assert len(set(sums.values())) == 1  # all read as 64 MiB of zeros
    assert con.command("disk delete c").ok
    listed = disk_list(con)
    assert set(listed) == {"a", base}
    assert listed["a"]["parent"] == base and listed[base]["base"] == "1"
    hv.kill()  # every metadata change was committed before its 'ok'
    out = hvdisk("list", img).splitlines()
    names = {l.split("name=")[1].split()[0] for l in out[1:]}
    assert names == {"a", base}
    assert hvdisk("sum", img, "a").strip() == f"sum={sums['a']}"
    assert hvdisk("check", img).strip().endswith("check: 0 problems")


def test_a_disk_imported_by_the_tool_reads_the_same_in_the_hypervisor(boot, tmp_path):
    img = store_image(tmp_path)
    src = tmp_path / "src.raw"
    rnd = random.Random(5)
    data = bytearray(8 * MIB)
    for _ in range(40):  # random extents with zero gaps between them
        at = rnd.randrange(0, len(data) - 65536) & ~511
        data[at:at + 65536] = rnd.randbytes(65536)
    src.write_bytes(bytes(data))
    hvdisk("import", img, "imp", src)
    tool_sum = hvdisk("sum", img, "imp").strip().split("=")[1]
    hv = boot(disk=str(img))
    con = hv.console()
    assert info(con, "disk sum imp")["sum"] == tool_sum
    assert info(con, "disk info imp")["size"] == str(8 * MIB)


def test_the_datastore_on_nvme_opens_at_boot_and_datastore_chooses(boot, tmp_path):
    a = store_image(tmp_path, "a.img", disks=[("on-a", "8M")])
    b = store_image(tmp_path, "b.img", disks=[("on-b", "8M")])
    hv = boot(disk=str(a), extra_args=nvme_args(b))
    con = hv.console()
    assert info(con, "ds")["device"] == "vblk0"  # the first found
    assert set(disk_list(con)) == {"on-a"}
    assert "another one on nvme0n1 is not opened" in con.text() or \
        "another one on nvme0n1" in hv.read_console_log()
    hv.kill()
    hv = boot(disk=str(a), extra_args=nvme_args(b), config="datastore=nvme0n1\n")
    con = hv.console()
    assert info(con, "ds")["device"] == "nvme0n1"
    assert set(disk_list(con)) == {"on-b"}
    hv.kill()
    hv = boot(disk=str(a), config="datastore=off\n")
    con = hv.console()
    ds = info(con, "ds")
    assert ds["state"] == "none" and "off" in ds["reason"]
    r = con.command("disk list")
    assert not r.ok and "no datastore" in r.error


SB_JOURNAL_START = 64  # superblock fields: hv/store/store_format.h, docs/datastore.md
SB_DISKTAB_START = 96


def _damage_disk_table(img):
    """Flips bytes of disk record 0 and of the journal that could repair it."""
    with open(img, "r+b") as f:
        sb = f.read(PAGE)
        journal = struct.unpack_from("<Q", sb, SB_JOURNAL_START)[0]
        disktab = struct.unpack_from("<Q", sb, SB_DISKTAB_START)[0]
        for off, n in ((disktab * PAGE + 200, 16), (journal * PAGE, 64)):
            f.seek(off)
            old = f.read(n)
            f.seek(off)
            f.write(bytes(b ^ 0x5A for b in old))


def test_a_datastore_in_a_gpt_partition_opens_at_boot(boot, tmp_path):
    img = tmp_path / "gpt.img"
    hvdisk("create", img, "128M", "--gpt")
    hvdisk("create-disk", img, "inpart", "8M")
    hv = boot(disk=str(img))
    con = hv.console()
    blk = [l for l in con.command("blk").lines if l.startswith("vblk0 ")][0]
    assert blk.startswith("vblk0 ") and "content=gpt" in blk and "datastore=p1" in blk, blk
    ds = info(con, "ds")
    assert ds["device"] == "vblk0p1" and ds["state"] == "ok"
    assert set(disk_list(con)) == {"inpart"}
    r = con.command("ds format vblk0p1 confirm=yes")
    assert not r.ok and "holds a datastore" in r.error
    r = con.command("ds format vblk0p2 confirm=yes")
    assert not r.ok and "no GPT partition 2" in r.error
    r = con.command("ds format vblk0 confirm=yes")
    assert not r.ok and "holds gpt" in r.error
    lines = run_blktest(con, "w", "inpart", "mode=pattern seed=11 start=0 count=256")
    assert any(l.startswith("blktest: pattern ok sectors=256") for l in lines), lines
    hv.kill()
    assert hvdisk("sum", img, "inpart").strip().startswith("sum=")


def test_damaged_metadata_opens_read_only_and_says_why(boot, tmp_path):
    img = store_image(tmp_path, disks=[("d", "8M"), ("e", "8M")])
    assert hvdisk("check", img).strip().endswith("check: 0 problems")
    _damage_disk_table(img)  # the record of 'd'; 'e' stays readable
    assert "problems" in hvdisk("check", img, rc=1)
    hv = boot(disk=str(img))
    con = hv.console()
    ds = info(con, "ds")
    assert ds["state"] == "read-only" and "disk table" in ds["problem"]
    r = con.command("disk create e 1M")
    assert not r.ok and "read-only" in r.error
    assert set(disk_list(con)) == {"e"}
    r = con.command("vm create v blktest disk=e")
    assert not r.ok and "read-only" in r.error
    assert con.command("vm create v blktest disk=e,ro -- mode=info").ok


# ---- guests on their disks ------------------------------------------------------


def test_a_guest_writes_and_a_new_vm_and_a_new_boot_read_it(boot, tmp_path):
    img = store_image(tmp_path, disks=[("d", "32M")])
    hv = boot(disk=str(img))
    con = hv.console()
    lines = run_blktest(con, "w", "d", "mode=pattern seed=9 start=100 count=4096")
    wrote = [l for l in lines if l.startswith("blktest: pattern ok")]
    assert wrote == [l for l in lines if "ok" in l] and len(wrote) == 1, lines
    total = wrote[0].split("sum=")[1]
    d = info(con, "disk info d")
    assert int(d["allocated"]) >= 4096 * 512  # thin: only what was written
    assert int(d["allocated"]) <= 4096 * 512 + 2 * 65536
    lines = run_blktest(con, "r", "d", "mode=verify seed=9 start=100 count=4096")
    assert f"blktest: verify ok sectors=4096 sum={total}" in lines, lines
    hv_sum = info(con, "disk sum d")["sum"]
    con.send("reboot\r")  # the firmware resets the machine; QEMU exits (-no-reboot)
    hv.wait_exit(60)
    assert hvdisk("sum", img, "d").strip() == f"sum={hv_sum}"
    hv = boot(disk=str(img))
    con = hv.console()
    lines = run_blktest(con, "r2", "d", "mode=verify seed=9 start=100 count=4096")
    assert f"blktest: verify ok sectors=4096 sum={total}" in lines, lines
    lines = run_blktest(con, "bad", "d", "mode=verify seed=8 start=100 count=8")
    assert any("verify FAIL" in l for l in lines), lines  # the check can fail


def test_the_tool_exports_what_the_guest_wrote(boot, tmp_path):
    img = store_image(tmp_path, disks=[("d", "8M")])
    hv = boot(disk=str(img))
    con = hv.console()
    lines = run_blktest(con, "w", "d", "mode=pattern seed=3 start=0 count=64")
    assert any(l.startswith("blktest: pattern ok sectors=64") for l in lines), lines
    hv.kill()  # flushed: the guest's FLUSH committed it
    out = tmp_path / "d.raw"
    hvdisk("export", img, "d", out)
    raw = out.read_bytes()
    assert len(raw) == 8 << 20
    from test_disk_crash import mix  # noqa: E402 (blktest's generator)
    for s in (0, 17, 63):
        words = struct.unpack_from("<64Q", raw, s * 512)
        assert list(words) == [mix(3, s, i) for i in range(64)]
    assert raw[64 * 512:] == bytes(len(raw) - 64 * 512)


def test_malformed_requests_fail_alone_and_the_device_goes_on(boot, tmp_path):
    img = store_image(tmp_path, disks=[("d", "8M"), ("e", "8M")])
    hv = boot(disk=str(img))
    con = hv.console()
    con.command("vm create c counter mem=4M")
    con.command("vm start c")
    lines = run_blktest(con, "b", "d", "mode=bad")
    status = {l.split()[2]: l for l in lines if l.startswith("blktest: bad ") and "status=" in l}
    assert "status=1" in status["range"] and "status=1" in status["short_header"]
    assert "status=1" in status["odd_length"] and "status=2" in status["unknown_type"]
    assert "blktest: bad done, device ok" in lines, lines
    assert info(con, "vm info c")["state"] == "running"
    lines = run_blktest(con, "e", "e", "mode=pattern seed=1 start=0 count=128")
    assert any(l.startswith("blktest: pattern ok") for l in lines), lines


def test_read_only_attachments_and_one_writer(boot, tmp_path):
    img = store_image(tmp_path, disks=[("d", "8M")])
    hv = boot(disk=str(img))
    con = hv.console()
    lines = run_blktest(con, "w", "d", "mode=pattern seed=4 start=0 count=64")
    assert any(l.startswith("blktest: pattern ok") for l in lines), lines
    assert con.command("vm create a blktest mem=16M disk=d,ro -- mode=info").ok
    assert con.command("vm create b blktest mem=16M disk=d,ro -- mode=info").ok
    r = con.command("vm create c blktest mem=16M disk=d -- mode=info")
    assert not r.ok and "attached to VM 'a'" in r.error
    r = con.command("disk delete d")
    assert not r.ok and "attached" in r.error
    assert info(con, "disk info d")["attached"] == "a,b"
    since = len(con.text())
    con.command("vm start a")
    con.wait_for(r"\[vm:a\] blktest: done", 60, start=since)
    assert "blktest: capacity=16384 ro=1 serial=d" in guest_lines(con, "a", since)
    con.command("vm destroy a")
    con.command("vm destroy b")
    lines = run_blktest(con, "r", "d,ro", "mode=pattern seed=5 start=0 count=8")
    assert any("pattern FAIL" in l for l in lines), lines  # writes refused
    lines = run_blktest(con, "v", "d", "mode=verify seed=4 start=0 count=64")
    assert any(l.startswith("blktest: verify ok") for l in lines), lines


def test_a_full_datastore_is_an_io_error_for_the_guest_and_ds_says_so(boot, tmp_path):
    img = store_image(tmp_path, size="16M", disks=[("big", "64M")])
    hv = boot(disk=str(img))
    con = hv.console()
    free = int(info(con, "ds")["free"].split()[0])
    sectors = (free // 512) + 8192  # more than the store holds
    lines = run_blktest(con, "f", "big", f"mode=pattern seed=2 start=0 count={sectors}",
                        timeout=300, mem="32M")
    assert any("pattern FAIL" in l and "status=1" in l for l in lines), lines
    ds = info(con, "ds")
    assert ds["state"] == "full" and "full" in ds["problem"]
    assert "error" not in con.command("uptime").status_line
    assert con.command("disk delete big").ok
    assert info(con, "ds")["state"] == "ok"


# ---- Linux on a datastore disk ---------------------------------------------------


def _linux_on_disk(con, name, disk):
    r = con.command(f"vm create {name} vmlinuz mem=256M module=initrd.img disk={disk} -- "
                    f"{linux.CMDLINE}")
    assert r.ok, r.error
    linux.start(con, name, "qemu")
    assert linux.sh(con, name, "disk-modules") == []
    out = linux.sh(con, name, "for i in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/vda ] && break; "
                   "sleep 1; done; cat /sys/block/vda/size")
    return int(out[-1])


def test_linux_makes_an_ext2_file_system_that_outlives_the_vm_and_the_hypervisor(boot,
                                                                                  tmp_path):
    if not linux.payload_present():
        pytest.fail("run 'make integration' (fetches Debian's kernel and busybox first)")
    img = store_image(tmp_path, disks=[("fs", "64M")])
    hv = boot(disk=str(img), mem="1G", guests=[linux.KERNEL, linux.INITRD])
    con = hv.console()
    assert _linux_on_disk(con, "l1", "fs") == 64 * MIB // 512
    sh = lambda cmd: linux.sh(con, "l1", cmd, timeout=120)  # noqa: E731
    # busybox's mkfs.ext2 is called mke2fs.
    assert sh("mke2fs /dev/vda >/dev/null && mkdir -p /mnt && mount /dev/vda /mnt && "
              "echo mounted") == ["mounted"]
    assert sh("dd if=/dev/urandom of=/mnt/blob bs=64k count=40 2>/dev/null; "
              "echo 'written by the first VM' > /mnt/note; sync; echo synced") == ["synced"]
    digest = sh("md5sum /mnt/blob")[-1].split()[0]
    assert sh("umount /mnt && echo unmounted") == ["unmounted"]
    linux.send(con, "l1", "poweroff -f")
    wait_state(con, "l1", "stopped", 60)
    assert con.command("vm destroy l1").ok
    assert _linux_on_disk(con, "l2", "fs") == 64 * MIB // 512
    out = linux.sh(con, "l2", "mkdir -p /mnt && mount /dev/vda /mnt && cat /mnt/note && "
                   "md5sum /mnt/blob && umount /mnt", timeout=120)
    assert out[0] == "written by the first VM" and out[1].split()[0] == digest
    linux.send(con, "l2", "poweroff -f")
    wait_state(con, "l2", "stopped", 60)
    assert con.command("vm destroy l2").ok
    con.send("reboot\r")
    hv.wait_exit(60)
    hv = boot(disk=str(img), mem="1G", guests=[linux.KERNEL, linux.INITRD])
    con = hv.console()
    _linux_on_disk(con, "l3", "fs")
    out = linux.sh(con, "l3", "mkdir -p /mnt && mount -o ro /dev/vda /mnt && cat /mnt/note && "
                   "md5sum /mnt/blob", timeout=120)
    assert out[0] == "written by the first VM" and out[1].split()[0] == digest
    info_lines = con.command("vm info l3").fields()
    assert int(info_lines["disk0"].split("reads=")[1].split()[0]) > 0
    assert "io_errors=0" in info_lines["disk0"] and "bad_requests=0" in info_lines["disk0"]


# ---- Intel VMX (Bochs): no virtio or NVMe there, a RAM disk holds the store ------


def test_vmx_guest_disk_on_a_ram_disk_datastore():
    """Bochs emulates VMX but no disk the drivers know: the datastore goes
    on ram0 (setting ramdisk=), and the guest side (virtio-blk model, BAR
    MMIO through EPT violations) is what is tested."""
    workdir = os.path.join(INSTANCE_ROOT, "disk-vmx")
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    inst = make_instance("bochs", workdir, config="ramdisk=32M\n")
    inst.start()
    try:
        inst.wait_prompt(BOOT_TIMEOUT)
        con = inst.console()
        assert "vmx" in con.command("cpu").text()
        assert "ram0" in con.command("blk").text()
        assert info(con, "ds")["state"] == "none"  # a new RAM disk is empty
        assert info(con, "ds format ram0 confirm=yes")["device"] == "ram0"
        assert con.command("disk create d 8M").ok
        lines = run_blktest(con, "w", "d", "mode=pattern seed=6 start=8 count=256", timeout=600)
        wrote = [l for l in lines if l.startswith("blktest: pattern ok sectors=256")]
        assert wrote, lines
        lines = run_blktest(con, "r", "d", "mode=verify seed=6 start=8 count=256", timeout=600)
        assert f"blktest: verify ok sectors=256 sum={wrote[0].split('sum=')[1]}" in lines, lines
        lines = run_blktest(con, "b", "d", "mode=bad", timeout=600)
        assert "blktest: bad done, device ok" in lines, lines
    finally:
        inst.kill()
    shutil.rmtree(workdir, ignore_errors=True)
