/* Migration stream codec: header, record framing with CRCs, page batches
 * with typed entries, the state records; and every kind of damage. */
#include <criterion/criterion.h>

#include "hv/lib/byteorder.h"
#include <stdlib.h>
#include <string.h>

#include "hv/lib/crc32c.h"
#include "migrate/disk_stream.h"
#include "migrate/state_codec.h"
#include "migrate/stream.h"

static char err[160];

Test(crc32c, known_vectors)
{
	cr_assert_eq(crc32c(0, "123456789", 9), 0xe3069283u);
	cr_assert_eq(crc32c(0, "", 0), 0);
	uint8_t zeros[32] = { 0 };
	cr_assert_eq(crc32c(0, zeros, 32), 0x8a9136aau); /* RFC 3720 B.4 */
	/* Continuation over pieces of any alignment equals one pass. */
	uint8_t buf[1000];
	for (int i = 0; i < 1000; i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	uint32_t whole = crc32c(0, buf, sizeof(buf));
	for (size_t cut = 0; cut <= 1000; cut += 37)
		cr_assert_eq(crc32c(crc32c(0, buf, cut), buf + cut, 1000 - cut), whole);
}

static struct mig_header sample_header(void)
{
	struct mig_header h = { .version = MIG_VERSION, .page_size = MIG_PAGE_SIZE,
				.source_id = 0x1122334455667788ull, .vm_uid = 42 };
	strcpy(h.source_name, "hv-a");
	return h;
}

Test(mig_stream, header_round_trip)
{
	struct mig_header h = sample_header(), got;
	uint8_t buf[MIG_HEADER_LEN];

	mig_header_encode(&h, buf);
	cr_assert_eq(memcmp(buf, "HVMIGRAT", 8), 0);
	cr_assert_eq(mig_header_decode(buf, sizeof(buf), &got, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(got.source_id, h.source_id);
	cr_assert_eq(got.vm_uid, 42);
	cr_assert_str_eq(got.source_name, "hv-a");
}

Test(mig_stream, header_damage_is_named)
{
	struct mig_header h = sample_header(), got;
	uint8_t buf[MIG_HEADER_LEN];

	mig_header_encode(&h, buf);
	buf[0] = 'X';
	cr_assert_eq(mig_header_decode(buf, sizeof(buf), &got, err, sizeof(err)), -1);
	cr_assert(strstr(err, "magic"), "%s", err);

	h.version = MIG_VERSION + 1;
	mig_header_encode(&h, buf);
	cr_assert_eq(mig_header_decode(buf, sizeof(buf), &got, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "stream version 5, this hypervisor reads version 4");

	h = sample_header();
	mig_header_encode(&h, buf);
	buf[20] ^= 1;
	cr_assert_eq(mig_header_decode(buf, sizeof(buf), &got, err, sizeof(err)), -1);
	cr_assert(strstr(err, "CRC"), "%s", err);
	cr_assert_eq(mig_header_decode(buf, 10, &got, err, sizeof(err)), -1);
}

Test(mig_stream, older_versions_are_refused_at_the_header)
{
	struct mig_header h = sample_header(), got;
	uint8_t buf[MIG_HEADER_LEN];

	cr_assert_eq(MIG_VERSION, 4);
	h.version = 2; /* before disks: its reader would not know DISK records */
	mig_header_encode(&h, buf);
	cr_assert_eq(mig_header_decode(buf, sizeof(buf), &got, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "stream version 2, this hypervisor reads version 4");
	h.version = 3; /* before signatures: its source would not wait for SEED */
	mig_header_encode(&h, buf);
	cr_assert_eq(mig_header_decode(buf, sizeof(buf), &got, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "stream version 3, this hypervisor reads version 4");
}

Test(mig_stream, header_flags_known_and_unknown)
{
	struct mig_header h = sample_header(), got;
	uint8_t buf[MIG_HEADER_LEN];

	mig_header_encode(&h, buf);
	cr_assert_eq(mig_header_decode(buf, sizeof(buf), &got, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(got.flags, 0);
	h.flags = MIG_HDR_DISK_ONLY;
	mig_header_encode(&h, buf);
	cr_assert_eq(buf[56], 1, "flags at byte 56");
	cr_assert_eq(mig_header_decode(buf, sizeof(buf), &got, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(got.flags, MIG_HDR_DISK_ONLY);
	h.flags = 2;
	mig_header_encode(&h, buf);
	cr_assert_eq(mig_header_decode(buf, sizeof(buf), &got, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "stream header has unknown flags 0x2");
	h.flags = 0x80000000u | MIG_HDR_DISK_ONLY; /* only the unknown bit is named */
	mig_header_encode(&h, buf);
	cr_assert_eq(mig_header_decode(buf, sizeof(buf), &got, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "stream header has unknown flags 0x80000000");
}

Test(mig_stream, record_names_include_the_disk_records)
{
	static const struct { uint32_t type; const char *name; } names[] = {
		{ MIG_REC_DISK_OFFER, "DISK_OFFER" }, { MIG_REC_DISK_START, "DISK_START" },
		{ MIG_REC_DISK_BLOCKS, "DISK_BLOCKS" }, { MIG_REC_DISK_BULK_END, "DISK_BULK_END" },
		{ MIG_REC_DISK_END, "DISK_END" }, { MIG_REC_DISK_ACCEPT, "DISK_ACCEPT" },
		{ MIG_REC_DISK_DONE, "DISK_DONE" }, { MIG_REC_ROUND, "ROUND" },
		{ MIG_REC_PAGES, "PAGES" }, { MIG_REC_AP_STATE, "AP_STATE" },
	};
	char buf[24];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		cr_assert_str_eq(mig_record_name(names[i].type, buf, sizeof(buf)), names[i].name);
	/* DISK_END is 0x10, ROUND 0x10 with the optional bit: not the same. */
	cr_assert_str_eq(mig_record_name(0x12, buf, sizeof(buf)), "type 0x12");
	cr_assert_str_eq(mig_record_name(0x80000023u, buf, sizeof(buf)), "type 0x80000023");
}

static size_t record(uint8_t *out, uint32_t type, const void *body, uint32_t len)
{
	mig_record_header(out, type, body, len);
	memcpy(out + MIG_RECORD_HDR_LEN, body, len);
	return MIG_RECORD_HDR_LEN + len;
}

Test(mig_stream, records_decode_only_when_complete)
{
	uint8_t buf[256];
	const char body[] = "hello, destination";
	size_t n = record(buf, MIG_REC_REJECT, body, sizeof(body));
	struct mig_record r;

	for (size_t have = 0; have < n; have++)
		cr_assert_eq(mig_record_decode(buf, have, 1024, &r, err, sizeof(err)), 0,
			     "partial record at %zu bytes", have);
	cr_assert_eq(mig_record_decode(buf, n, 1024, &r, err, sizeof(err)), (long)n);
	cr_assert_eq(r.type, MIG_REC_REJECT);
	cr_assert_eq(r.len, sizeof(body));
	cr_assert_eq(memcmp(r.body, body, sizeof(body)), 0);
}

Test(mig_stream, record_damage_is_refused)
{
	uint8_t buf[256];
	uint8_t body[100];
	struct mig_record r;
	memset(body, 0xab, sizeof(body));

	size_t n = record(buf, MIG_REC_UART, body, sizeof(body));
	buf[4] ^= 0x10; /* the length */
	cr_assert_eq(mig_record_decode(buf, n, 1024, &r, err, sizeof(err)), -1);
	cr_assert(strstr(err, "header CRC"), "%s", err);

	n = record(buf, MIG_REC_UART, body, sizeof(body));
	buf[MIG_RECORD_HDR_LEN + 50] ^= 0x01;
	cr_assert_eq(mig_record_decode(buf, n, 1024, &r, err, sizeof(err)), -1);
	cr_assert(strstr(err, "UART record body CRC"), "%s", err);

	n = record(buf, MIG_REC_PAGES, body, sizeof(body));
	cr_assert_eq(mig_record_decode(buf, n, 64, &r, err, sizeof(err)), -1,
		     "a length over the limit is refused before the body arrives");
	cr_assert(strstr(err, "over the limit"), "%s", err);
	cr_assert_eq(mig_record_decode(buf, MIG_RECORD_HDR_LEN, 64, &r, err, sizeof(err)), -1);
}

Test(mig_stream, page_batches_carry_typed_entries)
{
	static uint8_t body[MIG_MAX_BODY];
	static uint8_t page[MIG_PAGE_SIZE];
	struct mig_pages_writer w;
	struct mig_pages_reader rd;

	for (size_t i = 0; i < sizeof(page); i++)
		page[i] = (uint8_t)(i ^ 0x5a);
	mig_pages_begin(&w, body);
	mig_pages_add(&w, 7, MIG_PAGE_NORMAL, page);
	mig_pages_add(&w, 8, MIG_PAGE_ZERO, NULL);
	mig_pages_add(&w, 0x3ffff, MIG_PAGE_POISON, NULL);
	uint32_t len = mig_pages_end(&w);
	cr_assert_eq(len, 8 + 3 * 8 + MIG_PAGE_SIZE, "only normal pages carry data");

	uint64_t gfn;
	enum mig_page_type t;
	const uint8_t *data;
	cr_assert_eq(mig_pages_open(&rd, body, len, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(mig_pages_next(&rd, &gfn, &t, &data, err, sizeof(err)), 1);
	cr_assert(gfn == 7 && t == MIG_PAGE_NORMAL && data && !memcmp(data, page, sizeof(page)));
	cr_assert_eq(mig_pages_next(&rd, &gfn, &t, &data, err, sizeof(err)), 1);
	cr_assert(gfn == 8 && t == MIG_PAGE_ZERO && !data);
	cr_assert_eq(mig_pages_next(&rd, &gfn, &t, &data, err, sizeof(err)), 1);
	cr_assert(gfn == 0x3ffff && t == MIG_PAGE_POISON && !data);
	cr_assert_eq(mig_pages_next(&rd, &gfn, &t, &data, err, sizeof(err)), 0);
}

static int read_all(const uint8_t *body, size_t len)
{
	struct mig_pages_reader rd;
	uint64_t gfn;
	enum mig_page_type t;
	const uint8_t *data;
	int rc;

	if (mig_pages_open(&rd, body, len, err, sizeof(err)))
		return -1;
	while ((rc = mig_pages_next(&rd, &gfn, &t, &data, err, sizeof(err))) == 1)
		;
	return rc;
}

Test(mig_stream, malformed_page_batches_are_refused)
{
	static uint8_t body[MIG_MAX_BODY + 64];
	static uint8_t page[MIG_PAGE_SIZE];
	struct mig_pages_writer w;

	mig_pages_begin(&w, body);
	mig_pages_add(&w, 1, MIG_PAGE_NORMAL, page);
	mig_pages_add(&w, 2, MIG_PAGE_ZERO, NULL);
	uint32_t len = mig_pages_end(&w);
	cr_assert_eq(read_all(body, len), 0);

	cr_assert_eq(read_all(body, len - 1), -1, "truncated data");
	cr_assert_eq(read_all(body, len + 8), -1, "trailing bytes");
	cr_assert(strstr(err, "after its last entry"), "%s", err);
	body[8 + 7] = 0x03; /* a signature: 32 bytes where the page's 4096 were */
	cr_assert_eq(read_all(body, len), -1); /* the page's bytes read as entries */
	cr_assert(strstr(err, "truncated"), "%s", err);
	cr_assert_eq(read_all(body, 8 + 8 + 20), -1);
	cr_assert(strstr(err, "truncated in a signature"), "%s", err);
	body[8 + 7] = 0x05; /* type 5 in bits 56-59 of the first entry */
	cr_assert_eq(read_all(body, len), -1);
	cr_assert(strstr(err, "unknown type"), "%s", err);
	body[8 + 7] = 0x80; /* reserved bit 63 */
	cr_assert_eq(read_all(body, len), -1);
	cr_assert(strstr(err, "reserved"), "%s", err);
	body[8 + 7] = 0;
	body[0] = 0; /* count 0 */
	body[1] = 0;
	cr_assert_eq(read_all(body, len), -1);
	body[0] = MIG_MAX_BATCH + 1; /* over the batch limit */
	cr_assert_eq(read_all(body, len), -1);
	body[0] = 3; /* more entries than the body holds */
	cr_assert_eq(read_all(body, len), -1);
	cr_assert_eq(read_all(body, 4), -1);
}

Test(mig_stream, state_records_round_trip)
{
	struct mig_vcpu v, v2;
	uint8_t body[MIG_STATE_MAX];

	memset(&v, 0, sizeof(v));
	uint8_t *raw = (uint8_t *)&v.s.regs;
	for (size_t i = 0; i < sizeof(v.s.regs); i++)
		raw[i] = (uint8_t)(i * 13 + 1);
	v.s.regs.rflags = 0x246; /* a state the CPU can hold (vcpu_check.c) */
	v.s.seg[SEG_CS] = (struct vcpu_segment){ 0x10, 0xc9b, 0xffffffff, 0x1234 };
	v.s.cr0 = 0x80000011;
	v.s.cr4 = 0x20;
	v.s.efer = 0x500;
	v.s.sysenter_eip = 0xdeadbeef;
	v.s.interrupt_shadow = 1;
	v.guest_tsc = 123456789;
	v.guest_tsc_hz = 2100000000;
	v.fpu[0] = 0x7f;
	v.fpu[24] = 0x80; /* MXCSR 0x1f80, the reset value */
	v.fpu[25] = 0x1f;
	v.fpu[511] = 0x55;
	v.halted = true;
	v.pending_exception = true;
	v.exception = (struct vcpu_event){ EVENT_EXCEPTION, 13, true, 0x18 };
	v.msr_mtrr[26] = 0x77;
	v.msr_tsc_aux = 3;
	uint32_t len = mig_vcpu_encode(&v, body);
	cr_assert_eq(mig_vcpu_decode(body, len, &v2, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(memcmp(&v.s.regs, &v2.s.regs, sizeof(v.s.regs)), 0);
	cr_assert_eq(v2.s.seg[SEG_CS].attr, 0xc9b);
	cr_assert_eq(v2.s.seg[SEG_CS].base, 0x1234);
	cr_assert_eq(v2.s.cr0, 0x80000011);
	cr_assert_eq(v2.s.sysenter_eip, 0xdeadbeef);
	cr_assert_eq(v2.guest_tsc, 123456789);
	cr_assert(v2.halted && v2.pending_exception && v2.exception.error == 0x18);
	cr_assert_eq(v2.exception.vector, 13);
	cr_assert_eq(v2.fpu[511], 0x55);
	cr_assert_eq(v2.msr_mtrr[26], 0x77);
	cr_assert_eq(mig_vcpu_decode(body, len - 1, &v2, err, sizeof(err)), -1);
	v.fpu[26] = 0x01; /* MXCSR bit 16: reserved, FXRSTOR would fault */
	len = mig_vcpu_encode(&v, body);
	cr_assert_eq(mig_vcpu_decode(body, len, &v2, err, sizeof(err)), -1);
	v.fpu[26] = 0;
	len = mig_vcpu_encode(&v, body);
	cr_assert_eq(mig_vcpu_decode(body, len + 1, &v2, err, sizeof(err)), -1);

	struct mig_lapic l = { .id = 0, .svr = 0x1ff, .lvt_timer = 0x20030, .timer_init = 1000,
			       .timer_period_ns = 1000000, .timer_remaining_ns = 2500 };
	l.isr[1] = 0x80000000u;
	struct mig_lapic l2;
	len = mig_lapic_encode(&l, body);
	cr_assert_eq(mig_lapic_decode(body, len, &l2, err, sizeof(err)), 0);
	cr_assert_eq(memcmp(&l, &l2, sizeof(l)), 0);

	struct mig_uart u = { .ier = 1, .lcr = 3, .rx_len = 3, .rx = { 'a', 'b', 'c' } }, u2;
	len = mig_uart_encode(&u, body);
	cr_assert_eq(mig_uart_decode(body, len, &u2, err, sizeof(err)), 0);
	cr_assert_eq(memcmp(&u, &u2, sizeof(u)), 0);
	u.rx_len = 300;
	len = mig_uart_encode(&u, body);
	cr_assert_eq(mig_uart_decode(body, len, &u2, err, sizeof(err)), -1, "FIFO over 256");
}

Test(mig_stream, vm_config_checks_names_and_size)
{
	struct mig_vm_config c = { .name = "counter", .image = "counter",
				   .cmdline = "start=5", .mem_bytes = 64 << 20 }, c2;
	uint8_t body[MIG_STATE_MAX];

	uint32_t len = mig_vm_config_encode(&c, body);
	cr_assert_eq(mig_vm_config_decode(body, len, &c2, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(c2.name, "counter");
	cr_assert_str_eq(c2.cmdline, "start=5");
	cr_assert_eq(c2.mem_bytes, 64 << 20);

	memset(body, 'x', MIG_VM_NAME); /* unterminated name */
	cr_assert_eq(mig_vm_config_decode(body, len, &c2, err, sizeof(err)), -1);
	c.mem_bytes = 4097;
	len = mig_vm_config_encode(&c, body);
	cr_assert_eq(mig_vm_config_decode(body, len, &c2, err, sizeof(err)), -1);
	c.mem_bytes = 1 << 20;
	c.name[0] = '\0';
	len = mig_vm_config_encode(&c, body);
	cr_assert_eq(mig_vm_config_decode(body, len, &c2, err, sizeof(err)), -1);
}

Test(mig_stream, vm_config_carries_the_vcpu_count_only_when_above_one)
{
	struct mig_vm_config c = { .name = "smp", .mem_bytes = 16 << 20, .vcpus = 1 }, c2;
	uint8_t body[MIG_STATE_MAX];

	cr_assert_eq(mig_vm_config_encode(&c, body), 328, "one vCPU: the version-3 body");
	cr_assert_eq(mig_vm_config_decode(body, 328, &c2, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c2.vcpus, 1);
	c.vcpus = 4;
	uint32_t len = mig_vm_config_encode(&c, body);
	cr_assert_eq(len, 332);
	cr_assert_eq(mig_vm_config_decode(body, len, &c2, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c2.vcpus, 4);
	for (uint32_t bad = 0; bad <= 9; bad += 9) {
		put_le32(body + 328, bad);
		cr_assert_eq(mig_vm_config_decode(body, len, &c2, err, sizeof(err)), -1, "%u", bad);
		cr_assert(strstr(err, "vCPUs (1 to 8)"), "%s", err);
	}
	cr_assert_eq(mig_vm_config_decode(body, 330, &c2, err, sizeof(err)), -1, "a partial count");
}

Test(mig_stream, vm_config_carries_flags_only_when_set)
{
	struct mig_vm_config c = { .name = "escape", .mem_bytes = 16 << 20, .vcpus = 1 }, c2;
	uint8_t body[MIG_STATE_MAX];

	cr_assert_eq(mig_vm_config_encode(&c, body), 328, "no flags: the version-3 body");
	c.flags = MIG_VM_UNBACKED_STOP;
	uint32_t len = mig_vm_config_encode(&c, body);
	cr_assert_eq(len, 336, "flags follow the vCPU count, one vCPU or not");
	cr_assert_eq(mig_vm_config_decode(body, len, &c2, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c2.vcpus, 1);
	cr_assert_eq(c2.flags, MIG_VM_UNBACKED_STOP);
	put_le32(body + 332, 2);
	cr_assert_eq(mig_vm_config_decode(body, len, &c2, err, sizeof(err)), -1);
	cr_assert(strstr(err, "unknown flags 0x2"), "%s", err);
	cr_assert_eq(mig_vm_config_decode(body, 334, &c2, err, sizeof(err)), -1, "partial flags");
}

static struct mig_ap sample_ap(uint32_t index)
{
	struct mig_ap a;

	memset(&a, 0, sizeof(a));
	a.index = index;
	a.vcpu.s.regs.rflags = 0x2;
	a.vcpu.s.regs.rip = 0x1234;
	a.vcpu.s.cr0 = 0x60000010;
	a.vcpu.s.seg[SEG_CS] = (struct vcpu_segment){ 0x9a00, 0x9b, 0xffff, 0x9a000 };
	a.vcpu.fpu[24] = 0x80; /* MXCSR 0x1f80 */
	a.vcpu.fpu[25] = 0x1f;
	a.lapic.id = index;
	a.lapic.irr[2] = 1u << 1; /* vector 0x41 pending: an IPI in flight */
	a.lapic_extra[0] = 0x5a;
	a.wait_for_sipi = true;
	a.kvmclock_msr = 0x7000 | 1;
	return a;
}

Test(mig_stream, ap_state_round_trip_and_checks)
{
	struct mig_ap a = sample_ap(3), a2;
	uint8_t body[MIG_STATE_MAX];
	uint32_t len = mig_ap_encode(&a, body);

	cr_assert_eq(len, 4 + 1197 + 148 + VLAPIC_EXTRA_STATE_SIZE + 1 + 8);
	cr_assert_eq(mig_ap_decode(body, len, &a2, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(a2.index, 3);
	cr_assert_eq(a2.vcpu.s.seg[SEG_CS].base, 0x9a000);
	cr_assert_eq(a2.lapic.irr[2], 1u << 1);
	cr_assert_eq(a2.lapic_extra[0], 0x5a);
	cr_assert(a2.wait_for_sipi);
	cr_assert_eq(a2.kvmclock_msr, 0x7001);
	cr_assert_eq(mig_ap_decode(body, len - 1, &a2, err, sizeof(err)), -1);
	for (uint32_t bad = 0; bad <= 8; bad += 8) {
		a = sample_ap(bad);
		len = mig_ap_encode(&a, body);
		cr_assert_eq(mig_ap_decode(body, len, &a2, err, sizeof(err)), -1, "index %u", bad);
		cr_assert(strstr(err, "APs are 1 to 7"), "%s", err);
	}
	a = sample_ap(1);
	a.vcpu.fpu[26] = 0x01; /* MXCSR bit 16: FXRSTOR would fault */
	len = mig_ap_encode(&a, body);
	cr_assert_eq(mig_ap_decode(body, len, &a2, err, sizeof(err)), -1, "the vCPU is checked");
}

Test(mig_stream, state_record_sizes_are_the_documented_ones)
{
	/* docs/migration-stream.md gives these; a change is a new version. */
	uint8_t body[MIG_STATE_MAX];
	struct mig_vm_config c = { .name = "x", .mem_bytes = 4096 };
	struct mig_vcpu v = { 0 };
	struct mig_lapic l = { 0 };
	struct mig_uart u = { 0 };
	struct mig_platform p = { 0 };
	struct mig_modules m = { .count = 2 };
	struct mig_device d = { .id = MIG_DEV_PIT, .len = 100 };

	cr_assert_eq(mig_vm_config_encode(&c, body), 328);
	cr_assert_eq(mig_vcpu_encode(&v, body), 1197);
	cr_assert_eq(mig_lapic_encode(&l, body), 148);
	cr_assert_eq(mig_uart_encode(&u, body), 471);
	cr_assert_eq(mig_platform_encode(&p, body), 17);
	cr_assert_eq(mig_modules_encode(&m, body), 4 + 2 * 128);
	cr_assert_eq(mig_device_encode(&d, body), 4 + 100);
	struct mig_placement pl = { .count = 4 };
	cr_assert_eq(mig_placement_encode(&pl, body), 4 + 4 * 4);
}

Test(mig_stream, placement_record_round_trips_and_refuses_bad_counts)
{
	uint8_t body[MIG_STATE_MAX];
	struct mig_placement p = { .count = 3, .cpu = { 0, 2, 7 } }, p2;
	uint32_t len = mig_placement_encode(&p, body);

	cr_assert_eq(mig_placement_decode(body, len, &p2, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(p2.count, 3);
	cr_assert_eq(p2.cpu[1], 2);
	cr_assert_eq(p2.cpu[2], 7);
	cr_assert_eq(mig_placement_decode(body, len - 1, &p2, err, sizeof(err)), -1);
	cr_assert(strstr(err, "PLACEMENT record malformed"), "%s", err);
	cr_assert_eq(mig_placement_decode(body, len + 4, &p2, err, sizeof(err)), -1);
	put_le32(body, 0);
	cr_assert_eq(mig_placement_decode(body, 4, &p2, err, sizeof(err)), -1);
	put_le32(body, MIG_VCPUS_MAX + 1);
	memset(body + 4, 0, 4 * (MIG_VCPUS_MAX + 1));
	cr_assert_eq(mig_placement_decode(body, 4 + 4 * (MIG_VCPUS_MAX + 1), &p2, err, sizeof(err)),
		     -1);
	char name[24];
	cr_assert_str_eq(mig_record_name(MIG_REC_PLACEMENT, name, sizeof(name)), "PLACEMENT");
}

Test(mig_stream, modules_and_device_records_are_checked)
{
	uint8_t body[MIG_STATE_MAX];
	struct mig_modules m = { .count = 2 }, m2;

	memcpy(m.spec[0], "initrd.img", 11);
	memcpy(m.spec[1], "extra.cpio a=1", 15);
	uint32_t len = mig_modules_encode(&m, body);
	cr_assert_eq(mig_modules_decode(body, len, &m2, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(m2.count, 2);
	cr_assert_str_eq(m2.spec[1], "extra.cpio a=1");
	memset(body + 4 + 128, 'x', 128); /* entry 1 unterminated */
	cr_assert_eq(mig_modules_decode(body, len, &m2, err, sizeof(err)), -1);
	cr_assert(strstr(err, "entry 1 is empty, unterminated"), "%s", err);
	put_le32(body, MIG_MODULES_MAX + 1);
	cr_assert_eq(mig_modules_decode(body, len, &m2, err, sizeof(err)), -1);
	cr_assert(strstr(err, "lists 9 images, at most 8"), "%s", err);
	put_le32(body, 2);
	cr_assert_eq(mig_modules_decode(body, len - 1, &m2, err, sizeof(err)), -1);
	cr_assert(strstr(err, "MODULES record malformed"), "%s", err);

	struct mig_platform p = { .run_state = MIG_RUN_PAUSED, .vm_clock_ns = 5, .resets = 1 }, p2;
	len = mig_platform_encode(&p, body);
	cr_assert_eq(mig_platform_decode(body, len, &p2, err, sizeof(err)), 0, "%s", err);
	body[0] = MIG_RUN_PAUSED + 1;
	cr_assert_eq(mig_platform_decode(body, len, &p2, err, sizeof(err)), -1);
	cr_assert(strstr(err, "unknown run state"), "%s", err);

	struct mig_device d = { .id = MIG_DEV_RTC, .len = 3, .blob = { 1, 2, 3 } }, d2;
	len = mig_device_encode(&d, body);
	cr_assert_eq(mig_device_decode(body, len, &d2, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(d2.id, MIG_DEV_RTC);
	cr_assert_eq(d2.len, 3);
	cr_assert_eq(d2.blob[2], 3);
	put_le32(body, MIG_DEV_ID_LAST + 1);
	cr_assert_eq(mig_device_decode(body, len, &d2, err, sizeof(err)), -1);
	cr_assert(strstr(err, "unknown device"), "%s", err);
	put_le32(body, 0);
	cr_assert_eq(mig_device_decode(body, len, &d2, err, sizeof(err)), -1);
	cr_assert(strstr(err, "unknown device"), "%s", err);
	cr_assert_eq(mig_device_decode(body, 3, &d2, err, sizeof(err)), -1);
	cr_assert_eq(mig_device_decode(body, 4 + MIG_DEVICE_MAX + 1, &d2, err, sizeof(err)), -1);
}

Test(mig_stream, signature_entries_carry_32_bytes)
{
	static uint8_t body[MIG_MAX_BODY];
	uint8_t sig[MIG_SIG_LEN];
	struct mig_pages_writer w;
	struct mig_pages_reader rd;
	uint64_t gfn;
	enum mig_page_type t;
	const uint8_t *data;

	for (unsigned i = 0; i < sizeof(sig); i++)
		sig[i] = (uint8_t)(0xa0 + i);
	mig_pages_begin(&w, body);
	mig_pages_add(&w, 7, MIG_PAGE_SIGNATURE, sig);
	mig_pages_add(&w, 8, MIG_PAGE_ZERO, NULL);
	uint32_t len = mig_pages_end(&w);
	cr_assert_eq(len, 8 + 8 + MIG_SIG_LEN + 8);
	cr_assert_eq(mig_pages_open(&rd, body, len, err, sizeof(err)), 0);
	cr_assert_eq(mig_pages_next(&rd, &gfn, &t, &data, err, sizeof(err)), 1);
	cr_assert(gfn == 7 && t == MIG_PAGE_SIGNATURE && data && !memcmp(data, sig, sizeof(sig)));
	cr_assert_eq(mig_pages_next(&rd, &gfn, &t, &data, err, sizeof(err)), 1);
	cr_assert(gfn == 8 && t == MIG_PAGE_ZERO && !data);
	cr_assert_eq(mig_pages_next(&rd, &gfn, &t, &data, err, sizeof(err)), 0);
}

Test(mig_stream, seed_answers_round_trip_and_malformed_ones_are_refused)
{
	uint8_t body[MIG_SEED_LEN];
	struct mig_seed_answer in = { .flags = MIG_SEED_HELD, .pages = 16384 }, out;

	cr_assert_eq(mig_seed_encode(&in, body), MIG_SEED_LEN);
	cr_assert_eq(mig_seed_decode(body, sizeof(body), &out, err, sizeof(err)), 0);
	cr_assert(out.flags == MIG_SEED_HELD && out.pages == 16384);
	cr_assert_eq(mig_seed_decode(body, sizeof(body) - 1, &out, err, sizeof(err)), -1);
	body[0] = 3; /* an unknown flag */
	cr_assert_eq(mig_seed_decode(body, sizeof(body), &out, err, sizeof(err)), -1);
	cr_assert(strstr(err, "reserved"), "%s", err);
	body[0] = 0; /* no image, yet pages */
	cr_assert_eq(mig_seed_decode(body, sizeof(body), &out, err, sizeof(err)), -1);
	in = (struct mig_seed_answer){ 0, 0 };
	mig_seed_encode(&in, body);
	cr_assert_eq(mig_seed_decode(body, sizeof(body), &out, err, sizeof(err)), 0);
	cr_assert(!out.flags && !out.pages);
}

Test(mig_stream, signature_misses_round_trip_and_malformed_ones_are_refused)
{
	uint8_t body[8 + 8 * MIG_SIG_MISSES_MAX + 8];
	uint64_t gfns[MIG_SIG_MISSES_MAX] = { 5, 0x3ffff, 9 }, got[MIG_SIG_MISSES_MAX];
	uint32_t n;

	uint32_t len = mig_sig_misses_encode(gfns, 3, body);
	cr_assert_eq(len, 32);
	cr_assert_eq(mig_sig_misses_decode(body, len, got, &n, err, sizeof(err)), 0);
	cr_assert(n == 3 && got[0] == 5 && got[1] == 0x3ffff && got[2] == 9);
	cr_assert_eq(mig_sig_misses_decode(body, mig_sig_misses_encode(gfns, 0, body), got, &n,
					   err, sizeof(err)), 0);
	cr_assert_eq(n, 0);
	len = mig_sig_misses_encode(gfns, 3, body);
	cr_assert_eq(mig_sig_misses_decode(body, len - 8, got, &n, err, sizeof(err)), -1);
	cr_assert(strstr(err, "does not match"), "%s", err);
	static uint8_t big[8 + 8 * (MIG_SIG_MISSES_MAX + 1)];
	big[0] = MIG_SIG_MISSES_MAX + 1; /* one more than a PAGES record has entries */
	cr_assert_eq(mig_sig_misses_decode(big, sizeof(big), got, &n, err, sizeof(err)), -1);
	cr_assert(strstr(err, "count out of range"), "%s", err);
	body[8 + 7] = 0x10; /* bits over the frame number */
	cr_assert_eq(mig_sig_misses_decode(body, len, got, &n, err, sizeof(err)), -1);
	cr_assert(strstr(err, "frame number"), "%s", err);
}
