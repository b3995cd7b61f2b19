/* The virtio-blk model's requests: read, write, flush and GET_ID round
 * trips, requests outside the disk, malformed chains of every kind (each
 * answered, counted, and nothing written outside the driver's buffers),
 * an unparseable available index, interrupt suppression, a read-only
 * disk, backend failures, and data scattered over host pages. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "hv/vdev/virtio_blk.h"
#include "test_virtio_blk_harness.h"

enum { T_IN = 0, T_OUT = 1, T_FLUSH = 4, T_GET_ID = 8 };
enum { S_OK = 0, S_IOERR = 1, S_UNSUPP = 2, S_UNTOUCHED = 0xee };

static void start(bool ro, bool scattered, uint16_t qsize)
{
	vbt_setup(ro, scattered);
	vbt_probe();
	vbt_start(qsize);
}

static void plain(void)
{
	start(false, false, 16);
}

TestSuite(vblk_queue, .init = plain, .fini = vbt_teardown);
TestSuite(vblk_queue_other, .fini = vbt_teardown);

static void fill_pattern(uint64_t gpa, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		*vbt_gpa(gpa + i) = (uint8_t)(seed + i * 13 + (i >> 8));
}

static bool disk_holds(size_t sector, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		if (vbt->disk[sector * 512 + i] != (uint8_t)(seed + i * 13 + (i >> 8)))
			return false;
	return true;
}

static bool disk_untouched(void)
{
	for (size_t i = 0; i < sizeof(vbt->disk); i++)
		if (vbt->disk[i] != vbt_disk_pattern(i))
			return false;
	return true;
}

Test(vblk_queue, write_then_read)
{
	uint32_t len;

	fill_pattern(VBT_DATA, 4096, 7);
	cr_assert_eq(vbt_request(T_OUT, 100, 4096, &len), S_OK);
	cr_assert_eq(len, 1, "only the status byte was written");
	cr_assert(disk_holds(100, 4096, 7));
	cr_assert_eq(vbt->disk[99 * 512 + 511], vbt_disk_pattern(99 * 512 + 511), "before");
	cr_assert_eq(vbt->disk[108 * 512], vbt_disk_pattern(108 * 512), "after");
	memset(vbt_gpa(VBT_DATA), 0, 8192);
	cr_assert_eq(vbt_request(T_IN, 100, 4096, &len), S_OK);
	cr_assert_eq(len, 4097, "data and status");
	for (size_t i = 0; i < 4096; i++)
		cr_assert_eq(*vbt_gpa(VBT_DATA + i), (uint8_t)(7 + i * 13 + (i >> 8)));
	cr_assert_eq(*vbt_gpa(VBT_DATA + 4096), 0, "nothing past the buffer");
	cr_assert(vbt->dirty[VBT_DATA / 4096], "the read's pages are logged dirty");
	cr_assert_eq(vbt_request(T_IN, VBT_DISK_SECTORS - 1, 512, &len), S_OK, "the last sector");
	const struct vblk_stats *s = &vbt->dev.stats;
	cr_assert_eq(s->reads, 2);
	cr_assert_eq(s->writes, 1);
	cr_assert_eq(s->read_bytes, 4608);
	cr_assert_eq(s->write_bytes, 4096);
	cr_assert_eq(s->notifies, 3);
	cr_assert_eq(s->interrupts, 3);
	cr_assert_eq(s->bad_requests + s->io_errors + s->bad_accesses, 0);
	cr_assert_eq(vbt->dev.used_idx, 3);
}

Test(vblk_queue, flush_and_get_id)
{
	uint32_t len;

	cr_assert_eq(vbt_request(T_FLUSH, 0, 0, &len), S_OK);
	cr_assert_eq(len, 1);
	cr_assert_eq(vbt->flushes, 1u);
	memset(vbt_gpa(VBT_DATA), 0xff, 32);
	cr_assert_eq(vbt_request(T_GET_ID, 0, 512, &len), S_OK);
	cr_assert_eq(len, 21, "20 ID bytes and the status");
	char id[21] = { 0 };
	vbt_copy(id, VBT_DATA, 20);
	cr_assert_str_eq(id, "vbt-serial-0001");
	cr_assert_eq(*vbt_gpa(VBT_DATA + 15), 0, "NUL-padded");
	cr_assert_eq(*vbt_gpa(VBT_DATA + 19), 0);
	cr_assert_eq(*vbt_gpa(VBT_DATA + 20), 0xff, "20 bytes only");
	cr_assert_eq(vbt_request(T_GET_ID, 0, 8, &len), S_OK, "a short buffer gets what fits");
	cr_assert_eq(len, 9);
	cr_assert_eq(vbt->dev.stats.flushes, 1);
	cr_assert_eq(vbt->dev.stats.get_ids, 2);
	vbt->fail_flush = true;
	cr_assert_eq(vbt_request(T_FLUSH, 0, 0, &len), S_IOERR);
	cr_assert_eq(vbt->dev.stats.io_errors, 1);
}

Test(vblk_queue_other, twenty_byte_serial)
{
	struct vblk *d;

	start(false, false, 8);
	d = &vbt->dev;
	struct vblk_mem mem = d->mem;
	struct vblk_backend be = d->backend;
	struct irq_line irq = d->irq;
	vblk_init(d, VBT_DISK_SECTORS, false, "0123456789abcdefghijKLMN", &mem, &be, &irq);
	vbt_probe();
	vbt_start(8);
	uint32_t len;
	cr_assert_eq(vbt_request(T_GET_ID, 0, 512, &len), S_OK);
	char id[21] = { 0 };
	vbt_copy(id, VBT_DATA, 20);
	cr_assert_str_eq(id, "0123456789abcdefghij", "20 bytes, no terminator");
}

Test(vblk_queue, outside_the_disk)
{
	uint32_t len;

	cr_assert_eq(vbt_request(T_IN, VBT_DISK_SECTORS, 512, &len), S_IOERR);
	cr_assert_eq(len, 1);
	cr_assert_eq(vbt_request(T_IN, VBT_DISK_SECTORS - 1, 1024, &len), S_IOERR, "runs past");
	cr_assert_eq(vbt_request(T_OUT, ~0ull, 512, &len), S_IOERR, "wraps");
	cr_assert_eq(vbt_request(T_OUT, ~0ull - 1, 1024, &len), S_IOERR);
	cr_assert_eq(vbt->reads + vbt->writes, 0u, "the backend never sees them");
	cr_assert_eq(vbt->dev.stats.bad_requests, 4);
	cr_assert(disk_untouched());
	fill_pattern(VBT_DATA, 512, 3);
	cr_assert_eq(vbt_request(T_OUT, 5, 512, &len), S_OK, "the next request works");
	cr_assert(disk_holds(5, 512, 3));
}

Test(vblk_queue, unsupported_and_odd_lengths)
{
	uint32_t len;

	cr_assert_eq(vbt_request(11, 0, 512, &len), S_UNSUPP, "discard: not offered");
	cr_assert_eq(len, 1);
	cr_assert_eq(vbt_request(0x80000000u, 0, 0, &len), S_UNSUPP);
	cr_assert_eq(vbt_request(T_IN, 0, 511, &len), S_IOERR);
	cr_assert_eq(vbt_request(T_OUT, 0, 700, &len), S_IOERR);
	cr_assert_eq(vbt->dev.stats.bad_requests, 4);
	cr_assert(disk_untouched());
}

/* ---- Malformed chains: nothing outside the buffers changes. */

