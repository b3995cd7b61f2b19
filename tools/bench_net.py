"""The 'net' suite of tools/bench.py: two instances on one QEMU socket link,
per NIC model. Measured side by side in one run:

- TCP bulk transfer through lwIP (`net perf send`, receiver checksums)
  as a ratio to raw Ethernet frames through the same driver (`net perf raw`,
  no stack), so the stack's cost shows apart from QEMU's device models;
- where the NIC computes TCP checksums (e1000, e1000e), TCP with that
  offload and without it (`net offload off` on both ends), alternated;
- ping round trips (median), whose floor is the 1 ms poll tick;
- counts: bytes, frames each way, transmit ring full events, drops.
"""

import os
import statistics
import time

import hvlaunch

NICS = ("virtio", "e1000", "e1000e")
SECONDS = 3
REPEAT = 2
RX_SETTLE_S = 1.5  # QEMU's e1000 ignores frames for 1 s after RCTL.EN


def _fields(con, cmd, timeout=120):
    return con.run(cmd, timeout=timeout).fields()


def _wait_done(con, key, timeout=30):
    deadline = time.time() + timeout
    while True:
        f = _fields(con, "net perf")
        if f.get(key) == "done" or time.time() > deadline:
            return f
        time.sleep(0.3)


def _pair(root, nic, config="", a_args=(), b_args=(), cpus=1, **instance_kwargs):
    """Two instances on one socket link, each with its own extra QEMU
    arguments (disks) and 'config' added to its hv.cfg; instance_kwargs
    (mem, guests) go to both."""
    port = hvlaunch.free_port()
    mk = lambda name, net, mac, ip, args: hvlaunch.Instance(  # noqa: E731
        workdir=os.path.join(root, f"net-{nic}-{name}"), net=net, nic=nic, mac=mac,
        config=f"ip={ip}/24\n{config}", extra_args=list(args), cpus=cpus,
        **instance_kwargs)
    a = mk("a", f"listen:{port}", "52:54:00:00:01:0a", "10.0.0.1", a_args)
    b = mk("b", f"connect:{port}", "52:54:00:00:01:0b", "10.0.0.2", b_args)
    for d in (a.dir, b.dir):
        os.makedirs(d, exist_ok=True)
    a.start()
    a.console()
    time.sleep(0.3)
    b.start()
    b.console()
    a.wait_prompt(120)
    b.wait_prompt(120)
    time.sleep(RX_SETTLE_S)
    return a, b


