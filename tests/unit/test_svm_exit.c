/* SVM exit decoding (hv/svm/svm_exit.c) over a fake VMCB: kinds, lengths
 * with and without NRIPS, IOIO and nested-page-fault fields as the APM
 * (vol. 2, 15.10.2 and 15.25.6) defines EXITINFO1, names and statistics
 * slots. */
#include <criterion/criterion.h>
#include <string.h>

#include "hv/svm/svm.h"

struct svm_caps svm_caps; /* svm_probe.c's, which the host build lacks */

static struct vmcb vmcb;
static struct vcpu vcpu;

#define RIP 0x7c00ull

static void setup(void)
{
	memset(&vmcb, 0, sizeof(vmcb));
	memset(&vcpu, 0, sizeof(vcpu));
	memset(&svm_caps, 0, sizeof(svm_caps));
	vcpu.regs.rip = RIP;
}

TestSuite(svm_exit, .init = setup);

static struct vm_exit decode(uint64_t code, uint64_t info1, uint64_t info2, uint64_t next_rip)
{
	struct vm_exit e;

	memset(&e, 0xa5, sizeof(e)); /* nothing may be left from before */
	vmcb.control.exit_code = code;
	vmcb.control.exit_info1 = info1;
	vmcb.control.exit_info2 = info2;
	vmcb.control.next_rip = next_rip;
	svm_decode_exit(&vcpu, &vmcb, &e);
	return e;
}

/* Exit codes without operands: kind, name and the intercepted
 * instruction's length when the CPU gives no nRIP. */
static const struct {
	uint32_t code;
	enum exit_kind kind;
	const char *name;
	uint8_t len;
} simple[] = {
	{ 0x52, EXIT_MACHINE_CHECK, "excp-mc", 0 },
	{ 0x60, EXIT_EXTERNAL_INTERRUPT, "intr", 0 },
	{ 0x61, EXIT_EXTERNAL_INTERRUPT, "nmi", 0 },
	{ 0x62, EXIT_EXTERNAL_INTERRUPT, "smi", 0 },
	{ 0x63, EXIT_EXTERNAL_INTERRUPT, "init", 0 },
	{ 0x64, EXIT_INTERRUPT_WINDOW, "vintr", 0 },
	{ 0x72, EXIT_CPUID, "cpuid", 2 },         /* 0f a2 */
	{ 0x73, EXIT_RSM, "rsm", 2 },             /* 0f aa */
	{ 0x76, EXIT_INVD, "invd", 2 },           /* 0f 08 */
	{ 0x77, EXIT_PAUSE, "pause", 2 },         /* f3 90 */
	{ 0x78, EXIT_HLT, "hlt", 1 },             /* f4 */
	{ 0x7a, EXIT_VIRT_INSN, "invlpga", 3 },   /* 0f 01 df */
	{ 0x7f, EXIT_TRIPLE_FAULT, "shutdown", 0 },
	{ 0x80, EXIT_VIRT_INSN, "vmrun", 3 },     /* 0f 01 d8 */
	{ 0x81, EXIT_HYPERCALL, "vmmcall", 3 },   /* 0f 01 d9 */
	{ 0x82, EXIT_VIRT_INSN, "vmload", 3 },
	{ 0x83, EXIT_VIRT_INSN, "vmsave", 3 },
	{ 0x84, EXIT_VIRT_INSN, "stgi", 3 },
	{ 0x85, EXIT_VIRT_INSN, "clgi", 3 },
	{ 0x86, EXIT_VIRT_INSN, "skinit", 3 },
	{ 0x89, EXIT_WBINVD, "wbinvd", 2 },       /* 0f 09 */
	{ 0x8a, EXIT_MONITOR, "monitor", 3 },     /* 0f 01 c8 */
	{ 0x8b, EXIT_MWAIT, "mwait", 3 },         /* 0f 01 c9 */
	{ 0x8c, EXIT_MWAIT, "mwait-cond", 3 },
	{ 0x8d, EXIT_XSETBV, "xsetbv", 3 },       /* 0f 01 d1 */
	{ 0xffffffffu, EXIT_INVALID_STATE, "invalid", 0 },
};
#define NSIMPLE (sizeof(simple) / sizeof(simple[0]))

Test(svm_exit, simple_exits_have_fixed_lengths_without_nrips)
{
	for (size_t i = 0; i < NSIMPLE; i++) {
		uint64_t code = simple[i].code == 0xffffffffu ? ~0ull : simple[i].code;
		struct vm_exit e = decode(code, 0x1111, 0x2222, RIP + 9); /* nRIP ignored */
		cr_assert_eq(e.kind, simple[i].kind, "%s: kind %d", simple[i].name, e.kind);
		cr_assert_eq(e.code, simple[i].code, "%s", simple[i].name);
		cr_assert_eq(e.insn_len, simple[i].len, "%s: length %u", simple[i].name,
			     e.insn_len);
		cr_assert_eq(e.info1, 0x1111);
		cr_assert_eq(e.info2, 0x2222);
		cr_assert_str_eq(svm_exit_name(simple[i].code), simple[i].name);
	}
}