static uint8_t *snapshot;

static void take_snapshot(void)
{
	snapshot = malloc(VBT_RAM_SIZE);
	cr_assert(snapshot);
	vbt_copy(snapshot, 0, VBT_RAM_SIZE);
}

/* Every byte but the driver's descriptor table and available ring (the
 * test writes them), the used ring (16 entries) and the allowed range
 * [allow, allow + allow_len) is as before. */
static void assert_only_changed(uint64_t allow, size_t allow_len)
{
	for (uint64_t a = 0; a < VBT_RAM_SIZE; a++) {
		if ((a >= allow && a < allow + allow_len) || (a >= VBT_DESC && a < VBT_USED) ||
		    (a >= VBT_USED && a < VBT_USED + 4 + 8 * 16))
			continue;
		cr_assert_eq(*vbt_gpa(a), snapshot[a], "byte 0x%llx changed",
			     (unsigned long long)a);
	}
	free(snapshot);
}

/* Submits a raw chain; returns the used length. */
static uint32_t submit_raw(const struct vbt_desc *d, unsigned n)
{
	uint16_t id;
	uint32_t len;
	uint16_t head = vbt_submit(d, n);

	vbt_used(&id, &len);
	cr_assert_eq(id, head);
	return len;
}

static void put_header(uint32_t type, uint64_t sector)
{
	uint8_t h[16] = { 0 };

	memcpy(h, &type, 4);
	memcpy(h + 8, &sector, 8);
	vbt_fill(VBT_HDR, h, 16);
	*vbt_gpa(VBT_STATUS) = S_UNTOUCHED;
}

