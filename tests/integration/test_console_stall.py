"""A console client that stops reading does not slow the machine down.

The console's output is queued and fed to the UART as it takes bytes; guest
lines and log lines never wait for it. While nobody reads, the guests keep
their pace, what the console could not keep is dropped and counted, the
console says so once it is read again, and `vm output` and `log` still
have everything. (QEMU only: its socket console pushes back on the UART
when the client stops reading.)"""

import re
import time

from guests import create_and_start, uptime

PAUSE_S = 30
INTERVAL_MS = 10  # the counter's 100 lines a second outrun the 16 KiB guest share in 30 s


def last_count(con, name):
    """The counter guest's latest value, from its own output ring."""
    vals = [int(m.group(1)) for m in
            re.finditer(r"^counter: (\d+)$", con.run(f"vm output {name}").text(), re.M)]
    return complete(vals)[-1]


def complete(vals):
    """Without a last line still being printed ('counter: 31' of 3109: the
    ring may end inside it, and `vm output` ends it with a newline)."""
    if len(vals) > 1 and vals[-1] != vals[-2] + 1 and str(vals[-2] + 1).startswith(str(vals[-1])):
        return vals[:-1]
    return vals


def test_guests_keep_pace_while_the_console_is_not_read(boot):
    inst = boot(config="debug=1\n")
    con = inst.console()
    create_and_start(con, "c", "counter", "mem=4M", f"interval={INTERVAL_MS}")
    time.sleep(1)
    t0, v0 = uptime(con), last_count(con, "c")

    con.pause_reading()
    typed_at = con.send_command("vm create h hello mem=4M exit=3 greeting")
    con.send_command("vm start h")
    time.sleep(PAUSE_S - 5)
    # Typed and answered while nobody reads: the replies wait in the queue
    # and tell what the machine did meanwhile.
    con.send_command("vm info h")
    time.sleep(5)
    con.resume_reading()

    created = con.reply("vm create h hello mem=4M exit=3 greeting", typed_at, timeout=120)
    assert created.ok, created
    info = con.reply("vm info h", typed_at, timeout=120).fields()
    assert info["state"] == "stopped" and info["exit_code"] == "3", \
        f"hello did not finish while the console was not read: {info}"

    t1, v1 = uptime(con), last_count(con, "c")
    expected = (t1 - t0) * 1000 / INTERVAL_MS
    print(f"counter: {v1 - v0} lines in {t1 - t0:.1f} s unread ({expected:.0f} due)")
    assert v1 - v0 >= 0.6 * expected, \
        f"the counter fell behind: {v1 - v0} lines in {t1 - t0:.1f} s, {expected:.0f} due"

    notices = [(int(b), int(n)) for b, n in re.findall(
        r"\[\.\.\. (\d+) bytes \((\d+) lines\) dropped: the console was not read", con.text())]
    assert notices and all(b > 0 and n > 0 for b, n in notices), "no notice of dropped output"
    fields = con.run("log").fields()
    print("notices:", notices, {k: v for k, v in fields.items() if k.startswith("console_")})
    assert int(fields["console_dropped_bytes"]) >= sum(b for b, _ in notices)
    assert int(fields["console_dropped_lines"]) >= sum(n for _, n in notices)
    assert fields["console_replies_cut"] == "0", "a reply was cut though the queue had room"

    # What the console dropped, the VM's own ring still has, without a gap.
    out = con.run("vm output c 300").text()
    vals = [int(v) for v in re.findall(r"^counter: (\d+)$", out, re.M)]
    vals = complete(vals)
    assert len(vals) > 100 and vals == list(range(vals[0], vals[0] + len(vals))), \
        "vm output has a gap"
    assert "hello" in con.run("vm output h").text()
