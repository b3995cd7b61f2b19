/* A VCPU record from a peer is refused when its registers hold what the
 * CPU would refuse (WRMSR #GP, a VM entry check) or what the guest could
 * not have set: each case once, with the register named, and a plain
 * 64-bit state accepted. */
#include <criterion/criterion.h>
#include <string.h>

#include "migrate/state_codec.h"

static struct mig_vcpu long_mode(void)
{
	struct mig_vcpu v;

	memset(&v, 0, sizeof(v));
	v.s.regs.rflags = 0x202;
	v.s.regs.rip = 0xffffffff81000000ull;
	v.s.seg[SEG_CS] = (struct vcpu_segment){ 0x10, 0xa9b, 0xffffffff, 0 };
	v.s.seg[SEG_TR] = (struct vcpu_segment){ 0x40, 0x8b, 0x67, 0xfffffe0000003000ull };
	v.s.gdt = (struct vcpu_dtable){ 0xfffffe0000001000ull, 0x7f };
	v.s.cr0 = 0x80050033;
	v.s.cr3 = 0x1000;
	v.s.cr4 = 0x3206f0; /* Linux on a CPU without XSAVE */
	v.s.efer = 0xd01;
	v.s.pat = 0x0007040600070406ull;
	v.s.lstar = 0xffffffff81a00000ull;
	v.s.kernel_gs_base = 0xffff888000000000ull;
	v.s.sfmask = 0x47700;
	v.msr_tsc_aux = 1;
	return v;
}

static void refused(struct mig_vcpu v, const char *why)
{
	char err[160];

	cr_assert_eq(mig_vcpu_check(&v, err, sizeof(err)), -1, "accepted; expected: %s", why);
	cr_assert(strstr(err, why), "'%s' does not say '%s'", err, why);
}

Test(vcpu_check, a_plain_long_mode_state_is_accepted)
{
	struct mig_vcpu v = long_mode();
	char err[160];

	cr_assert_eq(mig_vcpu_check(&v, err, sizeof(err)), 0, "%s", err);
	memset(&v, 0, sizeof(v));
	v.s.regs.rflags = 2; /* reset state: real mode */
	v.s.cr0 = 0x60000010;
	cr_assert_eq(mig_vcpu_check(&v, err, sizeof(err)), 0, "%s", err);
}

Test(vcpu_check, addresses_in_msrs_must_be_canonical)
{
	struct mig_vcpu v = long_mode();
	v.s.lstar = 0x8000000000000000ull; /* the relayed stream's value */
	refused(v, "LSTAR is not canonical");
	v = long_mode();
	v.s.cstar = 0x0000800000000000ull;
	refused(v, "CSTAR");
	v = long_mode();
	v.s.kernel_gs_base = 0x1234567812345678ull;
	refused(v, "KERNEL_GS_BASE");
	v = long_mode();
	v.s.sysenter_eip = 0xff00000000000000ull;
	refused(v, "SYSENTER_EIP");
	v = long_mode();
	v.s.seg[SEG_FS].base = 0x0001000000000000ull;
	refused(v, "FS base");
	v = long_mode();
	v.s.seg[SEG_DS] = (struct vcpu_segment){ 0x18, 0x93, 0xffffffff, 0x100000000ull };
	refused(v, "DS base");
	v.s.seg[SEG_DS].attr = 0; /* unusable: its base means nothing */
	char err[160];
	cr_assert_eq(mig_vcpu_check(&v, err, sizeof(err)), 0, "%s", err);
	v = long_mode();
	v.s.idt.base = 0x7fff000000000000ull;
	refused(v, "GDT/IDT base");
}