Test(vblk_queue, header_too_short)
{
	put_header(T_IN, 0);
	take_snapshot();
	struct vbt_desc d[] = { { VBT_HDR, 7, 0 }, { VBT_STATUS, 1, VBT_F_WRITE } };
	cr_assert_eq(submit_raw(d, 2), 1);
	cr_assert_eq(*vbt_gpa(VBT_STATUS), S_IOERR);
	assert_only_changed(VBT_STATUS, 1);
	cr_assert_eq(vbt->dev.stats.bad_requests, 1);
}

/* 2.6.4: any framing. The header in two pieces, data and status in one. */
Test(vblk_queue, any_layout)
{
	put_header(T_IN, 10);
	struct vbt_desc d[] = { { VBT_HDR, 4, 0 }, { VBT_HDR + 4, 12, 0 },
				{ VBT_DATA, 513, VBT_F_WRITE } };
	cr_assert_eq(submit_raw(d, 3), 513);
	cr_assert_eq(*vbt_gpa(VBT_DATA + 512), S_OK, "the status is the last writable byte");
	for (size_t i = 0; i < 512; i++)
		cr_assert_eq(*vbt_gpa(VBT_DATA + i), vbt_disk_pattern(10 * 512 + i));
}

Test(vblk_queue, status_not_writable)
{
	put_header(T_FLUSH, 0);
	take_snapshot();
	struct vbt_desc d[] = { { VBT_HDR, 16, 0 }, { VBT_STATUS, 1, 0 } };
	cr_assert_eq(submit_raw(d, 2), 0, "no status: a used length of 0");
	assert_only_changed(0, 0);
	cr_assert_eq(vbt->flushes, 0u, "and nothing done");
	cr_assert_eq(vbt->dev.stats.bad_requests, 1);
	struct vbt_desc z[] = { { VBT_HDR, 16, 0 }, { VBT_STATUS, 0, VBT_F_WRITE } };
	cr_assert_eq(submit_raw(z, 2), 0, "a zero-length status");
	cr_assert_eq(vbt->dev.stats.bad_requests, 2);
}

Test(vblk_queue, loop)
{
	uint16_t id;
	uint32_t len;

	put_header(T_IN, 0);
	struct vbt_desc d[] = { { VBT_HDR, 16, 0 }, { VBT_DATA, 512, VBT_F_WRITE },
				{ VBT_STATUS, 1, VBT_F_WRITE } };
	vbt_submit(d, 3);
	vbt_used(&id, &len);
	cr_assert_eq(len, 513, "well-formed the first time");
	/* Now 0 -> 1 -> 2 -> 1 -> 2 ... */
	vbt_put_desc(2, VBT_STATUS, 1, VBT_F_WRITE | VBT_F_NEXT, 1);
	*vbt_gpa(VBT_STATUS) = S_UNTOUCHED;
	take_snapshot();
	vbt_make_available(0);
	vbt_notify();
	vbt_used(&id, &len);
	cr_assert_eq(id, 0);
	cr_assert_eq(len, 0);
	assert_only_changed(0, 0);
	cr_assert_eq(vbt->dev.stats.bad_requests, 1);
	cr_assert_eq(vbt->reads, 1u, "only the first, well-formed one");
}

