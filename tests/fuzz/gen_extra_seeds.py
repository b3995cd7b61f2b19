#!/usr/bin/python3
"""Writes seed inputs for the fuzz targets of tests/fuzz/fuzz.mk, in the
input format each target's header comment describes, so the fuzzer starts
from well-formed structures; and the regression inputs of bugs the targets
found (named 'regress-*'), which must keep passing.

    gen_extra_seeds.py TARGET OUTDIR      (TARGET: acpi, pci_caps, config, nic_rx, l4_csum)"""

import os
import struct
import sys


def checksum(data):
    return (-sum(data)) & 0xFF


# ---- fuzz_acpi ---------------------------------------------------------------

def sdt(sig, body, revision=1):
    head = sig + struct.pack("<IBB", 36 + len(body), revision, 0) + b"HVFUZZ" + b"SEEDTBL1"
    head += struct.pack("<III", 1, 0x4C4C4548, 1)
    table = bytearray(head + body)
    table[9] = checksum(table)
    return bytes(table)


def rsdp(revision, rsdt=1, xsdt=1, length=36):
    r = bytearray(b"RSD PTR " + b"\0" + b"HVFUZZ" + struct.pack("<BI", revision, rsdt))
    r[8] = checksum(r)
    if revision >= 2:
        r += struct.pack("<IQ", length, xsdt) + b"\0\0\0\0"
        r[32] = checksum(r)
    return bytes(r)


def madt(entries_extra=b""):
    body = struct.pack("<II", 0xFEE00000, 1)
    body += struct.pack("<BBBBI", 0, 8, 0, 0, 1)          # local APIC 0, enabled
    body += struct.pack("<BBBBI", 0, 8, 1, 1, 1)          # local APIC 1, enabled
    body += struct.pack("<BBBBI", 0, 8, 2, 2, 0)          # local APIC 2, disabled
    body += struct.pack("<BBBBII", 1, 12, 4, 0, 0xFEC00000, 0)  # IOAPIC
    body += struct.pack("<BBBBIH", 2, 10, 0, 0, 2, 0)     # interrupt source override
    body += struct.pack("<BBBHB", 4, 6, 0xFF, 5, 1)       # local APIC NMI
    body += struct.pack("<BBHIII", 9, 16, 0, 3, 1, 3)     # local x2APIC, enabled
    body += struct.pack("<BBHQ", 5, 12, 0, 0xFEE00000)    # local APIC address override
    return sdt(b"APIC", body + entries_extra, revision=4)


def fadt():
    body = bytearray(276 - 36)
    struct.pack_into("<I", body, 76 - 36, 0x608)          # PM_TMR_BLK
    struct.pack_into("<I", body, 112 - 36, 1 << 8)        # flags: TMR_VAL_EXT
    struct.pack_into("<BBBBQ", body, 208 - 36, 1, 32, 0, 3, 0x608)  # X_PM_TMR_BLK
    return sdt(b"FACP", bytes(body), revision=6)


def mcfg():
    return sdt(b"MCFG", b"\0" * 8 + struct.pack("<QHBBI", 0xB0000000, 0, 0, 0xFF, 0))


def acpi_input(flags, chunks):
    out = bytes([flags])
    for c in chunks:
        out += struct.pack("<H", len(c)) + c
    return out


def acpi_seeds():
    # Chunks: 0 RSDP, 1 XSDT, 2 RSDT, 3.. tables; a root entry v names
    # chunk 1 + v % (chunks - 1) (fuzz_acpi.c).
    tables = [madt(), fadt(), mcfg(), sdt(b"SSDT", b"\x10\x05\x5c\x00")]
    n = 3 + len(tables)
    picks = [i + 2 for i in range(len(tables))]
    assert all(1 + v % (n - 1) == 3 + i for i, v in enumerate(picks))
    xsdt = sdt(b"XSDT", b"".join(struct.pack("<Q", v) for v in picks))
    rsdt = sdt(b"RSDT", b"".join(struct.pack("<I", v) for v in picks))
    short_madt = sdt(b"APIC", b"\0\0", revision=4)
    return {
        # Bugs fixed in drivers/acpi/acpi.c: every 8-byte XSDT entry is
        # misaligned (any of these seeds), the RSDP's extended checksum
        # summed rsdp->length bytes, a 36..43-byte MADT was read past.
        "regress-acpi-rsdp-length": acpi_input(0, [rsdp(2, length=0xFFFFFFF0), xsdt, rsdt]
                                               + tables),
        "regress-acpi-madt-short": acpi_input(0, [rsdp(2), xsdt, rsdt, short_madt]),
        "acpi-v2": acpi_input(0, [rsdp(2), xsdt, rsdt] + tables),
        "acpi-v1": acpi_input(0, [rsdp(0), b"", rsdt] + tables),
        "acpi-unaligned": acpi_input(0x50, [rsdp(2), xsdt, rsdt] + tables),
    }


