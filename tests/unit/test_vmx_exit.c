/* VMX exit decoding (hv/vmx/vmx_exit.c) over a fake VMCS: vmread is this
 * file's (HV_HOST_TEST, hv/vmx/vmcs.h). Kinds per basic exit reason, the
 * exit qualifications of I/O and EPT violations as the SDM (vol. 3,
 * 28.2.1, tables 28-5 and 28-7) defines them, string I/O operands from the
 * instruction information or the guest's CS, failed VM entries, names and
 * statistics slots. */
#include <criterion/criterion.h>
#include <string.h>

#include "hv/vmx/vmcs.h"
#include "hv/vmx/vmx.h"

struct vmx_caps vmx_caps; /* vmx_caps.c's, which the host build lacks */

/* The fake VMCS: fields the decoder reads; anything else reads 0 (as a
 * failed VMREAD does) and is counted, so a test can tell. */
static struct {
	enum vmcs_field field;
	uint64_t value;
} vmcs[16];
static unsigned nfields, unknown_reads;

uint64_t vmread(enum vmcs_field field)
{
	for (unsigned i = 0; i < nfields; i++)
		if (vmcs[i].field == field)
			return vmcs[i].value;
	unknown_reads++;
	return 0;
}

static void vmcs_set(enum vmcs_field field, uint64_t value)
{
	for (unsigned i = 0; i < nfields; i++)
		if (vmcs[i].field == field) {
			vmcs[i].value = value;
			return;
		}
	cr_assert_lt(nfields, 16);
	vmcs[nfields].field = field;
	vmcs[nfields++].value = value;
}

/* vmx_cr.c applies MOV CR itself; here it only records the call. */
static unsigned cr_calls;
static uint64_t cr_qualification;

void vmx_handle_cr_access(struct vcpu *v, struct vm_exit *e, uint64_t qualification)
{
	(void)v;
	cr_calls++;
	cr_qualification = qualification;
	e->kind = EXIT_NONE;
}

static struct vcpu vcpu;

static void setup(void)
{
	memset(vmcs, 0, sizeof(vmcs));
	nfields = unknown_reads = cr_calls = 0;
	cr_qualification = 0;
	memset(&vmx_caps, 0, sizeof(vmx_caps));
	memset(&vcpu, 0, sizeof(vcpu));
}

TestSuite(vmx_exit, .init = setup);

static struct vm_exit decode(uint32_t reason, uint64_t qualification, uint8_t insn_len)
{
	struct vm_exit e;

	memset(&e, 0xa5, sizeof(e));
	vmcs_set(VMCS_EXIT_REASON, reason);
	vmcs_set(VMCS_EXIT_QUALIFICATION, qualification);
	vmcs_set(VMCS_EXIT_INSN_LEN, insn_len);
	vmx_decode_exit(&vcpu, &e);
	return e;
}