Test(vblk_queue, index_out_of_range)
{
	uint16_t id;
	uint32_t len;

	put_header(T_IN, 0);
	vbt_put_desc(0, VBT_HDR, 16, VBT_F_NEXT, 16); /* next = the queue size */
	take_snapshot();
	vbt_make_available(0);
	vbt_notify();
	vbt_used(&id, &len);
	cr_assert_eq(id, 0);
	cr_assert_eq(len, 0);
	vbt_make_available(200); /* a head past the queue */
	vbt_notify();
	vbt_used(&id, &len);
	cr_assert_eq(id, 200, "the used element names what the driver gave");
	cr_assert_eq(len, 0);
	assert_only_changed(0, 0);
	cr_assert_eq(vbt->dev.stats.bad_requests, 2);
	cr_assert_eq(vbt->reads, 0u);
}

Test(vblk_queue, outside_ram)
{
	vbt->hole_start = 0x80000;
	vbt->hole_end = 0x90000;
	put_header(T_IN, 0);
	take_snapshot();
	struct vbt_desc d[] = { { VBT_HDR, 16, 0 }, { 0x7f000, 0x2000, VBT_F_WRITE },
				{ VBT_STATUS, 1, VBT_F_WRITE } };
	cr_assert_eq(submit_raw(d, 3), 1, "data runs into the hole");
	cr_assert_eq(*vbt_gpa(VBT_STATUS), S_IOERR);
	assert_only_changed(VBT_STATUS, 1);
	cr_assert_eq(vbt->reads, 0u, "checked before any I/O");
	struct vbt_desc w[] = { { VBT_HDR, 16, 0 }, { 0x90000 - 512, 512, VBT_F_WRITE },
				{ 0x85000, 1, VBT_F_WRITE } };
	put_header(T_IN, 0);
	take_snapshot();
	cr_assert_eq(submit_raw(w, 3), 0, "the status in the hole");
	assert_only_changed(0, 0);
	struct vbt_desc h[] = { { 0x8fff8, 16, 0 }, { VBT_STATUS, 1, VBT_F_WRITE } };
	cr_assert_eq(submit_raw(h, 2), 1, "the header half in the hole");
	cr_assert_eq(*vbt_gpa(VBT_STATUS), S_IOERR);
	struct vbt_desc e[] = { { VBT_HDR, 16, 0 }, { VBT_RAM_SIZE - 512, 1024, VBT_F_WRITE },
				{ VBT_STATUS, 1, VBT_F_WRITE } };
	cr_assert_eq(submit_raw(e, 3), 1, "past the end of RAM");
	struct vbt_desc x[] = { { VBT_HDR, 16, 0 }, { ~0ull - 511, 1024, VBT_F_WRITE },
				{ VBT_STATUS, 1, VBT_F_WRITE } };
	cr_assert_eq(submit_raw(x, 3), 1, "wrapping the address space");
	cr_assert_eq(vbt->dev.stats.bad_requests, 5);
	cr_assert_eq(vbt->reads, 0u);
}

