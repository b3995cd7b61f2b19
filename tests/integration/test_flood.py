"""A hostile network: a third party on the link floods the migration port
and the `net perf` listener with SYNs from many spoofed addresses while a
real peer migrates a VM in. The migration listener drops segments from
non-peers before lwIP spends a PCB on them (net/syn_filter.c); the perf
listener, open to all, fills lwIP's fixed PCB pool (lwipopts.h) and no
more: no pages are taken from guests, the migration completes, guests run
on, and memory returns afterwards."""

import os
import random
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))

from guests import counter_values, create_and_start, vm_info, wait_state  # noqa: E402
from netpair import MAC_A, MAC_B, RX_SETTLE_S  # noqa: E402
from test_net import csum  # noqa: E402

A_IP, B_IP = "10.0.0.1", "10.0.0.2"
MIG_PORT = 7007
PERF_PORT = 5201


class Hub:
    """Two instances' socket links joined in Python (QEMU's -netdev socket
    framing: a 4-byte big-endian length, then the frame), with a way to
    put extra frames on A's side: the third party."""

    def __init__(self):
        self.servers = []
        for _ in range(2):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            self.servers.append(s)
        self.ports = [s.getsockname()[1] for s in self.servers]
        self.conns = [None, None]
        self.locks = [threading.Lock(), threading.Lock()]
        self.stop = False

    def accept(self, i, timeout=60):
        self.servers[i].settimeout(timeout)
        self.conns[i], _ = self.servers[i].accept()

    def send(self, i, frame):
        with self.locks[i]:
            self.conns[i].sendall(struct.pack("!I", len(frame)) + frame)

    def _forward(self, src, dst):
        buf = b""
        conn = self.conns[src]
        conn.settimeout(0.5)
        while not self.stop:
            try:
                chunk = conn.recv(1 << 16)
            except socket.timeout:
                continue
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            while len(buf) >= 4:
                n = struct.unpack("!I", buf[:4])[0]
                if len(buf) < 4 + n:
                    break
                frame, buf = buf[4:4 + n], buf[4 + n:]
                try:
                    self.send(dst, frame)
                except OSError:
                    return

    def start(self):
        for src, dst in ((0, 1), (1, 0)):
            threading.Thread(target=self._forward, args=(src, dst), daemon=True).start()

    def close(self):
        self.stop = True
        for s in self.conns + self.servers:
            if s:
                s.close()


def syn_frame(rng, dst_mac, dst_ip, dport):
    # Off-link sources (198.18.0.0/15): answers to them go nowhere (no
    # gateway), so each SYN holds a PCB until it times out. On-link ones
    # would attack the ARP table instead (see docs/security.md).
    src_ip = bytes([198, 18 + rng.randrange(2), rng.randrange(256), rng.randrange(1, 255)])
    src_mac = bytes([2, rng.randrange(256), rng.randrange(256), rng.randrange(256),
                     rng.randrange(256), rng.randrange(256)])
    tcp = struct.pack("!HHIIBBHHH", rng.randrange(1024, 65535), dport, rng.getrandbits(32), 0,
                      0x60, 0x02, 8192, 0, 0) + struct.pack("!BBH", 2, 4, 1460)  # MSS
    pseudo = src_ip + dst_ip + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), rng.randrange(65536), 0, 64, 6, 0,
                     src_ip, dst_ip)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return dst_mac + src_mac + b"\x08\x00" + ip + tcp


