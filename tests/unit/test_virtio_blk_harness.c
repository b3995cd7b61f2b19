/* The virtio-blk tests' guest and driver (test_virtio_blk_harness.h). */
#include "test_virtio_blk_harness.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

struct vbt_env *vbt;

/* ---- Guest memory. */

static unsigned host_page(unsigned page)
{
	return vbt->scattered ? (page * 7 + 3) % VBT_PAGES : page;
}

uint8_t *vbt_gpa(uint64_t gpa)
{
	cr_assert_lt(gpa, VBT_RAM_SIZE);
	return vbt->ram + host_page((unsigned)(gpa / 4096)) * 4096ull + gpa % 4096;
}

void vbt_fill(uint64_t gpa, const void *src, size_t len)
{
	for (size_t i = 0; i < len; i++)
		*vbt_gpa(gpa + i) = ((const uint8_t *)src)[i];
}

void vbt_copy(void *dst, uint64_t gpa, size_t len)
{
	for (size_t i = 0; i < len; i++)
		((uint8_t *)dst)[i] = *vbt_gpa(gpa + i);
}

uint16_t vbt_get16(uint64_t gpa)
{
	return (uint16_t)(*vbt_gpa(gpa) | *vbt_gpa(gpa + 1) << 8);
}

uint32_t vbt_get32(uint64_t gpa)
{
	return vbt_get16(gpa) | (uint32_t)vbt_get16(gpa + 2) << 16;
}

void vbt_put16(uint64_t gpa, uint16_t v)
{
	*vbt_gpa(gpa) = (uint8_t)v;
	*vbt_gpa(gpa + 1) = (uint8_t)(v >> 8);
}

static void put32(uint64_t gpa, uint32_t v)
{
	vbt_put16(gpa, (uint16_t)v);
	vbt_put16(gpa + 2, (uint16_t)(v >> 16));
}

static void put64(uint64_t gpa, uint64_t v)
{
	put32(gpa, (uint32_t)v);
	put32(gpa + 4, (uint32_t)(v >> 32));
}

/* As struct vblk_mem asks: contiguous bytes from gpa, 0 outside RAM. */
static size_t map(void *ctx, uint64_t gpa, size_t len, bool write, void **host)
{
	struct vbt_env *e = ctx;
	uint64_t end = VBT_RAM_SIZE;

	if (gpa >= VBT_RAM_SIZE || (gpa >= e->hole_start && gpa < e->hole_end))
		return 0;
	if (gpa < e->hole_start && e->hole_end > e->hole_start)
		end = e->hole_start;
	if (e->scattered)
		end = (gpa / 4096 + 1) * 4096;
	size_t n = end - gpa < len ? (size_t)(end - gpa) : len;
	*host = vbt_gpa(gpa);
	for (uint64_t p = gpa / 4096; write && p <= (gpa + n - 1) / 4096; p++)
		e->dirty[p] = true;
	return n;
}

/* ---- The disk. */

uint8_t vbt_disk_pattern(size_t i)
{
	return (uint8_t)(i * 31 + (i >> 9) * 7 + 1);
}

static int disk_io(struct vbt_env *e, uint64_t sector, const struct vblk_iov *iov, unsigned n,
		   bool write)
{
	uint64_t at = sector * 512;

	cr_assert_gt(n, 0u, "no empty transfers");
	cr_assert_leq(n, (unsigned)VBLK_IOV_BATCH);
	e->last_niov = n;
	e->max_niov = n > e->max_niov ? n : e->max_niov;
	for (unsigned i = 0; i < n; i++) {
		cr_assert_eq(iov[i].len % 512, 0, "piece %u: %zu bytes", i, iov[i].len);
		cr_assert_leq(at + iov[i].len, sizeof(e->disk), "beyond the disk");
		uint8_t *ram_lo = e->ram, *p = iov[i].data;
		cr_assert(p >= ram_lo && p + iov[i].len <= ram_lo + VBT_RAM_SIZE, "not guest RAM");
		if (write)
			memcpy(e->disk + at, p, iov[i].len);
		else
			memcpy(p, e->disk + at, iov[i].len);
		at += iov[i].len;
	}
	return 0;
}

