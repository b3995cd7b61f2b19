"""The 'smp' suite of tools/bench.py: guests on several CPUs. One QEMU
instance with 4 CPUs under multi-threaded TCG (the host has 2 cores, so
this measures what the hypervisor lets through, bounded by the host).

- Scaling: the bench guest's compute kernel in K VMs at once, each pinned
  to its own CPU, against one VM alone on one CPU in the same run; the
  aggregate rate (sum of each VM's iterations per TSC tick) over the single
  VM's rate is the scaling ratio (ideal: K, here at most the host's cores).
- Exit round trip (CPUID) on CPU 1, alone and while compute VMs keep the
  other CPUs busy: the ratio is what a busy neighbour costs an exit.
- Moving a VM: `vm pin` to another CPU, each a hold (kick IPI, put on the
  old CPU) plus a load on the new one: console round trips per second for
  `vm pin` against `uptime` (a command that touches no VM), side by side.
- IPI round trip between two vCPUs of one VM (the smp guest's pingpong:
  fixed IPI there, fixed IPI back, both through the virtual ICR), against
  the same kernel on bare QEMU with two CPUs, in TSC ticks of the same host;
  with the VM's exits and vCPU turns counted.
- One VM's N vCPUs on N CPUs against the same VM's vCPUs sharing CPU 0:
  the smp guest's count mode (each vCPU counts; the BSP sends every AP an
  IPI in turn and waits for it), aggregate count rate, spread over shared;
  the IPI round trip and the spinlock below are also run spread.
- A contended spinlock (the smp guest's lock mode: every vCPU takes one
  test-and-set lock LOCK_N times, spinning with PAUSE) with 2 and 4 vCPUs
  sharing a CPU, against the same kernel on bare QEMU -smp 2/4 (TCG runs
  those vCPUs in turns on one thread too), in TSC ticks per acquisition;
  with the PAUSE exits that ended a vCPU's turn counted.
- Migrating a writing guest (memtouch, 64 MiB, MIG_RATE pages/s asked) from
  CPU 0, where the migration's own work runs too, and from CPU 1, in turns
  in the same run on one pair of 2-CPU instances: the guest's achieved write
  rate during the migration over the rate it asked for, total and downtime,
  and on CPU 1 the shootdowns (each change of its tables holds it off CPU 1:
  kick IPI, exit, put down) with their mean wait and the mean harvest."""

import os
import re
import statistics
import subprocess
import time

import hvlaunch
from bench_net import _pair

CPUS = 4
COMPUTE_N = 20_000_000
PINGPONG_N = 2000
SMP_ELF = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                       "build", "guests", "smp.elf")
EXITS_N = 50_000
REPEAT = 3


def _start_pinned(con, vms):
    """vms: [(name, args, cpu)]; created and pinned first, then started back to back."""
    for name, args, cpu in vms:
        assert con.run(f"vm create {name} bench mem=8M {args}").ok
        assert con.run(f"vm pin {name} all {cpu}").ok
    start = len(con.text())
    for name, _, _ in vms:
        assert con.run(f"vm start {name}").ok
    return start


def _wait_results(con, names, start, timeout=600):
    got = {}
    deadline = time.monotonic() + timeout
    for name in names:
        m = con.wait_for(rf"\[vm:{name}\] bench: (\w+) n=(\d+) tsc=(\d+) result=",
                         max(1, deadline - time.monotonic()), start=start)
        got[name] = (int(m.group(2)), int(m.group(3)))
    for name in names:
        info = con.run(f"vm info {name}").fields()
        got[name] += (int(info.get("exits.cpuid", 0)),)
        con.run(f"vm destroy {name}")
    return got


def _compute_rate(con, k):
    """Iterations per TSC tick, summed over k VMs on CPUs 1..k (0 last)."""
    cpus = [1, 2, 3, 0][:k]
    vms = [(f"s{k}-{i}", f"mode=compute n={COMPUTE_N}", cpu) for i, cpu in enumerate(cpus)]
    got = _wait_results(con, [v[0] for v in vms], _start_pinned(con, vms))
    return sum(n / tsc for n, tsc, _ in got.values())


def _exit_cost(con, busy):
    """TSC ticks per CPUID exit on CPU 1, with compute VMs on CPUs 2, 3 if busy."""
    hogs = [(f"hog{i}", f"mode=compute n={COMPUTE_N * 10}", cpu)
            for i, cpu in enumerate((2, 3))] if busy else []
    _start_pinned(con, hogs)
    time.sleep(0.5 if busy else 0)
    start = _start_pinned(con, [("ex", f"mode=exits n={EXITS_N}", 1)])
    got = _wait_results(con, ["ex"], start)
    for name, _, _ in hogs:
        con.run(f"vm destroy {name}")
    n, tsc, counted = got["ex"]
    return tsc / n, counted


