/* A VCPU record's registers judged as the CPU would judge them: on its
 * own WRMSR or MOV to CR, or at VM entry (SDM vol. 3 26.3.1, APM vol. 2
 * 15.5.1). A record that fails is refused before anything is restored: a
 * value the hardware refuses would fault in the hypervisor (a WRMSR of
 * the switched MSRs), or leave a VM that cannot enter; a value beyond
 * what the guest can set would give it more than it had. */
#include "migrate/state_codec.h"

#include "hv/lib/format.h"
#include "hv/x86/cpu.h"
#include "hv/x86/msr.h"

#define CR0_PE (1ull << 0)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)
/* PE MP EM TS ET NE WP AM NW CD PG */
#define CR0_KNOWN 0xe005003full
/* VME PVI TSD DE PSE PAE MCE PGE PCE OSFXSR OSXMMEXCPT UMIP, FSGSBASE
 * PCIDE, SMEP SMAP; not VMXE/SMXE (no nested virtualization), not
 * OSXSAVE (XSAVE is hidden from guests), not PKE. */
#define CR4_KNOWN 0x330fffull
#define CR4_PAE (1ull << 5)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_KNOWN 0xd01ull /* SCE LME LMA NXE */
#define RFLAGS_FIXED1 (1ull << 1)
/* Reserved: 3, 5, 15, 22-63. */
#define RFLAGS_RESERVED (0xffffffffffc08028ull)

