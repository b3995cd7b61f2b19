"""Helpers for tests that run guests."""

import re
import time


def vm_info(con, name):
    return con.run(f"vm info {name}").fields()


def wait_state(con, name, states, timeout=30.0):
    if isinstance(states, str):
        states = {states}
    deadline = time.monotonic() + timeout
    while True:
        info = vm_info(con, name)
        if info["state"] in states:
            return info
        if time.monotonic() > deadline:
            raise AssertionError(f"VM {name} is {info['state']}, wanted {states}: {info}")
        time.sleep(0.2)


def uptime(con):
    """The hypervisor's own clock, in seconds (emulated time under Bochs)."""
    return float(con.run("uptime").fields()["uptime"].split()[0])


def lock_wait_ms(con):
    """Each CPU's time spent waiting for spinlocks so far (ms), from 'cpu'."""
    return [int(line.split("lock_wait_ms=")[1].split()[0])
            for line in con.run("cpu").lines if "lock_wait_ms=" in line]


def vcpu_run_ms(con, name):
    """Each vCPU's time in the guest so far (ms), and the VM's 'vm info'."""
    info = vm_info(con, name)
    cpus = int(info["vcpus"])
    return [int(info[f"vcpu{i}"].split("run_ms=")[1].split()[0]) for i in range(cpus)], info


def guest_lines(con, name, since=0):
    """Lines the VM printed (as shown on the console) after text offset 'since'."""
    prefix = f"[vm:{name}] "
    return [l[len(prefix):] for l in con.text()[since:].split("\n") if l.startswith(prefix)]


def counter_values(con, name, since=0):
    """The numbers the counter guest 'name' printed on con after text offset
    'since', in order (used by test_guests and test_migrate)."""
    vals = []
    for l in guest_lines(con, name, since):
        m = re.fullmatch(r"counter: (\d+)", l)
        if m:
            vals.append(int(m.group(1)))
    return vals


def create_and_start(con, name, image, *args):
    con.run(f"vm create {name} {image} " + " ".join(args))
    con.run(f"vm start {name}")
