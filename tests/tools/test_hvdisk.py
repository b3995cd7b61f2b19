"""tools/hvdisk (build/hvdisk) against files: creating images (whole and
GPT, the GPT checked field by field against the UEFI spec), importing raw
and qemu-img formats and exporting them back byte for byte, the disk sum
against a Python reimplementation of hv/lib/stream_sum.c, snapshots,
deletes, the consistency check on clean and damaged images, and the
command line's exit codes."""

import fcntl
import os
import random
import re
import shutil
import struct
import subprocess
import uuid
import zlib

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# HVDISK_BIN runs the tests against another build (one with sanitizers).
HVDISK = os.environ.get("HVDISK_BIN") or os.path.join(ROOT, "build", "hvdisk")
MIB = 1 << 20
SECTOR = 512
IMAGE_SIZE = 64 * MIB


@pytest.fixture(scope="session", autouse=True)
def hvdisk_built():
    if os.environ.get("HVDISK_BIN"):
        return
    r = subprocess.run(["make", "-s", "build/hvdisk"], cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0:
        pytest.fail("make build/hvdisk failed:\n" + r.stdout + r.stderr)


def run(*args, rc=0, env=None):
    r = subprocess.run([HVDISK] + [str(a) for a in args], capture_output=True, text=True,
                       env=env)
    assert r.returncode == rc, f"hvdisk {args}: rc {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r


def fields(line):
    """'disk name=a size=1 parent=- base=0' -> {'name': 'a', ...}; a
    'problem=' value runs to the end of the line."""
    head, _, problem = line.partition(" problem=")
    out = dict(kv.split("=", 1) for kv in head.split()[1:])
    if problem:
        out["problem"] = problem
    return out


def listing(image):
    lines = run("list", image).stdout.splitlines()
    assert lines[0].startswith("store ")
    assert all(l.startswith("disk ") for l in lines[1:])
    return fields(lines[0]), {d["name"]: d for d in map(fields, lines[1:])}


# ---- hv/lib/stream_sum.c, independently -------------------------------------

SUM_SEED = 0x9E3779B97F4A7C15
SUM_MUL = 0xFF51AFD7ED558CCD
MASK64 = (1 << 64) - 1


def _fold(state, word):
    state ^= word
    state = (state * SUM_MUL) & MASK64
    return state ^ (state >> 29)


def stream_sum(data):
    state = SUM_SEED
    whole = len(data) - len(data) % 8
    for (word,) in struct.iter_unpack("<Q", memoryview(data)[:whole]):
        state = _fold(state, word)
    if len(data) % 8:
        state = _fold(state, int.from_bytes(data[whole:], "little"))
    return _fold(state, len(data))


# ---- contents ----------------------------------------------------------------

BLOCK = 64 * 1024


def patterned(seed, layout):
    """layout: a string, one character per 64 KiB: 'r' random, '0' zeros,
    'e' zeros but the last byte; then the tail length in bytes."""
    rng = random.Random(seed)
    out = bytearray()
    for c in layout[0]:
        if c == "r":
            out += rng.randbytes(BLOCK)
        elif c == "e":
            out += bytes(BLOCK - 1) + b"\x01"
        else:
            out += bytes(BLOCK)
    out += rng.randbytes(layout[1])
    return bytes(out)


def padded(data, size=None):
    size = size if size is not None else -(-len(data) // SECTOR) * SECTOR
    return data + bytes(size - len(data))


def nonzero_blocks(data, block):
    return sum(1 for i in range(0, len(data), block) if any(data[i:i + block]))


@pytest.fixture
def image(tmp_path):
    path = tmp_path / "store.img"
    run("create", path, "64M")
    return path


@pytest.fixture
def gpt_image(tmp_path):
    path = tmp_path / "gpt.img"
    r = run("create", path, "64M", "--gpt")
    assert "store_offset=1048576" in r.stdout
    return path


# ---- create and list ---------------------------------------------------------


def test_create_whole_image_lists_an_empty_healthy_store(image):
    assert os.path.getsize(image) == IMAGE_SIZE
    store, disks = listing(image)
    assert disks == {}
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
                        store["uuid"])
    assert int(store["size"]) == IMAGE_SIZE
    assert store["disks"] == "0" and store["state"] == "ok" and "problem" not in store
    assert 0 < int(store["free"]) < IMAGE_SIZE
    check = run("check", image).stdout.splitlines()
    assert check == ["check: 0 problems"]


def store_type_guid():
    with open(os.path.join(ROOT, "hv", "store", "store.h")) as f:
        text = f.read()
    return uuid.UUID(re.search(r'#define STORE_GPT_TYPE_GUID "([0-9a-f-]{36})"', text).group(1))


def gpt_header(raw, lba, sectors):
    hdr = raw[lba * SECTOR:(lba + 1) * SECTOR]
    (sig, rev, size, crc, _, my_lba, alt_lba, first, last, disk_guid, entries_lba, count,
     entry_size, array_crc) = struct.unpack_from("<8sIIIIQQQQ16sQIII", hdr)
    assert sig == b"EFI PART" and rev == 0x00010000 and size == 92
    assert zlib.crc32(hdr[:16] + bytes(4) + hdr[20:92]) == crc
    assert hdr[92:] == bytes(SECTOR - 92)
    assert my_lba == lba and alt_lba == (sectors - 1 if lba == 1 else 1)
    assert (first, last) == (34, sectors - 34)
    assert count == 128 and entry_size == 128
    array = raw[entries_lba * SECTOR:entries_lba * SECTOR + count * entry_size]
    assert zlib.crc32(array) == array_crc
    return entries_lba, disk_guid, array


def test_create_gpt_image_follows_the_uefi_layout(gpt_image):
    raw = gpt_image.read_bytes()
    sectors = IMAGE_SIZE // SECTOR
    # Protective MBR (UEFI 5.2.3): one 0xEE record from LBA 1 over the disk.
    mbr = raw[:SECTOR]
    assert mbr[510:] == b"\x55\xaa"
    assert mbr[446 + 4] == 0xEE and mbr[446 + 1:446 + 4] == b"\x00\x02\x00"
    assert struct.unpack_from("<II", mbr, 446 + 8) == (1, sectors - 1)
    assert mbr[446 + 16:510] == bytes(48)
    primary_lba, guid_a, array_a = gpt_header(raw, 1, sectors)
    backup_lba, guid_b, array_b = gpt_header(raw, sectors - 1, sectors)
    assert (primary_lba, backup_lba) == (2, sectors - 33)
    assert guid_a == guid_b and array_a == array_b
    type_guid, unique, start, end, attrs, name = struct.unpack_from("<16s16sQQQ72s", array_a)
    assert type_guid == store_type_guid().bytes_le
    assert uuid.UUID(bytes_le=unique).version == 4
    assert start == 2048 and (end + 1 - start) % 2048 == 0 and end <= sectors - 34
    assert end + 2048 > sectors - 34  # up to the last whole MiB of usable space
    assert attrs == 0 and name.decode("utf-16-le").rstrip("\0") == "hv datastore"
    assert array_a[128:] == bytes(127 * 128)
    store, disks = listing(gpt_image)
    assert int(store["size"]) == (end + 1 - start) * SECTOR and disks == {}
    assert run("check", gpt_image).stdout.splitlines() == ["check: 0 problems"]


def test_create_refuses_to_overwrite(tmp_path, image):
    before = image.read_bytes()[:8192]
    r = run("create", image, "32M", rc=1)
    assert r.stderr == f"hvdisk: error: {image} exists and is not empty (--force overwrites it)\n"
    assert image.read_bytes()[:8192] == before
    run("create", image, "32M", "--force")
    assert os.path.getsize(image) == 32 * MIB
    assert listing(image)[1] == {}
    empty = tmp_path / "empty.img"
    empty.write_bytes(b"")
    run("create", empty, "16M")
    assert os.path.getsize(empty) == 16 * MIB


def test_create_too_small_leaves_no_file(tmp_path):
    small = tmp_path / "small.img"
    r = run("create", small, "3M", "--gpt", rc=1)
    assert r.stderr == f"hvdisk: error: {small}: too small for a GPT image (at least 4 MiB)\n"
    assert not small.exists()


def test_files_without_a_store_are_refused(tmp_path):
    zeros = tmp_path / "zeros.img"
    zeros.write_bytes(bytes(4 * MIB))
    r = run("list", zeros, rc=1)
    assert r.stderr == f"hvdisk: error: {zeros}: no datastore (none at its start, no GPT)\n"
    r = run("list", tmp_path / "absent.img", rc=1)
    assert "No such file or directory" in r.stderr


def test_locks_keep_writers_apart_and_let_readers_share(tmp_path, image):
    # QEMU takes such locks on its drive images: shared ones on some bytes.
    src = tmp_path / "src.raw"
    src.write_bytes(patterned(9, ("r", 0)))
    before = image.read_bytes()
    with open(image, "rb") as f:
        fcntl.lockf(f, fcntl.LOCK_SH | fcntl.LOCK_NB, 1, 100)
        r = run("import", image, "d", src, rc=1)
        assert r.stderr == (f"hvdisk: error: {image}: in use by another process (a running QEMU "
                            "holds a lock on it)\n")
        assert listing(image)[1] == {}
        assert run("check", image).stdout == "check: 0 problems\n"
    # Reading changes nothing in the image.
    assert image.read_bytes() == before
    with open(image, "r+b") as f:
        fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        r = run("list", image, rc=1)
        assert "in use by another process" in r.stderr
    run("import", image, "d", src)


# ---- import, export, sum -----------------------------------------------------


def test_import_raw_is_thin_and_exports_byte_identical(tmp_path, image):
    data = patterned(1, ("rr000re0r00e0", 1000))
    src = tmp_path / "src.raw"
    src.write_bytes(data)
    r = run("import", image, "disk1", src)
    assert r.stdout == f"imported raw name=disk1 size={len(padded(data))}\n"
    store, disks = listing(image)
    d = disks["disk1"]
    assert int(d["size"]) == len(padded(data))
    assert d["parent"] == "-" and d["base"] == "0"
    assert re.fullmatch(r"[0-9a-f-]{36}", d["content_id"])
    # Only the blocks holding data were written.
    block = int(store["block_size"])
    assert int(d["allocated"]) == nonzero_blocks(padded(data), block) * block
    dest = tmp_path / "out.raw"
    run("export", image, "disk1", dest)
    assert dest.read_bytes() == padded(data)
    assert os.stat(dest).st_blocks * 512 <= nonzero_blocks(data, BLOCK) * BLOCK
    assert run("sum", image, "disk1").stdout == f"sum={stream_sum(padded(data)):016x}\n"
    assert run("check", image).stdout == "check: 0 problems\n"


def test_import_with_a_larger_size_and_into_a_gpt_image(tmp_path, gpt_image):
    data = patterned(2, ("r0r", 0))
    src = tmp_path / "src.raw"
    src.write_bytes(data)
    run("import", gpt_image, "big", src, "--size", "1M")
    assert listing(gpt_image)[1]["big"]["size"] == str(MIB)
    dest = tmp_path / "out.raw"
    run("export", gpt_image, "big", dest)
    assert dest.read_bytes() == padded(data, MIB)
    assert run("sum", gpt_image, "big").stdout == f"sum={stream_sum(padded(data, MIB)):016x}\n"
    r = run("import", gpt_image, "small", src, "--size", "64K", rc=1)
    assert r.stderr == (f"hvdisk: error: --size 65536 is smaller than {src} "
                        f"({len(data)} bytes)\n")
    assert set(listing(gpt_image)[1]) == {"big"}


def test_import_refuses_a_taken_name_and_export_an_existing_file(tmp_path, image):
    src = tmp_path / "src.raw"
    src.write_bytes(patterned(3, ("r", 0)))
    run("import", image, "a", src)
    r = run("import", image, "a", src, rc=1)
    assert r.stderr.startswith("hvdisk: error: create a: ")
    r = run("import", image, "bad/name", src, rc=1)
    assert r.stderr.startswith("hvdisk: error: create bad/name: ")
    r = run("export", image, "a", src, rc=1)
    assert r.stderr == f"hvdisk: error: {src} exists and is not empty (--force overwrites it)\n"
    run("export", image, "a", src, "--force")
    assert src.read_bytes() == patterned(3, ("r", 0))
    r = run("export", image, "nosuch", tmp_path / "x.raw", rc=1)
    assert not (tmp_path / "x.raw").exists()


def test_import_into_a_full_store_fails_and_leaves_no_disk(tmp_path):
    image = tmp_path / "small.img"
    run("create", image, "16M")
    src = tmp_path / "big.raw"
    src.write_bytes(random.Random(10).randbytes(20 * MIB))
    r = run("import", image, "big", src, rc=1)
    assert re.fullmatch(r"hvdisk: error: writing big at \d+: datastore full\n"
                        r"hvdisk: the half-imported disk big was deleted\n", r.stderr)
    store, disks = listing(image)
    assert disks == {} and store["state"] == "ok"
    assert run("check", image).stdout == "check: 0 problems\n"
    src.write_bytes(random.Random(10).randbytes(4 * MIB))
    run("import", image, "fits", src)


QEMU_IMG = shutil.which("qemu-img")


@pytest.mark.skipif(QEMU_IMG is None, reason="qemu-img not installed (Debian package qemu-utils)")
@pytest.mark.parametrize("fmt", ["qcow2", "vmdk", "vdi"])
def test_import_converts_qemu_img_formats(tmp_path, image, fmt):
    data = patterned(4, ("r0re00r", 3 * SECTOR))
    raw = tmp_path / "src.raw"
    raw.write_bytes(data)
    src = tmp_path / f"src.{fmt}"
    subprocess.run([QEMU_IMG, "convert", "-q", "-f", "raw", "-O", fmt, raw, src], check=True)
    r = run("import", image, "conv", src)
    assert r.stdout == f"imported converted name=conv size={len(data)}\n"
    dest = tmp_path / "out.raw"
    run("export", image, "conv", dest)
    assert dest.read_bytes() == data
    assert run("sum", image, "conv").stdout == f"sum={stream_sum(data):016x}\n"
    # --format raw takes the file as it is.
    run("import", image, "asis", src, "--format", "raw")
    run("export", image, "asis", tmp_path / "asis.raw")
    assert (tmp_path / "asis.raw").read_bytes() == padded(src.read_bytes())


@pytest.mark.skipif(QEMU_IMG is None, reason="qemu-img not installed (Debian package qemu-utils)")
def test_import_without_qemu_img_names_the_package(tmp_path, image):
    raw = tmp_path / "src.raw"
    raw.write_bytes(patterned(5, ("r", 0)))
    src = tmp_path / "src.qcow2"
    subprocess.run([QEMU_IMG, "convert", "-q", "-O", "qcow2", raw, src], check=True)
    env = dict(os.environ, PATH=str(tmp_path / "nothing"))
    r = run("import", image, "q", src, rc=1, env=env)
    assert r.stderr == ("hvdisk: error: qemu-img not found: it converts images that are not raw"
                        " (install Debian's qemu-utils package)\n")
    assert listing(image)[1] == {}
    run("import", image, "r", raw, env=env)  # raw needs no qemu-img


# ---- disks: snapshot, children, delete ---------------------------------------


def test_snapshot_child_writes_leave_the_base_unchanged(tmp_path, image):
    data = patterned(6, ("rr0r", 0))
    src = tmp_path / "src.raw"
    src.write_bytes(data)
    run("import", image, "vm", src)
    content_before = listing(image)[1]["vm"]["content_id"]
    r = run("snapshot", image, "vm")
    base = re.fullmatch(r"snapshot name=vm base=(\S+)\n", r.stdout).group(1)
    disks = listing(image)[1]
    assert disks[base]["base"] == "1" and disks[base]["parent"] == "-"
    assert disks["vm"]["parent"] == base and disks["vm"]["base"] == "0"
    assert disks["vm"]["content_id"] == content_before
    assert disks["vm"]["allocated"] == "0"
    # A guest's write, done from the host: 4 KiB at 96 KiB, and a partial
    # last sector that keeps the disk's bytes after it.
    patch = tmp_path / "patch.raw"
    patch.write_bytes(b"\xab" * 4096 + b"\xcd" * 100)
    r = run("write", image, "vm", patch, "--offset", str(96 * 1024))
    assert r.stdout == f"wrote name=vm offset={96 * 1024} bytes=4196\n"
    child = bytearray(data)
    child[96 * 1024:96 * 1024 + 4196] = patch.read_bytes()
    run("export", image, "vm", tmp_path / "vm.raw")
    run("export", image, base, tmp_path / "base.raw")
    assert (tmp_path / "vm.raw").read_bytes() == bytes(child)
    assert (tmp_path / "base.raw").read_bytes() == data
    assert run("sum", image, base).stdout == f"sum={stream_sum(data):016x}\n"
    assert run("sum", image, "vm").stdout == f"sum={stream_sum(bytes(child)):016x}\n"
    disks = listing(image)[1]
    assert disks["vm"]["content_id"] != content_before
    assert int(disks["vm"]["allocated"]) > 0
    # A base is read-only.
    r = run("write", image, base, patch, rc=1)
    assert r.stderr.startswith(f"hvdisk: error: {base}: ")
    assert run("check", image).stdout == "check: 0 problems\n"


def test_delete_is_refused_while_a_child_depends_on_the_disk(tmp_path, image):
    src = tmp_path / "src.raw"
    src.write_bytes(patterned(7, ("r", 0)))
    run("import", image, "vm", src)
    base = run("snapshot", image, "vm").stdout.split("base=")[1].strip()
    run("create-disk", image, "clone", "1M", "--base", base)
    disks = listing(image)[1]
    assert disks["clone"]["parent"] == base and disks["clone"]["size"] == str(MIB)
    r = run("delete", image, base, rc=1)
    assert r.stderr.startswith(f"hvdisk: error: delete {base}: ")
    run("delete", image, "vm")
    run("delete", image, base, rc=1)
    assert run("delete", image, "clone").stdout == "deleted disk name=clone\n"
    run("delete", image, base)
    store, disks = listing(image)
    assert disks == {} and store["disks"] == "0"
    r = run("delete", image, base, rc=1)
    assert r.stderr.startswith(f"hvdisk: error: delete {base}: ")


def test_create_disk_is_empty_and_reads_as_zeros(tmp_path, image):
    r = run("create-disk", image, "blank", "2M")
    assert r.stdout == f"created disk name=blank size={2 * MIB}\n"
    d = listing(image)[1]["blank"]
    assert d["size"] == str(2 * MIB) and d["allocated"] == "0"
    assert run("sum", image, "blank").stdout == f"sum={stream_sum(bytes(2 * MIB)):016x}\n"
    run("export", image, "blank", tmp_path / "b.raw")
    assert (tmp_path / "b.raw").read_bytes() == bytes(2 * MIB)
    assert os.stat(tmp_path / "b.raw").st_blocks == 0


# ---- check on damaged images ------------------------------------------------

def format_constant(name):
    """A number #defined in hv/store/store_format.h (the on-disk format)."""
    with open(os.path.join(ROOT, "hv", "store", "store_format.h")) as f:
        return int(re.search(rf"#define {name} (\w+?)u?\b", f.read()).group(1), 0)


PAGE = format_constant("STORE_PAGE")
SB_JOURNAL_START = format_constant("SB_JOURNAL_START")  # u64: the journal's first page
SB_DISKTAB_START = format_constant("SB_DISKTAB_START")  # u64: the disk table's first page


def flip(path, offset, length=16):
    with open(path, "r+b") as f:
        f.seek(offset)
        old = f.read(length)
        f.seek(offset)
        f.write(bytes(b ^ 0x5A for b in old))


def check_problems(image):
    r = run("check", image, rc=1)
    lines = r.stdout.splitlines()
    assert lines[-1] == f"check: {len(lines) - 1} problems"
    assert len(lines) >= 2
    return lines[:-1]


def test_check_reports_a_corrupt_disk_record(tmp_path, image):
    src = tmp_path / "src.raw"
    src.write_bytes(patterned(8, ("rr", 0)))
    run("import", image, "d", src)
    superblock = image.read_bytes()[:PAGE]
    disktab = struct.unpack_from("<Q", superblock, SB_DISKTAB_START)[0]
    # A clean close leaves no journal copy to repair it from: it is damage,
    # and the blocks only that record referenced show up as leaked.
    flip(image, disktab * PAGE + 200)
    problems = check_problems(image)
    assert problems[0] == "disk table slot 0: checksum mismatch"
    assert all("journal" not in p for p in problems)
    # The store opens read-only, saying why, never as if fine.
    r = run("list", image)
    assert r.stderr.startswith(f"hvdisk: warning: {image}: damaged, opened read-only: ")
    store = fields(r.stdout.splitlines()[0])
    assert store["state"] == "damaged" and store["problem"].startswith("disk table slot 0")
    r = run("import", image, "e", src, rc=1)
    assert "read-only" in r.stderr


def smash(path, offset, length):
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(b"\xee" * length)


def test_check_reports_damaged_superblocks(image):
    smash(image, 0, 64)
    assert any(p.startswith("superblock A") for p in check_problems(image))
    assert listing(image)[0]["state"] == "ok"  # copy B serves
    smash(image, 0, 64)
    smash(image, PAGE, 64)
    assert any("no valid superblock" in p for p in check_problems(image))
    run("list", image, rc=1)


def test_check_reports_a_damaged_gpt_and_the_store_is_still_found(gpt_image):
    flip(gpt_image, SECTOR + 24, 8)  # primary header's MyLBA: its CRC fails
    assert check_problems(gpt_image) == ["gpt: primary table: header CRC mismatch"]
    store, _ = listing(gpt_image)
    assert store["state"] == "ok"
    flip(gpt_image, IMAGE_SIZE - 33 * SECTOR, 4)  # the backup entry array
    assert check_problems(gpt_image) == [
        "gpt: primary table: header CRC mismatch",
        "gpt: backup table: partition entry array CRC mismatch",
        "gpt: no usable datastore partition: the store was not checked"]
    r = run("list", gpt_image, rc=1)
    assert r.stderr == (f"hvdisk: error: {gpt_image}: no datastore (none at its start; its GPT is "
                        "damaged: primary: header CRC mismatch, backup: partition entry array "
                        "CRC mismatch)\n")


# ---- the command line --------------------------------------------------------


@pytest.mark.parametrize("args,message", [
    ([], "no command"),
    (["frobnicate"], "unknown command 'frobnicate'"),
    (["list"], "list: missing arguments (hvdisk list IMAGE)"),
    (["list", "a", "b"], "list: too many arguments"),
    (["create", "x.img", "12Q"], "SIZE '12Q': not a positive size in multiples of 512 bytes"),
    (["create", "x.img", "1000"], "SIZE '1000': not a positive size in multiples of 512 bytes"),
    (["create", "x.img", "1M", "--base", "b"], "create: unknown option --base"),
    (["import", "x.img", "n", "s", "--size"], "import: --size needs a value"),
    (["export", "x.img", "n", "d", "--gpt"], "export: unknown option --gpt"),
    (["write", "x.img", "n", "s", "--offset", "100"],
     "--offset '100': not a multiple of 512 bytes"),
])
def test_usage_errors_exit_2(tmp_path, args, message):
    r = subprocess.run([HVDISK] + args, capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.startswith(f"hvdisk: error: {message}\nusage: hvdisk COMMAND ARGS...\n")
    assert r.stdout == ""
    assert not (tmp_path / "x.img").exists()


def test_help_prints_usage_and_exits_0():
    r = run("-h")
    assert r.stdout.startswith("usage: hvdisk COMMAND ARGS...\n")
    for command in ("create IMAGE SIZE [--gpt]", "list IMAGE", "import IMAGE NAME SOURCE",
                    "export IMAGE NAME DEST", "sum IMAGE NAME", "create-disk IMAGE NAME SIZE",
                    "snapshot IMAGE NAME", "delete IMAGE NAME", "check IMAGE"):
        assert f"  hvdisk {command}" in r.stdout
    assert run("list", "--help").stdout == r.stdout
