/* INS/OUTS emulation (hv/emul/strio.c) over simulated guest RAM and page
 * tables: segment and canonical checks, the guest's access rights, an
 * element split across pages, and what a fault leaves behind (no port
 * access, no byte written, the registers counting the elements done). */
#include <criterion/criterion.h>
#include <string.h>

#include "guest_pt.h"
#include "hv/emul/strio.h"
#include "hv/x86/cpu.h"
#include "hv/x86/seg_attr.h"
#include "hv/x86/trap.h"

#define DATA_RW (SEG_ATTR_P | SEG_ATTR_S | SEG_ATTR_TYPE_RW | SEG_ATTR_DB | 0x1) /* 0x493 */
#define DATA_RO (SEG_ATTR_P | SEG_ATTR_S | SEG_ATTR_DB | 0x1)
#define CODE_XO (SEG_ATTR_P | SEG_ATTR_S | SEG_ATTR_TYPE_CODE | SEG_ATTR_DB)
#define CODE_XR (CODE_XO | SEG_ATTR_TYPE_RW)
#define POISONED_PAGE 0x300000u

static struct {
	unsigned port_reads, port_writes, mem_writes;
	uint32_t next_in;      /* port_in returns this, then one more each time */
	uint32_t out[16];      /* values written to the port */
	bool stop;             /* port_out reports the VM stopped */
} io;

static enum strio_mem mem_kind(void *ctx, uint64_t gpa, size_t len)
{
	(void)ctx;
	if (gpa >= GUEST_RAM_SIZE || len > GUEST_RAM_SIZE - gpa)
		return STRIO_MEM_NONE;
	return (gpa & ~0xfffull) == POISONED_PAGE ? STRIO_MEM_POISONED : STRIO_MEM_RAM;
}

static void mem_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	cr_assert(guest_read_cb(ctx, gpa, buf, len));
}

static void mem_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	(void)ctx;
	memcpy(guest_ram + gpa, buf, len);
	io.mem_writes++;
}

static uint32_t port_in(void *ctx, uint16_t port, unsigned size)
{
	(void)ctx;
	cr_assert_eq(port, 0xe9);
	io.port_reads++;
	return io.next_in++ & (size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1);
}

static bool port_out(void *ctx, uint16_t port, unsigned size, uint32_t value)
{
	(void)ctx;
	(void)size;
	cr_assert_eq(port, 0xe9);
	if (io.port_writes < 16)
		io.out[io.port_writes] = value;
	io.port_writes++;
	return !io.stop;
}

static const struct strio_ops ops = { mem_kind, mem_read, mem_write, port_in, port_out };
static struct gwalk w;

static void setup(void)
{
	guest_reset();
	memset(&io, 0, sizeof(io));
	io.next_in = 0x44332211;
	w = walker_long();
}

/* A REP INS or OUTS in 64-bit mode with a flat DS/ES, 64-bit addresses. */
static struct strio op64(bool in, uint8_t size, uint64_t index, uint64_t count)
{
	return (struct strio){ .port = 0xe9, .size = size, .addr_size = 8, .in = in, .rep = true,
			       .mode = EMUL_LONG64, .seg = { 0, 0xffffffff, DATA_RW, false, false },
			       .walk = &w, .budget = 4096, .ops = &ops, .rcx = count,
			       .rsi = in ? 0 : index, .rdi = in ? index : 0 };
}

/* The same in 32-bit protected mode with a given segment. */
static struct strio op32(bool in, uint8_t size, uint64_t index, uint64_t count,
			 struct emul_segment seg)
{
	struct strio s = op64(in, size, index, count);

	s.mode = EMUL_PROTECTED;
	s.addr_size = 4;
	s.seg = seg;
	return s;
}

static void expect_pf(const struct strio *s, enum strio_result r, uint32_t error, uint64_t cr2)
{
	cr_assert_eq(r, STRIO_FAULT, "result %d, expected a #PF", r);
	cr_assert_eq(s->fault.vector, VEC_PF);
	cr_assert(s->fault.has_error);
	cr_assert_eq(s->fault.error, error, "error 0x%x, expected 0x%x", s->fault.error, error);
	cr_assert_eq(s->fault.address, cr2, "CR2 0x%lx, expected 0x%lx",
		     (unsigned long)s->fault.address, (unsigned long)cr2);
}

/* Runs s, which must fault with a #GP or #SS at its first element: no
 * port access, the registers as they were. */
