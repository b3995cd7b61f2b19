#!/usr/bin/python3
"""Benchmarks, run by 'make bench'. Every figure is measured side by side in
one run and reported as a ratio to a reference measured in the same run
(QEMU TCG timing is noisy), together with the raw counts.

    tools/bench.py [guests] [dirty] [installers] [crc] [linux] [net] [migrate] [linuxmig]
                   [mce] [disk] [diskmig] [tls] [smp] [return] [handover] [--json FILE]

guests: the cost of a guest exit round trip (CPUID exits) and a guest's
compute speed, both relative to the same loop (hv/x86/bench_kernel.S) run
by the hypervisor itself, on each target: QEMU TCG (AMD SVM + NPT) and
Bochs (Intel VMX + EPT), one after the other in the same run.

dirty: a guest writing whole pages as fast as it can (memtouch), with dirty
tracking off and under each mode the target offers (4 KiB units; write
protection also at 2 MiB), harvested every HARVEST_EVERY seconds as a
pre-copy round would: write throughput as a ratio to tracking off, exits
per second, pages per harvest, and harvest time per GiB of guest memory
(idle and after every page was written).

installers: see tools/bench_installers.py (a 4-vCPU guest writing under
write protection with 4 KiB traces installed by every vCPU, by K = 2, 1
and 0 of them, and at 2 MiB: cost per page written, faults, pages reported).

crc: CRC-32C over 4 KiB pages inside the hypervisor (`bench crc`, QEMU TCG),
software slice-by-8 against the SSE4.2 instruction, alternated in runs of 64
pages: the ratio, and TSC ticks per page for each.

disk: see tools/bench_disk.py (a guest's sequential MB/s and random 4 KiB
IOPS through virtio-blk and the datastore as a ratio to the hypervisor's
own driver on the same host device model, virtio-blk and NVMe).

diskmig: see tools/bench_disk_migrate.py (disks moving with their VMs: a
1 GiB disk with 256 MiB allocated, idle and under a writing guest in each
disk mode, and as a child of a base the destination holds; a cut transfer
resumed: bytes resent per checkpoint interval).

linux: see tools/bench_linux.py (Debian's kernel to its shell prompt as a
VM against the same boot on bare QEMU, alternated; the VM's exits by kind).

net: see tools/bench_net.py (TCP through lwIP as a ratio to raw frames
through the same driver, per NIC model, two instances on one link).

migrate: see tools/bench_migrate.py (64 and 256 MiB guests, idle and under
memtouch load: total time, downtime, wire bytes per guest byte, throughput
as a ratio to net perf on the same link in the same run).

linuxmig: see tools/bench_linux_migrate.py (Debian's kernel with a warm
page cache and a busybox workload migrated out, back with every page, and
back with signatures: pages by kind, rounds, CPU per side).

return: see tools/bench_return.py (a VM migrating back to the instance it
came from after K of its pages were rewritten: page signatures against the
seed kept there, side by side with every page sent; wire bytes and time as
ratios, pages by kind: zero, signed, missed, full).

handover: see tools/bench_return.py (downtime with GO after READY against
GO right after END, both directions of the link, on the source and the
destination).

smp: see tools/bench_smp.py (compute VMs pinned to 2 and 4 CPUs against one
VM on one CPU; a CPUID exit with the other CPUs busy against idle; moving
a VM between CPUs).

mce: see tools/bench_mce.py (error to page retirement, hardware-raised vs
console-asked; copy_mc_safe vs memcpy; a migration's extra cost per
poisoned page).
"""

import argparse
import json
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import hvbochs  # noqa: E402
import hvlaunch  # noqa: E402
from bench_disk import bench_disk, print_disk  # noqa: E402
from bench_disk_migrate import bench_disk_migrate, print_disk_migrate  # noqa: E402
from bench_installers import bench_installers, print_installers  # noqa: E402
from bench_linux import bench_linux, print_linux  # noqa: E402
from bench_linux_migrate import bench_linux_migrate, print_linux_migrate  # noqa: E402
from bench_mce import bench_mce, print_mce  # noqa: E402
from bench_smp import bench_smp, print_smp  # noqa: E402
from bench_tls import bench_tls, print_tls  # noqa: E402
from bench_migrate import bench_migrate, print_migrate  # noqa: E402
from bench_return import bench_handover, bench_return, print_handover, print_return  # noqa: E402
from bench_net import bench_net, print_net  # noqa: E402

REPEAT = 3
COMPUTE_N = 20_000_000
EXITS_N = 50_000


def native_compute(con, n):
    res = con.run(f"bench compute {n}", timeout=300)
    return int(res.fields()["tsc"])