def _pin_rate(con):
    assert con.run("vm create mv counter mem=4M interval=1000").ok
    assert con.run("vm start mv").ok
    rounds = 40
    t0 = time.monotonic()
    for i in range(rounds):
        assert con.run(f"vm pin mv all {1 + i % 3}").ok
    pins = rounds / (time.monotonic() - t0)
    t0 = time.monotonic()
    for _ in range(rounds):
        assert con.run("uptime").ok
    infos = rounds / (time.monotonic() - t0)
    con.run("vm destroy mv")
    return pins, infos


def _spread(con, name, cpus, spread):
    """vCPU i on CPU i when spread, else all of them stay on CPU 0."""
    for i in range(cpus if spread else 0):
        assert con.run(f"vm pin {name} {i} {i}").ok


def _pingpong_hv(con, spread=False):
    start = len(con.text())
    assert con.run(f"vm create pp smp cpus=2 mem=16M pingpong n={PINGPONG_N}").ok
    _spread(con, "pp", 2, spread)
    assert con.run("vm start pp").ok
    m = con.wait_for(r"\[vm:pp\] pingpong: n=\d+ tsc_per_round_trip=(\d+)", 300, start=start)
    info = con.run("vm info pp").fields()
    con.run("vm destroy pp")
    return int(m.group(1)), int(info["exits"]), int(info["exits.memory"])


LOCK_N = 20000


def _lock_hv(con, cpus, spread=False):
    start = len(con.text())
    assert con.run(f"vm create lk smp cpus={cpus} mem=16M lock n={LOCK_N}").ok
    _spread(con, "lk", cpus, spread)
    assert con.run("vm start lk").ok
    m = con.wait_for(r"\[vm:lk\] lock: n=\d+ cpus=\d+ count ok tsc_per_acquisition=(\d+)", 600,
                     start=start)
    info = con.run("vm info lk").fields()
    con.run("vm destroy lk")
    return int(m.group(1)), int(info.get("exits.pause", 0))


def _lock_bare(cpus):
    out = subprocess.run(
        ["qemu-system-x86_64", "-kernel", SMP_ELF, "-append", f"lock n={LOCK_N}",
         "-smp", str(cpus), "-m", "64", "-display", "none", "-serial", "stdio", "-no-reboot",
         "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"],
        capture_output=True, text=True, timeout=600).stdout
    return int(re.search(r"lock: n=\d+ cpus=\d+ count ok tsc_per_acquisition=(\d+)", out).group(1))


def _pingpong_bare():
    out = subprocess.run(
        ["qemu-system-x86_64", "-kernel", SMP_ELF, "-append", f"pingpong n={PINGPONG_N}",
         "-smp", "2", "-m", "64", "-display", "none", "-serial", "stdio", "-no-reboot",
         "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"],
        capture_output=True, text=True, timeout=300).stdout
    return int(re.search(r"pingpong: n=\d+ tsc_per_round_trip=(\d+)", out).group(1))


COUNT_LINES = re.compile(r"\[vm:cn\] count:((?: \d+)+) lost (\d+)")


def _count_rate(con, cpus, spread):
    """The smp guest's count mode (every vCPU counts, the BSP sends each AP
    an IPI in turn): the vCPUs' counts summed, per 200 ms report, over
    2-3 s, and the IPIs lost (0 expected)."""
    start = len(con.text())
    assert con.run(f"vm create cn smp cpus={cpus} mem=16M count").ok
    _spread(con, "cn", cpus, spread)
    assert con.run("vm start cn").ok
    deadline = time.monotonic() + 120
    while len(COUNT_LINES.findall(con.text(), start)) < 14:
        assert time.monotonic() < deadline, "the count guest does not report"
        time.sleep(0.5)
    lines = COUNT_LINES.findall(con.text(), start)
    con.run("vm destroy cn")
    first, last = lines[3], lines[-1]
    total = sum(int(x) for x in last[0].split()) - sum(int(x) for x in first[0].split())
    return total / (len(lines) - 1 - 3), int(last[1])


MIG_RATE = 2000


def _memtouch_written(con, name):
    start = len(con.text())
    assert con.run(f"vm send {name} s").ok
    m = con.wait_for(rf"\[vm:{name}\] memtouch: written (\d+) passes", 30, start=start)
    return int(m.group(1))


