"""The 'disk' suite of tools/bench.py: a guest's disk throughput through
virtio-blk and the datastore, against the hypervisor's own driver on the
same kind of host device, in the same run (QEMU TCG, AMD SVM + NPT).

For each host device model (virtio-blk, NVMe) one instance gets two
identical disks of that model, backed by identical files on the same host
file system: one holds the datastore (and the guest's disk), the other is
written directly by `blk bench` (a write benchmark would destroy a
datastore). Per operation (sequential read/write in 128 KiB requests,
and 1 MiB requests, random 4 KiB reads/writes), one request in flight on
both sides, direct and guest runs alternate REPEAT times; the figure is the
ratio of the medians of bytes per TSC cycle (the guest's TSC runs at the
host's rate). Counts from `vm info`: the guest's notify exits
(`io.virtio`) and all its exits, per request.
"""

import os
import statistics
import tempfile

import hvlaunch

REPEAT = 5
DISK_MIB = 256          # each host disk
AREA_MIB = 64           # what one run reads or writes
OPS = (("write", 128), ("read", 128), ("write", 1024), ("read", 1024), ("randwrite", 4),
       ("randread", 4))
MODELS = {
    "virtio-blk": lambda path, i: ["-drive", f"if=none,id=b{i},format=raw,file={path}",
                                   "-device", f"virtio-blk-pci,drive=b{i}"],
    "nvme": lambda path, i: ["-drive", f"if=none,id=b{i},format=raw,file={path}",
                             "-device", f"nvme,serial=bench{i},drive=b{i}"],
}
PREFIX = {"virtio-blk": "vblk", "nvme": "nvme"}
# The largest request the driver takes whole (QEMU's NVMe: MDTS 128 KiB); a
# larger guest request becomes several, in flight together, on that side only.
MAX_DIRECT_KIB = {"virtio-blk": 1024, "nvme": 128}


def _fields(line):
    return dict(kv.split("=", 1) for kv in line.split() if "=" in kv)


def _direct(con, dev, op, bs):
    r = con.command(f"blk bench {dev} {op} size={AREA_MIB} bs={bs} qd=1 force", timeout=900)
    if not r.ok:
        raise RuntimeError(f"blk bench {dev} {op}: {r.error}")
    f = _fields(r.lines[-1])
    return int(f["bytes"]), int(f["ios"]), int(f["tsc"])


def _guest(con, op, bs, n):
    name = f"g{n}"
    since = len(con.text())
    r = con.command(f"vm create {name} blktest mem=32M disk=d -- mode=bench op={op} "
                    f"size={AREA_MIB} bs={bs}")
    if not r.ok:
        raise RuntimeError(f"vm create: {r.error}")
    con.command(f"vm start {name}")
    m = con.wait_for(rf"\[vm:{name}\] blktest: bench op=\S+ bytes=(\d+) ios=(\d+) tsc=(\d+)",
                     900, start=since)
    con.wait_for(rf"\[vm:{name}\] blktest: done", 60, start=since)
    info = con.command(f"vm info {name}").fields()
    con.command(f"vm destroy {name}")
    return (int(m.group(1)), int(m.group(2)), int(m.group(3)), int(info["exits"].split()[0]),
            int(info.get("io.virtio", "0").split()[0]))


def _devices(con, model):
    """The two disks of the model: (datastore device, scratch device)."""
    names = [l.split()[0] for l in con.command("blk").lines
             if l.startswith(PREFIX[model])]
    if len(names) < 2:
        raise RuntimeError(f"{model}: expected two devices, blk lists {names}")
    return names[0], names[1]


def _bench_model(model, workdir):
    paths = []
    for i in range(2):
        p = os.path.join(workdir, f"{model}-{i}.img")
        with open(p, "wb") as f:
            f.truncate(DISK_MIB << 20)
        paths.append(p)
    extra = MODELS[model](paths[0], 0) + MODELS[model](paths[1], 1)
    inst = hvlaunch.Instance(workdir=os.path.join(workdir, model), mem="1G", extra_args=extra)
    inst.start()
    try:
        inst.wait_prompt(120)
        con = inst.console()
        store_dev, scratch = _devices(con, model)
        r = con.command(f"ds format {store_dev} confirm=yes")
        if not r.ok:
            raise RuntimeError(f"ds format: {r.error}")
        con.command(f"disk create d {AREA_MIB + 16}M")
        out = {}
        n = 0
        for op, bs in OPS:
            if bs > MAX_DIRECT_KIB[model]:
                continue
            direct, guest, exits_per_io, notifies_per_io = [], [], [], []
            for _ in range(REPEAT):
                b, ios, tsc = _direct(con, scratch, op, bs)
                direct.append(b / tsc)
                n += 1
                b, ios, tsc, exits, notifies = _guest(con, op, bs, n)
                guest.append(b / tsc)
                exits_per_io.append(exits / ios)
                notifies_per_io.append(notifies / ios)
            out[f"{op}-{bs}k"] = {
                "op": op, "bs_kib": bs, "direct_bytes_per_tsc": statistics.median(direct),
                "guest_bytes_per_tsc": statistics.median(guest),
                "ratio": statistics.median(guest) / statistics.median(direct),
                "ratio_min": min(guest) / max(direct), "ratio_max": max(guest) / min(direct),
                "guest_exits_per_io": statistics.median(exits_per_io),
                "notify_exits_per_io": statistics.median(notifies_per_io)}
        tsc_hz = int(con.command("uptime").fields()["tsc_hz"].split()[0])
        for v in out.values():
            v["direct_mbps"] = v["direct_bytes_per_tsc"] * tsc_hz / 1e6
            v["guest_mbps"] = v["guest_bytes_per_tsc"] * tsc_hz / 1e6
            v["direct_iops"] = v["direct_mbps"] * 1e6 / (v["bs_kib"] * 1024)
            v["guest_iops"] = v["guest_mbps"] * 1e6 / (v["bs_kib"] * 1024)
        return out
    finally:
        inst.kill()


def bench_disk(root):
    workdir = tempfile.mkdtemp(prefix="bench-disk-", dir=os.path.join(root, "build"))
    return {model: _bench_model(model, workdir) for model in MODELS}


def print_disk(res):
    print(f"disk: guest through virtio-blk + datastore vs the hypervisor's own driver, "
          f"{AREA_MIB} MiB per run, 1 request in flight, median of {REPEAT}")
    for model, ops in res.items():
        for v in ops.values():
            unit = (f"{v['guest_mbps']:.0f} vs {v['direct_mbps']:.0f} MB/s"
                    if v["bs_kib"] >= 64 else
                    f"{v['guest_iops']:.0f} vs {v['direct_iops']:.0f} IOPS")
            print(f"  {model:10s} {v['op']:9s} {v['bs_kib']:4d} KiB: ratio {v['ratio']:.2f} "
                  f"[{v['ratio_min']:.2f}-{v['ratio_max']:.2f}] ({unit}), "
                  f"{v['notify_exits_per_io']:.2f} notify exits per request")