def guest_run(con, name, args, timeout=300):
    start = len(con.text())
    con.run(f"vm create {name} bench mem=8M {args}")
    con.run(f"vm start {name}")
    m = con.wait_for(rf"\[vm:{name}\] bench: (\w+) n=(\d+) tsc=(\d+) result=", timeout, start=start)
    deadline = time.monotonic() + 30
    while con.run(f"vm info {name}").fields()["state"] == "running":
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not stop")
        time.sleep(0.1)
    info = con.run(f"vm info {name}").fields()
    con.run(f"vm destroy {name}")
    return int(m.group(3)), info


def bench_guests(con, target):
    tsc_hz = int(con.run("uptime").fields()["tsc_hz"].split()[0])
    native, guest, exit_tsc, exit_counts = [], [], [], []
    for i in range(REPEAT):
        native.append(native_compute(con, COMPUTE_N))
        t, _ = guest_run(con, f"bc{i}", f"mode=compute n={COMPUTE_N}")
        guest.append(t)
        t, info = guest_run(con, f"be{i}", f"mode=exits n={EXITS_N}")
        exit_tsc.append(t)
        exit_counts.append(int(info["exits.cpuid"]))
    native_per_iter = statistics.median(native) / COMPUTE_N
    per_exit = statistics.median(exit_tsc) / EXITS_N
    result = {
        "target": target,
        "tsc_hz": tsc_hz,
        "compute_iterations": COMPUTE_N,
        "native_compute_tsc": native,
        "guest_compute_tsc": guest,
        "guest_over_native_compute": statistics.median(guest) / statistics.median(native),
        "exit_round_trips": EXITS_N,
        "cpuid_exits_counted": exit_counts,
        "tsc_per_exit": per_exit,
        "exits_per_second": tsc_hz / per_exit,
        "exit_cost_in_native_loop_iterations": per_exit / native_per_iter,
    }
    return result


def print_guests(r):
    print(f"== guests on {r['target']} (median of {REPEAT} runs) ==")
    print(f"  guest compute time / hypervisor compute time : {r['guest_over_native_compute']:.3f}"
          f"   ({r['compute_iterations']} iterations)")
    print(f"  exit round trip (CPUID)                      : {r['tsc_per_exit']:.0f} TSC ticks"
          f" = {r['exits_per_second']:.0f} exits/s")
    print(f"  exit cost / one native loop iteration        : "
          f"{r['exit_cost_in_native_loop_iterations']:.0f}x")
    print(f"  CPUID exits counted by the hypervisor        : {r['cpuid_exits_counted']}"
          f" (guest ran {r['exit_round_trips']})")


DIRTY_GUEST_MEM = "64M"
DIRTY_WINDOW = 2.0     # seconds of writing per configuration (wall clock)
HARVEST_EVERY = 0.25   # seconds between harvests
SCAN_GUEST_MEM = "256M"


def hv_seconds(con):
    return float(con.run("uptime").fields()["uptime"].split()[0])


def guest_says(con, name, line, pattern, start=None):
    start = len(con.text()) if start is None else start
    con.run(f'vm send {name} "{line}"')
    return con.wait_for(rf"\[vm:{name}\] memtouch: {pattern}", 120, start=start)


def write_run(con, name, mode, gran):
    """memtouch writing flat out for DIRTY_WINDOW s; returns its figures."""
    start = len(con.text())
    con.run(f"vm create {name} memtouch mem={DIRTY_GUEST_MEM} report=0 idle mode=seq")
    con.run(f"vm start {name}")
    m = con.wait_for(rf"\[vm:{name}\] memtouch: ready base 0x[0-9a-f]+ pages (\d+) rate", 60,
                     start=start)
    npages = int(m.group(1))
    if mode != "off":
        con.run(f"dirty start {name} mode={mode} gran={gran}")
        con.run(f"dirty harvest {name}")
    exits0 = int(con.run(f"vm info {name}").fields()["exits"])
    t0 = hv_seconds(con)
    guest_says(con, name, "r", "resumed")
    per_harvest = []
    wall_end = time.monotonic() + DIRTY_WINDOW
    while time.monotonic() < wall_end:
        time.sleep(HARVEST_EVERY)
        if mode != "off":
            per_harvest.append(int(con.run(f"dirty harvest {name}").fields()["dirty_pages"]))
    guest_says(con, name, "p", "paused")
    t1 = hv_seconds(con)
    m = guest_says(con, name, "s", r"written (\d+) passes")
    written = int(m.group(1))
    exits = int(con.run(f"vm info {name}").fields()["exits"]) - exits0
    result = {"mode": mode, "granularity": gran, "pages_written": written,
              "seconds": t1 - t0, "pages_per_second": written / (t1 - t0),
              "exits": exits, "exits_per_second": exits / (t1 - t0),
              "guest_pages": npages, "pages_per_harvest": per_harvest}
    if mode != "off":
        st = con.run(f"dirty stats {name}").fields()
        result.update(wp_faults=int(st["wp_faults"]), pml_full_exits=int(st["pml_full_exits"]))
    con.run(f"vm destroy {name}")
    return result