def _migrate_from(src, dst, cpu, dst_ip):
    """One migration of a writing guest placed on `cpu`; the guest's write
    rate over the migration (asked: MIG_RATE) and the source's figures."""
    assert src.run(f"vm create mt memtouch mem=64M rate={MIG_RATE} report=0").ok
    assert src.run(f"vm pin mt all {cpu}").ok
    assert src.run("vm start mt").ok
    time.sleep(2)
    w0, t0 = _memtouch_written(src, "mt"), time.monotonic()
    assert src.run(f"migrate send mt {dst_ip} bandwidth=100").ok
    while True:  # 'migrate status' names no VM: it does not hold the guest
        st = src.run("migrate status").fields()
        if st["phase"] in ("done", "failed", "outcome-unknown"):
            break
        time.sleep(0.3)
    if st["phase"] != "done":
        raise RuntimeError(f"migration from cpu {cpu}: {st}")
    w1, t1 = _memtouch_written(dst, "mt"), time.monotonic()
    assert dst.run("vm destroy mt").ok
    return {"cpu": cpu, "write_rate_ratio": (w1 - w0) / (t1 - t0) / MIG_RATE,
            "total_ms": int(st["total_ms"]), "downtime_ms": int(st["downtime_ms"]),
            "rounds": len(st["pages_per_round"].split()),
            "harvests": int(st["harvests"]), "harvest_us": int(st["harvest_us"]),
            "shootdowns": int(st["shootdowns"]), "shootdown_us": int(st["shootdown_us"])}


def bench_migrate_placement(workdir):
    a, b = _pair(os.path.join(workdir, "smp-migrate"), "virtio", cpus=2,
                 a_args=["-accel", "tcg,thread=multi"], b_args=["-accel", "tcg,thread=multi"])
    try:
        ca, cb = a.console(), b.console()
        assert cb.run("migrate listen from=10.0.0.1").ok
        return [_migrate_from(ca, cb, cpu, "10.0.0.2") for _ in range(REPEAT) for cpu in (0, 1)]
    finally:
        a.kill()
        b.kill()


def bench_smp(workdir):
    inst = hvlaunch.Instance(workdir=os.path.join(workdir, "smp"), mem="512M", cpus=CPUS,
                             extra_args=["-accel", "tcg,thread=multi"])
    inst.start()
    try:
        inst.wait_prompt(120)
        con = inst.console()
        r = {"cpus": CPUS, "compute_iterations": COMPUTE_N, "scaling": {}}
        single = []
        for _ in range(REPEAT):
            single.append(_compute_rate(con, 1))
            for k in (2, 4):
                r["scaling"].setdefault(k, []).append(_compute_rate(con, k) / single[-1])
        r["scaling"] = {k: statistics.median(v) for k, v in r["scaling"].items()}
        alone, busy = [], []
        for _ in range(REPEAT):
            alone.append(_exit_cost(con, False))
            busy.append(_exit_cost(con, True))
        r["exit_tsc_alone"] = statistics.median(t for t, _ in alone)
        r["exit_tsc_busy"] = statistics.median(t for t, _ in busy)
        r["cpuid_exits_counted"] = [c for _, c in alone + busy]
        r["exit_busy_over_alone"] = r["exit_tsc_busy"] / r["exit_tsc_alone"]
        r["pins_per_s"], r["infos_per_s"] = _pin_rate(con)
        hv = [_pingpong_hv(con) for _ in range(REPEAT)]
        r["pingpong_tsc_hv"] = statistics.median(t for t, _, _ in hv)
        r["pingpong_exits"] = hv[0][1]
        r["pingpong_mmio_exits"] = hv[0][2]
        r["pingpong_tsc_bare"] = statistics.median(_pingpong_bare() for _ in range(REPEAT))
        r["pingpong_tsc_spread"] = statistics.median(
            _pingpong_hv(con, spread=True)[0] for _ in range(REPEAT))
        r["lock"] = {}
        for cpus in (2, 4):
            hv = [_lock_hv(con, cpus) for _ in range(REPEAT)]
            apart = [_lock_hv(con, cpus, spread=True) for _ in range(REPEAT)]
            r["lock"][cpus] = {"hv": statistics.median(t for t, _ in hv),
                               "pause_exits": hv[0][1],
                               "spread": statistics.median(t for t, _ in apart),
                               "spread_pause_exits": apart[0][1],
                               "bare": statistics.median(_lock_bare(cpus) for _ in range(REPEAT))}
        r["count"] = {}
        for cpus in (2, 4):
            runs = [(_count_rate(con, cpus, True), _count_rate(con, cpus, False))
                    for _ in range(REPEAT)]
            r["count"][cpus] = {"ratio": statistics.median(a[0] / b[0] for a, b in runs),
                                "lost": [x[1] for run in runs for x in run]}
    finally:
        inst.kill()
    r["migrations"] = bench_migrate_placement(workdir)
    return r


