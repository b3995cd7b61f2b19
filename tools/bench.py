#!/usr/bin/python3
"""Benchmarks, run by 'make bench'. Every figure is measured side by side in
one run and reported as a ratio to a reference measured in the same run
(QEMU TCG timing is noisy), together with the raw counts.

    tools/bench.py [guests] [--json FILE]

guests: the cost of a guest exit round trip (CPUID exits) and a guest's
compute speed, both relative to the same loop (hv/x86/bench_kernel.S) run
by the hypervisor itself, on each target: QEMU TCG (AMD SVM + NPT) and
Bochs (Intel VMX + EPT), one after the other in the same run.
"""

import argparse
import json
import os
import re
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import hvbochs  # noqa: E402
import hvlaunch  # noqa: E402

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


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("suites", nargs="*", default=["guests"])
    p.add_argument("--json", default=os.path.join(ROOT, "build", "bench", "results.json"))
    a = p.parse_args()
    os.makedirs(os.path.dirname(a.json), exist_ok=True)
    results = {}
    if "guests" in a.suites:
        with hvlaunch.Instance(workdir=os.path.join(ROOT, "build", "bench", "qemu"),
                               mem="512M") as inst:
            inst.wait_prompt(120)
            results["guests_qemu"] = bench_guests(inst.console(), "qemu-tcg-svm")
            print_guests(results["guests_qemu"])
        with hvbochs.BochsInstance(workdir=os.path.join(ROOT, "build", "bench", "bochs"),
                                   megs=512, timeout=1800) as inst:
            inst.wait_prompt(300)
            results["guests_bochs"] = bench_guests(inst.console(), "bochs-vmx-ept")
            print_guests(results["guests_bochs"])
        q, b = results["guests_qemu"], results["guests_bochs"]
        print("== exit round trip, side by side (each in its own native loop iterations) ==")
        print(f"  QEMU SVM {q['exit_cost_in_native_loop_iterations']:.0f}x, "
              f"Bochs VMX {b['exit_cost_in_native_loop_iterations']:.0f}x; "
              f"Bochs/QEMU = {b['exit_cost_in_native_loop_iterations'] / q['exit_cost_in_native_loop_iterations']:.2f}")
    with open(a.json, "w") as f:
        json.dump(results, f, indent=2)
    print(f"results in {os.path.relpath(a.json, ROOT)}")


if __name__ == "__main__":
    main()