Test(vcpu_check, control_registers_as_mov_to_cr_and_vm_entry_judge_them)
{
	struct mig_vcpu v = long_mode();
	v.s.cr0 |= 1ull << 32;
	refused(v, "CR0 has reserved bits");
	v = long_mode();
	v.s.cr0 = 0x80000000; /* PG without PE */
	refused(v, "PG without PE");
	v = long_mode();
	v.s.cr0 |= 1ull << 29; /* NW, CD clear */
	refused(v, "NW without CD");
	v = long_mode();
	v.s.cr4 |= 1ull << 13; /* VMXE: more than the guest had */
	refused(v, "CR4 has bits");
	v = long_mode();
	v.s.cr4 &= ~0x20ull;
	refused(v, "without CR4.PAE");
	v = long_mode();
	v.s.efer |= 1ull << 12; /* SVME */
	refused(v, "EFER has bits");
	v = long_mode();
	v.s.efer &= ~(1ull << 10); /* LME and PG without LMA */
	refused(v, "LMA disagrees");
	v = long_mode();
	v.s.cr3 = 1ull << 60;
	refused(v, "CR3");
	v = long_mode();
	v.s.dr7 = 1ull << 40;
	refused(v, "DR6/DR7");
	v = long_mode();
	v.s.regs.rflags = 0; /* bit 1 is always 1 */
	refused(v, "RFLAGS");
	v = long_mode();
	v.s.regs.rflags |= 1ull << 17; /* VM86 in long mode */
	refused(v, "RFLAGS");
	v = long_mode();
	v.s.seg[SEG_CS].attr |= 0x400; /* L and D/B */
	refused(v, "both L and D/B");
	v = long_mode();
	v.s.gdt.limit = 0x10000;
	refused(v, "limit");
}

Test(vcpu_check, msr_upper_halves_pat_and_events)
{
	struct mig_vcpu v = long_mode();
	v.s.sfmask = 1ull << 32;
	refused(v, "SFMASK");
	v = long_mode();
	v.msr_tsc_aux = 1ull << 32;
	refused(v, "TSC_AUX");
	v = long_mode();
	v.s.pat = 0x0007040600070402ull; /* type 2 does not exist */
	refused(v, "PAT");
	v = long_mode();
	v.s.interrupt_shadow = 4;
	refused(v, "interrupt shadow");
	v = long_mode();
	v.pending_exception = true;
	v.exception = (struct vcpu_event){ EVENT_EXCEPTION, 40, false, 0 };
	refused(v, "pending exception");
	v.exception = (struct vcpu_event){ EVENT_EXCEPTION, 6, true, 0 }; /* #UD has no error code */
	refused(v, "pending exception");
	v.exception = (struct vcpu_event){ EVENT_EXCEPTION, 14, true, 2 };
	char err[160];
	cr_assert_eq(mig_vcpu_check(&v, err, sizeof(err)), 0, "#PF with its error code: %s", err);
	v.exception = (struct vcpu_event){ EVENT_NMI, 3, false, 0 };
	refused(v, "pending NMI");
}

/* Text from a peer reaches the console: the relayed stream that rewrote
 * the image name to clear the screen and forge "ok" is refused. */
Test(vcpu_check, text_fields_from_a_peer_are_printable)
{
	struct mig_vm_config c = { .name = "v", .image = "counter", .mem_bytes = 1 << 20 };
	uint8_t body[MIG_STATE_MAX];
	struct mig_vm_config got;
	char err[160];

	uint32_t len = mig_vm_config_encode(&c, body);
	cr_assert_eq(mig_vm_config_decode(body, len, &got, err, sizeof(err)), 0, "%s", err);
	strcpy(c.image, "cou\033[2Jnter\r\nok\r\n");
	len = mig_vm_config_encode(&c, body);
	cr_assert_eq(mig_vm_config_decode(body, len, &got, err, sizeof(err)), -1);
	cr_assert(strstr(err, "control"), "%s", err);
	/* The name as well: vm.c's refusal of it quoted it on the console
	 * (fuzz_mig_recv). */
	strcpy(c.image, "counter");
	strcpy(c.name, "seed\033[2J");
	len = mig_vm_config_encode(&c, body);
	cr_assert_eq(mig_vm_config_decode(body, len, &got, err, sizeof(err)), -1);
	cr_assert(strstr(err, "control"), "%s", err);

	struct mig_uart u;
	memset(&u, 0, sizeof(u));
	u.line_len = 5;
	memcpy(u.line, "hello", 5);
	struct mig_uart ugot;
	len = mig_uart_encode(&u, body);
	cr_assert_eq(mig_uart_decode(body, len, &ugot, err, sizeof(err)), 0, "%s", err);
	u.line[2] = 0x1b;
	len = mig_uart_encode(&u, body);
	cr_assert_eq(mig_uart_decode(body, len, &ugot, err, sizeof(err)), -1);
	cr_assert(strstr(err, "not printable"), "%s", err);

	struct mig_modules m;
	memset(&m, 0, sizeof(m));
	m.count = 1;
	strcpy(m.spec[0], "initrd\a");
	struct mig_modules mgot;
	len = mig_modules_encode(&m, body);
	cr_assert_eq(mig_modules_decode(body, len, &mgot, err, sizeof(err)), -1);
}