/* Basic exit reasons (SDM vol. 3, appendix C) that map straight to a kind. */
static const struct {
	uint32_t reason;
	enum exit_kind kind;
	const char *name;
} simple[] = {
	{ 1, EXIT_EXTERNAL_INTERRUPT, "external-interrupt" },
	{ 2, EXIT_TRIPLE_FAULT, "triple-fault" },
	{ 3, EXIT_NONE, "init" },
	{ 4, EXIT_NONE, "sipi" },
	{ 7, EXIT_INTERRUPT_WINDOW, "interrupt-window" },
	{ 9, EXIT_UNHANDLED, "task-switch" },
	{ 10, EXIT_CPUID, "cpuid" },
	{ 11, EXIT_GETSEC, "getsec" },
	{ 12, EXIT_HLT, "hlt" },
	{ 13, EXIT_INVD, "invd" },
	{ 14, EXIT_INVLPG, "invlpg" },
	{ 15, EXIT_RDPMC, "rdpmc" },
	{ 16, EXIT_UNHANDLED, "rdtsc" },
	{ 17, EXIT_RSM, "rsm" },
	{ 18, EXIT_HYPERCALL, "vmcall" },
	{ 19, EXIT_VIRT_INSN, "vmclear" },
	{ 20, EXIT_VIRT_INSN, "vmlaunch" },
	{ 21, EXIT_VIRT_INSN, "vmptrld" },
	{ 22, EXIT_VIRT_INSN, "vmptrst" },
	{ 23, EXIT_VIRT_INSN, "vmread" },
	{ 24, EXIT_VIRT_INSN, "vmresume" },
	{ 25, EXIT_VIRT_INSN, "vmwrite" },
	{ 26, EXIT_VIRT_INSN, "vmxoff" },
	{ 27, EXIT_VIRT_INSN, "vmxon" },
	{ 29, EXIT_UNHANDLED, "dr-access" },
	{ 31, EXIT_RDMSR, "rdmsr" },
	{ 32, EXIT_WRMSR, "wrmsr" },
	{ 33, EXIT_INVALID_STATE, "invalid-guest-state" },
	{ 34, EXIT_INVALID_STATE, "msr-loading" },
	{ 36, EXIT_MWAIT, "mwait" },
	{ 37, EXIT_UNHANDLED, "monitor-trap" },
	{ 39, EXIT_MONITOR, "monitor" },
	{ 40, EXIT_PAUSE, "pause" },
	{ 41, EXIT_MACHINE_CHECK, "machine-check" },
	{ 50, EXIT_VIRT_INSN, "invept" },
	{ 51, EXIT_UNHANDLED, "rdtscp" },
	{ 53, EXIT_VIRT_INSN, "invvpid" },
	{ 54, EXIT_WBINVD, "wbinvd" },
	{ 55, EXIT_XSETBV, "xsetbv" },
	{ 57, EXIT_UNHANDLED, "rdrand" },
	{ 58, EXIT_UNHANDLED, "invpcid" },
	{ 59, EXIT_VIRT_INSN, "vmfunc" },
	{ 61, EXIT_UNHANDLED, "rdseed" },
	{ 62, EXIT_DIRTY_LOG_FULL, "pml-full" },
};

Test(vmx_exit, each_basic_reason_has_its_kind_name_and_length)
{
	for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
		struct vm_exit e = decode(simple[i].reason, 0x77, 3);
		cr_assert_eq(e.kind, simple[i].kind, "%s: kind %d", simple[i].name, e.kind);
		cr_assert_eq(e.code, simple[i].reason);
		cr_assert_eq(e.insn_len, 3, "%s: VMX reports every length", simple[i].name);
		cr_assert_eq(e.info1, 0x77, "%s: the qualification", simple[i].name);
		cr_assert_eq(e.info2, 0);
		cr_assert_str_eq(vmx_exit_name(simple[i].reason), simple[i].name);
	}
	cr_assert_eq(unknown_reads, 0);
	cr_assert_eq(cr_calls, 0);
}

Test(vmx_exit, reason_bits_above_15_do_not_change_the_reason)
{
	/* Bit 27: from enclave mode; bit 28: pending MTF; bit 29: from VMX root. */
	struct vm_exit e = decode((1u << 27) | (1u << 28) | 12, 0, 1);
	cr_assert_eq(e.kind, EXIT_HLT);
	cr_assert_eq(e.code, (1u << 27) | (1u << 28) | 12, "the full code for reports");
}

/* Interruption information: bits 7:0 vector, 10:8 type (2 NMI, 3 hardware
 * exception), bit 31 valid. */
Test(vmx_exit, exceptions_nmis_and_machine_checks)
{
	vmcs_set(VMCS_EXIT_INTR_INFO, 0x80000202u); /* NMI */
	struct vm_exit e = decode(0, 0, 0);
	cr_assert_eq(e.kind, EXIT_EXTERNAL_INTERRUPT, "the host's NMI");
	cr_assert_eq(e.info2, 0x80000202u);
	cr_assert_str_eq(vmx_exit_name(0), "exception-nmi");

	vmcs_set(VMCS_EXIT_INTR_INFO, 0x80000312u); /* #MC, hardware exception */
	cr_assert_eq(decode(0, 0, 0).kind, EXIT_MACHINE_CHECK);

	vmcs_set(VMCS_EXIT_INTR_INFO, 0x80000b0eu); /* #PF with an error code */
	e = decode(0, 0x1000, 0);
	cr_assert_eq(e.kind, EXIT_UNHANDLED, "an exception nobody intercepts on purpose");
	cr_assert_eq(e.info2, 0x80000b0eu);
}

