"""The 'mce' suite of tools/bench.py: machine checks, measured side by side
in one run.

- Error to retirement: an uncorrected memory error at a free page raised
  by QEMU's monitor (`mce`: the hypervisor's #MC handler reads and clears
  the banks, the main loop retires the page and saves the list to NVRAM)
  against the same retirement asked for from the console (`mce inject`,
  no exception). Both report the hypervisor's own clock from the error
  (or command) to the page being retired, and the share of that spent in
  the firmware's SetVariable (`nvram_last_save_us`), at list lengths of 1
  to ERRORS pages.
- Machine-check-safe copy: `bench copy` times page copies with memcpy and
  with copy_mc_safe (what migration reads guest pages with), alternated.
- Migration's extra cost per poisoned page: two idle memtouch guests of
  the same size with the same pages written, one of them with POISONED pages
  poisoned, both migrated to a second instance one after the other on the
  same link; difference in wire bytes and time, divided by POISONED.
"""

import os
import statistics
import time

import hvlaunch
from hvconsole import largest_free_region
from bench_migrate import _fill, _migrate
from bench_net import _pair

ERRORS = 8
COPY_PAGES = 20000
GUEST_MIB = 64
GUEST_PAGES = 8192
POISONED = 256
REPEAT = 3
UC_STATUS = "0xbd000000000000c0"  # VAL UC EN MISCV ADDRV S, as in tests/integration/test_mce.py
MCG_RIPV = "0x7"


def _wait_uncorrected(con, count, timeout=30):
    deadline = time.time() + timeout
    while True:
        f = con.run("mce").fields()
        if int(f["uncorrected"]) >= count:
            return f
        if time.time() > deadline:
            raise RuntimeError(f"the machine check was not handled: {f}")
        time.sleep(0.1)


def _retirement(root):
    """Alternates hardware-raised and console-asked retirements of free
    pages, so both see the same list lengths and emulator speed."""
    hw, sw = [], []
    vars_file = os.path.join(root, "mce-vars.fd")
    if os.path.exists(vars_file):
        os.unlink(vars_file)  # a fresh variable store: no page retired yet
    with hvlaunch.Instance(workdir=os.path.join(root, "mce"),
                           vars_file=vars_file) as inst:
        inst.wait_prompt(120)
        con = inst.console()
        start, _ = largest_free_region(con)
        page = (start + (64 << 20)) & ~0xfff
        for i in range(ERRORS):
            inst.monitor(f"mce 0 9 {UC_STATUS} {MCG_RIPV} 0x{page:x} 0x8c")
            # The monitor returns before the vCPU takes the #MC; a console
            # command running then would delay the main loop's action.
            time.sleep(0.3)
            f = _wait_uncorrected(con, i + 1)
            if f["last"] != f"bank 9: free page 0x{page:x} retired":
                raise RuntimeError(f"unexpected handling: {f['last']}")
            hw.append({"error_to_retired_us": int(f["last_error_to_action_us"]),
                       "nvram_save_us": int(f["nvram_last_save_us"]),
                       "list_length": int(f["retired_pages"])})
            page += 0x10000
            r = con.run(f"mce inject 0x{page:x}").fields()
            if r["owner"] != "free":
                raise RuntimeError(f"unexpected owner: {r}")
            sw.append({"error_to_retired_us": int(r["handling_us"]),
                       "nvram_save_us": int(r["nvram_save_us"]),
                       "list_length": int(con.run("mce").fields()["retired_pages"])})
            page += 0x10000
        copy = con.run(f"bench copy {COPY_PAGES}", timeout=300).fields()
        exceptions = int(con.run("mce").fields()["exceptions"])
    return hw, sw, copy, exceptions


def _poisoned_migration(root):
    a, b = _pair(os.path.join(root, "mce-migrate"), "virtio")
    runs = []
    try:
        ca, cb = a.console(), b.console()
        assert cb.run("migrate listen from=10.0.0.1").ok
        for poisoned in (0, POISONED) * REPEAT:
            name = f"p{poisoned}x{len(runs)}"
            assert ca.run(f"vm create {name} memtouch mem={GUEST_MIB}M pages={GUEST_PAGES} "
                          "idle report=0").ok
            assert ca.run(f"vm start {name}").ok
            base = _fill_and_find_base(ca, name)
            step = GUEST_PAGES // POISONED
            for k in range(poisoned):
                r = ca.run(f"mce inject {name}:0x{base + k * step * 4096:x}").fields()
                if r["owner"] != "guest":
                    raise RuntimeError(f"unexpected owner: {r}")
            assert ca.run(f"vm pause {name}").ok
            st = _migrate(ca, name, "10.0.0.2")
            if st["phase"] != "done" or int(st["poison_pages"]) != poisoned:
                raise RuntimeError(f"{name}: {st}")
            got = cb.run(f"vm info {name}").fields()["poisoned_pages"]
            if int(got) != poisoned:
                raise RuntimeError(f"{name}: {got} poisoned on the destination")
            runs.append({"poisoned": poisoned, "total_ms": int(st["total_ms"]),
                         "downtime_ms": int(st["downtime_ms"]), "bytes": int(st["bytes"]),
                         "pages_sent": int(st["pages_sent"]),
                         "zero_pages": int(st["zero_pages"])})
            assert cb.run(f"vm destroy {name}").ok
    finally:
        a.kill()
        b.kill()
    return runs