/* VCPU_MSRS: AMD's legacy counters round-trip; a record is refused for an
 * MSR this version does not migrate, a value the guest's WRMSR would #GP
 * on, a repeated MSR, a count out of range and a non-zero pad. */
static uint32_t msrs_body(uint8_t *body, uint32_t count, const uint32_t *msr,
			  const uint64_t *value)
{
	struct mig_vcpu_msrs m = { .index = 1, .count = count };

	for (uint32_t i = 0; i < count; i++) {
		m.msr[i] = msr[i];
		m.value[i] = value[i];
	}
	return mig_vcpu_msrs_encode(&m, body);
}

static void msrs_refused(const uint8_t *body, uint32_t len, const char *why)
{
	struct mig_vcpu_msrs m;
	char err[160];

	cr_assert_eq(mig_vcpu_msrs_decode(body, len, &m, err, sizeof(err)), -1,
		     "accepted; expected: %s", why);
	cr_assert(strstr(err, why), "'%s' does not say '%s'", err, why);
}

Test(vcpu_check, vcpu_msrs_round_trip)
{
	static uint8_t body[MIG_STATE_MAX];
	const uint32_t msr[] = { 0xc0010000, 0xc0010003, 0xc0010004, 0xc0010007 };
	const uint64_t value[] = { 0x530076, 0x30000000000ull | 0x4300c0, 0xffffffffffffull, 1 };
	uint32_t len = msrs_body(body, 4, msr, value);
	struct mig_vcpu_msrs m;
	char err[160];

	cr_assert_eq(len, 8 + 4 * 16);
	cr_assert_eq(mig_vcpu_msrs_decode(body, len, &m, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(m.index, 1);
	cr_assert_eq(m.count, 4);
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(m.msr[i], msr[i]);
		cr_assert_eq(m.value[i], value[i]);
	}
}

Test(vcpu_check, vcpu_msrs_refusals)
{
	static uint8_t body[MIG_STATE_MAX];
	uint32_t msr = 0xc0010000, len;
	uint64_t value;

	value = 1ull << 21; /* PerfEvtSel bit 21 is reserved */
	msrs_refused(body, msrs_body(body, 1, &msr, &value), "reserved bits set");
	value = 1ull << 40; /* GuestOnly: not reserved */
	cr_assert_eq(mig_vcpu_msr_check(msr, value, NULL, 0), 0);
	value = 1ull << 42;
	msrs_refused(body, msrs_body(body, 1, &msr, &value), "reserved bits set");
	msr = 0xc0010004;
	value = 1ull << 48;
	msrs_refused(body, msrs_body(body, 1, &msr, &value), "wider than 48 bits");
	msr = 0xc0010200; /* PerfCtrExtCore, hidden from guests */
	value = 0;
	msrs_refused(body, msrs_body(body, 1, &msr, &value), "not an MSR this version migrates");
	const uint32_t twice[] = { 0xc0010001, 0xc0010001 };
	const uint64_t values[] = { 0, 0 };
	msrs_refused(body, msrs_body(body, 2, twice, values), "twice");
	/* count 0, and a pad that is not zero */
	len = msrs_body(body, 1, twice, values);
	body[4] = 0;
	msrs_refused(body, len, "malformed");
	len = msrs_body(body, 1, twice, values);
	body[12] = 1;
	msrs_refused(body, len, "malformed");
	/* one byte short of its count */
	msrs_refused(body, msrs_body(body, 1, twice, values) - 1, "malformed");
}
