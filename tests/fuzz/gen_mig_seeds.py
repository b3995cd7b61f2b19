#!/usr/bin/python3
"""Writes seed inputs for fuzz_mig_stream: well-formed version-2 streams
(header, VM_CONFIG, PAGES of each entry type, state, MODULES and DEVICE
records, END) with
real CRC-32C values, so the fuzzer starts from the stream's structure.

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


def header():
    h = b"HVMIGRAT" + struct.pack("<HHIQQ", 2, 64, 4096, 0x1122334455667788, 42)
    h += b"seed".ljust(24, b"\0") + struct.pack("<I", 0)
    return h + struct.pack("<I", crc32c(h))


def record(rtype, body):
    hdr = struct.pack("<III", rtype, len(body), crc32c(body))
    return hdr + struct.pack("<I", crc32c(hdr)) + body


def pages(entries):
    body = struct.pack("<II", len(entries), 0)
    for gfn, kind, data in entries:
        body += struct.pack("<Q", gfn | kind << 56) + data
    return body


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    config = b"vm1".ljust(32, b"\0") + b"counter".ljust(32, b"\0") + \
        b"interval=20".ljust(256, b"\0") + struct.pack("<Q", 2 << 20)
    page = bytes((i * 7) & 0xFF for i in range(4096))
    stream = header() + record(1, config)
    stream += record(2, pages([(0, 0, page), (1, 1, b""), (2, 2, b"")]))
    stream += record(0x80000010, struct.pack("<II", 1, 3))
    for rtype, size in ((3, 1197), (4, 148), (5, 471), (6, 17)):
        stream += record(rtype, bytes(size))
    stream += record(0x0b, struct.pack("<I", 1) + b"initrd.img".ljust(128, b"\0"))
    # Device ids 1-8 with blobs of their sizes (docs/device-state.md); the
    # blobs' contents are fuzz_device_state's concern.
    for dev, size in enumerate((31, 189, 199, 164, 15, 262, 49, 8, 16), start=1):
        stream += record(0x0a, struct.pack("<I", dev) + bytes(size))
    stream += record(7, b"")
    with open(os.path.join(out, "stream-v2"), "wb") as f:
        f.write(stream)
    with open(os.path.join(out, "reject"), "wb") as f:
        f.write(record(0x21, b"busy with another incoming migration"))


if __name__ == "__main__":
    main()