def bench_nic(root, nic):
    a, b = _pair(root, nic)
    try:
        ca, cb = a.console(), b.console()
        tcp, tcp_sw, raw = [], [], []
        offers = _fields(ca, "net")["offloads"] != "none"
        for _ in range(REPEAT):
            # Raw frames first, then TCP, back to back in each round.
            r = _fields(ca, f"net perf raw {SECONDS}")
            got = _wait_done(cb, "raw_state")
            raw.append({"mbit_s": float(r["mbit_s"]), "frames": int(r["frames"]),
                        "bytes": int(r["bytes"]),
                        "frames_received": int(got["raw_frames"])})
            for offload in (("on", "off") if offers else ("on",)):
                if offers:
                    assert ca.run(f"net offload {offload}").ok
                    assert cb.run(f"net offload {offload}").ok
                assert cb.run("net perf listen").ok
                s = _fields(ca, f"net perf send 10.0.0.2 {SECONDS}")
                got = _wait_done(cb, "tcp_state")
                (tcp if offload == "on" else tcp_sw).append({
                    "mbit_s": float(s["mbit_s"]), "bytes": int(s["bytes"]),
                    "checksum_matches": got["tcp_checksum"] == s["checksum"]
                    and got["tcp_bytes"] == s["bytes"]})
            if offers:
                assert ca.run("net offload on").ok and cb.run("net offload on").ok
        p = ca.run("ping 10.0.0.2 20 interval=50", timeout=60).fields()
        rtt_avg = int(p["rtt_avg_us"])
        sa, sb = _fields(ca, "net"), _fields(cb, "net")
        tcp_m = statistics.median(x["mbit_s"] for x in tcp)
        sw_m = statistics.median(x["mbit_s"] for x in tcp_sw) if tcp_sw else None
        raw_m = statistics.median(x["mbit_s"] for x in raw)
        return {
            "nic": nic, "seconds": SECONDS, "repeat": REPEAT,
            "tcp": tcp, "raw": raw, "tcp_no_offload": tcp_sw,
            "tcp_no_offload_mbit_s_median": sw_m,
            "offload_vs_none": tcp_m / sw_m if sw_m else None,
            "tcp_mbit_s_median": tcp_m, "raw_mbit_s_median": raw_m,
            "tcp_vs_raw": tcp_m / raw_m if raw_m else 0.0,
            "ping_received": int(p["received"]), "ping_sent": int(p["sent"]),
            "rtt_min_us": int(p["rtt_min_us"]), "rtt_avg_us": rtt_avg,
            "rtt_max_us": int(p["rtt_max_us"]),
            "sender": {k: int(sa[k]) for k in ("tx_frames", "tx_bytes", "rx_frames",
                                               "tx_ring_full", "tx_dropped",
                                               "tx_csum_offloaded")},
            "receiver": {k: int(sb[k]) for k in ("rx_frames", "rx_bytes", "tx_frames",
                                                 "rx_dropped", "rx_errors", "rx_csum_vouched",
                                                 "rx_csum_software", "rx_csum_bad")},
        }
    finally:
        a.kill()
        b.kill()


def bench_net(root):
    return [bench_nic(root, nic) for nic in NICS]


def print_net(runs):
    print(f"== network: two QEMU instances on a socket link, {SECONDS} s per transfer, "
          f"median of {REPEAT} ==")
    print("  nic      tcp Mbit/s  raw Mbit/s  tcp/raw  checksums  raw frames rx/tx     "
          "ping rtt us (min/avg/max)  tx ring full")
    for r in runs:
        ok = all(x["checksum_matches"] for x in r["tcp"])
        rx = sum(x["frames_received"] for x in r["raw"])
        tx = sum(x["frames"] for x in r["raw"])
        print(f"  {r['nic']:<8} {r['tcp_mbit_s_median']:10.1f} {r['raw_mbit_s_median']:11.1f} "
              f"{r['tcp_vs_raw']:8.3f}  {'match' if ok else 'DIFFER':>9}  {rx:>9}/{tx:<9} "
              f"{r['rtt_min_us']:>8}/{r['rtt_avg_us']}/{r['rtt_max_us']}"
              f"{r['sender']['tx_ring_full']:>16}")
    for r in runs:
        if r["tcp_no_offload"]:
            ok = all(x["checksum_matches"] for x in r["tcp_no_offload"])
            print(f"  {r['nic']}: TCP checksums by the NIC {r['tcp_mbit_s_median']:.1f} Mbit/s, "
                  f"by lwIP {r['tcp_no_offload_mbit_s_median']:.1f} Mbit/s: "
                  f"{r['offload_vs_none']:.3f}x (data checksums {'match' if ok else 'DIFFER'})")
    for r in runs:
        s, v = r["sender"], r["receiver"]
        print(f"  {r['nic']}: checksums offloaded by the sender {s['tx_csum_offloaded']}, "
              f"vouched for at the receiver {v['rx_csum_vouched']}, checked in software "
              f"{v['rx_csum_software']}, bad {v['rx_csum_bad']}")
        print(f"  {r['nic']}: sender tx {s['tx_frames']} frames / {s['tx_bytes']} bytes, "
              f"receiver rx {v['rx_frames']} frames / {v['rx_bytes']} bytes, "
              f"rx_dropped {v['rx_dropped']}, rx_errors {v['rx_errors']}")
