"""The 'linuxmig' suite of tools/bench.py: issue 20's realistic workload.
Debian's kernel with the busybox initramfs (tools/fetch-linux.sh) in a
GUEST_MEM VM on A, two QEMU instances on one virtio-net socket link, TLS.

In the guest: a warm page cache (CACHE_MIB of random data written to a
file on the initramfs, whose pages live in the page cache, and every file
of the initramfs read once), then a busybox workload that runs through
the migrations: tar of /lib and busybox through gzip into md5sum, in a
loop that counts its passes in a file.

Measured, all in one run: `net perf` on the link; the trip A→B (B holds
no seed: zero pages and full pages, deltas for pages resent in later
rounds); SETTLE_S later the trip back B→A, once with `signatures=off`
and once with signatures against the seed A kept (two round trips, both
returns measured B→A from the same kind of state). Per trip: total and
downtime (source, and destination with its bound), wire bytes over guest
bytes, the pages by kind, pages per round, CPU ms per MiB sent on each
side (the migration pollers' own time). After each trip the workload must
have gone on (its pass count grows on the new host) and the shell answers.
"""

import os
import re
import time

from bench_net import _pair
from bench_return import _trip

GUEST_MEM_MIB = 256
CACHE_MIB = 64
SETTLE_S = 10
PERF_SECONDS = 3
BOOT_TIMEOUT = 300
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKLOAD = ("n=0; while :; do tar cf - /lib /bin/busybox 2>/dev/null | gzip -1 | md5sum "
            ">/dev/null; n=$((n+1)); echo $n > /tmp/passes; done")


def _lines(con, name, since):
    prefix = f"[vm:{name}] "
    return [l[len(prefix):] for l in con.text()[since:].split("\n") if l.startswith(prefix)]


class _Shell:
    """Commands typed into the guest's serial shell, output framed by
    markers the shell computes (so the typed line's echo never matches)."""

    def __init__(self):
        self.n = 0

    def run(self, con, name, command, timeout=120):
        self.n += 1
        n = self.n
        since = len(con.text())
        assert con.run(f'vm send {name} "echo @@$(({n}*2))@@; {command}; echo @@$(({n}*2+1))@@"').ok
        con.wait_for(rf"\[vm:{name}\] @@{2 * n + 1}@@", timeout, start=since)
        out = _lines(con, name, since)
        return out[out.index(f"@@{2 * n}@@") + 1:out.index(f"@@{2 * n + 1}@@")]


def _boot(con, name):
    kernel_args = "console=ttyS0 quiet"
    r = con.run(f"vm create {name} vmlinuz mem={GUEST_MEM_MIB}M module=initrd.img -- {kernel_args}")
    assert r.ok, r.text()
    since = len(con.text())
    assert con.run(f"vm start {name}").ok
    con.wait_for(rf"\[vm:{name}\] hv-linux: init running", BOOT_TIMEOUT, start=since)
    deadline = time.monotonic() + 60
    while "hv-linux# " not in con.run(f"vm output {name} 3").text():
        assert time.monotonic() < deadline, "no shell prompt"
        time.sleep(0.5)


def _passes(shell, con, name):
    out = shell.run(con, name, "cat /tmp/passes")
    return int(out[-1]) if out and out[-1].isdigit() else 0


def _workload_goes_on(shell, con, name):
    """The loop's pass count grows on this host, and the shell answers."""
    first = _passes(shell, con, name)
    deadline = time.monotonic() + 120
    while _passes(shell, con, name) <= first:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name}: the workload stopped at pass {first}")
        time.sleep(2)
    return first


def _tcp_mbit(ca, cb):
    assert cb.run("net perf listen").ok
    return float(ca.run(f"net perf send 10.0.0.2 {PERF_SECONDS}", timeout=120).fields()["mbit_s"])


