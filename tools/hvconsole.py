"""Client side of the hypervisor's serial console protocol.

The shell answers every command with its output and then exactly one status
line, ``ok`` or ``error: <reason>``, followed by the prompt ``hv> ``. Output
that arrives on its own (log messages, guest output) may appear at any time;
the shell erases and redraws its prompt around it with ANSI sequences, which
this module strips.
"""

import os
import re
import select
import socket
import threading
import time

PROMPT = "hv> "
ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class ConsoleError(Exception):
    """The console did not answer as the protocol says."""


class CommandResult:
    def __init__(self, command, lines, status_line):
        self.command = command
        self.raw_lines = lines
        self.status_line = status_line
        self.ok = status_line == "ok"
        self.error = status_line[len("error: "):] if status_line.startswith("error: ") else None
        # The shell runs one thing at a time: asynchronous output (log
        # messages, guest output) never lands between a command's echo and
        # its status line, so these are the command's own lines.
        self.lines = lines

    def fields(self):
        """Parses 'key: value' lines into a dict (first word of the value)."""
        out = {}
        for line in self.lines:
            if ": " in line:
                key, value = line.split(": ", 1)
                out[key.strip()] = value.strip()
        return out

    def number(self, key):
        return int(self.fields()[key].split()[0], 0)

    def text(self):
        return "\n".join(self.lines)

    def __repr__(self):
        return f"CommandResult({self.command!r}, ok={self.ok}, error={self.error!r}, lines={self.lines!r})"


def clean(text):
    """Removes ANSI sequences and resolves bare carriage returns per line."""
    text = ANSI_RE.sub("", text)
    out = []
    for line in text.split("\n"):
        line = line.rstrip("\r")
        if "\r" in line:
            line = line.split("\r")[-1]
        out.append(line)
    return "\n".join(out)


class Console:
    """A connection to an instance's serial console (Unix or TCP socket)."""

    def __init__(self, path, connect_timeout=30.0):
        self.path = path
        self.sock = None
        self.raw = bytearray()
        self.lock = threading.Condition()
        self.closed = False
        self.reading = threading.Event()  # cleared: the reader stops reading
        self.reading.set()
        deadline = time.monotonic() + connect_timeout
        while True:
            try:
                # A path is a Unix socket (QEMU); (host, port) is TCP (Bochs).
                family = socket.AF_INET if isinstance(path, tuple) else socket.AF_UNIX
                s = socket.socket(family, socket.SOCK_STREAM)
                s.connect(path)
                self.sock = s
                break
            except OSError:
                s.close()
                if time.monotonic() > deadline:
                    raise ConsoleError(f"cannot connect to console socket {path}")
                time.sleep(0.05)
        self.reader = threading.Thread(target=self._read_loop, daemon=True)
        self.reader.start()
        self.cursor = 0  # position in the cleaned text already consumed

    def _read_loop(self):
        while True:
            self.reading.wait()
            try:
                data = self.sock.recv(65536)
            except OSError:
                data = b""
            with self.lock:
                if not data:
                    self.closed = True
                    self.lock.notify_all()
                    return
                self.raw += data
                self.lock.notify_all()

    def pause_reading(self):
        """Stops reading the socket (a busy or stuck client): what the
        instance sends piles up in the socket until it pushes back."""
        self.reading.clear()

    def resume_reading(self):
        self.reading.set()

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def text(self):
        with self.lock:
            return clean(self.raw.decode("latin-1"))

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        # Pace large writes a little: the UART is polled, and QEMU applies
        # back-pressure, but a huge burst should not starve the reader.
        view = memoryview(data)
        while view:
            _, w, _ = select.select([], [self.sock], [], 10)
            if not w:
                raise ConsoleError("console socket not writable")
            n = self.sock.send(view[:4096])
            view = view[n:]

    def wait_for(self, pattern, timeout=30.0, start=None):
        """Waits until regex 'pattern' matches the cleaned output after
        'start' (default: the consumed cursor). Returns the match."""
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        begin = self.cursor if start is None else start
        with self.lock:
            while True:
                text = clean(self.raw.decode("latin-1"))
                m = rx.search(text, begin)
                if m:
                    return m
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.closed:
                    tail = text[-2000:]
                    why = "closed" if self.closed else "timed out"
                    raise ConsoleError(f"{why} waiting for {pattern!r}; output tail:\n{tail}")
                self.lock.wait(min(remaining, 0.5))

    def wait_prompt(self, timeout=60.0):
        m = self.wait_for(r"^hv> ", timeout)
        self.cursor = m.end()
        return m

    def send_command(self, cmd):
        """Types a command without waiting; returns where its reply starts
        (for reply()). Useful while reading is paused."""
        with self.lock:
            start = len(clean(self.raw.decode("latin-1")))
        self.send(cmd + "\r")
        return start

    def wait_echo(self, cmd, start, timeout=60.0):
        """The echo of 'cmd' (typed when the output was 'start' long) up to
        its end of line, which the shell writes as it starts the command."""
        return self.wait_for(r"^hv> " + re.escape(cmd) + r"[ \t]*\n", timeout,
                             start=max(start - 4, 0))

    def reply(self, cmd, start, timeout=60.0):
        """The CommandResult of 'cmd', typed when the output was 'start' long."""
        # Skip the echo of our own line, then collect up to the status line.
        echo = self.wait_echo(cmd, start, timeout)
        status = self.wait_for(r"^(ok|error: .*)\n", timeout, start=echo.end())
        body = self.text()[echo.end():status.start()]
        lines = [l for l in body.split("\n") if l.strip() != ""]
        prompt = self.wait_for(r"^hv> ", timeout, start=status.end())
        self.cursor = prompt.end()
        return CommandResult(cmd, lines, status.group(1))

    def command(self, cmd, timeout=60.0):
        """Runs one command and returns its CommandResult."""
        return self.reply(cmd, self.send_command(cmd), timeout)

    def run(self, cmd, timeout=60.0):
        """Like command() but raises unless the status is ok."""
        res = self.command(cmd, timeout)
        if not res.ok:
            raise ConsoleError(f"{cmd!r} failed: {res.error}")
        return res


