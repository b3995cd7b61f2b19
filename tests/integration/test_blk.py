"""Host block drivers: one QEMU instance with a virtio-blk disk (vblk0), a
read-only virtio-blk disk (vblk1) and an NVMe disk (nvme0n1), all raw
image files this test writes and reads from the host side; before it, an
instance with only a RAM disk (the ramdisk= setting).

Checks: the devices are listed with their sizes and contents; a block read
through each driver matches the image file; a block written through each
driver lands in the file; `blk bench` prints its figures and what a write
benchmark leaves in the file is its documented pattern (every 512-byte
sector: its byte offset as little-endian u64, then 504 bytes of 0xA5);
errors for a bad device, a bad mode and a read-only device."""

import os
import re
import struct
import zlib

import pytest

from conftest import shared_instance

SIZES = {"vblk0": 256 << 20, "vblk1": 16 << 20, "nvme0n1": 128 << 20}
LINE = re.compile(r'^(\S+) model="([^"]*)" size=(\d+) \(([^)]*)\) (.*)$')


def sector_pattern(offset):
    return struct.pack("<Q", offset) + b"\xa5" * 504


def test_ramdisk_setting_gives_ram0(boot):
    """Runs before the module's instance starts (one QEMU at a time)."""
    c = boot(config="ramdisk=16M\n").console()
    devs = listing(c)
    assert set(devs) == {"ram0"}
    ram = devs["ram0"]
    assert (ram["size"], ram["human"], ram["model"]) == (16 << 20, "16 MiB", "RAM disk")
    assert (ram["cache"], ram["content"], ram["ro"]) == ("none", "empty", "0")
    assert fields(c.run("blk write ram0 5 0x42").lines[0])["first16"] == "42" * 16
    got = fields(c.run("blk read ram0 5").lines[0])
    assert got["crc32"] == "%08x" % zlib.crc32(b"\x42" * 512)
    r = c.run("blk bench ram0 write size=8 qd=4")
    assert int(fields(r.lines[0])["bytes"]) == 8 << 20
    assert listing(c)["ram0"]["writes"] == str(1 + 64)


@pytest.fixture(scope="module")
def disks(tmp_path_factory):
    d = tmp_path_factory.mktemp("blk")
    paths = {name: str(d / f"{name}.img") for name in SIZES}
    for name, size in SIZES.items():
        with open(paths[name], "wb") as f:
            f.truncate(size)
    # vblk0: an ext superblock magic, and a known block at LBA 100.
    with open(paths["vblk0"], "r+b") as f:
        f.seek(1080)
        f.write(struct.pack("<H", 0xEF53))
        f.seek(100 * 512)
        f.write(bytes((i * 7 + 1) & 0xFF for i in range(512)))
    with open(paths["nvme0n1"], "r+b") as f:
        f.seek(3000 * 512)
        f.write(os.urandom(512))
    return paths


@pytest.fixture(scope="module")
def inst(disks):
    args = ["-drive", f"file={disks['vblk0']},if=none,id=d0,format=raw",
            "-device", "virtio-blk-pci,drive=d0",
            "-drive", f"file={disks['vblk1']},if=none,id=d1,format=raw,readonly=on",
            "-device", "virtio-blk-pci,drive=d1",
            "-drive", f"file={disks['nvme0n1']},if=none,id=d2,format=raw",
            "-device", "nvme,serial=hvtest,drive=d2"]
    i = shared_instance("test_blk", "qemu", mem="1G", extra_args=args)
    yield i
    i.kill()


@pytest.fixture(scope="module")
def con(inst):
    return inst.console()


def listing(con):
    devs = {}
    for line in con.run("blk").lines:
        m = LINE.match(line)
        assert m, line
        fields = dict(kv.split("=", 1) for kv in m.group(5).split() if "=" in kv)
        devs[m.group(1)] = dict(model=m.group(2), size=int(m.group(3)), human=m.group(4),
                                **fields)
    return devs


def fields(line):
    return dict(kv.split("=", 1) for kv in line.split())