# ---- fuzz_pci_caps -----------------------------------------------------------

def bar_code(kind, size_shift=0):
    return kind | size_shift << 2  # memory BARs: 64 << size_shift bytes


def vendor_cap(nxt, cfg_type, bar, offset, length, extra=None):
    cap = struct.pack("<BBBBB3xII", 0x09, nxt, 20 if extra is not None else 16, cfg_type, bar,
                      offset, length)
    return cap + (struct.pack("<I", extra) if extra is not None else b"")


def virtio_config(caps, status=0x10):
    """256 bytes: vendor/device 1af4:1041, the capability list at 0x40."""
    cfg = bytearray(256)
    struct.pack_into("<HHHH", cfg, 0, 0x1AF4, 0x1041, 0x0006, status)
    cfg[0x34] = 0x40 if caps else 0
    for off, cap in caps:
        cfg[off:off + len(cap)] = cap
    return bytes(cfg)


def common_cfg(features=0x00010021, queue_size=256, notify_off=1):
    """The BAR's first bytes: common configuration (plain memory)."""
    cc = bytearray(0x38)
    struct.pack_into("<I", cc, 0x04, features)
    struct.pack_into("<HH", cc, 0x18, queue_size, 0xFFFF)
    struct.pack_into("<H", cc, 0x1E, notify_off)
    return bytes(cc)


def pci_input(bars, cfg, bar_contents=b""):
    return bytes(bars) + cfg + bar_contents


def bar_image(common, device_off=0x200, device=b""):
    """BAR 4's registers: common configuration at 0, the device's at device_off."""
    return common.ljust(device_off, b"\0") + device


def virtio_caps(common_off=0, common_len=0x38, loop=False, device=(0x200, 8)):
    caps = [
        (0x40, vendor_cap(0x54, 1, 4, common_off, common_len)),
        (0x54, vendor_cap(0x68, 2, 4, 0x400, 0x400, extra=4)),
        (0x68, vendor_cap(0x78, 3, 4, 0x100, 1)),
        (0x78, vendor_cap(0x88, 4, 4, device[0], device[1])),
        (0x88, struct.pack("<BBHIII", 0x11, 0x98, 0x0002, 0x1, 0x801, 0)),  # MSI-X
        (0x98, struct.pack("<BBH", 0x05, 0x40 if loop else 0x00, 0x0080)),  # MSI
    ]
    return caps


