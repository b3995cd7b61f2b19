"""A man in the middle of the migration channel: a relay on the path
between two instances, which forwards TCP between them and records, replays
or splices the TLS records the source sends.

Each instance has user-mode networking: the source migrates to the relay
at the host (10.0.2.2), the relay connects on to the destination's
migration port (forwarded from the host). The destination admits the
relay's address, so only TLS stands between the relay and the VM:
- passed through unchanged, the migration works (the relay is transparent);
- a recorded session replayed on a new connection is refused at the
  handshake, and no VM appears;
- a record from the earlier session spliced into a live one fails
  authentication: the destination drops the half-received VM, the source's
  VM runs on, and a retry works."""

import os
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import hvlaunch  # noqa: E402
from hvconsole import footprint_settles_at, memory_footprint  # noqa: E402
from test_migrate import migrate, vm_state  # noqa: E402

MIG_PORT = 7007
RELAY_ADDR = "10.0.2.2"  # the host, as user-mode networking shows it
TLS_APPLICATION_DATA = 23


def split_records(buf):
    """Whole TLS records at the start of buf, and the rest."""
    records = []
    while len(buf) >= 5:
        length = struct.unpack("!H", buf[3:5])[0]
        if len(buf) < 5 + length:
            break
        records.append(bytes(buf[:5 + length]))
        buf = buf[5 + length:]
    return records, buf


class Relay:
    """Accepts one connection at a time on a host port and relays it to
    the destination, keeping the records the source sent (in order)."""

    def __init__(self, dst_port):
        self.dst_port = dst_port
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(1)
        self.port = self.server.getsockname()[1]
        self.sessions = []  # per connection: the source's records

    def relay_once(self, splice=None, timeout=120):
        """Relays the next connection in a thread. splice=(index, record):
        the source's index-th application-data record is replaced."""
        records = []
        self.sessions.append(records)
        t = threading.Thread(target=self._relay, args=(records, splice, timeout), daemon=True)
        t.start()
        return t

    def _relay(self, records, splice, timeout):
        self.server.settimeout(timeout)
        src, _ = self.server.accept()
        dst = socket.create_connection(("127.0.0.1", self.dst_port), timeout=timeout)
        done = threading.Event()

        def finish():  # either direction ending ends both
            done.set()
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        def back():  # destination -> source, unchanged
            try:
                while not done.is_set():
                    data = dst.recv(65536)
                    if not data:
                        break
                    src.sendall(data)
            except OSError:
                pass
            finish()

        threading.Thread(target=back, daemon=True).start()
        buf, app_index = b"", 0
        try:
            while not done.is_set():
                data = src.recv(65536)
                if not data:
                    break
                whole, buf = split_records(buf + data)
                out = []
                for rec in whole:
                    records.append(rec)
                    if rec[0] == TLS_APPLICATION_DATA:
                        if splice and app_index == splice[0]:
                            rec = splice[1]
                        app_index += 1
                    out.append(rec)
                dst.sendall(b"".join(out))
        except OSError:
            pass
        finish()
        src.close()
        dst.close()

    def replay(self, records, timeout=30):
        """Sends recorded records on a fresh connection to the destination;
        returns what came back before it closed."""
        got = b""
        with socket.create_connection(("127.0.0.1", self.dst_port), timeout=timeout) as s:
            try:
                s.sendall(b"".join(records))
                while True:
                    data = s.recv(65536)
                    if not data:
                        break
                    got += data
            except OSError:
                pass
        return got


def start_pair(boot):
    dst_port = hvlaunch.free_port()
    a = boot(wait=False, net="user", config="ip=10.0.2.15/24\n")
    b = boot(wait=False, net=f"user+fwd:{dst_port}:{MIG_PORT}", config="ip=10.0.2.15/24\n")
    ca, cb = a.console(), b.console()
    a.wait_prompt(120)
    b.wait_prompt(120)
    assert cb.run(f"migrate listen from={RELAY_ADDR}").ok
    return ca, cb, Relay(dst_port)


def wait_incoming_end(cb, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        f = cb.run("migrate status").fields()
        if f.get("incoming_phase") in ("failed", "done", "idle"):
            return f
        assert time.monotonic() < deadline, f"the incoming migration did not end: {f}"
        time.sleep(0.5)


def test_replayed_and_spliced_sessions_are_refused(boot):
    ca, cb, relay = start_pair(boot)
    for name in ("c1", "c2"):
        assert ca.run(f"vm create {name} counter mem=16M interval=20").ok
        assert ca.run(f"vm start {name}").ok

    # 1. Through the relay, untouched: it is only a path.
    t = relay.relay_once()
    st = migrate(ca, "c1", f"{RELAY_ADDR}:{relay.port}", timeout=180)
    t.join(30)
    assert st["phase"] == "done", st
    assert vm_state(cb, "c1") in ("running", "halted")
    session = relay.sessions[0]
    app = [r for r in session if r[0] == TLS_APPLICATION_DATA]
    assert len(app) > 50, f"only {len(app)} application records recorded"

    # 2. The whole recorded session again, on a new connection.
    before = memory_footprint(cb)
    answer = relay.replay(session)
    f = wait_incoming_end(cb)
    assert f["incoming_phase"] == "failed", f
    assert "different key or a replay" in f["incoming_reason"], f
    assert answer[:1] in (b"\x15", b"\x16"), f"no alert or handshake answer: {answer[:16]!r}"
    assert [l.split()[0] for l in cb.run("vm list").lines[1:]] == ["c1"], "the replay made a VM"
    assert not footprint_settles_at(cb, before), "the replay left memory behind"

    # 3. A live migration of c2 with one of session 1's records in the middle.
    t = relay.relay_once(splice=(40, app[40]))
    st = migrate(ca, "c2", f"{RELAY_ADDR}:{relay.port}", timeout=180)
    t.join(30)
    assert st["phase"] == "failed", st
    f = wait_incoming_end(cb)
    assert f["incoming_phase"] == "failed", f
    assert "MAC" in f.get("incoming_reason", "") or "authentic" in f.get("incoming_reason", ""), f
    assert vm_state(ca, "c2") in ("running", "halted"), "the source lost the VM"
    assert vm_state(cb, "c2") is None, "the destination kept a spliced VM"

    # 4. The retry, untouched, works.
    t = relay.relay_once()
    st = migrate(ca, "c2", f"{RELAY_ADDR}:{relay.port}", timeout=180)
    t.join(30)
    assert st["phase"] == "done", st
    assert vm_state(cb, "c2") in ("running", "halted")