Test(vmx_exit, cr_access_goes_to_the_backend_with_the_qualification)
{
	struct vm_exit e = decode(28, 0x0000000000000304ull, 3); /* mov cr4, rax... */
	cr_assert_eq(cr_calls, 1);
	cr_assert_eq(cr_qualification, 0x304);
	cr_assert_eq(e.kind, EXIT_NONE, "whatever vmx_handle_cr_access decided");
	cr_assert_eq(e.insn_len, 3, "read before the backend needs it");
	cr_assert_str_eq(vmx_exit_name(28), "cr-access");
}

/* I/O qualification: bits 2:0 size - 1 (0, 1, 3), bit 3 IN, bit 4 string,
 * bit 5 REP, bit 6 immediate operand, bits 31:16 port. */
Test(vmx_exit, io_fields_from_the_qualification)
{
	struct vm_exit e = decode(30, (0x3f8ull << 16) | 0, 1); /* out dx, al */
	cr_assert_eq(e.kind, EXIT_IO);
	cr_assert_eq(e.io.port, 0x3f8);
	cr_assert_eq(e.io.size, 1);
	cr_assert_not(e.io.in);
	cr_assert_not(e.io.string);
	cr_assert_not(e.io.rep);
	cr_assert_eq(e.insn_len, 1);

	e = decode(30, (0x60ull << 16) | (1u << 6) | (1u << 3) | 1, 3); /* in ax, 0x60 */
	cr_assert_eq(e.io.port, 0x60);
	cr_assert_eq(e.io.size, 2);
	cr_assert(e.io.in);

	e = decode(30, (0xcfcull << 16) | (1u << 3) | 3, 1); /* in eax, dx */
	cr_assert_eq(e.io.port, 0xcfc);
	cr_assert_eq(e.io.size, 4);
	cr_assert(e.io.in);
	cr_assert_eq(unknown_reads, 0, "no string: no operands read");
}

/* With VMX_BASIC[54], the instruction information gives INS/OUTS operands:
 * bits 9:7 address size (0 16-bit, 1 32-bit, 2 64-bit), 17:15 segment. */
Test(vmx_exit, string_io_operands_from_the_instruction_information)
{
	vmx_caps.inout_info = true;
	vmcs_set(VMCS_EXIT_INSN_INFO, (5u << 15) | (1u << 7)); /* GS, 32-bit */
	struct vm_exit e = decode(30, (0x3f8ull << 16) | (1u << 5) | (1u << 4), 3); /* rep outsb */
	cr_assert(e.io.string);
	cr_assert(e.io.rep);
	cr_assert_not(e.io.in);
	cr_assert_eq(e.io.addr_size, 4);
	cr_assert_eq(e.io.segment, SEG_GS);

	vmcs_set(VMCS_EXIT_INSN_INFO, (0u << 15) | (2u << 7)); /* ES, 64-bit */
	e = decode(30, (0x1f0ull << 16) | (1u << 4) | (1u << 3) | 1, 2); /* insw */
	cr_assert_eq(e.io.addr_size, 8);
	cr_assert_eq(e.io.segment, SEG_ES);
	cr_assert_eq(e.io.size, 2);

	vmcs_set(VMCS_EXIT_INSN_INFO, 3u << 15); /* DS, 16-bit */
	e = decode(30, (0x1f0ull << 16) | (1u << 4), 2);
	cr_assert_eq(e.io.addr_size, 2);
	cr_assert_eq(e.io.segment, SEG_DS);
	cr_assert_eq(unknown_reads, 0);
}

