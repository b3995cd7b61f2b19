"""The 'diskmig' suite of tools/bench.py: disks moving between two QEMU
instances on one socket link, each with its own datastore (an NVMe disk).

Workloads (the disks are prepared on the host with tools/hvdisk, random
data, so nothing is sent as zeros):
- `plain`: a 1 GiB disk with 256 MiB allocated, the VM idle (counter);
- `writing`: the same disk under a guest rewriting 2 MiB of it in rounds
  (blktest mode=rounds), with each of the disk modes (rounds of dirty
  blocks, and mirroring each write after the bulk copy);
- `base`: the same 256 MiB as a child of a 768 MiB base that the
  destination holds (the datastore image was copied before the child was
  written, so both hold the base with one content ID): only the child
  should travel;
- `resume`: `disk send` of the plain disk cut by the link half way, then
  sent again: bytes resent after the cut, as a fraction of the
  checkpoint interval.
Figures: total time, downtime, wire bytes over the bytes that had to
move, and disk data throughput as a ratio to `net perf` TCP on the same
link in the same run.
"""

import os
import re
import shutil
import subprocess
import time

from bench_migrate import _migrate, _tcp_mbit
from bench_net import RX_SETTLE_S
from bench_net import _pair as net_pair

MIB = 1 << 20
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HVDISK = os.path.join(ROOT, "build", "hvdisk")
CHECKPOINT_MIB = 8
ROUNDS_BLOCKS = 512  # blktest rounds: 512 x 4 KiB = 2 MiB rewritten per round


def _hvdisk(*args):
    subprocess.run([HVDISK] + [str(a) for a in args], check=True, capture_output=True)


def _random_file(path, mib):
    with open(path, "wb") as f:
        for _ in range(mib):
            f.write(os.urandom(MIB))


def _images(root):
    """a.img: disk e (1 GiB, 256 MiB written), base d@1 (768 MiB written)
    with child d (256 MiB of its own); b.img: a copy holding only d@1."""
    a, b = os.path.join(root, "a.img"), os.path.join(root, "b.img")
    data = os.path.join(root, "data.bin")
    _hvdisk("create", a, "3G")
    _random_file(data, 768)
    _hvdisk("create-disk", a, "d", "1G")
    _hvdisk("write", a, "d", data)
    _hvdisk("snapshot", a, "d")
    shutil.copyfile(a, b)
    _hvdisk("delete", b, "d")
    _random_file(data, 256)
    _hvdisk("write", a, "d", data, "--offset", 768 * MIB)
    _hvdisk("create-disk", a, "e", "1G")
    _hvdisk("write", a, "e", data, "--offset", 128 * MIB)
    os.unlink(data)
    # Written back now: else the first checkpoint's flush on the
    # destination pays for the whole copy.
    os.sync()
    return a, b


def _nvme(img):
    return ["-drive", f"if=none,id=nv0,format=raw,file={img}",
            "-device", "nvme,serial=diskmig,drive=nv0"]


def _pair(root, a_img, b_img):
    return net_pair(root, "virtio", config=f"disk_checkpoint={CHECKPOINT_MIB}M\n",
                    a_args=_nvme(a_img), b_args=_nvme(b_img))


def _last_round(con, name):
    rounds = re.findall(rf"\[vm:{name}\] blktest: acked round=(\d+)", con.text())
    return int(rounds[-1]) if rounds else 0


def _run(ca, cb, name, disk, workload, mode, tcp, moved_bytes, downtime=None):
    if workload == "writing":
        assert ca.run(f"vm create {name} blktest mem=16M disk={disk} -- mode=rounds "
                      f"blocks={ROUNDS_BLOCKS}").ok
    else:
        assert ca.run(f"vm create {name} counter mem=16M interval=100 disk={disk}").ok
    assert ca.run(f"vm start {name}").ok
    time.sleep(1)
    r_a = _last_round(ca, name)
    time.sleep(2)
    r0 = _last_round(ca, name)
    rate_before = (r0 - r_a) / 2
    extra = (f" disk_mode={mode}" if mode else "") + (f" downtime={downtime}" if downtime else "")
    st = _migrate(ca, name, "10.0.0.2", timeout=900, extra=f"keep=yes{extra}")
    if st["phase"] != "done":
        raise RuntimeError(f"{name}: {st}")
    total_ms, wire = int(st["total_ms"]), int(st["bytes"])
    disk_bytes = int(st["disk_bytes"])
    disk_mbit = disk_bytes * 8 / (total_ms / 1000) / 1e6 if total_ms else 0.0
    assert cb.run(f"vm destroy {name}").ok
    precopy_s = (total_ms - int(st["downtime_ms"])) / 1000
    rate_during = (_last_round(ca, name) - r0) / precopy_s if precopy_s else 0.0
    return {"workload": workload, "mode": mode or "default", "total_ms": total_ms,
            "downtime_limit_ms": int(st["downtime_limit_ms"]),
            "guest_rounds_per_s_before": rate_before,
            "guest_rounds_per_s_during": rate_during,
            "guest_rate_during_vs_before": rate_during / rate_before if rate_before else 0.0,
            "mirrored_writes": int(st.get("disk_mirrored_writes", 0)),
            "downtime_ms": int(st["downtime_ms"]), "wire_bytes": wire, "disk_bytes": disk_bytes,
            "moved_bytes": moved_bytes, "wire_per_moved": wire / moved_bytes,
            "disk_blocks_sent": int(st["disk_blocks_sent"]),
            "bases_skipped": int(st["disk_bases_skipped"]), "rounds": int(st["round"]) + 1,
            "disk_mbit_s": disk_mbit, "vs_net_perf": disk_mbit / tcp if tcp else 0.0}


