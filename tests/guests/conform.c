/* The conformance guest: what the CPU it runs on does with the MSRs and
 * instructions its CPUID advertises, and the #GP or #UD of what it does not,
 * as the SDM and the APM define them; IDTs with short limits; accesses where
 * a PC has no RAM and no device. The same kernel boots under the hypervisor
 * and directly on QEMU (multiboot), and the differential test
 * (tests/integration/test_conformance.py) compares the two runs.
 *
 * One line per check: "PASS: <check> <outcome>" or "FAIL: <check> <outcome>
 * want=<expected>", where the outcome is ok, a value, or the exception the
 * check raised (#GP, #UD, #NP, #DF); then "conform: done, N checks, F
 * failed". Lines starting with "conform:" only inform. */
#include "rt.h"

#define NONCANONICAL 0x0000800000000000ull
#define CANONICAL_HIGH 0xffff800000001000ull
#define NO_TRAP 0xffu

/* Where an expected exception resumes: the check's own label, set just
 * before the instruction that may raise it (trap_return below). */
volatile uint32_t trap_resume, trap_vector = NO_TRAP, trap_error;

__asm__(".text\n"
	"trap_ud: movl $6, trap_vector\n"
	"	jmp trap_return\n"
	"trap_df: movl $8, trap_vector\n"
	"	popl trap_error\n"
	"	jmp trap_return\n"
	"trap_np: movl $11, trap_vector\n"
	"	popl trap_error\n"
	"	jmp trap_return\n"
	"trap_gp: movl $13, trap_vector\n"
	"	popl trap_error\n"
	"trap_return:\n"
	"	cmpl $0, trap_resume\n"
	"	je trap_unexpected\n"
	"	pushl %eax\n"
	"	movl trap_resume, %eax\n"
	"	movl %eax, 4(%esp)\n" /* the saved EIP */
	"	andl $~0x200, 12(%esp)\n" /* and IF: an interrupt that failed stays away */
	"	movl $0, trap_resume\n"
	"	popl %eax\n"
	"	iret\n"
	"trap_unexpected:\n"
	"	pushl trap_vector\n"
	"	call unexpected_trap\n");

void trap_ud(void), trap_df(void), trap_np(void), trap_gp(void);
void unexpected_trap(uint32_t vector);
void unexpected_trap(uint32_t vector)
{
	gprintf("conform: unexpected exception %u outside a check\n", vector);
	guest_exit(0x80 + vector);
}

/* Arms the resume point "1:" after the instruction(s) in between. */
#define TRY "movl $1f, trap_resume\n\tmovl $0xff, trap_vector\n\t"
#define END "\n1:\n\tmovl $0, trap_resume"

static unsigned nchecks, nfailed;

static const char *outcome(uint32_t vector)
{
	switch (vector) {
	case NO_TRAP: return "ok";
	case 6: return "#UD";
	case 8: return "#DF";
	case 11: return "#NP";
	case 13: return "#GP";
	}
	return "#?";
}

/* One verdict line: got is what happened, want what the manuals say. */
static void verdict(const char *check, uint32_t arg, const char *got, const char *want)
{
	bool pass = !strncmp(got, want, 8);

	nchecks++;
	nfailed += !pass;
	gprintf("%s: %s", pass ? "PASS" : "FAIL", check);
	if (arg != NO_TRAP)
		gprintf("-%x", arg);
	gprintf(" %s", got);
	if (!pass)
		gprintf(" want=%s", want);
	gprintf("\n");
}

