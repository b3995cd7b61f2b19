#!/usr/bin/python3
"""Sends console commands to a running instance and prints their output.

Exit status: 0 when every command answered 'ok', 1 when one answered
'error: ...' (the error is printed on stderr), 2 when the console could not
be reached or did not answer in time.

Examples:
    tools/hvctl.py --socket build/instances/hv/console.sock mem
    tools/hvctl.py --name hv "vm list" "vm info web"
    tools/hvctl.py --tcp 127.0.0.1:40123 cpu        # a Bochs instance
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hvconsole  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--socket", help="console socket of the instance")
    g.add_argument("--name", default="hv", help="instance name under build/instances/")
    g.add_argument("--tcp", help="HOST:PORT of a TCP console (tools/hvbochs.py)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per command")
    p.add_argument("--all", action="store_true",
                   help="also print log and guest lines that arrived meanwhile")
    p.add_argument("commands", nargs="+", help="one argument per command line")
    a = p.parse_args()

    if a.tcp:
        host, _, port = a.tcp.rpartition(":")
        path = (host or "127.0.0.1", int(port))
    else:
        path = a.socket or os.path.join(ROOT, "build", "instances", a.name, "console.sock")
    try:
        con = hvconsole.connect(path, timeout=min(a.timeout, 10))
        # A fresh connection may arrive mid-prompt: an empty line gets a new one.
        con.send("\r")
        con.wait_prompt(a.timeout)
        for cmd in a.commands:
            res = con.command(cmd, a.timeout)
            for line in (res.raw_lines if a.all else res.lines):
                print(line)
            if not res.ok:
                print(f"error: {res.error}", file=sys.stderr)
                sys.exit(1)
    except hvconsole.ConsoleError as e:
        print(f"hvctl: {e}", file=sys.stderr)
        sys.exit(2)
    finally:
        try:
            con.close()
        except Exception:
            pass


if __name__ == "__main__":
    main()
