"""Two instances on one QEMU socket link, for the network and migration
suites: A listens, B connects; static addresses by default."""

import time

import hvlaunch

MAC_A, MAC_B = "52:54:00:00:00:0a", "52:54:00:00:00:0b"
# QEMU's e1000 ignores received frames for one second after the driver
# enables its receiver (hw/net/e1000.c, flush_queue_timer): give every model
# that long after boot before expecting no loss.
RX_SETTLE_S = 1.5


def start_pair(boot, nic="virtio", a_config="ip=10.0.0.1/24\n",
               b_config="ip=10.0.0.2/24\n", a_net="listen", **kwargs):
    port = hvlaunch.free_port()
    a = boot(wait=False, net=f"{a_net}:{port}", nic=nic, mac=MAC_A, config=a_config, **kwargs)
    a.console()  # connected before the prompt comes
    time.sleep(0.3)  # the listening side first
    b = boot(wait=False, net=f"connect:{port}", nic=nic, mac=MAC_B, config=b_config, **kwargs)
    b.console()
    a.wait_prompt(hvlaunch_timeout())
    b.wait_prompt(hvlaunch_timeout())
    time.sleep(RX_SETTLE_S)
    a.port = b.port = port
    return a, b


def hvlaunch_timeout():
    return 120


def ping(con, addr, count=5, interval=200):
    r = con.command(f"ping {addr} {count} interval={interval}",
                    timeout=count * interval / 1000 + 30)
    f = r.fields()
    return r, int(f.get("sent", 0)), int(f.get("received", 0))


def wait_field(con, command, key, value, timeout=20):
    deadline = time.time() + timeout
    while True:
        r = con.run(command)
        if r.fields().get(key) == value:
            return r
        if time.time() > deadline:
            raise AssertionError(f"{command}: {key} never became {value}: {r.text()}")
        time.sleep(0.3)