static void expect_fault(struct strio *s, uint8_t vector, bool has_error)
{
	unsigned accesses = io.port_reads + io.port_writes;
	uint64_t rcx = s->rcx, rsi = s->rsi, rdi = s->rdi;
	enum strio_result r = strio_run(s);

	cr_assert_eq(r, STRIO_FAULT, "result %d, expected vector %u", r, vector);
	cr_assert_eq(s->fault.vector, vector, "vector %u, expected %u", s->fault.vector, vector);
	cr_assert_eq(s->fault.has_error, has_error);
	cr_assert_eq(s->fault.error, 0);
	cr_assert_eq(io.port_reads + io.port_writes, accesses, "the port was touched");
	cr_assert(s->rcx == rcx && s->rsi == rsi && s->rdi == rdi, "registers changed");
}

TestSuite(strio, .init = setup);

Test(strio, rep_insb_fills_the_buffer_and_counts)
{
	map64(false, 0x400000, 0x100000, 0, E_ALL, E_P | E_RW);
	struct strio s = op64(true, 1, 0x400010, 5);
	cr_assert_eq(strio_run(&s), STRIO_DONE);
	cr_assert_eq(memcmp(guest_ram + 0x100010, "\x11\x12\x13\x14\x15", 5), 0);
	cr_assert_eq(s.rcx, 0);
	cr_assert_eq(s.rdi, 0x400015);
	cr_assert_eq(io.port_reads, 5);
	uint64_t pte = guest_get(entry_gpa64(false, 0x400000, 0), 8);
	cr_assert_eq(pte & (E_A | E_D), E_A | E_D, "INS writes: the leaf is dirty");

	s = op64(true, 1, 0x400010, 3);
	s.df = true;
	cr_assert_eq(strio_run(&s), STRIO_DONE);
	cr_assert_eq(s.rdi, 0x40000d, "DF counts down");
	cr_assert_eq(memcmp(guest_ram + 0x10000e, "\x18\x17\x16", 3), 0);
}

