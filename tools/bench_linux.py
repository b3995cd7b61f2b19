"""The 'linux' suite of tools/bench.py: Debian's kernel with the busybox
initramfs of tools/fetch-linux.sh booting to its shell prompt, as a VM of
the hypervisor (QEMU TCG, AMD SVM + NPT) against the same kernel, initrd
and command line booted by the same QEMU directly (`-kernel`, same
`-machine` and `-cpu`), alternated, REPEAT times each. Reports the ratio
of the medians and, for the VM, its exits by kind and per second of boot,
and its accesses by device (port ranges and MMIO windows) times the cost
of one exit round trip measured in the same instance: which device is hot
and roughly what it costs. Then the same boot with SMP_CPUS vCPUs against
bare QEMU `-smp SMP_CPUS` (whose TCG runs them in turns on one thread, as
the VM's take turns on one CPU): time, exits and PAUSE yields.

The bare run's time includes QEMU's own firmware (SeaBIOS and its
`-kernel` loader, a fraction of a second under TCG); the VM's starts at
`vm start`, the hypervisor being up already.
"""

import os
import re
import select
import statistics
import subprocess
import time

import hvlaunch

REPEAT = 3
SMP_CPUS = 4  # then the same with this many vCPUs against bare -smp (one TCG thread)
GUEST_MEM = "256M"
CMDLINE = "console=ttyS0 quiet"
PROMPT = b"hv-linux# "
BOOT_TIMEOUT = 300
EXIT_PROBES = 20000


def _payload(root):
    d = os.path.join(root, "build", "linux")
    if not os.path.exists(os.path.join(d, ".built")):
        raise RuntimeError("no Linux payload: run 'make build/linux/.built' (or make integration)")
    return os.path.join(d, "vmlinuz"), os.path.join(d, "initrd.img")


def _bare_boot(kernel, initrd, cpus=1):
    """Seconds from QEMU's start to the shell prompt on its serial port."""
    args = ["qemu-system-x86_64", "-machine", "q35", "-cpu", "max", "-m", GUEST_MEM,
            "-smp", str(cpus),
            "-nodefaults", "-display", "none", "-no-reboot", "-serial", "stdio",
            "-kernel", kernel, "-initrd", initrd, "-append", CMDLINE]
    t0 = time.monotonic()
    p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    seen = b""
    try:
        while PROMPT not in seen:
            if time.monotonic() - t0 > BOOT_TIMEOUT:
                raise RuntimeError(f"bare QEMU: no prompt; output tail {seen[-300:]!r}")
            ready, _, _ = select.select([p.stdout], [], [], 1)
            if ready:
                chunk = os.read(p.stdout.fileno(), 4096)
                if not chunk:
                    raise RuntimeError(f"bare QEMU ended; output tail {seen[-300:]!r}")
                seen += chunk
        return time.monotonic() - t0
    finally:
        p.kill()
        p.wait()


def _vm_boot(con, name, cpus=1):
    """Seconds from 'vm start' to the shell prompt ('took'), and the VM's
    exits: in all, by kind, by device; and its vCPUs' PAUSE yields."""
    r = con.run(f"vm create {name} vmlinuz mem={GUEST_MEM} cpus={cpus} module=initrd.img -- "
                f"{CMDLINE}")
    if not r.ok:
        raise RuntimeError(r.error)
    start = len(con.text())
    t0 = time.monotonic()
    con.run(f"vm start {name}")
    con.wait_for(rf"\[vm:{name}\] hv-linux: init running", BOOT_TIMEOUT, start=start)
    while PROMPT.decode() not in con.run(f"vm output {name} 2").text():
        if time.monotonic() - t0 > BOOT_TIMEOUT:
            raise RuntimeError(f"{name}: no shell prompt")
        time.sleep(0.05)
    took = time.monotonic() - t0
    info = con.run(f"vm info {name}").fields()
    con.run(f"vm destroy {name}")
    yields = sum(int(kv.split("=", 1)[1]) for k, v in info.items() if re.fullmatch(r"vcpu\d+", k)
                 for kv in v.split() if kv.startswith("pause_yields="))
    return {"took": took, "exits": int(info["exits"]),
            "kinds": {k[len("exits."):]: int(v) for k, v in info.items()
                      if k.startswith("exits.")},
            "devices": {k: int(v) for k, v in info.items() if k.startswith(("io.", "mmio."))},
            "pause_yields": yields}