static int disk_read(void *ctx, uint64_t sector, const struct vblk_iov *iov, unsigned n)
{
	struct vbt_env *e = ctx;

	e->reads++;
	return e->fail_read ? -1 : disk_io(e, sector, iov, n, false);
}

static int disk_write(void *ctx, uint64_t sector, const struct vblk_iov *iov, unsigned n)
{
	struct vbt_env *e = ctx;

	e->writes++;
	return e->fail_write ? -1 : disk_io(e, sector, iov, n, true);
}

static int disk_flush(void *ctx)
{
	struct vbt_env *e = ctx;

	e->flushes++;
	return e->fail_flush ? -1 : 0;
}

static void set_line(void *ctx, unsigned line, bool level)
{
	struct vbt_env *e = ctx;

	cr_assert_eq(line, 11u);
	e->line_changes += level != e->line;
	e->line_calls++;
	e->line = level;
}

void vbt_setup(bool read_only, bool scattered)
{
	size_t size = (sizeof(*vbt) + 4095) & ~(size_t)4095;
	vbt = aligned_alloc(4096, size);
	cr_assert(vbt);
	memset(vbt, 0, size);
	vbt->scattered = scattered;
	for (size_t i = 0; i < sizeof(vbt->disk); i++)
		vbt->disk[i] = vbt_disk_pattern(i);
	struct vblk_mem mem = { map, vbt };
	struct vblk_backend backend = { .read = disk_read, .write = disk_write, .flush = disk_flush,
				       .ctx = vbt };
	struct irq_line irq = { set_line, vbt, 11 };
	vblk_init(&vbt->dev, VBT_DISK_SECTORS, read_only, "vbt-serial-0001", &mem, &backend, &irq);
	vpci_init(&vbt->bus);
	cr_assert(vpci_register(&vbt->bus, VBT_SLOT, 0, &vbt->dev.pci, &vblk_pci_ops, &vbt->dev));
}

void vbt_teardown(void)
{
	free(vbt);
	vbt = NULL;
}

/* ---- PCI configuration, as mechanism #1. */

uint32_t vbt_cfg_read(unsigned reg, unsigned width)
{
	uint32_t v = 0xdeadbeef;

	cr_assert(vpci_io_write(&vbt->bus, 0, 4, 0x80000000u | VBT_SLOT << 11 | (reg & 0xfc)));
	cr_assert(vpci_io_read(&vbt->bus, 4 + (reg & 3), width, &v));
	return v;
}

void vbt_cfg_write(unsigned reg, unsigned width, uint32_t v)
{
	cr_assert(vpci_io_write(&vbt->bus, 0, 4, 0x80000000u | VBT_SLOT << 11 | (reg & 0xfc)));
	cr_assert(vpci_io_write(&vbt->bus, 4 + (reg & 3), width, v));
}