/* Without it: the address size from the guest's CS (L with EFER.LMA: 64,
 * else D/B: 32 or 16) and DS, as the CPU assumes without an override. */
Test(vmx_exit, string_io_operands_from_the_guest_code_segment)
{
	vmcs_set(VMCS_EXIT_INSN_INFO, (5u << 15) | (2u << 7)); /* must not be used */
	vmcs_set(VMCS_GUEST_EFER, 0x500);                         /* LME | LMA */
	vmcs_set(VMCS_GUEST_ES_AR + 2, 0xa09b);                   /* CS: L, G, P, code */
	struct vm_exit e = decode(30, (0x3f8ull << 16) | (1u << 4), 2);
	cr_assert_eq(e.io.addr_size, 8);
	cr_assert_eq(e.io.segment, SEG_DS);

	vmcs_set(VMCS_GUEST_ES_AR + 2, 0xc09b); /* D/B: 32-bit code (compatibility mode) */
	cr_assert_eq(decode(30, 1u << 4, 2).io.addr_size, 4);
	vmcs_set(VMCS_GUEST_ES_AR + 2, 0x009b); /* 16-bit code */
	cr_assert_eq(decode(30, 1u << 4, 2).io.addr_size, 2);
	vmcs_set(VMCS_GUEST_EFER, 0x100);       /* LME without LMA: L means nothing */
	vmcs_set(VMCS_GUEST_ES_AR + 2, 0xa09b);
	cr_assert_eq(decode(30, 1u << 4, 2).io.addr_size, 2);
	cr_assert_eq(unknown_reads, 0);
}

/* EPT violation qualification: bit 0 read, 1 write, 2 fetch; 3-5 the
 * entry allowed read, write, execute (any: the page was present); bit 7 a
 * guest linear address exists, and then bit 8 clear means the access was
 * to the guest's own paging structures. */
Test(vmx_exit, ept_violation_bits_and_gpa)
{
	vmcs_set(VMCS_GUEST_PHYS_ADDR, 0xfee00300ull);
	struct vm_exit e = decode(48, 0x181, 3); /* read, not present */
	cr_assert_eq(e.kind, EXIT_MEMORY);
	cr_assert_eq(e.mem.gpa, 0xfee00300ull);
	cr_assert_eq(e.info2, 0xfee00300ull);
	cr_assert_eq(e.info1, 0x181);
	cr_assert(!e.mem.write && !e.mem.fetch && !e.mem.present && !e.mem.walk);
	cr_assert_str_eq(vmx_exit_name(48), "ept-violation");

	vmcs_set(VMCS_GUEST_PHYS_ADDR, 0x123456789000ull);
	e = decode(48, 0x180 | 0x28 | 0x2, 3); /* write to a read+execute page */
	cr_assert_eq(e.mem.gpa, 0x123456789000ull);
	cr_assert(e.mem.write && e.mem.present && !e.mem.fetch && !e.mem.walk);

	e = decode(48, 0x180 | 0x08 | 0x4, 0); /* fetch from a read-only page */
	cr_assert(e.mem.fetch && e.mem.present && !e.mem.write);

	e = decode(48, 0x180 | 0x20 | 0x1, 0); /* execute-only page read */
	cr_assert(e.mem.present);

	e = decode(48, 0x80 | 0x10 | 0x2, 0); /* A/D update of a guest page table */
	cr_assert(e.mem.walk && e.mem.write && e.mem.present);

	e = decode(48, 0x2, 0); /* no linear address (e.g. a PML or PDPTE access) */
	cr_assert(!e.mem.walk && e.mem.write && !e.mem.present);
}

Test(vmx_exit, ept_misconfiguration_is_unhandled_with_the_gpa)
{
	vmcs_set(VMCS_GUEST_PHYS_ADDR, 0x5000);
	struct vm_exit e = decode(49, 0, 0);
	cr_assert_eq(e.kind, EXIT_UNHANDLED);
	cr_assert_eq(e.info2, 0x5000);
	cr_assert_str_eq(vmx_exit_name(49), "ept-misconfig");
}