Test(vblk_queue, wrong_direction)
{
	uint8_t before[512];

	put_header(T_IN, 0);
	struct vbt_desc rd[] = { { VBT_HDR, 16, 0 }, { VBT_DATA, 512, 0 },
				 { VBT_STATUS, 1, VBT_F_WRITE } };
	vbt_copy(before, VBT_DATA, 512);
	cr_assert_eq(submit_raw(rd, 3), 1, "a read into a device-readable buffer");
	cr_assert_eq(*vbt_gpa(VBT_STATUS), S_IOERR);
	uint8_t after[512];
	vbt_copy(after, VBT_DATA, 512);
	cr_assert_eq(memcmp(before, after, 512), 0);
	put_header(T_OUT, 0);
	struct vbt_desc wr[] = { { VBT_HDR, 16, 0 }, { VBT_DATA, 512, VBT_F_WRITE },
				 { VBT_STATUS, 1, VBT_F_WRITE } };
	cr_assert_eq(submit_raw(wr, 3), 1, "a write from a device-writable buffer");
	cr_assert_eq(*vbt_gpa(VBT_STATUS), S_IOERR);
	/* 2.7.4.2: readable after writable. */
	put_header(T_OUT, 0);
	struct vbt_desc mix[] = { { VBT_HDR, 16, 0 }, { VBT_STATUS, 1, VBT_F_WRITE },
				  { VBT_DATA, 512, 0 } };
	cr_assert_eq(submit_raw(mix, 3), 0);
	cr_assert_eq(*vbt_gpa(VBT_STATUS), S_UNTOUCHED);
	cr_assert_eq(vbt->dev.stats.bad_requests, 3);
	cr_assert(disk_untouched());
}

Test(vblk_queue, indirect)
{
	put_header(T_IN, 0);
	take_snapshot();
	struct vbt_desc d[] = { { VBT_HDR, 16, 0 }, { VBT_DATA, 48, VBT_F_INDIRECT },
				{ VBT_STATUS, 1, VBT_F_WRITE } };
	cr_assert_eq(submit_raw(d, 3), 0, "not offered: malformed");
	assert_only_changed(0, 0);
	cr_assert_eq(vbt->dev.stats.bad_requests, 1);
}

Test(vblk_queue_other, chain_too_long)
{
	start(false, false, 256);
	static struct vbt_desc d[VBLK_CHAIN_MAX + 1];
	put_header(T_OUT, 0);
	d[0] = (struct vbt_desc){ VBT_HDR, 16, 0 };
	for (unsigned i = 1; i < VBLK_CHAIN_MAX; i++)
		d[i] = (struct vbt_desc){ VBT_DATA, 512, 0 };
	d[VBLK_CHAIN_MAX - 1] = (struct vbt_desc){ VBT_STATUS, 1, VBT_F_WRITE };
	cr_assert_eq(submit_raw(d, VBLK_CHAIN_MAX), 1, "126 data descriptors are fine");
	cr_assert_eq(*vbt_gpa(VBT_STATUS), S_OK);
	cr_assert_eq(vbt->dev.stats.write_bytes, 126 * 512);
	d[VBLK_CHAIN_MAX - 1] = (struct vbt_desc){ VBT_DATA, 512, 0 };
	d[VBLK_CHAIN_MAX] = (struct vbt_desc){ VBT_STATUS, 1, VBT_F_WRITE };
	*vbt_gpa(VBT_STATUS) = S_UNTOUCHED;
	cr_assert_eq(submit_raw(d, VBLK_CHAIN_MAX + 1), 0, "127 are not");
	cr_assert_eq(*vbt_gpa(VBT_STATUS), S_UNTOUCHED);
	cr_assert_eq(vbt->dev.stats.bad_requests, 1);
}

/* A loop in a small queue is caught by the queue size (2.7.5.3.1). */
Test(vblk_queue_other, loop_in_small_queue)
{
	uint16_t id;
	uint32_t len;

	start(false, false, 4);
	put_header(T_FLUSH, 0);
	for (uint16_t i = 0; i < 4; i++)
		vbt_put_desc(i, VBT_HDR, 16, VBT_F_NEXT, (uint16_t)((i + 1) % 4));
	vbt_make_available(0);
	vbt_notify();
	vbt_used(&id, &len);
	cr_assert_eq(len, 0);
	cr_assert_eq(vbt->dev.stats.bad_requests, 1);
	cr_assert_eq(vbt->flushes, 0u);
}