def harvest_cost(con, mode):
    """Harvest time over a large guest: idle, then after every page was written."""
    name = f"hs-{mode}"
    start = len(con.text())
    con.run(f"vm create {name} memtouch mem={SCAN_GUEST_MEM} report=0 idle")
    con.run(f"vm start {name}")
    m = con.wait_for(rf"\[vm:{name}\] memtouch: ready base 0x[0-9a-f]+ pages (\d+) rate", 60,
                     start=start)
    npages = int(m.group(1))
    con.run(f"dirty start {name} mode={mode}")
    con.run(f"dirty harvest {name}")
    idle = con.run(f"dirty harvest {name}").fields()
    guest_says(con, name, f"w 0 {npages}", f"wrote {npages} pages")
    full = con.run(f"dirty harvest {name}").fields()
    tracked = int(con.run(f"dirty stats {name}").fields()["tracked_pages"])
    con.run(f"vm destroy {name}")
    gib = tracked * 4096 / (1 << 30)
    return {"mode": mode, "tracked_pages": tracked,
            "idle_harvest_us_per_gib": int(idle["harvest_us"]) / gib,
            "full_harvest_us_per_gib": int(full["harvest_us"]) / gib,
            "full_harvest_pages": int(full["dirty_pages"])}


def bench_dirty(con, target, modes):
    runs = [write_run(con, "dw-off", "off", "4k")]
    for mode in modes:
        runs.append(write_run(con, f"dw-{mode}", mode, "4k"))
    runs.append(write_run(con, "dw-wp2m", "wp", "2m"))
    base = runs[0]["pages_per_second"]
    for r in runs:
        r["throughput_vs_off"] = r["pages_per_second"] / base
    return {"target": target, "runs": runs,
            "harvest": [harvest_cost(con, mode) for mode in modes]}


def print_dirty(r):
    print(f"== dirty tracking on {r['target']} (memtouch {DIRTY_GUEST_MEM}, harvest every "
          f"{HARVEST_EVERY} s) ==")
    print("  mode/unit  throughput/off   pages/s(guest)   exits/s   faults  log-full  "
          "pages per harvest (median)")
    for x in r["runs"]:
        ph = statistics.median(x["pages_per_harvest"]) if x["pages_per_harvest"] else 0
        print(f"  {x['mode']:>4}/{x['granularity']:<4} {x['throughput_vs_off']:13.3f} "
              f"{x['pages_per_second']:16.0f} {x['exits_per_second']:9.0f} "
              f"{x.get('wp_faults', 0):8d} {x.get('pml_full_exits', 0):9d}  {ph:.0f}")
    for h in r["harvest"]:
        print(f"  harvest {h['mode']:>3}: idle {h['idle_harvest_us_per_gib']:.0f} us/GiB, "
              f"every page dirty {h['full_harvest_us_per_gib']:.0f} us/GiB "
              f"({h['full_harvest_pages']} pages of {h['tracked_pages']})")


CRC_PAGES = 20000


def bench_crc(con):
    f = con.run(f"bench crc {CRC_PAGES}", timeout=300).fields()
    r = {"pages": CRC_PAGES, "impl": f["impl"], "software_tsc": int(f["software_tsc"])}
    if f["sse42_tsc"].isdigit():
        r["sse42_tsc"] = int(f["sse42_tsc"])
        r["software_over_sse42"] = r["software_tsc"] / r["sse42_tsc"]
    return r


