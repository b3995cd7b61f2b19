"""Write-protect traces installed by fewer vCPUs than the VM has (seed 002;
`dirty start NAME mode=wp installers=K`), on QEMU (SVM + NPT).

A 4-vCPU smp guest in "write" mode: every vCPU writes its own pages,
interleaved with the others' (every SPREAD-th page of the data area, so a
2 MiB region holds 512/SPREAD written pages), PASSES times flat out, while
the console harvests every HARVEST_EVERY s as a pre-copy round would. One
run with tracking off, then write protection with every vCPU installing
4 KiB traces, with K = 2, 1 and 0 installers, and at 2 MiB granularity.
Per run (the runs in turn, REPEAT times): the guest's TSC ticks per page
written as a ratio to tracking off (the median of its runs),
write faults (of them region faults), and pages the harvests reported per
page written in a round (1.0 is exact; more is what the larger
granularity costs a migration in pages resent).
"""

import re
import statistics
import time

CPUS = 4
PAGES = 192      # a vCPU: 768 written pages in all
SPREAD = 4       # over 3,072 pages (12 MiB, 6 regions)
PASSES = 20000
REPEAT = 2       # the runs in turn, twice
HARVEST_EVERY = 0.2
RUNS = [("off", None), ("wp 4k all", "mode=wp"), ("wp 4k K=2", "mode=wp installers=2"),
        ("wp 4k K=1", "mode=wp installers=1"), ("wp 4k K=0", "mode=wp installers=0"),
        ("wp 2m", "mode=wp gran=2m")]


def _run(con, name, opts):
    start = len(con.text())
    con.run(f"vm create {name} smp cpus={CPUS} mem=16M write pages={PAGES} spread={SPREAD} "
            f"passes={PASSES}")
    con.run(f"vm start {name}")
    con.wait_for(rf"\[vm:{name}\] write: ready base", 120, start=start)
    if opts:
        con.run(f"dirty start {name} {opts}")
        con.run(f"dirty harvest {name}")
    exits0 = int(con.run(f"vm info {name}").fields()["exits"])
    start = len(con.text())
    con.run(f"vm send {name} g")
    done = re.compile(rf"\[vm:{name}\] write: done pages \d+ passes \d+ tsc_per_page=(\d+)\n")
    per_harvest = []
    deadline = time.monotonic() + 900
    while not (m := done.search(con.text(), start)):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name}: the writers did not finish")
        time.sleep(HARVEST_EVERY)
        if opts:
            per_harvest.append(int(con.run(f"dirty harvest {name}").fields()["dirty_pages"]))
    res = {"run": name, "tsc_per_page": int(m.group(1)),
           "exits": int(con.run(f"vm info {name}").fields()["exits"]) - exits0}
    if opts:
        st = con.run(f"dirty stats {name}").fields()
        res.update(per_harvest=per_harvest, wp_faults=int(st["wp_faults"]),
                   region_faults=int(st["wp_region_faults"]))
    con.run(f"vm destroy {name}")
    return res


def bench_installers(con):
    runs = []
    for rep in range(REPEAT):
        for label, opts in RUNS:
            r = _run(con, "inst", opts)
            r["label"] = label
            runs.append(r)
    off = statistics.median(r["tsc_per_page"] for r in runs if r["label"] == "off")
    written = CPUS * PAGES
    for r in runs:
        r["cost_vs_off"] = r["tsc_per_page"] / off
        if r.get("per_harvest"):
            # A round (HARVEST_EVERY) spans several passes, so an exact log
            # reports every written page once a round: the median against
            # the pages a pass writes is the over-reporting factor.
            r["faults_per_harvest"] = r["wp_faults"] / len(r["per_harvest"])
            r["reported_per_harvest"] = statistics.median(r["per_harvest"])
    return {"cpus": CPUS, "pages_written_per_pass": written, "spread": SPREAD,
            "passes": PASSES, "runs": runs}


def print_installers(r):
    print(f"== write traces installed by K of {r['cpus']} vCPUs (QEMU SVM+NPT; "
          f"{r['pages_written_per_pass']} pages a pass, 1 in {r['spread']}, "
          f"{r['passes']} passes, harvest every {HARVEST_EVERY} s) ==")
    print("  run          ticks/page  vs off     exits   faults  region  harvests  "
          "faults/harvest  reported/harvest (median)")
    for x in r["runs"]:
        print(f"  {x['label']:<11} {x['tsc_per_page']:11d} {x['cost_vs_off']:7.2f} "
              f"{x['exits']:9d} {x.get('wp_faults', 0):8d} {x.get('region_faults', 0):7d} "
              f"{len(x.get('per_harvest', [])):9d}  {x.get('faults_per_harvest', 0):14.0f}  "
              f"{x.get('reported_per_harvest', 0):.0f}")