def bench_linux_migrate(root):
    d = os.path.join(ROOT, "build", "linux")
    if not os.path.exists(os.path.join(d, ".built")):
        raise RuntimeError("no Linux payload: run 'make build/linux/.built'")
    guests = [os.path.join(d, "vmlinuz"), os.path.join(d, "initrd.img")]
    a, b = _pair(os.path.join(root, "linuxmig"), "virtio", mem="1024M", guests=guests)
    shell = _Shell()
    r = {"guest_mib": GUEST_MEM_MIB, "cache_mib": CACHE_MIB, "settle_s": SETTLE_S}
    try:
        ca, cb = a.console(), b.console()
        assert cb.run("migrate listen from=10.0.0.1").ok
        assert ca.run("migrate listen from=10.0.0.2").ok
        r["tcp_mbit_s"] = _tcp_mbit(ca, cb)
        _boot(ca, "lx")
        shell.run(ca, "lx", f"dd if=/dev/urandom of=/tmp/cache bs=1M count={CACHE_MIB} 2>/dev/null; "
                  "find / -xdev -type f -exec cat {} + >/dev/null 2>&1", timeout=600)
        r["meminfo"] = {k: int(v) for k, v in (
            re.match(r"(\w+):\s+(\d+)", l).groups() for l in shell.run(
                ca, "lx", "grep -e MemFree -e '^Cached' -e AnonPages /proc/meminfo"))}
        assert ca.run(f'vm send lx "{WORKLOAD} &"').ok
        time.sleep(5)
        r["passes_before"] = _passes(shell, ca, "lx")
        # Trip out: every page is new to B.
        r["out"] = _trip(ca, cb, "lx", "10.0.0.2", "off")
        r["passes_on_b"] = _workload_goes_on(shell, cb, "lx")
        for sigs in ("off", "on"):
            time.sleep(SETTLE_S)
            r[f"back_{sigs}"] = _trip(cb, ca, "lx", "10.0.0.1", sigs)
            r[f"passes_back_{sigs}"] = _workload_goes_on(shell, ca, "lx")
            if sigs == "off":
                _trip(ca, cb, "lx", "10.0.0.2", "off")
                _workload_goes_on(shell, cb, "lx")
        for k in ("out", "back_off", "back_on"):
            t = r[k]
            t["wire_per_guest"] = t["bytes"] / (GUEST_MEM_MIB << 20)
            t["mbit_s"] = t["bytes"] * 8 / (t["total_ms"] / 1000) / 1e6 if t["total_ms"] else 0.0
            t["vs_net_perf"] = t["mbit_s"] / r["tcp_mbit_s"]
        r["tcp_mbit_s_after"] = _tcp_mbit(ca, cb)
    finally:
        a.kill()
        b.kill()
    return r


def print_linux_migrate(r):
    print(f"== Linux {r['guest_mib']} MiB, {r['cache_mib']} MiB page cache, busybox workload "
          f"(net perf {r['tcp_mbit_s']:.1f} Mbit/s, after {r['tcp_mbit_s_after']:.1f}) ==")
    print(f"  meminfo kB: {r['meminfo']}")
    print("  trip        total ms  downtime src/dst+bound  wire/guest  Mbit/s  vs perf  "
          "zero  signed  missed  delta  full  cpu ms src/dst  per guest MiB  rounds")
    for k in ("out", "back_off", "back_on"):
        t = r[k]
        print(f"  {k:<10} {t['total_ms']:>9} {t['downtime_ms']:>8} / {t['dst_downtime_ms']}+"
              f"{t['dst_downtime_error_ms']:<8} {t['wire_per_guest']:>10.3f} {t['mbit_s']:>7.1f} "
              f"{t['vs_net_perf']:>7.3f} {t['zero_pages']:>6} {t['sig_pages']:>6} {t['sig_misses']:>6} "
              f"{t['delta_pages']:>6} {t['full_pages']:>6} {t['src_cpu_ms']:>6} / {t['dst_cpu_ms']:<6} "
              f"{t['src_cpu_ms'] / r['guest_mib']:>5.1f} / {t['dst_cpu_ms'] / r['guest_mib']:<5.1f}  "
              f"{' '.join(map(str, t['pages_per_round']))}")
    print(f"  workload passes: before {r['passes_before']}, on B {r['passes_on_b']}, "
          f"back {r['passes_back_off']}, back with signatures {r['passes_back_on']}")