def print_smp(r):
    print(f"== guests on several CPUs (QEMU MTTCG, {r['cpus']} CPUs on the host's cores, "
          f"median of {REPEAT}) ==")
    for k, ratio in sorted(r["scaling"].items()):
        print(f"  {k} compute VMs on {k} CPUs / 1 VM on 1 CPU (aggregate rate) : {ratio:.2f}")
    print(f"  CPUID exit on cpu 1, others idle    : {r['exit_tsc_alone']:.0f} TSC ticks")
    print(f"  CPUID exit on cpu 1, cpus 2-3 busy  : {r['exit_tsc_busy']:.0f} TSC ticks "
          f"(ratio {r['exit_busy_over_alone']:.2f})")
    print(f"  CPUID exits counted                 : {r['cpuid_exits_counted']} "
          f"(each guest ran {EXITS_N})")
    print(f"  'vm pin' (hold, move, load) / 'uptime' console round trips: "
          f"{r['pins_per_s']:.1f}/s vs {r['infos_per_s']:.1f}/s "
          f"= {r['pins_per_s'] / r['infos_per_s']:.2f}")
    print(f"  IPI round trip between 2 vCPUs of one VM (sharing a CPU): "
          f"{r['pingpong_tsc_hv']:.0f} TSC ticks; bare QEMU -smp 2: "
          f"{r['pingpong_tsc_bare']:.0f} (ratio {r['pingpong_tsc_hv'] / r['pingpong_tsc_bare']:.1f}); "
          f"{r['pingpong_exits']} exits ({r['pingpong_mmio_exits']} APIC MMIO) "
          f"for {PINGPONG_N} round trips")
    print(f"  IPI round trip between 2 vCPUs of one VM on 2 CPUs: "
          f"{r['pingpong_tsc_spread']:.0f} TSC ticks (over sharing a CPU "
          f"{r['pingpong_tsc_spread'] / r['pingpong_tsc_hv']:.2f}, over bare "
          f"{r['pingpong_tsc_spread'] / r['pingpong_tsc_bare']:.1f})")
    for cpus, lk in sorted(r["lock"].items()):
        print(f"  contended spinlock, {cpus} vCPUs sharing a CPU: {lk['hv']:.0f} TSC ticks per "
              f"acquisition; bare QEMU -smp {cpus}: {lk['bare']:.0f} (ratio "
              f"{lk['hv'] / lk['bare']:.2f}); {lk['pause_exits']} PAUSE exits for "
              f"{cpus * LOCK_N} acquisitions")
        print(f"  contended spinlock, {cpus} vCPUs on {cpus} CPUs: {lk['spread']:.0f} TSC ticks "
              f"per acquisition (over bare {lk['spread'] / lk['bare']:.2f}); "
              f"{lk['spread_pause_exits']} PAUSE exits")
    for cpus, c in sorted(r["count"].items()):
        print(f"  one VM's {cpus} vCPUs counting (IPIs between them) on {cpus} CPUs / on one "
              f"CPU (aggregate count rate): {c['ratio']:.2f}; IPIs lost {c['lost']}")
    runs = r["migrations"]

    def med(cpu, key):
        return statistics.median(m[key] for m in runs if m["cpu"] == cpu)

    print(f"  migrating memtouch (64 MiB, {MIG_RATE} pages/s, 100 Mbit/s cap), placed on "
          f"cpu 0 vs cpu 1, median of {REPEAT}:")
    for cpu in (0, 1):
        print(f"    cpu {cpu}: guest write rate during it / asked {med(cpu, 'write_rate_ratio'):.2f}, "
              f"total {med(cpu, 'total_ms'):.0f} ms, downtime {med(cpu, 'downtime_ms'):.0f} ms, "
              f"{med(cpu, 'rounds'):.0f} rounds")
    one = [m for m in runs if m["cpu"] == 1 and m["shootdowns"]]
    if one:
        sd = sum(m["shootdown_us"] for m in one) / sum(m["shootdowns"] for m in one)
        hv_ = sum(m["harvest_us"] for m in one) / max(1, sum(m["harvests"] for m in one))
        print(f"    cpu 1: {sum(m['shootdowns'] for m in one) / len(one):.1f} shootdowns per "
              f"migration, {sd:.0f} us waiting for cpu 1 to let go each; a harvest "
              f"{hv_:.0f} us")