def _exit_cost_s(con, n=EXIT_PROBES):
    """Seconds one exit round trip costs (the bench guest's CPUID loop)."""
    tsc_hz = int(con.run("uptime").fields()["tsc_hz"].split()[0])
    start = len(con.text())
    con.run(f"vm create lbx bench mem=8M mode=exits n={n}")
    con.run("vm start lbx")
    m = con.wait_for(r"\[vm:lbx\] bench: exits n=\d+ tsc=(\d+) result=", 300, start=start)
    con.run("vm destroy lbx")
    return int(m.group(1)) / n / tsc_hz


def bench_linux(root):
    kernel, initrd = _payload(root)
    bare, vm, exits, kinds, devices = [], [], [], [], []
    with hvlaunch.Instance(workdir=os.path.join(root, "build", "bench", "linux"), mem="1G",
                           guests=[kernel, initrd]) as inst:
        inst.wait_prompt(120)
        con = inst.console()
        for i in range(REPEAT):
            bare.append(_bare_boot(kernel, initrd))
            b = _vm_boot(con, f"lb{i}")
            vm.append(b["took"])
            exits.append(b["exits"])
            kinds.append(b["kinds"])
            devices.append(b["devices"])
        exit_s = _exit_cost_s(con)
        smp = {"cpus": SMP_CPUS, "bare_s": [], "vm_s": [], "exits": [], "pause_yields": []}
        for i in range(REPEAT):
            smp["bare_s"].append(_bare_boot(kernel, initrd, SMP_CPUS))
            b = _vm_boot(con, f"ls{i}", SMP_CPUS)
            smp["vm_s"].append(b["took"])
            smp["exits"].append(b["exits"])
            smp["pause_yields"].append(b["pause_yields"])
        smp["vm_over_bare"] = statistics.median(smp["vm_s"]) / statistics.median(smp["bare_s"])
    mid = sorted(range(REPEAT), key=lambda i: vm[i])[REPEAT // 2]
    return {"repeat": REPEAT, "bare_s": bare, "vm_s": vm,
            "vm_over_bare": statistics.median(vm) / statistics.median(bare),
            "exits": exits, "exits_by_kind": kinds[mid], "accesses_by_device": devices[mid],
            "exit_round_trip_us": exit_s * 1e6, "boot_s_of_median_run": vm[mid],
            "exits_per_boot_second": exits[mid] / vm[mid], "smp": smp}


def print_linux(r):
    print(f"== Linux boot to shell prompt, QEMU TCG (median of {r['repeat']} runs each) ==")
    print(f"  VM under hv / bare QEMU      : {r['vm_over_bare']:.2f}"
          f"   (VM {statistics.median(r['vm_s']):.1f} s, bare {statistics.median(r['bare_s']):.1f} s)")
    print(f"  VM exits per boot            : {r['exits']}"
          f" ({r['exits_per_boot_second']:.0f} per second of boot)")
    top = sorted(r["exits_by_kind"].items(), key=lambda kv: -kv[1])
    print("  exits by kind (median run)   : " + ", ".join(f"{k} {v}" for k, v in top))
    m = r["smp"]
    print(f"  {m['cpus']} vCPUs / bare -smp {m['cpus']}    : {m['vm_over_bare']:.2f}"
          f"   (VM {statistics.median(m['vm_s']):.1f} s, bare {statistics.median(m['bare_s']):.1f} s;"
          f" exits {m['exits']}, PAUSE yields {m['pause_yields']})")
    cost = r["exit_round_trip_us"]
    print(f"  exit round trip (CPUID loop) : {cost:.1f} us; by device, accesses x that cost"
          " as a share of the boot:")
    for dev, n in sorted(r["accesses_by_device"].items(), key=lambda kv: -kv[1]):
        share = n * cost / 1e6 / r["boot_s_of_median_run"]
        print(f"    {dev:<16} {n:8d}   ~{n * cost / 1e3:7.0f} ms  {100 * share:5.1f} %")