def print_crc(r):
    print(f"== CRC-32C in the hypervisor, QEMU TCG ({r['pages']} pages of 4 KiB; "
          f"crc32c uses {r['impl']}) ==")
    print(f"  software: {r['software_tsc'] / r['pages']:.0f} ticks/page")
    if "sse42_tsc" in r:
        print(f"  SSE4.2  : {r['sse42_tsc'] / r['pages']:.0f} ticks/page; software/SSE4.2 = "
              f"{r['software_over_sse42']:.2f}")
    else:
        print("  SSE4.2  : absent")


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("suites", nargs="*",
                   default=["guests", "dirty", "installers", "crc", "linux", "net", "migrate", "linuxmig", "return", "handover",
                            "mce", "disk", "diskmig", "tls", "smp"])
    p.add_argument("--json", default=os.path.join(ROOT, "build", "bench", "results.json"))
    a = p.parse_args()
    os.makedirs(os.path.dirname(a.json), exist_ok=True)
    results = {}
    run_qemu = any(s in a.suites for s in ("guests", "dirty", "installers", "crc"))
    if run_qemu:
        with hvlaunch.Instance(workdir=os.path.join(ROOT, "build", "bench", "qemu"),
                               mem="512M") as inst:
            inst.wait_prompt(120)
            if "guests" in a.suites:
                results["guests_qemu"] = bench_guests(inst.console(), "qemu-tcg-svm")
                print_guests(results["guests_qemu"])
            if "dirty" in a.suites:
                results["dirty_qemu"] = bench_dirty(inst.console(), "qemu-tcg-svm", ["wp", "ad"])
                print_dirty(results["dirty_qemu"])
            if "installers" in a.suites:
                results["installers_qemu"] = bench_installers(inst.console())
                print_installers(results["installers_qemu"])
            if "crc" in a.suites:
                results["crc_qemu"] = bench_crc(inst.console())
                print_crc(results["crc_qemu"])
        if "guests" in a.suites or "dirty" in a.suites:
            with hvbochs.BochsInstance(workdir=os.path.join(ROOT, "build", "bench", "bochs"),
                                       megs=512, timeout=1800) as inst:
                inst.wait_prompt(300)
                if "guests" in a.suites:
                    results["guests_bochs"] = bench_guests(inst.console(), "bochs-vmx-ept")
                    print_guests(results["guests_bochs"])
                if "dirty" in a.suites:
                    results["dirty_bochs"] = bench_dirty(inst.console(), "bochs-vmx-ept",
                                                         ["wp", "ad", "pml"])
                    print_dirty(results["dirty_bochs"])
    if "guests" in a.suites:
        q, b = results["guests_qemu"], results["guests_bochs"]
        print("== exit round trip, side by side (each in its own native loop iterations) ==")
        print(f"  QEMU SVM {q['exit_cost_in_native_loop_iterations']:.0f}x, "
              f"Bochs VMX {b['exit_cost_in_native_loop_iterations']:.0f}x; "
              f"Bochs/QEMU = {b['exit_cost_in_native_loop_iterations'] / q['exit_cost_in_native_loop_iterations']:.2f}")
    if "linux" in a.suites:
        results["linux_qemu"] = bench_linux(ROOT)
        print_linux(results["linux_qemu"])
    if "disk" in a.suites:
        results["disk_qemu"] = bench_disk(ROOT)
        print_disk(results["disk_qemu"])
    if "diskmig" in a.suites:
        results["diskmig_qemu"] = bench_disk_migrate(os.path.join(ROOT, "build", "bench"))
        print_disk_migrate(results["diskmig_qemu"])
    if "net" in a.suites:
        results["net_qemu"] = bench_net(os.path.join(ROOT, "build", "bench"))
        print_net(results["net_qemu"])
    if "migrate" in a.suites:
        results["migrate_qemu"] = bench_migrate(os.path.join(ROOT, "build", "bench"))
        print_migrate(results["migrate_qemu"])
    if "linuxmig" in a.suites:
        results["linuxmig_qemu"] = bench_linux_migrate(os.path.join(ROOT, "build", "bench"))
        print_linux_migrate(results["linuxmig_qemu"])
    if "return" in a.suites:
        results["return_qemu"] = bench_return(os.path.join(ROOT, "build", "bench"))
        print_return(results["return_qemu"])
    if "handover" in a.suites:
        results["handover_qemu"] = bench_handover(os.path.join(ROOT, "build", "bench"))
        print_handover(results["handover_qemu"])
    if "mce" in a.suites:
        results["mce_qemu"] = bench_mce(os.path.join(ROOT, "build", "bench"))
        print_mce(results["mce_qemu"])
    if "tls" in a.suites:
        results["tls_qemu"] = bench_tls(os.path.join(ROOT, "build", "bench"))
        print_tls(results["tls_qemu"])
    if "smp" in a.suites:
        results["smp_qemu"] = bench_smp(os.path.join(ROOT, "build", "bench"))
        print_smp(results["smp_qemu"])
    with open(a.json, "w") as f:
        json.dump(results, f, indent=2)
    print(f"results in {os.path.relpath(a.json, ROOT)}")


if __name__ == "__main__":
    main()