def pci_seeds():
    bars = [0, 0, 0, 0, bar_code(2, 7), 0]  # BAR 4: 8 KiB of registers
    io_bars = [bar_code(1), bar_code(2, 2), 0, 0, bar_code(2, 7), 0]
    looped = virtio_caps()
    looped[0] = (0x40, vendor_cap(0x40, 1, 4, 0, 0x38))
    blk_config = struct.pack("<QIIHBBI", 0x10000, 0x10000, 16, 0, 0, 0, 4096)
    return {
        # Bugs fixed in drivers/virtio/virtio_pci.c: a vendor capability
        # pointing at itself hung the walk; a common structure shorter than
        # the registers the driver uses; a queue size not a power of two.
        "regress-pci-cap-loop": pci_input(bars, virtio_config(looped), common_cfg()),
        "regress-pci-common-short": pci_input(bars, virtio_config(
            virtio_caps(common_off=0x1FFC, common_len=4)), common_cfg()),
        "regress-pci-queue-size": pci_input(bars, virtio_config(virtio_caps()),
                                            common_cfg(queue_size=300)),
        # virtio-blk read its geometry past a short device configuration
        # (drivers/block/virtio_blk.c; here it ends the BAR).
        "regress-pci-blk-short-config": pci_input(bars, virtio_config(
            virtio_caps(device=(0x1FFC, 4))), common_cfg(features=0x00000041)),
        "pci-virtio": pci_input(bars, virtio_config(virtio_caps()), common_cfg()),
        "pci-virtio-blk": pci_input(bars, virtio_config(virtio_caps(device=(0x200, 0x40))),
                                    bar_image(common_cfg(features=0x00000247), 0x200,
                                              blk_config)),
        "pci-virtio-io-bars": pci_input(io_bars, virtio_config(virtio_caps()),
                                        bytes(256) + common_cfg()),
        "pci-msi-loop": pci_input(bars, virtio_config(virtio_caps(loop=True)), common_cfg()),
        "pci-no-caps": pci_input(bars, virtio_config([], status=0)),
    }


# ---- fuzz_config -------------------------------------------------------------

def config_seeds():
    hv_cfg = (b"# hv.cfg\nname = alpha\n\ndebug=0   # trailing comment\r\nhz=250\n"
              b"ip=10.0.0.1/24\nfuzz.mask=0x10\nmem = 64M\nbad key=1\n=novalue\n")
    cmdline = b"debug=1 hz=0x20 ip=10.0.0.2 fuzz.on=off unknown=1 junk"
    many = b"".join(b"k%d=%d\n" % (i, i) for i in range(70))
    return {
        "config-both": hv_cfg + b"\0" + cmdline,
        "config-file-only": hv_cfg,
        "config-too-many": many + b"\0" + b"k1=override",
        "config-long": b"k=" + b"v" * 130 + b"\n" + b"x" * 40 + b"=1\n\0" + b"a=" + b"b" * 127,
    }


# ---- fuzz_nic_rx --------------------------------------------------------------

E1000, E1000E, VNET = 0, 1, 2
OP_RX, OP_POLL, OP_SEND, OP_TX, OP_HOSTILE, OP_STARVE, OP_LINK = range(7)


def e1000_setup(model, mac_in_regs=True):
    setup = 0x10 | (1 if mac_in_regs else 0)  # link up
    return (bytes([model, setup]) + struct.pack("<IH", 0x56341252, 0x9A78)
            + struct.pack("<HHH", 0x1252, 0x5634, 0x9A78))


def e1000_rx(frames):
    """frames: (length, status) pairs; status 0x02 is EOP."""
    out = bytes([OP_RX, len(frames) - 1])
    for length, status in frames:
        out += struct.pack("<HB", length, status)
    return out


def send(lengths, cookie=True):
    return bytes([OP_SEND, len(lengths) - 1]) + b"".join(
        struct.pack("<H", n) for n in lengths) + bytes([0 if cookie else 1])


def poll(budget=64):
    return bytes([OP_POLL, budget])


def vnet_setup(queue_size=256, device_len=8, features=0x00010021):
    return (bytes([VNET]) + struct.pack("<IHBB", features, queue_size, 1, 4)
            + bytes([device_len]) + bytes([0x52, 0x54, 0, 0x12, 0x34, 0x56, 1, 0]) + b"\0")


def vnet_rx(frames):
    """frames: (frame length, how): how 0 is honest."""
    out = bytes([OP_RX, len(frames) - 1])
    for length, how in frames:
        out += struct.pack("<HB", length, how)
    return out


