"""Crash safety of the datastore with the real hypervisor: QEMU is killed
(SIGKILL) at random moments while a guest rewrites its disk in rounds,
flushing after each and printing "acked round=R" once the flush completed.
After every kill the image must pass the host tool's check, open cleanly
in the next boot, and hold for every sector a complete write of a round
no older than the last acknowledged one. The unit tests
(tests/unit/test_store_crash*.c) do the same against a simulated device
that also drops and tears unflushed writes."""

import os
import random
import re
import struct
import subprocess
import time

from conftest import ROOT

HVDISK = os.path.join(ROOT, "build", "hvdisk")
KILLS = 20
BLOCKS = 48          # 4 KiB blocks the guest rewrites per round
M = (1 << 64) - 1


def hvdisk(*args, rc=0):
    r = subprocess.run([HVDISK] + [str(a) for a in args], capture_output=True, text=True)
    assert r.returncode == rc, f"hvdisk {args}: rc {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r.stdout


def mix(a, b, i):
    """tests/guests/blktest.c's word generator."""
    x = (a * 0x9E3779B97F4A7C15 + b * 0xBF58476D1CE4E5B9 + i * 0x94D049BB133111EB + 1) & M
    x ^= x >> 31
    x = (x * 0xD6E8FEB86659FD93) & M
    x ^= x >> 29
    return x


def sector_round(raw, s):
    """The round that wrote sector s (0 = never written), after checking
    the sector is one whole write of that round."""
    words = struct.unpack_from("<64Q", raw, s * 512)
    if not any(words):
        return 0
    r = words[0]
    assert words[1] == s, f"sector {s} holds sector {words[1]}'s data"
    want = [mix(r, s, i) for i in range(2, 64)]
    assert list(words[2:]) == want, f"sector {s}: torn or foreign data (round {r})"
    return r


def check_disk(img, tmp_path, acked):
    out = tmp_path / "export.raw"
    if out.exists():
        out.unlink()
    hvdisk("export", img, "w", out)
    raw = out.read_bytes()
    rounds = [sector_round(raw, s) for s in range(BLOCKS * 8)]
    stale = [s for s, r in enumerate(rounds) if r < acked]
    assert not stale, f"acknowledged round {acked} lost in sectors {stale[:8]}..."
    return min(rounds), max(rounds)


def test_killing_qemu_during_guest_writes_loses_nothing_acknowledged(boot, tmp_path):
    img = tmp_path / "ds.img"
    hvdisk("create", img, "64M")
    rnd = random.Random(int(os.environ.get("CRASH_SEED", "1")))
    acked = 0
    replays = pending = 0
    for kill in range(KILLS):
        hv = boot(disk=str(img))
        con = hv.console()
        ds = con.command("ds").fields()
        assert ds["state"] == "ok", f"kill {kill}: the store opened {ds}"
        replays += int(ds["replayed"])
        # A new disk each time (the last one's blocks freed and reused), so
        # a sector this boot's rounds did not reach reads as never written.
        if kill:
            assert con.command("disk delete w").ok
        assert con.command("disk create w 4M").ok
        since = len(con.text())
        assert con.command(f"vm create w blktest mem=16M disk=w -- mode=rounds "
                           f"blocks={BLOCKS}").ok
        assert con.command("vm start w").ok
        # Kill after a random number of acknowledged rounds plus a random
        # part of the next one: anywhere in writes, flush or commit.
        want = rnd.randint(1, 3)
        con.wait_for(rf"\[vm:w\] blktest: acked round={want}\b", 120, start=since)
        time.sleep(rnd.uniform(0, 0.4))
        hv.kill()
        seen = [int(x) for x in re.findall(r"\[vm:w\] blktest: acked round=(\d+)",
                                           hv.read_console_log())]
        acked = max(seen)
        # A committed transaction still to replay is information, not damage.
        out = subprocess.run([HVDISK, "check", str(img)], capture_output=True, text=True)
        assert out.returncode == 0 and out.stdout.endswith("check: 0 problems\n"), \
            f"kill {kill}: check says {out.stdout}{out.stderr}"
        pending += sum(l.startswith("info: journal") for l in out.stdout.splitlines())
        check_disk(img, tmp_path, acked)
    print(f"{KILLS} kills: {pending} left a transaction to replay, {replays} replays at open")
