#!/usr/bin/python3
"""Writes seed inputs for fuzz_mig_stream: well-formed version-4 streams
with real CRC-32C values, so the fuzzer starts from the stream's structure:
a live migration (header, VM_CONFIG, DISK_OFFERs, DISK_STARTs, PAGES of
each entry type and DISK_BLOCKS, DISK_BULK_END, state, MODULES and DEVICE
records, DISK_END, END), a `disk send` (header flag DISK_ONLY, one disk),
a DISK_BLOCKS record of two full extents, and the replies (SEED,
SIG_MISSES, DISK_ACCEPT, DISK_DONE, REJECT).

    gen_mig_seeds.py OUTDIR"""

import os
import struct
import sys


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


VERSION = 4
DISK_ONLY = 1  # header flag: `disk send`

# Record types (migrate/stream.h, migrate/disk_stream.h).
DISK_OFFER, DISK_START, DISK_BLOCKS, DISK_BULK_END, DISK_END = 0x0C, 0x0D, 0x0E, 0x0F, 0x10
DISK_ACCEPT, DISK_DONE = 0x23, 0x24
SEED, SIG_MISSES = 0x25, 0x26
SIGNATURE = 3  # page entry type: 32 bytes of SHA-256
NO_BASE = 0xFFFFFFFF
DATA, ZERO = 0, 1
BASE = 4  # DISK_OFFER flag


def header(flags=0):
    h = b"HVMIGRAT" + struct.pack("<HHIQQ", VERSION, 64, 4096, 0x1122334455667788, 42)
    h += b"seed".ljust(24, b"\0") + struct.pack("<I", flags)
    return h + struct.pack("<I", crc32c(h))


def record(rtype, body):
    hdr = struct.pack("<III", rtype, len(body), crc32c(body))
    return hdr + struct.pack("<I", crc32c(hdr)) + body


def pages(entries):
    body = struct.pack("<II", len(entries), 0)
    for gfn, kind, data in entries:
        body += struct.pack("<Q", gfn | kind << 56) + data
    return body


def disk_offer(index, name, size, flags=0, ancestors=()):
    uuid = bytes(range(0x10 + index, 0x20 + index))
    content = bytes(range(0xA0 + index, 0xB0 + index))
    body = struct.pack("<II", index, flags) + name.ljust(32, b"\0") + uuid + content
    body += struct.pack("<QQI", size, size // 2, len(ancestors))
    return body + b"".join(ancestors).ljust(8 * 16, b"\0")


def disk_blocks(index, extents):
    body = struct.pack("<II", index, len(extents))
    for offset, kind, data_or_len in extents:
        if kind == DATA:
            body += struct.pack("<QII", offset, len(data_or_len), DATA) + data_or_len
        else:
            body += struct.pack("<QII", offset, data_or_len, ZERO)
    return body


def disk_records(disk_only):
    """The disk part of a stream: the offers (after VM_CONFIG), the starts
    (after the replies), the bulk copy of round 0 and its ends, the DISK_ENDs
    (before END)."""
    block = bytes((i * 13) & 0xFF for i in range(4096))
    flags = BASE if disk_only else 0  # `disk send` of a base arrives as a base
    disks = [(0, b"root.img", 1 << 30, flags, (bytes(16 * [0x31]), bytes(16 * [0x32])))]
    if not disk_only:
        disks.append((1, b"data_v2-x", 64 << 20, 1, ()))  # read-only
        disks.append((2, b"shared.disk", 512, 2, ()))    # shared: no data
    offers = b"".join(record(DISK_OFFER, disk_offer(*d)) for d in disks)
    starts = record(DISK_START, struct.pack("<IQI", 0, 8192, crc32c(block * 2)))
    starts += record(DISK_START, struct.pack("<IQI", 1, 0, 0)) if not disk_only else b""
    data = record(DISK_BLOCKS, disk_blocks(0, [(8192, DATA, block), (12288, ZERO, 65536)]))
    data += record(DISK_BLOCKS, disk_blocks(0, [(1 << 29, DATA, block[:512])]))
    data += record(DISK_BULK_END, struct.pack("<I", 0))
    ends = record(DISK_END, struct.pack("<I", 0) + bytes(16 * [0x5C]))
    if not disk_only:
        data += record(DISK_BLOCKS, disk_blocks(1, [(0, ZERO, 4096)]))
        data += record(DISK_BULK_END, struct.pack("<I", 1))
        ends += record(DISK_END, struct.pack("<I", 1) + bytes(16 * [0x5D]))
    return offers, starts, data, ends


def replies():
    r = record(SEED, struct.pack("<IIQ", 1, 0, 512))
    r += record(SIG_MISSES, struct.pack("<IIQQ", 2, 0, 5, 9))
    r += record(DISK_ACCEPT, struct.pack("<IIQI", 0, 1, 8192, 0x1234ABCD))
    r += record(DISK_ACCEPT, struct.pack("<IIQI", 1, NO_BASE, 0, 0))
    return r + record(DISK_DONE, struct.pack("<I", 0))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    config = b"vm1".ljust(32, b"\0") + b"counter".ljust(32, b"\0") + \
        b"interval=20".ljust(256, b"\0") + struct.pack("<Q", 2 << 20)
    page = bytes((i * 7) & 0xFF for i in range(4096))
    offers, starts, disk_data, disk_ends = disk_records(disk_only=False)
    stream = header() + record(1, config) + offers + starts
    stream += record(2, pages([(0, 0, page), (1, 1, b""), (2, 2, b""),
                               (3, SIGNATURE, bytes(range(32)))])) + disk_data
    stream += record(0x80000010, struct.pack("<II", 1, 3))
    for rtype, size in ((3, 1197), (4, 148), (5, 471), (6, 17)):
        stream += record(rtype, bytes(size))
    stream += record(0x0b, struct.pack("<I", 1) + b"initrd.img".ljust(128, b"\0"))
    # Device ids 1-8 with blobs of their sizes (docs/device-state.md); the
    # blobs' contents are fuzz_device_state's concern.
    for dev, size in enumerate((31, 189, 199, 164, 15, 262, 49, 8, 16), start=1):
        stream += record(0x0a, struct.pack("<I", dev) + bytes(size))
    stream += disk_ends + record(7, b"")
    offers, starts, disk_data, disk_ends = disk_records(disk_only=True)
    disk_send = header(DISK_ONLY) + offers + starts + disk_data + disk_ends
    full = bytes((i * 3) & 0xFF for i in range(65536))
    full_blocks = header() + record(DISK_BLOCKS, disk_blocks(3, [(0, DATA, full),
                                                               (65536, DATA, full)]))
    seeds = {
        "stream-v4": stream,
        "disk-send": disk_send,
        "disk-blocks-full": full_blocks,
        "disk-replies": replies(),
        "reject": record(0x21, b"busy with another incoming migration"),
    }
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