/* 4.1.4: vendor capabilities with cfg_type, bar, offset, length. */
void vbt_probe(void)
{
	unsigned found = 0;

	cr_assert(vbt_cfg_read(PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	for (unsigned at = vbt_cfg_read(PCI_CAPABILITY_LIST, 1), hops = 0; at; hops++) {
		cr_assert_lt(hops, 48u, "the capability list ends");
		cr_assert_eq(at & 3, 0u);
		if (vbt_cfg_read(at, 1) == PCI_CAP_ID_VENDOR) {
			unsigned type = vbt_cfg_read(at + 3, 1);
			uint64_t off = vbt_cfg_read(at + 8, 4);
			if (type != 5) /* the PCI configuration window names no BAR yet */
				cr_assert_eq(vbt_cfg_read(at + 4, 1),
					     (uint32_t)(type == 2 ? VBLK_NOTIFY_BAR : VBLK_BAR));
			if (type == 1) vbt->common = off;
			if (type == 2) {
				vbt->notify = off;
				vbt->notify_multiplier = vbt_cfg_read(at + 16, 4);
			}
			if (type == 3) vbt->isr = off;
			if (type == 4) vbt->device = off;
			found |= 1u << type;
		}
		at = vbt_cfg_read(at + 1, 1);
	}
	cr_assert_eq(found, 0x3e, "common, notify, ISR, device and PCI configuration capabilities");
	vbt_cfg_write(PCI_BAR0 + 4 * VBLK_BAR, 4, 0xffffffff);
	vbt_cfg_write(PCI_BAR0 + 4 * VBLK_BAR + 4, 4, 0xffffffff);
	cr_assert_eq(vbt_cfg_read(PCI_BAR0 + 4 * VBLK_BAR, 4), 0xffffc004, "16 KiB, 64-bit");
	cr_assert_eq(vbt_cfg_read(PCI_BAR0 + 4 * VBLK_BAR + 4, 4), 0xffffffff);
	vbt_cfg_write(PCI_BAR0 + 4 * VBLK_BAR, 4, (uint32_t)VBT_BAR_ADDR);
	vbt_cfg_write(PCI_BAR0 + 4 * VBLK_BAR + 4, 4, (uint32_t)(VBT_BAR_ADDR >> 32));
	/* The notify BAR: 4 ports of I/O space. */
	vbt_cfg_write(PCI_BAR0 + 4 * VBLK_NOTIFY_BAR, 4, 0xffffffff);
	cr_assert_eq(vbt_cfg_read(PCI_BAR0 + 4 * VBLK_NOTIFY_BAR, 4), 0xfffffffd, "4 ports");
	vbt_cfg_write(PCI_BAR0 + 4 * VBLK_NOTIFY_BAR, 4, VBT_NOTIFY_PORT);
	vbt_cfg_write(PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	uint64_t addr;
	bool on;
	cr_assert(vpci_config_bar(&vbt->dev.pci, VBLK_BAR, &addr, &on));
	cr_assert_eq(addr, VBT_BAR_ADDR);
	cr_assert(on);
	cr_assert(vpci_config_bar(&vbt->dev.pci, VBLK_NOTIFY_BAR, &addr, &on));
	cr_assert_eq(addr, VBT_NOTIFY_PORT);
	cr_assert(on);
}

uint64_t vbt_read(uint64_t off, unsigned width)
{
	return vblk_bar_read(&vbt->dev, off, width);
}

void vbt_write(uint64_t off, unsigned width, uint64_t v)
{
	vblk_bar_write(&vbt->dev, off, width, v);
}

uint64_t vbt_common_read(unsigned off, unsigned width)
{
	return vbt_read(vbt->common + off, width);
}

void vbt_common_write(unsigned off, unsigned width, uint64_t v)
{
	vbt_write(vbt->common + off, width, v);
}

/* 3.1.1, steps 1-6. */
uint8_t vbt_negotiate(uint64_t features)
{
	vbt_common_write(0x14, 1, 0);
	cr_assert_eq(vbt_common_read(0x14, 1), 0);
	vbt_common_write(0x14, 1, VBLK_S_ACKNOWLEDGE);
	vbt_common_write(0x14, 1, VBLK_S_ACKNOWLEDGE | VBLK_S_DRIVER);
	vbt_common_write(0x08, 4, 0);
	vbt_common_write(0x0c, 4, (uint32_t)features);
	vbt_common_write(0x08, 4, 1);
	vbt_common_write(0x0c, 4, (uint32_t)(features >> 32));
	vbt_common_write(0x14, 1, VBLK_S_ACKNOWLEDGE | VBLK_S_DRIVER | VBLK_S_FEATURES_OK);
	return (uint8_t)vbt_common_read(0x14, 1);
}

void vbt_start(uint16_t qsize)
{
	uint8_t s = vbt_negotiate(VBLK_F_VERSION_1 | VBLK_F_FLUSH);

	cr_assert_eq(s, VBLK_S_ACKNOWLEDGE | VBLK_S_DRIVER | VBLK_S_FEATURES_OK);
	vbt_common_write(0x16, 2, 0);
	cr_assert_eq(vbt_common_read(0x18, 2), VBLK_QUEUE_MAX);
	vbt_common_write(0x18, 2, qsize);
	cr_assert_eq(vbt_common_read(0x18, 2), qsize);
	vbt_common_write(0x20, 4, VBT_DESC);
	vbt_common_write(0x24, 4, 0);
	vbt_common_write(0x28, 4, VBT_AVAIL);
	vbt_common_write(0x2c, 4, 0);
	vbt_common_write(0x30, 4, VBT_USED);
	vbt_common_write(0x34, 4, 0);
	vbt_common_write(0x1c, 2, 1);
	cr_assert_eq(vbt_common_read(0x1c, 2), 1);
	vbt_common_write(0x14, 1, s | VBLK_S_DRIVER_OK);
	vbt->qsize = qsize;
	vbt->next_desc = vbt->avail_idx = vbt->used_seen = 0;
}

/* ---- Requests. */

void vbt_make_available(uint16_t head)
{
	vbt_put16(VBT_AVAIL + 4 + 2u * (vbt->avail_idx % vbt->qsize), head);
	vbt->avail_idx++;
	vbt_put16(VBT_AVAIL + 2, vbt->avail_idx);
}

void vbt_notify(void)
{
	/* queue 0 at queue_notify_off 0, in the I/O BAR the capability names */
	vblk_io_write(&vbt->dev, (unsigned)vbt->notify, 2, 0);
}

void vbt_put_desc(uint16_t index, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint64_t gpa = VBT_DESC + 16u * index;

	put64(gpa, addr);
	put32(gpa + 8, len);
	vbt_put16(gpa + 12, flags);
	vbt_put16(gpa + 14, next);
}

uint16_t vbt_submit(const struct vbt_desc *d, unsigned n)
{
	uint16_t head = vbt->next_desc % vbt->qsize;

	for (unsigned i = 0; i < n; i++) {
		uint16_t at = (uint16_t)((vbt->next_desc + i) % vbt->qsize);
		uint16_t next = (uint16_t)((vbt->next_desc + i + 1) % vbt->qsize);
		bool more = i + 1 < n;
		uint16_t flags = (uint16_t)(d[i].flags | (more ? VBT_F_NEXT : 0));
		vbt_put_desc(at, d[i].addr, d[i].len, flags, more ? next : 0);
	}
	vbt->next_desc = (uint16_t)(vbt->next_desc + n);
	vbt_make_available(head);
	vbt_notify();
	return head;
}

uint16_t vbt_used_idx(void)
{
	return vbt_get16(VBT_USED + 2);
}

void vbt_used(uint16_t *id, uint32_t *len)
{
	cr_assert_neq(vbt_used_idx(), vbt->used_seen, "no used element");
	uint64_t elem = VBT_USED + 4 + 8u * (vbt->used_seen % vbt->qsize);
	*id = (uint16_t)vbt_get32(elem);
	*len = vbt_get32(elem + 4);
	vbt->used_seen++;
}

uint8_t vbt_request(uint32_t type, uint64_t sector, uint32_t len, uint32_t *used_len)
{
	uint8_t header[16] = { 0 };
	struct vbt_desc d[3];
	unsigned n = 0;
	uint16_t id;

	memcpy(header, &type, 4);
	memcpy(header + 8, &sector, 8);
	vbt_fill(VBT_HDR, header, sizeof(header));
	*vbt_gpa(VBT_STATUS) = 0xee;
	d[n++] = (struct vbt_desc){ VBT_HDR, 16, 0 };
	if (len)
		d[n++] = (struct vbt_desc){ VBT_DATA, len, type == 1 ? 0 : VBT_F_WRITE };
	d[n++] = (struct vbt_desc){ VBT_STATUS, 1, VBT_F_WRITE };
	uint16_t head = vbt_submit(d, n);
	vbt_used(&id, used_len);
	cr_assert_eq(id, head);
	return *vbt_gpa(VBT_STATUS);
}