/* Bit 31: VM entry failed. Reason 41 is a machine check during entry; the
 * others (33 guest state, 34 MSR loading) an invalid state. Nothing else
 * is decoded: the guest never ran. */
Test(vmx_exit, failed_entries)
{
	static const struct {
		uint32_t reason;
		enum exit_kind kind;
		const char *name;
	} cases[] = {
		{ 33, EXIT_INVALID_STATE, "entry-failed-guest-state" },
		{ 34, EXIT_INVALID_STATE, "entry-failed-msr-loading" },
		{ 41, EXIT_MACHINE_CHECK, "entry-failed-machine-check" },
		{ 28, EXIT_INVALID_STATE, "entry-failed" },
		{ 48, EXIT_INVALID_STATE, "entry-failed" },
		{ 0, EXIT_INVALID_STATE, "entry-failed" },
	};

	vmcs_set(VMCS_EXIT_INTR_INFO, 0x80000312u);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t code = (1u << 31) | cases[i].reason;
		struct vm_exit e = decode(code, 0x5, 0);
		cr_assert_eq(e.kind, cases[i].kind, "reason %u", cases[i].reason);
		cr_assert_eq(e.code, code);
		cr_assert_eq(e.info1, 0x5);
		cr_assert_str_eq(vmx_exit_name(code), cases[i].name);
	}
	cr_assert_eq(cr_calls, 0, "no decoder ran");
	cr_assert_eq(unknown_reads, 0, "no operand was read");
}

Test(vmx_exit, unknown_reasons_are_unhandled)
{
	static const uint32_t reasons[] = { 5, 6, 8, 35, 38, 42, 43, 44, 52, 56, 60, 63, 64,
					    69, 70, 74, 100, 0xffff };

	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		struct vm_exit e = decode(reasons[i], 1, 2);
		cr_assert_eq(e.kind, EXIT_UNHANDLED, "reason %u", reasons[i]);
		cr_assert_str_eq(vmx_exit_name(reasons[i]), "other", "reason %u", reasons[i]);
	}
	cr_assert_str_eq(vmx_exit_name(VMX_EXIT_VMFAIL), "vmfail");
}

/* Statistics: each code counts in a slot below VCPU_EXIT_STATS, and the
 * slot names the code back (or "other" for codes that share one). */
Test(vmx_exit, slots_and_codes_round_trip)
{
	uint32_t codes[300];
	size_t n = 0;

	for (uint32_t r = 0; r < 0x90; r++)
		codes[n++] = r;
	codes[n++] = 0xffff;
	codes[n++] = VMX_EXIT_VMFAIL;
	codes[n++] = (1u << 31) | 33;
	codes[n++] = (1u << 31) | 34;
	codes[n++] = (1u << 31) | 41;
	codes[n++] = (1u << 31) | 7;
	for (size_t i = 0; i < n; i++) {
		unsigned slot = vmx_exit_slot(codes[i]);
		cr_assert_lt(slot, VCPU_EXIT_STATS);
		cr_assert_str_eq(vmx_exit_name(vmx_slot_code(slot)), vmx_exit_name(codes[i]),
				 "code 0x%x, slot 0x%x", codes[i], slot);
		if (codes[i] < 70 || codes[i] == VMX_EXIT_VMFAIL || (codes[i] >> 31))
			cr_assert_eq(vmx_slot_code(slot), codes[i], "code 0x%x", codes[i]);
	}
	unsigned other = vmx_exit_slot(70);
	cr_assert_eq(vmx_exit_slot(0x8f), other, "reasons past the table share one slot");
	cr_assert_eq(vmx_exit_slot(0xffff), other);
	cr_assert_eq(vmx_exit_slot(vmx_slot_code(other)), other);
	cr_assert_neq(vmx_exit_slot((1u << 31) | 33), vmx_exit_slot(33),
		      "a failed entry is not counted as the exit of the same number");
}