Test(strio, outs_reads_and_sets_only_accessed)
{
	map64(false, 0x400000, 0x100000, 0, E_ALL, E_P | E_RW);
	memcpy(guest_ram + 0x100100, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	struct strio s = op64(false, 2, 0x400100, 4);
	cr_assert_eq(strio_run(&s), STRIO_DONE);
	cr_assert_eq(io.port_writes, 4);
	cr_assert_eq(io.out[0], 0x0201);
	cr_assert_eq(io.out[3], 0x0807);
	cr_assert_eq(s.rsi, 0x400108);
	cr_assert_eq(io.mem_writes, 0);
	uint64_t pte = guest_get(entry_gpa64(false, 0x400000, 0), 8);
	cr_assert_eq(pte & (E_A | E_D), E_A, "OUTS reads: accessed, not dirty");
}

Test(strio, an_element_across_pages_is_translated_in_two_parts)
{
	/* Physically apart: the second part must not spill into 0x101000. */
	map64(false, 0x400000, 0x100000, 0, E_ALL, E_P | E_RW);
	map64(false, 0x401000, 0x105000, 0, E_ALL, E_P | E_RW);
	struct strio s = op64(true, 4, 0x400ffe, 1);
	cr_assert_eq(strio_run(&s), STRIO_DONE);
	cr_assert_eq(memcmp(guest_ram + 0x100ffe, "\x11\x22", 2), 0);
	cr_assert_eq(memcmp(guest_ram + 0x105000, "\x33\x44", 2), 0);
	cr_assert_eq(guest_get(0x101000, 2), 0, "spilled into the physically next page");
	cr_assert_eq(guest_get(entry_gpa64(false, 0x401000, 0), 8) & E_D, E_D);

	memcpy(guest_ram + 0x100fff, "\xaa", 1);
	memcpy(guest_ram + 0x105000, "\xbb\xcc\xdd", 3);
	s = op64(false, 4, 0x400fff, 1);
	cr_assert_eq(strio_run(&s), STRIO_DONE);
	cr_assert_eq(io.out[0], 0xddccbbaa);
}

Test(strio, a_fault_mid_rep_leaves_the_registers_at_the_faulting_element)
{
	map64(false, 0x400000, 0x100000, 0, E_ALL, E_P | E_RW | E_US);
	map64(false, 0x401000, 0x101000, 0, E_ALL, E_P | E_US); /* read-only */
	memset(guest_ram + 0x101000, 0x5a, 16);
	w.cpl = 3;
	struct strio s = op64(true, 1, 0x400ffc, 8);
	s.rcx |= 0xabcd000000000000ull; /* the count is all 64 bits here */
	expect_pf(&s, strio_run(&s), PF_ERR_P | PF_ERR_W | PF_ERR_U, 0x401000);
	cr_assert_eq(io.port_reads, 4, "only the elements done read the port");
	cr_assert_eq(s.rcx, 0xabcd000000000004ull);
	cr_assert_eq(s.rdi, 0x401000);
	cr_assert_eq(memcmp(guest_ram + 0x100ffc, "\x11\x12\x13\x14", 4), 0);
	for (int i = 0; i < 16; i++)
		cr_assert_eq(guest_ram[0x101000 + i], 0x5a, "byte %d of the read-only page", i);
}

Test(strio, a_split_element_with_a_bad_second_part_does_nothing)
{
	map64(false, 0x400000, 0x100000, 0, E_ALL, E_P | E_RW | E_US);
	w.cpl = 3;
	struct strio s = op64(true, 4, 0x400ffe, 3);
	expect_pf(&s, strio_run(&s), PF_ERR_W | PF_ERR_U, 0x401000); /* not present */
	cr_assert_eq(io.port_reads, 0, "the port read must wait for both parts");
	cr_assert_eq(s.rdi, 0x400ffe);
	cr_assert_eq(s.rcx, 3);
	cr_assert_eq(guest_get(0x100ffe, 2), 0, "the first part was written");
	cr_assert_eq(guest_get(entry_gpa64(false, 0x400000, 0), 8) & (E_A | E_D), 0,
		     "A/D set for an access that never happened");

	s = op64(false, 2, 0x400fff, 1);
	expect_pf(&s, strio_run(&s), PF_ERR_U, 0x401000);
	cr_assert_eq(io.port_writes, 0);
}

Test(strio, user_string_io_into_a_supervisor_page)
{
	map64(false, 0x400000, 0x100000, 0, E_ALL, E_P | E_RW); /* supervisor */
	memset(guest_ram + 0x100000, 0x5a, 16);
	w.cpl = 3;
	struct strio s = op64(true, 1, 0x400000, 16);
	expect_pf(&s, strio_run(&s), PF_ERR_P | PF_ERR_W | PF_ERR_U, 0x400000);
	cr_assert_eq(io.port_reads, 0);
	cr_assert_eq(s.rcx, 16);
	for (int i = 0; i < 16; i++)
		cr_assert_eq(guest_ram[0x100000 + i], 0x5a);
	s = op64(false, 1, 0x400000, 16);
	expect_pf(&s, strio_run(&s), PF_ERR_P | PF_ERR_U, 0x400000);
	cr_assert_eq(io.port_writes, 0);
	w.cpl = 0;
	s = op64(false, 1, 0x400000, 16);
	cr_assert_eq(strio_run(&s), STRIO_DONE);
	cr_assert_eq(io.port_writes, 16);
}

Test(strio, supervisor_ins_obeys_wp_and_smap)
{
	map64(false, 0x400000, 0x100000, 0, E_ALL, E_P | E_US); /* user, read-only */
	struct strio s = op64(true, 1, 0x400000, 1);
	expect_pf(&s, strio_run(&s), PF_ERR_P | PF_ERR_W, 0x400000);
	w.cr0 &= ~CR0_WP;
	s = op64(true, 1, 0x400000, 1);
	cr_assert_eq(strio_run(&s), STRIO_DONE);
	w.cr4 |= CR4_SMAP;
	s = op64(true, 1, 0x400001, 1);
	expect_pf(&s, strio_run(&s), PF_ERR_P | PF_ERR_W, 0x400001);
	w.ac = true;
	s = op64(true, 1, 0x400001, 1);
	cr_assert_eq(strio_run(&s), STRIO_DONE);
	cr_assert_eq(io.port_reads, 2);
}

Test(strio, segment_limits_and_types_in_protected_mode)
{
	struct emul_segment es = { 0x10000, 0xfff, DATA_RW, false, false };
	struct strio s;

	w.cr0 &= ~CR0_PG; /* segmentation alone */
	s = op32(true, 2, 0xffe, 1, es);
	cr_assert_eq(strio_run(&s), STRIO_DONE);
	cr_assert_eq(guest_get(0x10ffe, 2), 0x2211);
	s = op32(true, 2, 0xfff, 1, es);
	expect_fault(&s, VEC_GP, true);
	/* Expand-down: valid offsets lie above the limit, up to 4 GiB (D/B). */
	es.attr |= SEG_ATTR_TYPE_DOWN;
	s = op32(true, 2, 0x1000, 1, es);
	cr_assert_eq(strio_run(&s), STRIO_DONE);
	s = op32(true, 2, 0xfff, 1, es);
	expect_fault(&s, VEC_GP, true);
	es.attr &= (uint16_t)~SEG_ATTR_DB; /* ... or 64 KiB */
	s = op32(true, 2, 0xffff, 1, es);
	expect_fault(&s, VEC_GP, true);
	/* INS needs a writable data segment in ES. */
	es = (struct emul_segment){ 0, 0xffffffff, DATA_RO, false, false };
	s = op32(true, 1, 0x1000, 1, es);
	expect_fault(&s, VEC_GP, true);
	es.attr = CODE_XR;
	s = op32(true, 1, 0x1000, 1, es);
	expect_fault(&s, VEC_GP, true);
	/* OUTS reads: read-only data and readable code will do, execute-only not. */
	es.attr = DATA_RO;
	s = op32(false, 1, 0x1000, 1, es);
	cr_assert_eq(strio_run(&s), STRIO_DONE);
	es.attr = CODE_XO;
	s = op32(false, 1, 0x1000, 1, es);
	expect_fault(&s, VEC_GP, true);
	/* A null selector leaves the segment unusable (P clear). */
	es.attr = DATA_RW & ~SEG_ATTR_P;
	s = op32(false, 1, 0x1000, 1, es);
	expect_fault(&s, VEC_GP, true);
	/* SS faults are #SS. */
	es = (struct emul_segment){ 0, 0xfff, DATA_RW, true, false };
	s = op32(false, 1, 0x1000, 1, es);
	expect_fault(&s, VEC_SS, true);
}

Test(strio, real_and_v86_mode_check_only_the_limit)
{
	/* Attributes real mode inherited need not describe a writable segment. */
	struct emul_segment es = { 0x20000, 0xffff, DATA_RO, false, false };
	struct strio s = op32(true, 2, 0xfffe, 1, es);

	w.cr0 = 0;
	s.mode = EMUL_REAL;
	s.addr_size = 2;
	cr_assert_eq(strio_run(&s), STRIO_DONE);
	cr_assert_eq(guest_get(0x2fffe, 2), 0x2211);
	cr_assert_eq(s.rdi, 0, "a 16-bit index wraps");
	s = op32(true, 2, 0xffff, 1, es);
	s.mode = EMUL_REAL;
	s.addr_size = 2;
	expect_fault(&s, VEC_GP, false); /* no error code in real mode */
	s.mode = EMUL_V86;
	s.rdi = 0xffff;
	expect_fault(&s, VEC_GP, true);
}

Test(strio, a_split_wraps_at_4_gib_outside_64_bit_mode)
{
	w = walker_32();
	map32(0xfffff000u, 0x120000, false, E_ALL, E_P | E_RW);
	map32(0x0, 0x121000, false, E_ALL, E_P | E_RW);
	struct emul_segment es = { 0x1000, 0xffffffff, DATA_RW, false, false };
	struct strio s = op32(true, 4, 0xffffeffe, 1, es);
	cr_assert_eq(strio_run(&s), STRIO_DONE);
	cr_assert_eq(guest_get(0x120ffe, 2), 0x2211);
	cr_assert_eq(guest_get(0x121000, 2), 0x4433);
}

Test(strio, canonical_addresses_and_bases_in_64_bit_mode)
{
	map64(false, 0x400000, 0x100000, 0, E_ALL, E_P | E_RW);
	struct strio s = op64(false, 1, 0x0000800000000000ull, 1);
	expect_fault(&s, VEC_GP, true);
	s = op64(false, 4, 0x00007ffffffffffeull, 1); /* its last byte is not canonical */
	expect_fault(&s, VEC_GP, true);
	s = op64(false, 1, 0x0000800000000000ull, 1);
	s.seg.is_ss = true;
	expect_fault(&s, VEC_SS, true);
	/* Limits and attributes do not count; FS/GS bases do. */
	guest_ram[0x100010] = 0x77;
	s = op64(false, 1, 0x10, 1);
	s.seg = (struct emul_segment){ 0x400000, 0, 0, false, true };
	cr_assert_eq(strio_run(&s), STRIO_DONE);
	cr_assert_eq(io.out[0], 0x77);
	s = op64(false, 1, 0x400010, 1);
	s.seg = (struct emul_segment){ 0x99990000, 0, 0, false, false }; /* DS: base ignored */
	cr_assert_eq(strio_run(&s), STRIO_DONE);
	cr_assert_eq(io.out[1], 0x77);
}

Test(strio, address_sizes_truncate_and_update_their_registers)
{
	map64(false, 0x400000, 0x100000, 0, E_ALL, E_P | E_RW);
	/* addr32 in 64-bit mode: EDI and ECX, written back zero-extended. */
	struct strio s = op64(true, 1, 0xffffffff00400000ull, 0xffffffff00000002ull);
	s.addr_size = 4;
	cr_assert_eq(strio_run(&s), STRIO_DONE);
	cr_assert_eq(s.rdi, 0x400002);
	cr_assert_eq(s.rcx, 0);
	cr_assert_eq(guest_get(0x100000, 2), 0x1211);
	/* 16-bit: DI wraps, the rest of RDI stays. */
	s = op64(true, 1, 0xabcd0000ffffull, 0x12340001);
	s.mode = EMUL_PROTECTED;
	s.addr_size = 2;
	s.seg = (struct emul_segment){ 0, 0xffff, DATA_RW, false, false };
	w.cr0 &= ~CR0_PG;
	cr_assert_eq(strio_run(&s), STRIO_DONE);
	cr_assert_eq(s.rdi, 0xabcd00000000ull);
	cr_assert_eq(s.rcx, 0x12340000);
	/* A zero count does nothing, whatever lies above the address size. */
	s = op64(true, 1, 0x400000, 0x10000);
	s.addr_size = 2;
	io.port_reads = 0;
	cr_assert_eq(strio_run(&s), STRIO_DONE);
	cr_assert_eq(io.port_reads, 0);
}

Test(strio, the_budget_splits_long_reps_and_single_ins_leave_rcx)
{
	map64(false, 0x400000, 0x100000, 0, E_ALL, E_P | E_RW);
	struct strio s = op64(true, 1, 0x400000, 10);
	s.budget = 4;
	cr_assert_eq(strio_run(&s), STRIO_MORE);
	cr_assert_eq(s.rcx, 6);
	cr_assert_eq(s.rdi, 0x400004);
	cr_assert_eq(strio_run(&s), STRIO_MORE);
	cr_assert_eq(strio_run(&s), STRIO_DONE, "the last two are within the budget");
	cr_assert_eq(s.rcx, 0);
	cr_assert_eq(io.port_reads, 10);
	s = op64(true, 1, 0x400000, 4);
	s.budget = 4;
	cr_assert_eq(strio_run(&s), STRIO_DONE, "a count that ends on the budget is done");
	s = op64(true, 1, 0x400000, 0);
	s.rep = false;
	s.rcx = 77;
	cr_assert_eq(strio_run(&s), STRIO_DONE);
	cr_assert_eq(s.rcx, 77);
	cr_assert_eq(s.rdi, 0x400001);
}

Test(strio, memory_that_is_not_ram_stops_before_any_effect)
{
	map64(false, 0x400000, GUEST_RAM_SIZE, 0, E_ALL, E_P | E_RW); /* beyond RAM */
	map64(false, 0x401000, POISONED_PAGE, 0, E_ALL, E_P | E_RW);
	struct strio s = op64(true, 1, 0x400010, 1);
	cr_assert_eq(strio_run(&s), STRIO_UNMAPPED);
	cr_assert_eq(s.bad_la, 0x400010);
	cr_assert_eq(s.bad_gpa, GUEST_RAM_SIZE + 0x10);
	s = op64(false, 1, 0x401010, 1);
	cr_assert_eq(strio_run(&s), STRIO_POISONED);
	cr_assert_eq(s.bad_gpa, POISONED_PAGE + 0x10);
	guest_put(GUEST_CR3 + 8, 0x7fff0000 | E_ALL, 8); /* a table outside RAM */
	s = op64(false, 1, 0x8000000000ull, 1);
	cr_assert_eq(strio_run(&s), STRIO_UNMAPPED);
	cr_assert_eq(s.bad_la, 0x8000000000ull);
	cr_assert_eq(io.port_reads + io.port_writes + io.mem_writes, 0);
}

Test(strio, a_port_write_that_stops_the_vm_ends_the_rep)
{
	map64(false, 0x400000, 0x100000, 0, E_ALL, E_P | E_RW);
	io.stop = true;
	struct strio s = op64(false, 1, 0x400000, 5);
	cr_assert_eq(strio_run(&s), STRIO_STOPPED);
	cr_assert_eq(io.port_writes, 1);
}