/* ---- The available index, notifications, interrupts. */

Test(vblk_queue, avail_index_jump)
{
	put_header(T_FLUSH, 0);
	vbt_put16(VBT_AVAIL + 2, 17); /* a 16-entry queue */
	vbt_notify();
	cr_assert_eq(vbt_used_idx(), 0, "nothing processed");
	cr_assert_eq(vbt_common_read(0x14, 1), 0x4f, "DEVICE_NEEDS_RESET");
	cr_assert(vbt->line);
	cr_assert_eq(vbt_read(vbt->isr, 1), VBLK_ISR_CONFIG);
	cr_assert_eq(vbt->dev.stats.needs_reset, 1);
	/* The driver's status writes keep the bit; nothing runs until reset. */
	vbt_common_write(0x14, 1, 0x0f);
	cr_assert_eq(vbt_common_read(0x14, 1), 0x4f);
	vbt_put16(VBT_AVAIL + 2, 1);
	vbt_notify();
	cr_assert_eq(vbt_used_idx(), 0);
	vbt_start(16);
	vbt_put16(VBT_AVAIL + 2, 0);
	uint32_t len;
	cr_assert_eq(vbt_request(T_FLUSH, 0, 0, &len), S_OK, "after a reset");
}

Test(vblk_queue, exactly_a_queue_ahead)
{
	put_header(T_FLUSH, 0);
	for (uint16_t head = 0; head < 16; head += 2) {
		vbt_put_desc(head, VBT_HDR, 16, VBT_F_NEXT, (uint16_t)(head + 1));
		vbt_put_desc((uint16_t)(head + 1), VBT_STATUS, 1, VBT_F_WRITE, 0);
	}
	for (unsigned i = 0; i < 16; i++)
		vbt_make_available((uint16_t)(2 * (i % 8))); /* each chain twice */
	vbt_notify();
	cr_assert_eq(vbt_used_idx(), 16, "a full queue is fine");
	cr_assert_eq(vbt->flushes, 16u);
	cr_assert_eq(vbt->dev.stats.interrupts, 1, "one interrupt for the batch");
	cr_assert_eq(vbt->dev.stats.needs_reset, 0);
}

Test(vblk_queue, no_interrupt_flag)
{
	uint32_t len;

	vbt_put16(VBT_AVAIL, 1); /* VIRTQ_AVAIL_F_NO_INTERRUPT */
	cr_assert_eq(vbt_request(T_FLUSH, 0, 0, &len), S_OK);
	cr_assert_not(vbt->line);
	cr_assert_eq(vbt_read(vbt->isr, 1), 0);
	cr_assert_eq(vbt->dev.stats.interrupts, 0);
	vbt_put16(VBT_AVAIL, 0);
	cr_assert_eq(vbt_request(T_FLUSH, 0, 0, &len), S_OK);
	cr_assert(vbt->line);
}

Test(vblk_queue_other, nothing_before_driver_ok)
{
	vbt_setup(false, false);
	vbt_probe();
	vbt_start(16);
	vbt_common_write(0x14, 1, 0x0b); /* DRIVER_OK taken back */
	put_header(T_FLUSH, 0);
	struct vbt_desc d[] = { { VBT_HDR, 16, 0 }, { VBT_STATUS, 1, VBT_F_WRITE } };
	vbt_submit(d, 2);
	cr_assert_eq(vbt_used_idx(), 0);
	cr_assert_eq(vbt->dev.stats.notifies, 1);
	vbt_common_write(0x14, 1, 0x0f);
	vbt_notify();
	cr_assert_eq(vbt_used_idx(), 1, "taken once DRIVER_OK is back");
	vbt_write(vbt->notify, 2, 1);
	cr_assert_eq(vbt->dev.stats.bad_accesses, 1, "queue 1 does not exist");
}