static uint32_t rdmsr_try(uint32_t msr, uint64_t *value)
{
	uint32_t lo = 0, hi = 0;

	__asm__ volatile(TRY "rdmsr" END : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
	*value = ((uint64_t)hi << 32) | lo;
	return trap_vector;
}

static uint32_t wrmsr_try(uint32_t msr, uint64_t value)
{
	__asm__ volatile(TRY "wrmsr" END
			 :
			 : "a"((uint32_t)value), "d"((uint32_t)(value >> 32)), "c"(msr)
			 : "memory");
	return trap_vector;
}

/* ---- what CPUID advertises ---- */

static struct {
	bool intel, amd;
	uint32_t max_leaf, max_ext;
	uint32_t ecx1, edx1, ebx7, ecx7, ecx_e1, edx_e1;
	uint32_t pmu_eax, pmu_edx; /* leaf 0Ah */
} id;

static void cpuid_sub(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

static void read_cpuid(void)
{
	uint32_t r[4];

	cpuid_sub(0, 0, r);
	id.max_leaf = r[0];
	id.intel = r[1] == 0x756e6547; /* "Genu" */
	id.amd = r[1] == 0x68747541;   /* "Auth" */
	cpuid_sub(1, 0, r);
	id.ecx1 = r[2];
	id.edx1 = r[3];
	if (id.max_leaf >= 7) {
		cpuid_sub(7, 0, r);
		id.ebx7 = r[1];
		id.ecx7 = r[2];
	}
	if (id.max_leaf >= 0xa) {
		cpuid_sub(0xa, 0, r);
		id.pmu_eax = r[0];
		id.pmu_edx = r[3];
	}
	cpuid_sub(0x80000000u, 0, r);
	id.max_ext = r[0];
	if (id.max_ext >= 0x80000001u) {
		cpuid_sub(0x80000001u, 0, r);
		id.ecx_e1 = r[2];
		id.edx_e1 = r[3];
	}
	gprintf("conform: vendor %s max_leaf 0x%x max_ext 0x%x ecx1 0x%x edx1 0x%x ecx_e1 0x%x "
		"edx_e1 0x%x leaf_a 0x%x\n",
		id.intel ? "intel" : id.amd ? "amd" : "other", id.max_leaf, id.max_ext, id.ecx1,
		id.edx1, id.ecx_e1, id.edx_e1, id.pmu_eax);
}

#define BIT(word, n) (((word) >> (n)) & 1u)
#define LONG_MODE BIT(id.edx_e1, 29)

/* ---- MSRs ---- */

static void msr_exists(uint32_t msr, bool present)
{
	uint64_t v;

	verdict("rdmsr", msr, outcome(rdmsr_try(msr, &v)), present ? "ok" : "#GP");
}

/* Written, read back the same, then the old value put back. */
static void msr_round_trip(uint32_t msr, uint64_t value)
{
	uint64_t old, back = ~value;

	if (rdmsr_try(msr, &old) != NO_TRAP)
		return; /* its absence is msr_exists' verdict */
	uint32_t w = wrmsr_try(msr, value);
	if (w == NO_TRAP)
		rdmsr_try(msr, &back);
	wrmsr_try(msr, old);
	verdict("wrmsr-read-back", msr, w != NO_TRAP ? outcome(w) : back == value ? "ok" : "other",
		"ok");
}

/* A value the manuals reserve, or an address that is not canonical. */
static void msr_refuses(const char *check, uint32_t msr, uint64_t value)
{
	uint64_t old;

	if (rdmsr_try(msr, &old) != NO_TRAP)
		return;
	uint32_t w = wrmsr_try(msr, value);
	if (w == NO_TRAP)
		wrmsr_try(msr, old);
	verdict(check, msr, outcome(w), "#GP");
}

static void architectural_msrs(void)
{
	bool mtrr = BIT(id.edx1, 12);

	msr_exists(0x10, BIT(id.edx1, 4));  /* TSC */
	msr_exists(0x1b, BIT(id.edx1, 9));  /* APIC_BASE */
	msr_exists(0xfe, mtrr);             /* MTRRCAP */
	msr_exists(0x2ff, mtrr);            /* MTRR_DEF_TYPE */
	msr_exists(0x277, BIT(id.edx1, 16)); /* PAT */
	msr_exists(0x179, BIT(id.edx1, 14)); /* MCG_CAP */
	msr_exists(0x17a, BIT(id.edx1, 14)); /* MCG_STATUS */
	for (uint32_t m = 0x174; m <= 0x176; m++)
		msr_exists(m, BIT(id.edx1, 11)); /* SYSENTER_CS/ESP/EIP */
	msr_exists(0x6e0, BIT(id.ecx1, 24)); /* TSC_DEADLINE */
	msr_exists(0xc0000080u, BIT(id.edx_e1, 11) || BIT(id.edx_e1, 20) || LONG_MODE);
	for (uint32_t m = 0xc0000100u; m <= 0xc0000102u; m++)
		msr_exists(m, LONG_MODE); /* FS_BASE, GS_BASE, KERNEL_GS_BASE */
	msr_exists(0xc0000082u, LONG_MODE); /* LSTAR */
	msr_exists(0xc0000084u, LONG_MODE); /* SFMASK */
	msr_exists(0xc0000103u, BIT(id.edx_e1, 27) || BIT(id.ecx7, 22)); /* TSC_AUX */

	msr_round_trip(0x277, 0x0007040600070406ull);
	msr_refuses("pat-reserved-type", 0x277, 0x0007040600070402ull);
	msr_refuses("mtrr-def-reserved", 0x2ff, 0x1c06);
	msr_refuses("mtrr-def-bad-type", 0x2ff, 0xc02);
	msr_refuses("efer-reserved", 0xc0000080u, 0x2);
	msr_refuses("apic-base-reserved", 0x1b, 0xfee00901u);
	msr_round_trip(0xc0000103u, 0x5a5a);
	msr_refuses("tsc-aux-high", 0xc0000103u, 1ull << 32);
	msr_round_trip(0x174, 0x08);
	msr_round_trip(0x175, 0x12345000);
	msr_round_trip(0x176, 0x12346000);
	if (LONG_MODE) {
		static const uint32_t bases[] = { 0xc0000100u, 0xc0000101u, 0xc0000102u,
						  0xc0000082u };
		for (unsigned i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
			msr_round_trip(bases[i], CANONICAL_HIGH);
			msr_refuses("noncanonical", bases[i], NONCANONICAL);
		}
		if (id.intel) { /* AMD drops SYSENTER_ESP/EIP's upper half instead */
			msr_refuses("noncanonical", 0x175, NONCANONICAL);
			msr_refuses("noncanonical", 0x176, NONCANONICAL);
		}
		if (id.amd) {
			msr_round_trip(0xc0000083u, CANONICAL_HIGH); /* CSTAR */
			msr_refuses("noncanonical", 0xc0000083u, NONCANONICAL);
		}
	}
}

/* AMD: the legacy counters C001_0000h-C001_0007h on every AMD64 CPU, the
 * core extension's C001_0200h-C001_020Bh where PerfCtrExtCore says so.
 * Intel: the architectural counters leaf 0Ah lists, and not the next. */
static void performance_msrs(void)
{
	if (id.amd) {
		bool ext = BIT(id.ecx_e1, 23);
		for (uint32_t m = 0xc0010000u; m <= 0xc0010007u; m++)
			msr_exists(m, true);
		msr_round_trip(0xc0010000u, 0x0000000000030076ull); /* cycles, OS+USR, off */
		msr_round_trip(0xc0010004u, 0x1234);
		msr_exists(0xc0010200u, ext);
		msr_exists(0xc001020bu, ext);
		return;
	}
	if (!id.intel)
		return;
	uint32_t version = id.pmu_eax & 0xff, counters = version ? (id.pmu_eax >> 8) & 0xff : 0;
	for (uint32_t i = 0; i < counters && i < 8; i++) {
		msr_exists(0xc1 + i, true);  /* IA32_PMCi */
		msr_exists(0x186 + i, true); /* IA32_PERFEVTSELi */
	}
	if (counters < 8) {
		msr_exists(0xc1 + counters, false);
		msr_exists(0x186 + counters, false);
	}
	if (version >= 2) {
		uint32_t fixed = id.pmu_edx & 0x1f;
		for (uint32_t i = 0; i < fixed && i < 4; i++)
			msr_exists(0x309 + i, true);
		msr_exists(0x38d, true); /* FIXED_CTR_CTRL */
		msr_exists(0x38f, true); /* PERF_GLOBAL_CTRL */
	}
}

/* ---- instructions ---- */

static uint32_t run_insn(int which, uint32_t *out)
{
	uint32_t a = 0, c = 0, d = 0;

	switch (which) {
	case 0: __asm__ volatile(TRY "rdtscp" END : "+a"(a), "+c"(c), "+d"(d) : : "memory"); break;
	case 1: __asm__ volatile(TRY ".byte 0xf3, 0x0f, 0xc7, 0xf8" END /* rdpid eax */
				 : "+a"(a) : : "memory"); c = a; break;
	case 2: __asm__ volatile(TRY ".byte 0x0f, 0xc7, 0xf0" END /* rdrand eax */
				 : "+a"(a) : : "memory", "cc"); break;
	case 3: __asm__ volatile(TRY ".byte 0x0f, 0xc7, 0xf8" END /* rdseed eax */
				 : "+a"(a) : : "memory", "cc"); break;
	case 4: __asm__ volatile(TRY "monitor" END : "+a"(a), "+c"(c), "+d"(d) : : "memory"); break;
	case 5: __asm__ volatile(TRY "xgetbv" END : "+a"(a), "+c"(c), "+d"(d) : : "memory"); break;
	case 6: __asm__ volatile(TRY "popcnt %%eax, %%eax" END : "+a"(a) : : "memory", "cc"); break;
	case 7: { static uint32_t m = 0x11223344;
		__asm__ volatile(TRY "movbe %1, %%eax" END : "+a"(a) : "m"(m) : "memory"); break; }
	case 8: __asm__ volatile(TRY "clflush (%%eax)" END : : "a"(&nchecks) : "memory"); break;
	case 9: { static uint8_t area[512] __attribute__((aligned(16)));
		__asm__ volatile(TRY "fxsave %0" END : "=m"(area) : : "memory"); break; }
	case 10: __asm__ volatile(TRY "vmload" END : "+a"(a) : : "memory"); break;
	case 11: __asm__ volatile(TRY "rdpmc" END : "+a"(a), "+c"(c), "+d"(d) : : "memory"); break;
	case 12: { static uint64_t region;
		__asm__ volatile(TRY "vmxon %0" END : : "m"(region) : "memory", "cc"); break; }
	}
	if (out)
		*out = c;
	return trap_vector;
}

static void insn_exists(const char *name, int which, bool present)
{
	verdict(name, NO_TRAP, outcome(run_insn(which, NULL)), present ? "ok" : "#UD");
}

/* RDTSCP and RDPID return what the guest wrote to TSC_AUX. */
static void tsc_aux_readers(void)
{
	static const struct { const char *name; int which; bool present; } r[] = {
		{ "rdtscp-aux", 0, false }, { "rdpid-aux", 1, false },
	};
	bool present[2] = { BIT(id.edx_e1, 27), BIT(id.ecx7, 22) };

	wrmsr_try(0xc0000103u, 0x4711);
	for (int i = 0; i < 2; i++) {
		uint32_t aux = 0, v = run_insn(r[i].which, &aux);
		const char *got = v != NO_TRAP ? outcome(v) : aux == 0x4711 ? "ok" : "other-value";
		verdict(r[i].name, NO_TRAP, got, present[i] ? "ok" : "#UD");
	}
}

static void instructions(void)
{
	tsc_aux_readers();
	insn_exists("rdrand", 2, BIT(id.ecx1, 30));
	insn_exists("rdseed", 3, BIT(id.ebx7, 18));
	if (!BIT(id.ecx1, 3))
		insn_exists("monitor", 4, false);
	insn_exists("xgetbv-osxsave-off", 5, false); /* CR4.OSXSAVE is clear */
	insn_exists("popcnt", 6, BIT(id.ecx1, 23));
	insn_exists("movbe", 7, BIT(id.ecx1, 22));
	insn_exists("clflush", 8, BIT(id.edx1, 19));
	insn_exists("fxsave", 9, BIT(id.edx1, 24));
	insn_exists("vmload-svme-off", 10, false); /* EFER.SVME is clear */
	insn_exists("vmxon-vmxe-off", 12, false); /* CR4.VMXE is clear */
	uint32_t counters = id.amd ? 4 : (id.pmu_eax & 0xff) ? (id.pmu_eax >> 8) & 0xff : 0;
	verdict("rdpmc-0", NO_TRAP, outcome(run_insn(11, NULL)), counters ? "ok" : "#GP");
}

/* ---- debug registers, x2APIC ---- */

static void control_registers(void)
{
	uint32_t cr4;

	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	/* No MOV to CR0 or CR4 that must #GP (reserved bits, features CPUID
	 * withholds, PG without PE): QEMU 7.2 TCG takes CR0's and hangs on
	 * CR4's, so the bare run could not answer them. */
	/* DR4 is DR6's alias until CR4.DE makes it #UD. */
	uint32_t dr = 0;
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4 | 1u << 3));
	__asm__ volatile(TRY "mov %%dr4, %0" END : "+r"(dr) : : "memory");
	uint32_t v = trap_vector;
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4));
	verdict("mov-dr4-with-cr4-de", NO_TRAP, outcome(v), "#UD");
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4 & ~(1u << 3)));
	__asm__ volatile(TRY "mov %%dr4, %0" END : "+r"(dr) : : "memory");
	v = trap_vector;
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4));
	verdict("mov-dr4-without-cr4-de", NO_TRAP, outcome(v), "ok");
	uint64_t ignored;
	/* x2APIC registers exist only in x2APIC mode, which is off. */
	verdict("rdmsr-x2apic-id-xapic-mode", NO_TRAP, outcome(rdmsr_try(0x802, &ignored)), "#GP");
}