def read_file(path, offset, length):
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read(length)


def test_devices_are_listed_with_sizes_and_contents(con):
    devs = listing(con)
    assert set(devs) == set(SIZES)
    for name, size in SIZES.items():
        assert devs[name]["size"] == size, devs[name]
        assert devs[name]["block"] == "512"
        assert devs[name]["errors"] == "0" and devs[name]["bad"] == "0"
    assert devs["vblk0"]["human"] == "256 MiB"
    assert devs["vblk0"]["model"] == "virtio-blk"
    assert devs["nvme0n1"]["model"] == "NVMe QEMU NVMe Ctrl"
    assert devs["vblk0"]["content"] == "ext"
    assert devs["vblk1"]["content"] == "empty"
    assert devs["nvme0n1"]["content"] == "empty"
    assert devs["vblk1"]["ro"] == "1" and devs["vblk0"]["ro"] == "0"
    assert devs["vblk0"]["cache"] == "volatile"


@pytest.mark.parametrize("dev,lba", [("vblk0", 100), ("nvme0n1", 3000)])
def test_a_block_read_through_the_driver_matches_the_file(con, disks, dev, lba):
    want = read_file(disks[dev], lba * 512, 512)
    got = fields(con.run(f"blk read {dev} {lba}").lines[0])
    assert got["crc32"] == "%08x" % zlib.crc32(want)
    assert got["first16"] == want[:16].hex()


@pytest.mark.parametrize("dev,lba,byte", [("vblk0", 77, 0x5C), ("nvme0n1", 4095, 0xC3)])
def test_a_block_written_through_the_driver_lands_in_the_file(con, disks, dev, lba, byte):
    before = read_file(disks[dev], (lba - 1) * 512, 512)
    r = con.run(f"blk write {dev} {lba} {byte}")
    assert fields(r.lines[0])["crc32"] == "%08x" % zlib.crc32(bytes([byte]) * 512)
    assert read_file(disks[dev], lba * 512, 512) == bytes([byte]) * 512
    assert read_file(disks[dev], (lba - 1) * 512, 512) == before, "the block before untouched"


@pytest.mark.parametrize("dev", ["vblk0", "nvme0n1"])
def test_bench_prints_figures_and_writes_its_pattern(con, disks, dev):
    r = con.run(f"blk bench {dev} write size=4 qd=4", timeout=120)
    f = fields(r.lines[0])
    assert int(f["bytes"]) == 4 << 20
    assert int(f["ios"]) == 32  # 128 KiB requests
    assert int(f["tsc"]) > 0 and int(f["ns"]) > 0 and int(f["iops"]) > 0
    assert re.fullmatch(r"\d+\.\d", f["mbps"])
    data = read_file(disks[dev], 0, 4 << 20)
    bad = [off for off in range(0, 4 << 20, 512) if data[off:off + 512] != sector_pattern(off)]
    assert not bad, f"{len(bad)} sectors differ, first at byte {bad[0]}"

    r = con.run(f"blk bench {dev} randread size=4 qd=8", timeout=120)
    f = fields(r.lines[0])
    assert int(f["ios"]) == 1024 and int(f["bytes"]) == 4 << 20  # 4 KiB each
    assert listing(con)[dev]["errors"] == "0"


def test_errors_for_bad_devices_modes_and_read_only(con):
    r = con.command("blk bench nope read")
    assert r.error == "no block device 'nope' (see blk)"
    r = con.command("blk bench vblk0 sideways")
    assert r.error == "mode must be read, write, randread or randwrite"
    r = con.command("blk bench vblk0 read size=999999")
    assert r.error == "size must be 1 MB up to the device's size"
    r = con.command("blk bench vblk1 write size=1")
    assert r.error == "vblk1 is read-only"
    r = con.command("blk write vblk1 0 1")
    assert r.error == "vblk1: read-only device"
    r = con.command("blk read vblk0 524288")
    assert r.error == "usage: blk read DEV LBA (LBA < 524288)"