Test(vblk_queue, rings_outside_ram)
{
	vbt->hole_start = VBT_USED;
	vbt->hole_end = VBT_USED + 0x1000;
	put_header(T_FLUSH, 0);
	struct vbt_desc d[] = { { VBT_HDR, 16, 0 }, { VBT_STATUS, 1, VBT_F_WRITE } };
	vbt_submit(d, 2);
	cr_assert_eq(vbt_common_read(0x14, 1) & VBLK_S_NEEDS_RESET, VBLK_S_NEEDS_RESET);
	cr_assert_eq(vbt->dev.last_avail, vbt->dev.used_idx, "nothing half-taken");
}

/* ---- Read-only disks, backend errors, host pieces. */

Test(vblk_queue_other, read_only)
{
	uint32_t len;

	start(true, false, 16);
	fill_pattern(VBT_DATA, 1024, 9);
	cr_assert_eq(vbt_request(T_OUT, 0, 1024, &len), S_IOERR);
	cr_assert_eq(vbt->writes, 0u);
	cr_assert(disk_untouched());
	cr_assert_eq(vbt_request(T_IN, 0, 1024, &len), S_OK);
	cr_assert_eq(vbt_request(T_FLUSH, 0, 0, &len), S_OK);
	cr_assert_eq(vbt->dev.stats.bad_requests, 1);
}

Test(vblk_queue, backend_errors)
{
	uint32_t len;

	vbt->fail_read = true;
	cr_assert_eq(vbt_request(T_IN, 0, 512, &len), S_IOERR);
	cr_assert_eq(len, 1);
	vbt->fail_read = false;
	vbt->fail_write = true;
	cr_assert_eq(vbt_request(T_OUT, 0, 512, &len), S_IOERR);
	cr_assert_eq(vbt->dev.stats.io_errors, 2);
	cr_assert_eq(vbt->dev.stats.bad_requests, 0);
	vbt->fail_write = false;
	cr_assert_eq(vbt_request(T_OUT, 0, 512, &len), S_OK);
}

Test(vblk_queue_other, scattered_pages)
{
	uint32_t len;

	start(false, true, 16);
	fill_pattern(VBT_DATA, 16384, 5);
	cr_assert_eq(vbt_request(T_OUT, 64, 16384, &len), S_OK);
	cr_assert_eq(vbt->last_niov, 4u, "one piece per host page");
	cr_assert(disk_holds(64, 16384, 5));
	memset(vbt_gpa(VBT_DATA), 0, 4096);
	cr_assert_eq(vbt_request(T_IN, 64, 16384, &len), S_OK);
	for (size_t i = 0; i < 16384; i++)
		cr_assert_eq(*vbt_gpa(VBT_DATA + i), (uint8_t)(5 + i * 13 + (i >> 8)));
	/* Pieces that are not whole sectors are refused. */
	put_header(T_IN, 0);
	struct vbt_desc d[] = { { VBT_HDR, 16, 0 }, { VBT_DATA + 256, 4096, VBT_F_WRITE },
				{ VBT_STATUS, 1, VBT_F_WRITE } };
	cr_assert_eq(submit_raw(d, 3), 1);
	cr_assert_eq(*vbt_gpa(VBT_STATUS), S_IOERR);
}

/* More host pieces than one backend call takes: the request goes out in
 * batches, in order. */
Test(vblk_queue_other, batches)
{
	static struct vbt_desc d[VBLK_CHAIN_MAX];

	start(false, true, 256);
	put_header(T_OUT, 8);
	d[0] = (struct vbt_desc){ VBT_HDR, 16, 0 };
	for (unsigned i = 1; i <= VBLK_SEG_MAX; i++) {
		/* 4 KiB straddling two guest pages, which are not adjacent on
		 * the host: two pieces each. */
		uint64_t at = VBT_DATA + 0x800 + 0x1000ull * i;
		fill_pattern(at, 4096, (uint8_t)i);
		d[i] = (struct vbt_desc){ at, 4096, 0 };
	}
	d[VBLK_CHAIN_MAX - 1] = (struct vbt_desc){ VBT_STATUS, 1, VBT_F_WRITE };
	cr_assert_eq(submit_raw(d, VBLK_CHAIN_MAX), 1);
	cr_assert_eq(*vbt_gpa(VBT_STATUS), S_OK);
	cr_assert_eq(vbt->writes, 2u, "252 pieces: two calls");
	cr_assert_eq(vbt->max_niov, (unsigned)VBLK_IOV_BATCH);
	cr_assert_eq(vbt->last_niov, 252u - VBLK_IOV_BATCH);
	for (unsigned i = 1; i <= VBLK_SEG_MAX; i++)
		cr_assert(disk_holds(8 + 8 * (i - 1), 4096, (uint8_t)i), "descriptor %u", i);
	cr_assert_eq(vbt->dev.stats.write_bytes, VBLK_SEG_MAX * 4096);
}

