"""The 'return' suite of tools/bench.py: what issue 20 added to cut the
bytes a migration sends, each side by side with the same migration
without it, in one run on one link.

Signatures: a VM's way back to the instance it came from, with page
signatures against the seed that instance kept, against the same way back
sending every page (`signatures=off`).

A 64 MiB memtouch guest writes every page once on A and goes to B. On B it
rewrites K of its pages, then returns to A. Per K, two round trips in the
same run, both measured B→A (the two directions of a socket link differ in
speed): first with signatures off, then on. Each trip out goes with
signatures off, so both returns start from the same state: A holds the
image the VM left with, and B rewrote the same K pages since.

Deltas: two identical 64 MiB memtouch guests writing DELTA_RATE pages/s
after every page was written once, one migrated A→B with `delta=off`, the
other with `delta=on`; once writing whole pages (`fill=page`: every byte
changes, the worst case, a delta never fits) and once one word per page
(`fill=word`).
"""

import os

from bench_migrate import _fill, _memtouch_pages, _migrate
from bench_net import _pair

GUEST_MIB = 64
REWRITE_SHARES = (0.0, 0.1, 0.5)
DELTA_RATE = 2000


def _rewrite(con, name, pages):
    if not pages:
        return
    start = len(con.text())
    assert con.run(f"vm send {name} \"w 0 {pages}\"").ok
    con.wait_for(rf"\[vm:{name}\] memtouch: wrote {pages} pages", 300, start=start)


def _trip(src, dst, name, dst_ip, sigs, extra=""):
    st = _migrate(src, name, dst_ip, extra=f"signatures={sigs} {extra}")
    if st["phase"] != "done":
        raise RuntimeError(f"{name} ({sigs}): {st}")
    inc = dst.run("migrate status").fields()
    mib = int(st["bytes"]) / (1 << 20)
    sig, miss = int(st["sig_pages"]), int(st["sig_misses"])
    zero, sent = int(st["zero_pages"]), int(st["pages_sent"])
    return {"total_ms": int(st["total_ms"]), "downtime_ms": int(st["downtime_ms"]),
            "bytes": int(st["bytes"]), "zero_pages": zero, "sig_pages": sig,
            "sig_misses": miss, "full_pages": sent - zero - sig - int(st["poison_pages"]) - int(st["delta_pages"]),
            "seed_pages": int(st["seed_pages"]), "delta_pages": int(st["delta_pages"]),
            "delta_bytes": int(st["delta_bytes"]),
            "src_cpu_ms": int(st["cpu_ms"]), "dst_cpu_ms": int(inc["incoming_cpu_ms"]),
            "src_cpu_ms_per_mib": int(st["cpu_ms"]) / mib,
            "dst_cpu_ms_per_mib": int(inc["incoming_cpu_ms"]) / mib,
            "dst_downtime_ms": int(inc["incoming_downtime_ms"]),
            "dst_downtime_error_ms": int(inc["incoming_downtime_error_ms"]),
            "pages_per_round": [int(x) for x in st["pages_per_round"].split()]}


def bench_return(root):
    a, b = _pair(os.path.join(root, "return"), "virtio")
    runs = []
    try:
        ca, cb = a.console(), b.console()
        assert cb.run("migrate listen from=10.0.0.1").ok
        assert ca.run("migrate listen from=10.0.0.2").ok
        assert ca.run(f"vm create r memtouch mem={GUEST_MIB}M idle report=0").ok
        assert ca.run("vm start r").ok
        _fill(ca, "r")
        for share in REWRITE_SHARES:
            row = {"guest_mib": GUEST_MIB, "rewrite_share": share}
            for sigs in ("off", "on"):
                _trip(ca, cb, "r", "10.0.0.2", "off")
                k = int(share * _memtouch_pages(cb, "r"))
                _rewrite(cb, "r", k)
                row["rewritten"] = k
                row[sigs] = _trip(cb, ca, "r", "10.0.0.1", sigs)
            on, off = row["on"], row["off"]
            row["bytes_ratio"] = on["bytes"] / off["bytes"]
            row["time_ratio"] = on["total_ms"] / off["total_ms"]
            runs.append(row)
        assert ca.run("vm destroy r").ok
        for fill in ("page", "word"):
            row = {"fill": fill}
            for delta in ("off", "on"):
                name = f"{fill[0]}{delta}"
                assert ca.run(f"vm create {name} memtouch mem={GUEST_MIB}M rate={DELTA_RATE} "
                              f"fill={fill} report=0").ok
                assert ca.run(f"vm start {name}").ok
                _fill(ca, name)
                row[delta] = _trip(ca, cb, name, "10.0.0.2", "off", extra=f"delta={delta}")
                assert cb.run(f"vm destroy {name}").ok
            row["bytes_ratio"] = row["on"]["bytes"] / row["off"]["bytes"]
            row["time_ratio"] = row["on"]["total_ms"] / row["off"]["total_ms"]
            runs.append(row)
    finally:
        a.kill()
        b.kill()
    return runs