def parse_memmap(lines):
    """The lines of the `memmap` command (a header, then
    `0xSTART-0xEND PAGES FIRMWARE-TYPE KIND ATTRIBUTES`) as dicts."""
    regions = []
    for line in lines[1:]:
        span, pages, fw_type, kind, _attr = line.split()
        start, end = (int(x, 16) for x in span.split("-"))
        regions.append(dict(start=start, end=end, pages=int(pages), fw_type=fw_type, kind=kind))
    return regions


def largest_free_region(con):
    """(start, end) of the largest region `memmap` reports as free."""
    free = [r for r in parse_memmap(con.run("memmap").lines) if r["kind"] == "free"]
    if not free:
        raise ConsoleError("memmap shows no free region")
    best = max(free, key=lambda r: r["end"] - r["start"])
    return best["start"], best["end"]


def connect(path, timeout=30.0):
    return Console(path, timeout)


def socket_exists(path):
    return os.path.exists(path)


def memory_footprint(con):
    """What a leak changes: pages taken outside the object heap (free plus
    heap pages is constant while nothing else allocates: the heap keeps a
    page while any object on it lives, so its page count follows
    fragmentation) and the heap's live objects."""
    mem = con.run("mem")
    return {"pages_outside_heap": mem.number("used") - mem.number("heap"),
            "heap_objects": mem.number("heap_objects")}


def footprint_settles_at(con, expected, timeout=15.0):
    """Whether the footprint comes back to at most 'expected' (a connection
    just closed holds its buffers until TCP's closing handshake ends, and
    one that closed before 'expected' was read may have held some then).
    Returns the keys that stay above, empty when none do."""
    deadline = time.monotonic() + timeout
    while True:
        now = memory_footprint(con)
        above = {k: (expected[k], v) for k, v in now.items() if v > expected[k]}
        if not above or time.monotonic() > deadline:
            return above
        time.sleep(0.5)