/* One notify does at most VBLK_NOTIFY_REQUESTS requests: the rest stay
 * available (vblk_pending) until the VM's next turn (vblk_poll). */
Test(vblk_queue_other, a_notify_has_a_budget_and_poll_carries_on)
{
	enum { N = VBLK_NOTIFY_REQUESTS + 8 };
	const uint8_t flush_header[16] = { T_FLUSH };

	start(false, false, 128);
	vbt_fill(VBT_HDR, flush_header, sizeof(flush_header));
	for (uint16_t k = 0; k < N; k++) {
		vbt_put_desc((uint16_t)(2 * k), VBT_HDR, 16, VBT_F_NEXT, (uint16_t)(2 * k + 1));
		vbt_put_desc((uint16_t)(2 * k + 1), VBT_STATUS + k, 1, VBT_F_WRITE, 0);
		vbt_make_available((uint16_t)(2 * k));
	}
	vbt_notify();
	cr_assert_eq(vbt_used_idx(), VBLK_NOTIFY_REQUESTS);
	cr_assert(vblk_pending(&vbt->dev));
	vblk_poll(&vbt->dev);
	cr_assert_eq(vbt_used_idx(), N);
	cr_assert_not(vblk_pending(&vbt->dev));
	cr_assert_eq(vbt->dev.stats.flushes, N);
}

/* A backend that is not ready (a mirrored write not yet acknowledged)
 * leaves requests in the ring: pending, untouched, taken when it is. */
static bool backend_open;

static bool gate(void *ctx)
{
	(void)ctx;
	return backend_open;
}

Test(vblk_queue_other, a_backend_not_ready_leaves_requests_pending)
{
	start(false, false, 8);
	struct vblk *d = &vbt->dev;
	struct vblk_mem mem = d->mem;
	struct vblk_backend be = d->backend;
	struct irq_line irq = d->irq;
	be.ready = gate;
	vblk_init(d, VBT_DISK_SECTORS, false, "gate", &mem, &be, &irq);
	vbt_probe();
	vbt_start(8);
	backend_open = false;
	uint8_t header[16] = { 1 }; /* OUT, sector 0 */
	vbt_fill(VBT_HDR, header, sizeof(header));
	fill_pattern(VBT_DATA, 512, 9);
	*vbt_gpa(VBT_STATUS) = S_UNTOUCHED;
	struct vbt_desc chain[3] = { { VBT_HDR, 16, 0 }, { VBT_DATA, 512, 0 },
				     { VBT_STATUS, 1, VBT_F_WRITE } };
	vbt_submit(chain, 3);
	cr_assert_eq(vbt_used_idx(), 0, "not taken while the backend is busy");
	cr_assert(vblk_pending(d));
	cr_assert_eq(vbt->writes, 0u);
	vblk_poll(d);
	cr_assert_eq(vbt_used_idx(), 0);
	backend_open = true;
	vblk_poll(d);
	cr_assert_eq(vbt_used_idx(), 1, "taken once it is ready");
	cr_assert_eq(*vbt_gpa(VBT_STATUS), S_OK);
	cr_assert(disk_holds(0, 512, 9));
	cr_assert_not(vblk_pending(d));
}