Test(svm_exit, with_nrips_the_length_is_next_rip_minus_rip)
{
	/* The CPU saves nRIP for instruction intercepts and zeroes it for
	 * the others (APM 15.7.1). */
	svm_caps.nrips = true;
	for (size_t i = 0; i < NSIMPLE; i++) {
		bool insn = simple[i].len != 0;
		struct vm_exit e = decode(simple[i].code, 0, 0, insn ? RIP + 4 : 0);
		cr_assert_eq(e.insn_len, insn ? 4 : 0, "%s: length %u", simple[i].name, e.insn_len);
	}
	/* A next RIP that is not ahead (0 when the exit was not an
	 * instruction): the fixed length. */
	cr_assert_eq(decode(0x72, 0, 0, 0).insn_len, 2);
	cr_assert_eq(decode(0x78, 0, 0, RIP).insn_len, 1);
	cr_assert_eq(decode(0x7c, 0, 0, RIP + 3).insn_len, 3, "an MSR access with a prefix");
}

Test(svm_exit, msr_exits_are_rdmsr_or_wrmsr_by_exitinfo1)
{
	struct vm_exit e = decode(0x7c, 0, 0, 0);
	cr_assert_eq(e.kind, EXIT_RDMSR);
	cr_assert_eq(e.insn_len, 2);
	e = decode(0x7c, 1, 0, 0);
	cr_assert_eq(e.kind, EXIT_WRMSR);
	cr_assert_eq(e.insn_len, 2);
	cr_assert_str_eq(svm_exit_name(0x7c), "msr");
}

/* EXITINFO1 of IOIO: bit 0 IN, 2 string, 3 REP, 4-6 size 8/16/32, 7-9
 * address size 16/32/64, 12:10 segment, 31:16 port. EXITINFO2: the RIP of
 * the next instruction, with or without NRIPS. */
Test(svm_exit, ioio_fields_and_length_from_exitinfo2)
{
	struct vm_exit e = decode(0x7b, (0x3f8ull << 16) | (3u << 10) | (1u << 8) | (1u << 4) |
				  (1u << 3) | (1u << 2), RIP + 2, 0);
	cr_assert_eq(e.kind, EXIT_IO);
	cr_assert_eq(e.io.port, 0x3f8);
	cr_assert_eq(e.io.size, 1);
	cr_assert_not(e.io.in);
	cr_assert(e.io.string);
	cr_assert(e.io.rep);
	cr_assert_eq(e.io.addr_size, 4);
	cr_assert_eq(e.io.segment, SEG_DS);
	cr_assert_eq(e.insn_len, 2, "rep outsb: f3 6e");

	e = decode(0x7b, (0x60ull << 16) | (1u << 5) | 1, RIP + 2, 0);
	cr_assert_eq(e.io.port, 0x60);
	cr_assert_eq(e.io.size, 2);
	cr_assert(e.io.in);
	cr_assert_not(e.io.string);
	cr_assert_not(e.io.rep);
	cr_assert_eq(e.insn_len, 2, "in ax, dx: 66 ed");

	e = decode(0x7b, (0xcfcull << 16) | (5u << 10) | (1u << 9) | (1u << 6) | (1u << 2), RIP + 1,
		   0);
	cr_assert_eq(e.io.port, 0xcfc);
	cr_assert_eq(e.io.size, 4);
	cr_assert_eq(e.io.addr_size, 8);
	cr_assert_eq(e.io.segment, SEG_GS);
	cr_assert_eq(e.insn_len, 1);

	e = decode(0x7b, (0xffffull << 16) | (1u << 7) | (1u << 4) | 1, RIP + 1, 0);
	cr_assert_eq(e.io.port, 0xffff);
	cr_assert_eq(e.io.addr_size, 2);

	svm_caps.nrips = true;
	cr_assert_eq(decode(0x7b, 0xe9ull << 16, RIP + 3, RIP + 7).insn_len, 3,
		     "EXITINFO2, not nRIP");
}

/* EXITINFO1 of a nested page fault: a #PF error code (bit 0 present, 1
 * write, 2 user, 4 instruction fetch) plus bit 32 (the final guest-physical
 * address) and bit 33 (a guest page-table access); EXITINFO2 the GPA. */