def _drop_there(cb, disk):
    cb.run(f"disk delete {disk}")


def _resume(a, ca, cb):
    assert cb.run("disk receive from=10.0.0.1").ok
    assert ca.run("disk send e 10.0.0.2 as=e2").ok
    deadline = time.time() + 300
    while int(cb.run("disk status").fields().get("incoming_bytes_sent", 0)) < 128 * MIB:
        if time.time() > deadline:
            raise RuntimeError("the transfer did not get half way")
        time.sleep(0.1)
    a.monitor("set_link n0 off")
    while ca.run("disk status").fields()["phase"] == "running":
        time.sleep(0.5)
    while cb.run("disk status").fields().get("incoming_phase") == "running":
        time.sleep(0.5)
    received = int(cb.run("disk status").fields()["incoming_bytes_sent"])
    a.monitor("set_link n0 on")
    time.sleep(RX_SETTLE_S)
    assert ca.run("disk send e 10.0.0.2 as=e2").ok
    while ca.run("disk status").fields()["phase"] == "running":
        time.sleep(0.5)
    st = ca.run("disk status").fields()
    if st["phase"] != "done":
        raise RuntimeError(f"resume: {st}")
    resumed_at = int(st["resumed_at"])
    # Blocks are written from byte 128 MiB on: what arrived counts from there.
    resent = 128 * MIB + received - resumed_at
    return {"workload": "resume", "received_before_cut": received, "resumed_at": resumed_at,
            "resent_bytes": resent, "checkpoint_bytes": CHECKPOINT_MIB * MIB,
            "resent_per_interval": resent / (CHECKPOINT_MIB * MIB)}


def bench_disk_migrate(root, modes=("rounds", "mirror")):
    root = os.path.join(root, "diskmig")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    a_img, b_img = _images(root)
    a, b = _pair(root, a_img, b_img)
    runs = []
    try:
        ca, cb = a.console(), b.console()
        assert cb.run("migrate listen from=10.0.0.1").ok
        tcp = _tcp_mbit(ca, cb)
        runs.append(_run(ca, cb, "p", "e", "plain", None, tcp, 256 * MIB))
        _drop_there(cb, "e")
        for downtime in (300, 50):
            for mode in modes:
                runs.append(_run(ca, cb, f"w{mode[0]}{downtime}", "e", "writing", mode, tcp,
                                 256 * MIB, downtime))
                _drop_there(cb, "e")
        runs.append(_run(ca, cb, "b", "d", "base", None, tcp, 256 * MIB))
        runs.append(_resume(a, ca, cb))
        runs.append({"tcp_mbit_s": tcp, "tcp_mbit_s_after": _tcp_mbit(ca, cb)})
    finally:
        a.kill()
        b.kill()
    return runs


def print_disk_migrate(runs):
    print("== disks moving with their VMs: two QEMU instances, virtio-net link, NVMe stores ==")
    print("  workload  mode     limit  total ms  downtime ms  wire/moved  disk Mbit/s  "
          "vs net perf  blocks sent  bases skipped  rounds  guest rate during/before")
    for r in runs:
        if r.get("workload") == "resume":
            print(f"  resume: {r['received_before_cut']} bytes arrived before the cut, resumed at "
                  f"{r['resumed_at']}: {r['resent_bytes']} bytes resent = "
                  f"{r['resent_per_interval']:.2f} checkpoint intervals")
        elif "workload" in r:
            rate = (f"{r['guest_rate_during_vs_before']:.2f} "
                    f"({r['guest_rounds_per_s_during']:.0f}/{r['guest_rounds_per_s_before']:.0f} "
                    f"rounds/s)" if r["workload"] == "writing" else "-")
            print(f"  {r['workload']:<9} {r['mode']:<8} {r['downtime_limit_ms']:>5} "
                  f"{r['total_ms']:>9} {r['downtime_ms']:>12} "
                  f"{r['wire_per_moved']:>11.3f} {r['disk_mbit_s']:>12.1f} "
                  f"{r['vs_net_perf']:>12.3f} {r['disk_blocks_sent']:>12} "
                  f"{r['bases_skipped']:>14} {r['rounds']:>7}  {rate}")
        else:
            print(f"  net perf TCP: {r['tcp_mbit_s']:.1f} Mbit/s before, "
                  f"{r['tcp_mbit_s_after']:.1f} after")