def flood(hub, seconds, rate, counter):
    rng = random.Random(20261201)
    dst_mac = bytes.fromhex(MAC_A.replace(":", ""))
    dst_ip = socket.inet_aton(A_IP)
    end = time.monotonic() + seconds
    while time.monotonic() < end and not hub.stop:
        t = time.monotonic()
        for i in range(rate // 20):
            hub.send(0, syn_frame(rng, dst_mac, dst_ip, MIG_PORT if i % 2 else PERF_PORT))
            counter[0] += 1
        time.sleep(max(0.0, 0.05 - (time.monotonic() - t)))


def free_pages(con):
    """Free pages and the heap's: what the heap holds follows its
    fragmentation and spare-page cache, not what the flood kept."""
    mem = con.run("mem")
    return mem.number("free") + mem.number("heap")


def net_mem(con):
    f = con.run("net mem").fields()
    pools = {k[len("pool."):]: v for k, v in f.items() if k.startswith("pool.")}
    return f, pools


def pool_used(pools, name):
    used, size = pools[name].split()[0].split("/")
    return int(used), int(size)


def test_a_syn_flood_leaves_migration_guests_and_memory_alone(boot):
    hub = Hub()
    try:
        a = boot(wait=False, net=f"connect:{hub.ports[0]}", mac=MAC_A,
                 config=f"ip={A_IP}/24\n")
        hub.accept(0)
        b = boot(wait=False, net=f"connect:{hub.ports[1]}", mac=MAC_B,
                 config=f"ip={B_IP}/24\n")
        hub.accept(1)
        hub.start()
        a.wait_prompt(120)
        b.wait_prompt(120)
        time.sleep(RX_SETTLE_S)
        ca, cb = a.console(), b.console()
        assert ca.run(f"migrate listen from={B_IP}").ok
        assert ca.run("net perf listen").ok
        create_and_start(ca, "local", "counter", "mem=4M", "interval=50")
        create_and_start(cb, "m", "counter", "mem=8M", "interval=50")
        time.sleep(1)
        base_free = free_pages(ca)
        base_heap = int(net_mem(ca)[0]["heap_bytes"])

        sent = [0]
        flooder = threading.Thread(target=flood, args=(hub, 25, 2000, sent), daemon=True)
        flooder.start()
        time.sleep(5)  # the flood is on
        low_free = free_pages(ca)
        start = len(ca.text())
        r = cb.command(f"migrate send m {A_IP}", timeout=120)
        assert r.ok, r.text()
        deadline = time.monotonic() + 90
        while True:
            st = cb.run("migrate status").fields()
            if st.get("phase") in ("done", "failed"):
                break
            assert time.monotonic() < deadline, st
            time.sleep(0.5)
        assert st["phase"] == "done", st
        assert wait_state(ca, "m", "running")["state"] == "running"
        f, pools = net_mem(ca)
        used, size = pool_used(pools, "TCP_PCB")
        # The migration port's half of the flood never got a PCB; the perf
        # listener's half filled the pool up to what is kept for peers.
        assert size == 16 and 4 <= used <= 12, pools["TCP_PCB"]
        assert int(f["syn_filtered"]) > 10000, f
        assert int(f["heap_bytes"]) <= base_heap + 4 * 1024 * 1024, (f, base_heap)
        low_free = min(low_free, free_pages(ca))
        flooder.join()
        assert sent[0] > 20000, sent

        # The flood was met at the pool, not with pages.
        m_pages = 8 * 256  # the arrived VM's RAM
        assert base_free - low_free <= m_pages + 512, (base_free, low_free)
        # The local guest kept counting throughout, the migrated one runs.
        vals = counter_values(ca, "local", start)
        assert len(vals) >= 20 and vals == list(range(vals[0], vals[0] + len(vals)))
        assert vm_info(ca, "local")["state"] == "running"

        # Afterwards: half-open connections time out (lwIP: 20 s) and
        # memory returns.
        time.sleep(22)
        f, pools = net_mem(ca)
        assert pool_used(pools, "TCP_PCB")[0] <= 2, pools["TCP_PCB"]
        assert int(f["heap_bytes"]) <= base_heap + 64 * 1024, (f, base_heap)
        assert ca.run("vm destroy m").ok
        time.sleep(0.5)
        assert abs(free_pages(ca) - base_free) <= 64, (free_pages(ca), base_free)
    finally:
        hub.close()