Test(svm_exit, nested_page_fault_bits)
{
	struct vm_exit e = decode(0x400, (1ull << 32) | 0x5, 0xfee00300ull, 0);
	cr_assert_eq(e.kind, EXIT_MEMORY);
	cr_assert_eq(e.mem.gpa, 0xfee00300ull);
	cr_assert(e.mem.present);
	cr_assert_not(e.mem.write);
	cr_assert_not(e.mem.fetch);
	cr_assert_not(e.mem.walk);
	cr_assert_eq(e.insn_len, 0);
	cr_assert_str_eq(svm_exit_name(0x400), "npf");

	e = decode(0x400, (1ull << 32) | 0x6, 0x123456789000ull, 0);
	cr_assert_eq(e.mem.gpa, 0x123456789000ull);
	cr_assert_not(e.mem.present);
	cr_assert(e.mem.write);

	e = decode(0x400, (1ull << 32) | 0x15, 0x2000, 0);
	cr_assert(e.mem.fetch);
	cr_assert(e.mem.present);
	cr_assert_not(e.mem.write);

	e = decode(0x400, (1ull << 33) | 0x7, 0x3000, 0);
	cr_assert(e.mem.walk);
	cr_assert(e.mem.write && e.mem.present && !e.mem.fetch);

	e = decode(0x400, 0x8, 0x4000, 0); /* reserved bit: nothing else */
	cr_assert(!e.mem.present && !e.mem.write && !e.mem.fetch && !e.mem.walk);
}

Test(svm_exit, unknown_codes_are_unhandled)
{
	static const uint64_t codes[] = { 0x0, 0x10, 0x40, 0x5f, 0x65, 0x74, 0x79, 0x8e, 0x9f,
					  0xa0, 0x3ff, 0x401, 0x403, 0x404, 0x1000, 0xfffffffe };

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		struct vm_exit e = decode(codes[i], 7, 8, RIP + 2);
		cr_assert_eq(e.kind, EXIT_UNHANDLED, "code 0x%lx: kind %d", (unsigned long)codes[i],
			     e.kind);
		cr_assert_eq(e.insn_len, 0);
		cr_assert_eq(e.info1, 7);
		cr_assert_eq(e.info2, 8);
		cr_assert_str_eq(svm_exit_name((uint32_t)codes[i]), "other", "0x%lx",
				 (unsigned long)codes[i]);
	}
}

/* Statistics: each code counts in a slot below VCPU_EXIT_STATS, and the
 * slot names the code back (or "other" for codes that share one). */
Test(svm_exit, slots_and_codes_round_trip)
{
	for (uint32_t code = 0; code < 0x500; code++) {
		unsigned slot = svm_exit_slot(code);
		cr_assert_lt(slot, VCPU_EXIT_STATS);
		cr_assert_str_eq(svm_exit_name(svm_slot_code(slot)), svm_exit_name(code),
				 "code 0x%x, slot 0x%x", code, slot);
		if (code < 0xa0 || (code >= 0x400 && code <= 0x403))
			cr_assert_eq(svm_slot_code(slot), code, "code 0x%x", code);
	}
	cr_assert_eq(svm_slot_code(svm_exit_slot(0xffffffffu)), 0xffffffffu);
	cr_assert_eq(svm_exit_slot(0x400), 0xa0);
	cr_assert_eq(svm_exit_slot(0x403), 0xa3);
	unsigned other = svm_exit_slot(0x404);
	cr_assert_eq(svm_exit_slot(0x12345), other, "every unknown code shares one slot");
	cr_assert_neq(other, svm_exit_slot(0xffffffffu));
	cr_assert_str_eq(svm_exit_name(svm_slot_code(other)), "other");
	for (unsigned slot = 0; slot < VCPU_EXIT_STATS; slot++) {
		uint32_t code = svm_slot_code(slot);
		if (slot < 0xa6)
			cr_assert_eq(svm_exit_slot(code), slot, "slot 0x%x -> 0x%x", slot, code);
	}
}

/* #AC and #DB are intercepted (exception loops): the vector, and #AC's
 * error code from EXITINFO1 (APM 15.12: exception intercepts). */
Test(svm_exit, ac_and_db_exceptions)
{
	struct vm_exit e = decode(0x40 + 17, 0, 0, 0);

	cr_assert_eq(e.kind, EXIT_EXCEPTION);
	cr_assert_eq(e.exc.vector, 17);
	cr_assert(e.exc.has_error);
	cr_assert_eq(e.exc.error, 0);
	cr_assert_str_eq(svm_exit_name(0x51), "excp-ac");
	e = decode(0x41, 0, 0, 0);
	cr_assert_eq(e.kind, EXIT_EXCEPTION);
	cr_assert_eq(e.exc.vector, 1);
	cr_assert_not(e.exc.has_error);
	cr_assert_str_eq(svm_exit_name(0x41), "excp-db");
}
