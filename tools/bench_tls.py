"""The 'tls' suite of tools/bench.py: what the TLS channel costs a live
migration. Two pairs of QEMU instances on socket links, booted in the same
run: one with migrate_insecure=1 (plaintext), one with the shared key, where
each compiled-in suite is forced in turn (migrate_tls_suite). The workload
is a 64 MiB memtouch guest with every page written (all data, no zero
pages: the crypto sees every byte), migrated A->B and back, twice per
channel. Reported: migration throughput (wire bytes over total time) per
channel and its ratio to plaintext, downtime, and the TLS wire overhead
(bytes TLS / bytes plaintext)."""

import os
import time

from bench_migrate import _fill, _migrate
from bench_net import _pair

MIB = 64
SUITES = ("TLS-ECDHE-PSK-WITH-CHACHA20-POLY1305-SHA256", "TLS-DHE-PSK-WITH-AES-128-GCM-SHA256")
REPEATS = 2


def _round_trips(a, b, label):
    ca, cb = a.console(), b.console()
    assert ca.run("migrate listen from=10.0.0.2").ok
    assert cb.run("migrate listen from=10.0.0.1").ok
    assert ca.run(f"vm create t memtouch mem={MIB}M report=0").ok
    assert ca.run("vm start t").ok
    time.sleep(1)
    _fill(ca, "t")
    # Then still: every migration moves the same 64 MiB of data, so the
    # channels are compared on the same bytes.
    start = len(ca.text())
    assert ca.run("vm send t p").ok
    ca.wait_for(r"\[vm:t\] memtouch: paused", 30, start=start)
    runs = []
    src, dst, dst_ip = ca, cb, "10.0.0.2"
    for _ in range(REPEATS * 2):
        # Full pages each time: signatures would spare the returns (issue 20's
        # suite measures those), and the channels are compared on bytes.
        st = _migrate(src, "t", dst_ip, extra="signatures=off")
        if st["phase"] != "done":
            raise RuntimeError(f"{label}: {st}")
        total_ms, wire = int(st["total_ms"]), int(st["bytes"])
        runs.append({"channel": st.get("channel", "?"), "total_ms": total_ms,
                     "downtime_ms": int(st["downtime_ms"]), "bytes": wire,
                     "mbit_s": wire * 8 / (total_ms / 1000) / 1e6 if total_ms else 0.0})
        src, dst, dst_ip = (dst, src, "10.0.0.1" if dst_ip == "10.0.0.2" else "10.0.0.2")
    (ca if src is ca else cb).run("vm destroy t")
    return runs


def bench_tls(root):
    results = {}
    configs = [("insecure", "migrate_insecure=1\n")] + \
        [(s, f"migrate_tls_suite={s}\n") for s in SUITES]
    for label, config in configs:
        a, b = _pair(os.path.join(root, "tls", label[:24]), "virtio", config=config)
        try:
            results[label] = _round_trips(a, b, label)
        finally:
            a.kill()
            b.kill()
    return results


def print_tls(results):
    print(f"== TLS channel: a {MIB} MiB guest, every page data, migrated {REPEATS * 2}x per channel ==")
    plain = results.get("insecure", [])
    base = sum(r["mbit_s"] for r in plain) / len(plain) if plain else 0.0
    base_bytes = sum(r["bytes"] for r in plain) / len(plain) if plain else 0.0
    print("  channel                                          Mbit/s (runs)            vs plaintext  downtime ms  wire vs plaintext")
    for label, runs in results.items():
        avg = sum(r["mbit_s"] for r in runs) / len(runs)
        each = " ".join(f"{r['mbit_s']:.0f}" for r in runs)
        down = " ".join(str(r["downtime_ms"]) for r in runs)
        wire = sum(r["bytes"] for r in runs) / len(runs)
        print(f"  {runs[0]['channel'][:48]:<48} {avg:>6.1f} ({each:<16}) "
              f"{avg / base if base else 0:>12.3f}  {down:<11}  {wire / base_bytes if base_bytes else 0:.4f}")