/* ---- IDTs with short limits ---- */

static void own_traps(void)
{
	idt_gate_typed(6, trap_ud, IDT_INTERRUPT_GATE);
	idt_gate_typed(8, trap_df, IDT_INTERRUPT_GATE);
	idt_gate_typed(11, trap_np, IDT_INTERRUPT_GATE);
	idt_gate_typed(13, trap_gp, IDT_INTERRUPT_GATE);
}

static void idt_case(const char *check, uint16_t limit, uint32_t want_vector, uint32_t want_error)
{
	idt_load_limit(limit);
	__asm__ volatile(TRY "int $0x20" END : : : "memory");
	uint32_t v = trap_vector, e = trap_error;
	idt_load_limit(IDT_FULL_LIMIT);
	const char *got = outcome(v);
	if (v == want_vector && v != NO_TRAP && e != want_error)
		got = "wrong-error-code";
	verdict(check, NO_TRAP, got, outcome(want_vector));
	if (v != NO_TRAP)
		gprintf("conform: %s error code 0x%x\n", check, e);
}

static void idt_limits(void)
{
	/* A gate past the limit: #GP with the IDT flag and the vector. */
	idt_case("idt-gate-past-limit", 14 * 8 - 1, 13, 0x20 * 8 + 2);
	/* #GP's own gate cut short too: #DF, error code 0. */
	idt_case("idt-gp-gate-past-limit", 14 * 8 - 2, 8, 0);
	/* A gate inside the limit but not present: #NP. */
	idt_gate_typed(0x20, trap_gp, 0x0e);
	idt_case("idt-gate-not-present", IDT_FULL_LIMIT, 11, 0x20 * 8 + 2);
	/* A gate of a type that is no gate: #GP. */
	idt_gate_typed(0x20, trap_gp, 0x89); /* present, type 9: an available TSS */
	idt_case("idt-gate-bad-type", IDT_FULL_LIMIT, 13, 0x20 * 8 + 2);
	idt_gate_typed(0x20, 0, 0);
	/* An exception the platform raises (RDMSR of an MSR no CPU has) with
	 * #GP's gate cut short: #DF, as for the CPU's own. */
	uint64_t ignored;
	idt_load_limit(14 * 8 - 2);
	uint32_t v = rdmsr_try(0x4b564d02u, &ignored);
	idt_load_limit(IDT_FULL_LIMIT);
	verdict("idt-rdmsr-gp-gate-past-limit", NO_TRAP, outcome(v), "#DF");
	/* An interrupt whose gate lies past the limit: #GP with the IDT and
	 * external-event flags (vector 0x30: error code 0x183), from a
	 * one-shot local APIC timer that fires while the CPU halts. */
	volatile uint32_t *apic = (volatile uint32_t *)0xfee00000u;
	apic[0xf0 / 4] = 0x1ff;
	apic[0x3e0 / 4] = 0xb;
	apic[0x320 / 4] = 0x30;
	idt_load_limit(14 * 8 - 1);
	apic[0x380 / 4] = 100000;
	__asm__ volatile(TRY "sti\n\thlt\n\tcli" END "\n\tcli" : : : "memory");
	v = trap_vector;
	uint32_t e = trap_error;
	idt_load_limit(IDT_FULL_LIMIT);
	verdict("idt-interrupt-gate-past-limit", NO_TRAP,
		v == 13 && e != 0x30 * 8 + 3 ? "wrong-error-code" : outcome(v), "#GP");
	gprintf("conform: idt-interrupt-gate-past-limit error code 0x%x\n", e);
	__asm__ volatile(TRY "ud2" END : : : "memory");
	verdict("ud2", NO_TRAP, outcome(trap_vector), "#UD");
}

/* ---- where a PC has neither RAM nor a device ---- */

static void master_abort(const char *check, uint32_t addr)
{
	volatile uint32_t *p = (volatile uint32_t *)addr;
	uint32_t before = *p;
	*p = 0x12345678;
	uint32_t after = *p;

	gprintf("conform: %s 0x%x reads 0x%x, after a write 0x%x\n", check, addr, before, after);
	verdict(check, NO_TRAP,
		before == 0xffffffffu && after == 0xffffffffu ? "all-ones" : "other-value",
		"all-ones");
}

int main(uint32_t magic, const struct mb_info *mbi);
int main(uint32_t magic, const struct mb_info *mbi)
{
	rt_init(magic, mbi);
	read_cpuid();
	own_traps();
	architectural_msrs();
	performance_msrs();
	instructions();
	control_registers();
	idt_limits();
	if (!arg_present("no-unbacked"))
		master_abort("unbacked-ff000000", 0xff000000u);
	gprintf("conform: done, %u checks, %u failed\n", nchecks, nfailed);
	return 0;
}