static bool pat_valid(uint64_t pat)
{
	for (int i = 0; i < 8; i++) {
		uint8_t t = (uint8_t)(pat >> (8 * i));
		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

/* Exceptions that push an error code (#DF #TS #NP #SS #GP #PF #AC #CP). */
static bool has_error_code(uint8_t vector)
{
	return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21;
}

static int refuse(char *err, size_t errlen, const char *what, uint64_t value)
{
	fmt_snprintf(err, errlen, "VCPU record: %s 0x%lx", what, (unsigned long)value);
	return -1;
}

static int check_control(const struct vcpu_state *s, char *err, size_t errlen)
{
	if (s->cr0 & ~CR0_KNOWN)
		return refuse(err, errlen, "CR0 has reserved bits set:", s->cr0);
	if ((s->cr0 & CR0_PG) && !(s->cr0 & CR0_PE))
		return refuse(err, errlen, "CR0 has PG without PE:", s->cr0);
	if ((s->cr0 & CR0_NW) && !(s->cr0 & CR0_CD))
		return refuse(err, errlen, "CR0 has NW without CD:", s->cr0);
	if (s->cr4 & ~CR4_KNOWN)
		return refuse(err, errlen, "CR4 has bits the guest cannot set:", s->cr4);
	if (s->cr3 >> 52)
		return refuse(err, errlen, "CR3 is beyond any physical address:", s->cr3);
	if (s->efer & ~EFER_KNOWN)
		return refuse(err, errlen, "EFER has bits the guest cannot set:", s->efer);
	bool lma = s->efer & EFER_LMA;
	if ((s->cr0 & CR0_PG) && lma != !!(s->efer & EFER_LME))
		return refuse(err, errlen, "EFER.LMA disagrees with LME and CR0.PG:", s->efer);
	if (!(s->cr0 & CR0_PG) && lma)
		return refuse(err, errlen, "EFER.LMA without paging:", s->efer);
	if (lma && !(s->cr4 & CR4_PAE))
		return refuse(err, errlen, "long mode without CR4.PAE:", s->cr4);
	if ((s->dr6 | s->dr7) >> 32)
		return refuse(err, errlen, "DR6/DR7 upper half set:", s->dr6 | s->dr7);
	uint64_t fl = s->regs.rflags;
	if ((fl & RFLAGS_RESERVED) || !(fl & RFLAGS_FIXED1) || (lma && (fl & RFLAGS_VM)))
		return refuse(err, errlen, "RFLAGS is not one the CPU can hold:", fl);
	return 0;
}

static int check_segments(const struct vcpu_state *s, char *err, size_t errlen)
{
	static const char *const names[SEG_COUNT] = { "ES", "CS", "SS", "DS", "FS", "GS",
						       "LDTR", "TR" };
	char what[40];

	for (int i = 0; i < SEG_COUNT; i++) {
		const struct vcpu_segment *g = &s->seg[i];
		if (g->attr & ~0xfffu) {
			fmt_snprintf(what, sizeof(what), "%s attributes beyond 12 bits:", names[i]);
			return refuse(err, errlen, what, g->attr);
		}
		/* VM entry checks FS, GS, TR and CS always, the others only when
		 * usable (present): an unusable one's base is undefined. */
		bool always = i == SEG_FS || i == SEG_GS || i == SEG_TR || i == SEG_CS;
		if (!always && !(g->attr & SEG_ATTR_P))
			continue;
		bool wide = i == SEG_FS || i == SEG_GS || i == SEG_LDTR || i == SEG_TR;
		if (wide ? !canonical_address(g->base) : (g->base >> 32) != 0) {
			fmt_snprintf(what, sizeof(what), "%s base", names[i]);
			return refuse(err, errlen, what, g->base);
		}
	}
	const struct vcpu_segment *cs = &s->seg[SEG_CS];
	if ((s->efer & EFER_LMA) && (cs->attr & SEG_ATTR_L) && (cs->attr & SEG_ATTR_DB))
		return refuse(err, errlen, "CS has both L and D/B in long mode: attributes", cs->attr);
	if (!canonical_address(s->gdt.base) || !canonical_address(s->idt.base))
		return refuse(err, errlen, "GDT/IDT base is not canonical:",
			      canonical_address(s->gdt.base) ? s->idt.base : s->gdt.base);
	if (s->gdt.limit > 0xffff || s->idt.limit > 0xffff)
		return refuse(err, errlen, "GDT/IDT limit over 0xffff:",
			      s->gdt.limit > 0xffff ? s->gdt.limit : s->idt.limit);
	return 0;
}

/* What WRMSR would #GP on: addresses that are not canonical, upper
 * halves of 32-bit MSRs, PAT types that do not exist. */
static int check_msrs(const struct mig_vcpu *v, char *err, size_t errlen)
{
	const struct vcpu_state *s = &v->s;
	const struct {
		const char *name;
		uint64_t value;
	} addr[] = { { "LSTAR", s->lstar }, { "CSTAR", s->cstar },
		     { "KERNEL_GS_BASE", s->kernel_gs_base },
		     { "SYSENTER_ESP", s->sysenter_esp }, { "SYSENTER_EIP", s->sysenter_eip } };
	char what[40];

	for (size_t i = 0; i < sizeof(addr) / sizeof(addr[0]); i++)
		if (!canonical_address(addr[i].value)) {
			fmt_snprintf(what, sizeof(what), "%s is not canonical:", addr[i].name);
			return refuse(err, errlen, what, addr[i].value);
		}
	if (s->sfmask >> 32)
		return refuse(err, errlen, "SFMASK upper half set:", s->sfmask);
	if (s->sysenter_cs >> 32)
		return refuse(err, errlen, "SYSENTER_CS upper half set:", s->sysenter_cs);
	if (v->msr_tsc_aux >> 32)
		return refuse(err, errlen, "TSC_AUX upper half set:", v->msr_tsc_aux);
	if (!pat_valid(s->pat))
		return refuse(err, errlen, "PAT has an undefined memory type:", s->pat);
	return 0;
}

static int check_event(const struct mig_vcpu *v, char *err, size_t errlen)
{
	if (v->s.interrupt_shadow & ~3u)
		return refuse(err, errlen, "interrupt shadow beyond STI/MOV SS:",
			      v->s.interrupt_shadow);
	if (!v->pending_exception)
		return 0;
	const struct vcpu_event *e = &v->exception;
	if (e->type == EVENT_EXCEPTION && (e->vector > 31 || e->vector == 2 ||
					   e->has_error != has_error_code(e->vector)))
		return refuse(err, errlen, "pending exception that no CPU raises: vector",
			      e->vector);
	if (e->type == EVENT_NMI && (e->vector != 2 || e->has_error))
		return refuse(err, errlen, "pending NMI with vector", e->vector);
	if ((e->type == EVENT_INTERRUPT || e->type == EVENT_SOFT_INT) && e->has_error)
		return refuse(err, errlen, "pending interrupt with an error code: vector", e->vector);
	return 0;
}

int mig_vcpu_msr_check(uint32_t msr, uint64_t value, char *err, size_t errlen)
{
	const char *bad = NULL;

	if (msr >= MSR_AMD_PERF_EVTSEL0 && msr < MSR_AMD_PERF_CTR0)
		bad = value & AMD_PERF_SEL_RESERVED ? "reserved bits set" : NULL;
	else if (msr >= MSR_AMD_PERF_CTR0 && msr < MSR_AMD_PERF_CTR0 + 4)
		bad = value & ~AMD_PERF_CTR_MASK ? "wider than 48 bits" : NULL;
	else
		bad = "not an MSR this version migrates";
	if (!bad)
		return 0;
	fmt_snprintf(err, errlen, "VCPU_MSRS record: MSR 0x%x = 0x%lx: %s", msr,
		     (unsigned long)value, bad);
	return -1;
}

int mig_vcpu_check(const struct mig_vcpu *v, char *err, size_t errlen)
{
	if (check_control(&v->s, err, errlen) || check_segments(&v->s, err, errlen) ||
	    check_msrs(v, err, errlen) || check_event(v, err, errlen))
		return -1;
	return 0;
}
