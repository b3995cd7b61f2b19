"""The 'migrate' suite of tools/bench.py: live migration between two QEMU
instances on one socket link, for a 64 MiB and a 256 MiB guest, idle
(`counter`: memory mostly never written, so mostly zero pages) and under
load (`memtouch`, every page of its memory written once before the
migration starts, then writing MEMTOUCH_RATE pages/s). Measured side by side in the same run on the same
link: `net perf send` TCP throughput, the reference for the migration's
own throughput (bytes on the wire over total time). The loaded guests go
twice: with the default downtime target (300 ms) and with
DOWNTIME_TARGET_MS, issue 20's goal; downtime on both sides.
"""

import os
import time

from bench_net import _pair

SIZES_MIB = (64, 256)
MEMTOUCH_RATE = 2000
PERF_SECONDS = 3
DOWNTIME_TARGET_MS = 50


def _migrate(src, name, dst_ip, timeout=600, extra=""):
    assert src.run(f"migrate send {name} {dst_ip} {extra}".strip()).ok
    deadline = time.time() + timeout
    while True:
        f = src.run("migrate status").fields()
        if f["phase"] in ("done", "failed", "outcome-unknown"):
            return f
        if time.time() > deadline:
            raise RuntimeError(f"migration did not end: {f}")
        time.sleep(0.5)


def _memtouch_pages(con, name):
    """How many pages memtouch writes (its status line)."""
    start = len(con.text())
    assert con.run(f"vm send {name} s").ok
    m = con.wait_for(rf"\[vm:{name}\] memtouch: written .* pages (\d+) ", 30, start=start)
    return int(m.group(1))


def _fill(con, name, timeout=300):
    """Has memtouch write every one of its pages once, so all of its
    memory holds data, then it goes on at its rate."""
    pages = _memtouch_pages(con, name)
    start = len(con.text())
    assert con.run(f"vm send {name} \"w 0 {pages}\"").ok
    con.wait_for(rf"\[vm:{name}\] memtouch: wrote {pages} pages", timeout, start=start)


def _tcp_mbit(ca, cb):
    assert cb.run("net perf listen").ok
    s = ca.run(f"net perf send 10.0.0.2 {PERF_SECONDS}", timeout=120).fields()
    return float(s["mbit_s"])


def bench_migrate(root):
    a, b = _pair(os.path.join(root, "migrate"), "virtio")
    runs = []
    try:
        ca, cb = a.console(), b.console()
        assert cb.run("migrate listen from=10.0.0.1").ok
        tcp = _tcp_mbit(ca, cb)
        for mib in SIZES_MIB:
            for load, target in (("idle", None), ("memtouch", None),
                                 ("memtouch", DOWNTIME_TARGET_MS)):
                name = f"{load[0]}{mib}{'t' if target else ''}"
                if load == "idle":
                    cmd = f"vm create {name} counter mem={mib}M interval=100"
                else:
                    cmd = f"vm create {name} memtouch mem={mib}M rate={MEMTOUCH_RATE} report=0"
                assert ca.run(cmd).ok
                assert ca.run(f"vm start {name}").ok
                time.sleep(2)
                if load == "memtouch":
                    _fill(ca, name)
                st = _migrate(ca, name, "10.0.0.2", extra=f"downtime={target}" if target else "")
                if st["phase"] != "done":
                    raise RuntimeError(f"{name}: {st}")
                inc = cb.run("migrate status").fields()
                total_ms, wire = int(st["total_ms"]), int(st["bytes"])
                mig_mbit = wire * 8 / (total_ms / 1000) / 1e6 if total_ms else 0.0
                runs.append({
                    "guest_mib": mib, "load": load, "total_ms": total_ms,
                    "downtime_limit_ms": int(st["downtime_limit_ms"]),
                    "downtime_ms": int(st["downtime_ms"]), "bytes": wire,
                    "dst_downtime_ms": int(inc["incoming_downtime_ms"]),
                    "dst_downtime_error_ms": int(inc["incoming_downtime_error_ms"]),
                    "src_cpu_ms": int(st["cpu_ms"]), "dst_cpu_ms": int(inc["incoming_cpu_ms"]),
                    "bytes_per_guest_byte": wire / (mib << 20),
                    "pages_per_round": [int(x) for x in st["pages_per_round"].split()],
                    "zero_pages": int(st["zero_pages"]), "pages_sent": int(st["pages_sent"]),
                    "migration_mbit_s": mig_mbit, "tcp_mbit_s": tcp,
                    "vs_net_perf": mig_mbit / tcp if tcp else 0.0,
                })
                assert cb.run(f"vm destroy {name}").ok
        runs.append({"tcp_mbit_s_after": _tcp_mbit(ca, cb)})
    finally:
        a.kill()
        b.kill()
    return runs


def print_migrate(runs):
    print("== live migration: two QEMU instances, virtio-net socket link ==")
    print("  guest       load      target  total ms  downtime src/dst+bound  wire/guest  Mbit/s  "
          "vs net perf  zero pages  cpu ms/MiB src/dst  pages per round")
    for r in runs:
        if "guest_mib" not in r:
            print(f"  net perf TCP after the migrations: {r['tcp_mbit_s_after']:.1f} Mbit/s")
            continue
        rounds = " ".join(str(x) for x in r["pages_per_round"][:8])
        if len(r["pages_per_round"]) > 8:
            rounds += " ..."
        mib_sent = r["bytes"] / (1 << 20)
        print(f"  {r['guest_mib']:>4} MiB  {r['load']:<9} {r['downtime_limit_ms']:>6} {r['total_ms']:>9} "
              f"{r['downtime_ms']:>8} / {r['dst_downtime_ms']}+{r['dst_downtime_error_ms']:<8} "
              f"{r['bytes_per_guest_byte']:>11.3f} {r['migration_mbit_s']:>7.1f} "
              f"{r['vs_net_perf']:>12.3f} {r['zero_pages']:>11} "
              f"{r['src_cpu_ms'] / mib_sent:>8.1f} / {r['dst_cpu_ms'] / mib_sent:<8.1f} {rounds}")
    print(f"  (net perf TCP before: {runs[0]['tcp_mbit_s']:.1f} Mbit/s)")
