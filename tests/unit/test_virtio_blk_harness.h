/* A guest for the virtio-blk model's tests: RAM as a byte array (with an
 * optional hole, and optionally scattered host pages so requests split
 * into several host pieces), a disk as a byte array with failure
 * injection, the PCI bus, and a driver that finds the device the way an
 * OS does (capability list, BAR sizing, feature negotiation, queue setup). */
#ifndef TESTS_UNIT_TEST_VIRTIO_BLK_HARNESS_H
#define TESTS_UNIT_TEST_VIRTIO_BLK_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/vdev/virtio_blk.h"
#include "hv/vdev/vpci.h"

#define VBT_RAM_SIZE (1u << 20)
#define VBT_PAGES (VBT_RAM_SIZE / 4096)
#define VBT_DISK_SECTORS 2048u
#define VBT_SLOT 3
#define VBT_BAR_ADDR 0xfe000000ull
#define VBT_NOTIFY_PORT 0xc040u
/* Where the driver keeps its queue (size up to 256) and buffers. */
#define VBT_DESC 0x1000u
#define VBT_AVAIL 0x2000u
#define VBT_USED 0x3000u
#define VBT_BUF 0x10000u

struct vbt_env {
	struct vpci bus;
	struct vblk dev;
	uint8_t ram[VBT_RAM_SIZE] __attribute__((aligned(4096)));
	bool scattered;               /* guest page p lives at host page perm(p) */
	uint64_t hole_start, hole_end; /* not RAM */
	bool dirty[VBT_PAGES];        /* pages mapped for writing */
	uint8_t disk[VBT_DISK_SECTORS * 512];
	bool fail_read, fail_write, fail_flush;
	unsigned reads, writes, flushes, last_niov, max_niov;
	bool line;
	unsigned line_changes, line_calls;
	/* The driver's view. */
	uint64_t common, isr, device, notify; /* BAR offsets from the capabilities */
	uint32_t notify_multiplier;
	uint16_t qsize, next_desc, avail_idx, used_seen;
};

extern struct vbt_env *vbt;

/* A fresh device (capacity VBT_DISK_SECTORS, serial "vbt-serial-0001") on
 * a fresh bus, the disk filled with a known pattern. */
void vbt_setup(bool read_only, bool scattered);
void vbt_teardown(void);

/* RAM as the guest sees it (follows 'scattered'). */
uint8_t *vbt_gpa(uint64_t gpa);
void vbt_fill(uint64_t gpa, const void *src, size_t len);
void vbt_copy(void *dst, uint64_t gpa, size_t len);
uint16_t vbt_get16(uint64_t gpa);
uint32_t vbt_get32(uint64_t gpa);
void vbt_put16(uint64_t gpa, uint16_t v);

/* Configuration space through ports 0xcf8/0xcfc. */
uint32_t vbt_cfg_read(unsigned reg, unsigned width);
void vbt_cfg_write(unsigned reg, unsigned width, uint32_t v);

/* Finds the capabilities, sizes and places BAR 4, enables memory and bus
 * master decoding. */
void vbt_probe(void);
uint64_t vbt_read(uint64_t bar_offset, unsigned width);
void vbt_write(uint64_t bar_offset, unsigned width, uint64_t v);
uint64_t vbt_common_read(unsigned off, unsigned width);
void vbt_common_write(unsigned off, unsigned width, uint64_t v);

/* Reset, ACKNOWLEDGE, DRIVER, 'features', FEATURES_OK; returns the status
 * read back. */
uint8_t vbt_negotiate(uint64_t features);
/* Negotiates VERSION_1 | FLUSH, sets up queue 0 with 'qsize' entries and
 * sets DRIVER_OK. */
void vbt_start(uint16_t qsize);

/* One descriptor of a chain the test builds. */
struct vbt_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;          /* VIRTQ_DESC_F_WRITE etc.; NEXT is added */
};
#define VBT_F_NEXT 1
#define VBT_F_WRITE 2
#define VBT_F_INDIRECT 4

/* Writes descriptor 'index' of the table as it is given. */
void vbt_put_desc(uint16_t index, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next);
/* Writes the chain into descriptors from next_desc on, links them,
 * makes the head available and notifies. Returns the head index. */
uint16_t vbt_submit(const struct vbt_desc *d, unsigned n);
/* Makes 'head' available (no descriptors written) without notifying. */
void vbt_make_available(uint16_t head);
void vbt_notify(void);
/* The used element the device returned for the oldest unseen one;
 * asserts there is one. */
void vbt_used(uint16_t *id, uint32_t *len);
uint16_t vbt_used_idx(void);

/* A standard request: header at VBT_BUF, data at VBT_BUF + 0x1000 (len
 * bytes; 0 for none), status at VBT_BUF + 0x100. Returns the status
 * byte (0xee when the device did not write it) and the used length. */
#define VBT_HDR VBT_BUF
#define VBT_STATUS (VBT_BUF + 0x100)
#define VBT_DATA (VBT_BUF + 0x1000)
uint8_t vbt_request(uint32_t type, uint64_t sector, uint32_t len, uint32_t *used_len);

/* The disk's pattern for byte i: what vbt_setup wrote. */
uint8_t vbt_disk_pattern(size_t i);

#endif