def nic_seeds():
    e_ops = (e1000_rx([(60, 2), (1514, 2), (2000, 2), (10, 2), (100, 0), (64, 0x82)])
             + bytes([0x05]) + poll() + send([14, 100, 300]) + send([60], cookie=False)
             + bytes([OP_TX, 15]) + poll() + bytes([OP_STARVE]) + e1000_rx([(80, 2)] * 4)
             + poll() + bytes([OP_STARVE, OP_LINK]))
    v_ops = (vnet_rx([(60, 0), (1514, 0), (1600, 0), (0, 0)]) + poll()
             + send([14, 100]) + bytes([OP_TX, 3]) + poll()
             + vnet_rx([(60, 0x80)]) + struct.pack("<I", 0xFFFF) + poll()
             + bytes([OP_HOSTILE, 0, 1]) + struct.pack("<H", 5) + poll() + bytes([OP_LINK]))
    # Two chains sent; the device then says it used both (the second first)
    # without taking either, so the driver frees and reuses their
    # descriptors, and a third chain has the second's head in its middle.
    lied_used = (bytes([OP_HOSTILE, 1, 0]) + struct.pack("<HII", 0, 2, 0)
                 + bytes([OP_HOSTILE, 1, 0]) + struct.pack("<HII", 1, 0, 0)
                 + bytes([OP_HOSTILE, 1, 1]) + struct.pack("<H", 2))
    v_reuse = (send([100]) + send([200]) + lied_used + poll() + send([60, 70, 80])
               + bytes([OP_TX, 2]) + poll())
    return {
        # The harness's device, not the driver: after such a lie it walked
        # the stale avail entry and took the reuse for a driver bug.
        "regress-nic-vnet-tx-after-lie": vnet_setup() + v_reuse,
        # Bugs fixed in drivers/virtio/virtio_pci.c and virtio_net.c: a queue
        # size not a power of two was used as a mask; the MAC and status
        # were read past a device configuration shorter than 8 bytes.
        "regress-nic-vnet-queue-size": vnet_setup(queue_size=300) + v_ops,
        "regress-nic-vnet-short-config": vnet_setup(device_len=4) + v_ops,
        "nic-e1000": e1000_setup(E1000) + e_ops,
        "nic-e1000e-eeprom": e1000_setup(E1000E, mac_in_regs=False) + e_ops,
        "nic-vnet": vnet_setup() + v_ops,
    }


def ipv4_tcp(payload=b"hello", ihl_words=5, flags_frag=0x4000, proto=6, tcp_hlen=20,
             src=(192, 168, 1, 10), dst=(63, 87, 254, 240)):
    """An Ethernet frame with an IPv4 header and a TCP segment whose
    checksum field holds 0 (the fuzzer finds the rest)."""
    options = bytes(4 * (ihl_words - 5))
    tcp = struct.pack(">HHIIBBHHH", 7007, 40000, 1, 0, (tcp_hlen // 4) << 4, 0x18, 65535, 0, 0)
    tcp += bytes(tcp_hlen - 20) + payload
    total = 4 * ihl_words + len(tcp)
    ip = struct.pack(">BBHHHBBH4s4s", 0x40 | ihl_words, 0, total, 1, flags_frag, 64, proto, 0,
                     bytes(src), bytes(dst)) + options
    eth = bytes(6) + bytes([0x52, 0x54, 0, 0, 1, 0x0a]) + b"\x08\x00"
    return eth + ip + tcp


def l4_csum_seeds():
    """head (2 bytes, little-endian), then the frame."""
    def seed(frame, head=None):
        return struct.pack("<H", len(frame) if head is None else head) + frame
    frame = ipv4_tcp()
    return {
        "tcp": seed(frame),
        "tcp-head-cuts-tcp": seed(frame, 14 + 20 + 10),
        "tcp-ip-options": seed(ipv4_tcp(ihl_words=7, tcp_hlen=32)),
        "tcp-odd-payload": seed(ipv4_tcp(payload=b"abc" * 333)),
        "tcp-fragment": seed(ipv4_tcp(flags_frag=0x2000)),
        "tcp-trailing-bytes": seed(frame + bytes(6)),
        "udp": seed(ipv4_tcp(proto=17)),
        "carry-pair": seed(ipv4_tcp(payload=b"", src=(255, 255, 255, 255), dst=(255, 255, 255, 255))),
    }


GENERATORS = {"acpi": acpi_seeds, "pci_caps": pci_seeds, "config": config_seeds,
              "nic_rx": nic_seeds, "l4_csum": l4_csum_seeds}


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in GENERATORS:
        sys.exit(__doc__)
    out = sys.argv[2]
    os.makedirs(out, exist_ok=True)
    for name, data in GENERATORS[sys.argv[1]]().items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