def _fill_and_find_base(con, name):
    start = len(con.text())
    assert con.run(f"vm send {name} s").ok
    m = con.wait_for(rf"\[vm:{name}\] memtouch: written .* base (0x[0-9a-f]+) ", 30, start=start)
    _fill(con, name)
    return int(m.group(1), 16)


def bench_mce(root):
    hw, sw, copy, exceptions = _retirement(root)
    mig = _poisoned_migration(root)
    med = lambda rows, k: statistics.median(r[k] for r in rows)  # noqa: E731
    clean = [r for r in mig if r["poisoned"] == 0]
    bad = [r for r in mig if r["poisoned"] == POISONED]
    return {
        "retire_hardware": hw, "retire_console": sw, "machine_check_exceptions": exceptions,
        "hardware_over_console": med(hw, "error_to_retired_us") / max(1, med(sw, "error_to_retired_us")),
        "nvram_share": med(hw + sw, "nvram_save_us") / max(1, med(hw + sw, "error_to_retired_us")),
        "copy": {k: int(v) for k, v in copy.items()},
        "copy_mc_safe_over_memcpy": int(copy["copy_mc_safe_tsc"]) / int(copy["memcpy_tsc"]),
        "migration": mig,
        "bytes_per_poisoned_page": (med(bad, "bytes") - med(clean, "bytes")) / POISONED,
        "ms_per_poisoned_page": (med(bad, "total_ms") - med(clean, "total_ms")) / POISONED,
        "bytes_ratio": med(bad, "bytes") / med(clean, "bytes"),
        "time_ratio": med(bad, "total_ms") / med(clean, "total_ms"),
    }


def print_mce(r):
    print("== machine checks (QEMU TCG) ==")
    print(f"  error to page retired (hypervisor clock), {ERRORS} free pages each way, "
          "alternated:")
    print("    path                           median us  min us  max us  NVRAM save us  rest us "
          "(medians)")
    for label, rows in (("QEMU #MC -> handler -> retire", r["retire_hardware"]),
                        ("console mce inject -> retire", r["retire_console"])):
        t = [x["error_to_retired_us"] for x in rows]
        s = [x["nvram_save_us"] for x in rows]
        rest = [x["error_to_retired_us"] - x["nvram_save_us"] for x in rows]
        print(f"    {label:<30} {statistics.median(t):>9.0f} {min(t):>7} {max(t):>7}  "
              f"{statistics.median(s):>13.0f} {statistics.median(rest):>8.0f}")
    print(f"    hardware/console = {r['hardware_over_console']:.2f}; NVRAM save share of "
          f"retirement = {r['nvram_share']:.2f}; #MC exceptions taken: "
          f"{r['machine_check_exceptions']}; list length "
          f"{r['retire_hardware'][0]['list_length']}..{r['retire_console'][-1]['list_length']}")
    c = r["copy"]
    print(f"  page copy, {c['pages']} pages: copy_mc_safe/memcpy = "
          f"{r['copy_mc_safe_over_memcpy']:.3f} ({c['copy_mc_safe_tsc']} vs {c['memcpy_tsc']} "
          "TSC ticks)")
    print(f"  migration of a {GUEST_MIB} MiB guest ({GUEST_PAGES} pages written), 0 vs "
          f"{POISONED} poisoned pages, alternated, medians of {REPEAT}:")
    print("    poisoned  total ms  downtime ms       bytes  pages sent  zero pages")
    for m in r["migration"]:
        print(f"    {m['poisoned']:>8} {m['total_ms']:>9} {m['downtime_ms']:>12} "
              f"{m['bytes']:>11} {m['pages_sent']:>11} {m['zero_pages']:>11}")
    print(f"    per poisoned page: {r['bytes_per_poisoned_page']:+.0f} bytes on the wire, "
          f"{r['ms_per_poisoned_page']:+.3f} ms; bytes ratio {r['bytes_ratio']:.3f}, "
          f"time ratio {r['time_ratio']:.3f}")
