"""What a hypervisor instance under an emulator is, whichever emulator.

tools/hvlaunch.py (QEMU, the AMD SVM target) and tools/hvbochs.py (Bochs, the
Intel VMX target) subclass ``EmulatorInstance``; it holds what they share:
the instance directory, the private boot disk, starting the emulator with its
command line recorded, the console connection, waiting for the first prompt,
reading logs, and killing and cleaning up. A subclass supplies the command
line and how its console is reached (a Unix socket for QEMU, a TCP port for
Bochs), and its own timeouts.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

import hvconsole  # noqa: E402  (tools/ is on sys.path for whoever imports us)

DEFAULT_IMAGE = os.path.join(ROOT, "build", "hv.efi")
DEFAULT_ESP = os.path.join(ROOT, "build", "esp.img")


class LaunchError(Exception):
    pass


def _copy_sparse(src, dst):
    subprocess.run(["cp", "--sparse=always", src, dst], check=True)


def _write_config_into_esp(esp, config_text, workdir):
    path = os.path.join(workdir, "hv.cfg")
    with open(path, "w") as f:
        f.write(config_text)
    subprocess.run(["mcopy", "-o", "-i", esp, path, "::/EFI/BOOT/hv.cfg"], check=True)


# Test instances share this migration key (32 hex digits: 128 bits) unless
# their config names its own, or asks for plaintext: the hypervisor moves
# no VM without one of the two.
LAB_PSK = "6876206c6162206b6579202d20746573742d6f6e6c79"


def with_lab_key(config):
    if "migrate_psk" in config or "migrate_insecure" in config:
        return config
    return config + ("" if not config or config.endswith("\n") else "\n") + f"migrate_psk={LAB_PSK}\n"


def prepare_esp(template, workdir, config=None, guests=()):
    """A private copy of the boot disk image with hv.cfg and guests/ added."""
    esp = os.path.join(workdir, "esp.img")
    _copy_sparse(template, esp)
    if config is not None:
        _write_config_into_esp(esp, with_lab_key(config), workdir)
    if guests:
        subprocess.run(["mmd", "-i", esp, "::/EFI/BOOT/guests"], check=True)
        subprocess.run(["mcopy", "-i", esp] + list(guests) + ["::/EFI/BOOT/guests/"],
                       check=True)
    return esp


def free_port():
    """A TCP port free right now on 127.0.0.1 (socket links, Bochs' console)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_files(*paths):
    """The files' contents (latin-1), concatenated; missing files are empty."""
    text = ""
    for path in paths:
        try:
            with open(path, "rb") as f:
                text += f.read().decode("latin-1")
        except FileNotFoundError:
            pass
    return text


class EmulatorInstance:
    """One emulator process running hv.efi. Subclasses define:

    EMULATOR         name in messages ("QEMU", "Bochs")
    DIR_PREFIX       prefix of the temporary directory when none is given
    CMD_FILE         file in the directory that records the command line
    OUTPUT_FILE      file that receives the emulator's stdout and stderr
    CONNECT_TIMEOUT  default seconds for console() to connect
    PROMPT_TIMEOUT   default seconds for wait_prompt()
    command_line()   the argument list (may write files into self.dir)
    console_address() where the console is now: a Unix socket path or
                     (host, port); None while it is not there yet
    """

    EMULATOR = "emulator"
    DIR_PREFIX = "hv"
    CMD_FILE = "emulator.cmd"
    OUTPUT_FILE = "emulator.out"
    CONNECT_TIMEOUT = 30.0
    PROMPT_TIMEOUT = 90.0
    POPEN_IN_DIR = False  # run the emulator with the instance directory as cwd

    def __init__(self, workdir=None, name="hv", config=None, guests=(), esp=DEFAULT_ESP):
        self.name = name
        self.own_dir = workdir is None
        self.dir = workdir or tempfile.mkdtemp(prefix=f"{self.DIR_PREFIX}-{name}-")
        os.makedirs(self.dir, exist_ok=True)
        self.config = config
        self.guests = list(guests)
        self.esp = esp
        self.output_log = os.path.join(self.dir, self.OUTPUT_FILE)
        self.proc = None
        self._console = None
        self._last_console = None  # kept after kill() for read_console_log()
        self.started_at = None

    # ---- what a subclass provides --------------------------------------

    def command_line(self):
        raise NotImplementedError

    def console_address(self):
        raise NotImplementedError

    def prompt_came_unseen(self):
        """True when the first prompt may have come before we connected
        (then wait_prompt() asks for it again with an empty line)."""
        return False

    def exit_report(self):
        """What to show when the emulator ended before its console answered."""
        return self.read_emulator_output()[-2000:]

    def read_emulator_output(self):
        return read_files(self.output_log)

    # ---- the boot disk -------------------------------------------------

    def prepare_esp(self):
        """The private boot disk: a copy of self.esp with hv.cfg and guests/."""
        return prepare_esp(self.esp, self.dir, self.config, self.guests)

    # ---- lifecycle -----------------------------------------------------

    def spawn(self, args):
        """Starts the emulator detached, its output into OUTPUT_FILE."""
        with open(self.output_log, "wb") as out:
            return subprocess.Popen(args, cwd=self.dir if self.POPEN_IN_DIR else None,
                                    stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)

    def start(self):
        args = self.command_line()
        with open(os.path.join(self.dir, self.CMD_FILE), "w") as f:
            f.write(" ".join(args) + "\n")
        self.proc = self.spawn(args)
        self.started_at = time.monotonic()
        return self

    def console(self, timeout=None):
        """The console connection (made on the first call, then kept)."""
        if self._console is not None:
            return self._console
        timeout = self.CONNECT_TIMEOUT if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise LaunchError(f"{self.EMULATOR} exited with {self.proc.returncode}: "
                                  f"{self.exit_report()}")
            address = self.console_address()
            remaining = deadline - time.monotonic()
            if address is not None:
                try:
                    # Short attempts, so an emulator that dies meanwhile is
                    # noticed (above) instead of waited for.
                    self._console = hvconsole.connect(address, max(0.0, min(1.0, remaining)))
                    self._last_console = self._console
                    return self._console
                except hvconsole.ConsoleError:
                    if time.monotonic() >= deadline:
                        raise
            elif remaining <= 0:
                raise LaunchError("console socket did not appear")
            time.sleep(0.05)

    def wait_prompt(self, timeout=None):
        """Connects and waits for the first prompt; returns seconds since start."""
        timeout = self.PROMPT_TIMEOUT if timeout is None else timeout
        deadline = time.monotonic() + timeout
        con = self.console(timeout)
        nudged = False
        while True:
            try:
                con.wait_prompt(min(1.0, max(0.0, deadline - time.monotonic())))
                return time.monotonic() - self.started_at
            except hvconsole.ConsoleError:
                if con.closed or time.monotonic() >= deadline:
                    raise
            if not nudged and self.prompt_came_unseen():
                con.send("\r")
                nudged = True

    def monitor(self, command, timeout=10.0):
        raise LaunchError(f"{self.EMULATOR} has no QEMU monitor")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_exit(self, timeout=30.0):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        if self._console is not None:
            self._console.close()
            self._console = None
        if self.alive():
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.proc.kill()
            self.proc.wait(10)

    def read_console_log(self):
        """Everything the console printed (cleaned), also after kill()."""
        con = self._console or self._last_console
        return con.text() if con is not None else ""

    def cleanup(self):
        self.kill()
        if self.own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()