def print_return(runs):
    print(f"== the way back: {GUEST_MIB} MiB memtouch, B→A after K pages rewritten on B, "
          "signatures off vs on ==")
    print("  rewritten  sigs  total ms  downtime  wire bytes   zero   signed  missed   full  "
          "rounds          cpu ms src   dst  bytes on/off  time on/off")
    for r in runs:
        if "fill" in r:
            continue
        for sigs in ("off", "on"):
            t = r[sigs]
            rounds = " ".join(str(x) for x in t["pages_per_round"][:6])
            tail = (f"  {r['bytes_ratio']:>12.3f} {r['time_ratio']:>12.3f}" if sigs == "on"
                    else "")
            print(f"  {r['rewritten']:>9}  {sigs:<4} {t['total_ms']:>8} {t['downtime_ms']:>9} "
                  f"{t['bytes']:>11} {t['zero_pages']:>6} {t['sig_pages']:>8} "
                  f"{t['sig_misses']:>7} {t['full_pages']:>6}  {rounds:<15}"
                  f"{t['src_cpu_ms']:>11} {t['dst_cpu_ms']:>5}{tail}")
    print(f"== deltas: {GUEST_MIB} MiB memtouch at {DELTA_RATE} pages/s, A→B, delta off vs on ==")
    print("  fill  delta  total ms  downtime src/dst(+err)  wire bytes  rounds  delta pages  "
          "delta bytes  full  cpu ms src   dst  bytes on/off  time on/off")
    for r in runs:
        if "fill" not in r:
            continue
        for d in ("off", "on"):
            t = r[d]
            tail = f"  {r['bytes_ratio']:>12.3f} {r['time_ratio']:>12.3f}" if d == "on" else ""
            dt = f"{t['downtime_ms']}/{t['dst_downtime_ms']}(+{t['dst_downtime_error_ms']})"
            print(f"  {r['fill']:<5} {d:<5} {t['total_ms']:>9} {dt:>23} {t['bytes']:>11} "
                  f"{len(t['pages_per_round']):>7} {t['delta_pages']:>12} {t['delta_bytes']:>12} "
                  f"{t['full_pages']:>5} {t['src_cpu_ms']:>10} {t['dst_cpu_ms']:>5}{tail}")


HANDOVER_REPEATS = 3


def bench_handover(root):
    """Downtime with GO after READY (confirmed) against GO right after END
    (pipelined): idle 64 MiB counters, alternated, in both directions."""
    a, b = _pair(os.path.join(root, "handover"), "virtio")
    runs = []
    try:
        ca, cb = a.console(), b.console()
        assert cb.run("migrate listen from=10.0.0.1").ok
        assert ca.run("migrate listen from=10.0.0.2").ok
        for i in range(HANDOVER_REPEATS):
            for mode in ("confirmed", "pipelined"):
                name = f"h{mode[0]}{i}"
                assert ca.run(f"vm create {name} counter mem={GUEST_MIB}M interval=100").ok
                assert ca.run(f"vm start {name}").ok
                for src, dst, ip, way in ((ca, cb, "10.0.0.2", "A→B"), (cb, ca, "10.0.0.1", "B→A")):
                    st = _migrate(src, name, ip, extra=f"handover={mode}")
                    if st["phase"] != "done":
                        raise RuntimeError(f"{name}: {st}")
                    inc = dst.run("migrate status").fields()
                    runs.append({"handover": mode, "way": way, "total_ms": int(st["total_ms"]),
                                 "downtime_ms": int(st["downtime_ms"]),
                                 "dst_downtime_ms": int(inc["incoming_downtime_ms"]),
                                 "dst_downtime_error_ms": int(inc["incoming_downtime_error_ms"])})
                assert ca.run(f"vm destroy {name}").ok
    finally:
        a.kill()
        b.kill()
    return runs


def print_handover(runs):
    import statistics
    print(f"== hand-over: {GUEST_MIB} MiB idle counter, GO after READY vs right after END, "
          f"median of {HANDOVER_REPEATS} ==")
    print("  way   handover    downtime src  dst(+bound)  total ms")
    for way in ("A→B", "B→A"):
        for mode in ("confirmed", "pipelined"):
            rs = [r for r in runs if r["way"] == way and r["handover"] == mode]
            med = lambda k: statistics.median(r[k] for r in rs)  # noqa: E731
            print(f"  {way}  {mode:<10} {med('downtime_ms'):>12} {med('dst_downtime_ms'):>5}"
                  f"(+{med('dst_downtime_error_ms')})  {med('total_ms'):>8}")
