#include "hv/vm/vcpu_signal.h"

#include "hv/lib/string.h"
#include "hv/vm/cpuid_policy.h"
#include "hv/vm/vm.h"
#include "hv/x86/cpu.h"

#define INIT_CR0 0x60000010ull /* CD, NW, ET */
#define INIT_DR6 0xffff0ff0ull
#define INIT_DR7 0x400ull
#define ATTR_CODE 0x9b  /* present, code, read, accessed */
#define ATTR_DATA 0x93  /* present, data, write, accessed */
#define ATTR_LDT 0x82
#define ATTR_TSS_BUSY 0x8b

static void real_mode_segments(struct vcpu_state *s, uint16_t cs, uint64_t cs_base)
{
	for (unsigned i = 0; i < SEG_COUNT; i++)
		s->seg[i] = (struct vcpu_segment){ 0, ATTR_DATA, 0xffff, 0 };
	s->seg[SEG_CS] = (struct vcpu_segment){ cs, ATTR_CODE, 0xffff, cs_base };
	s->seg[SEG_LDTR].attr = ATTR_LDT;
	s->seg[SEG_TR].attr = ATTR_TSS_BUSY;
}

#define PAT_POWER_ON 0x0007040600070406ull

/* Table 9-1's registers; MSRs are left to the caller. */
static void init_registers(struct vcpu *v, struct vcpu_state *s)
{
	struct cpuid_regs sig = cpuid_guest(&v->vm->cpuid, 1, 0, v->index);

	memset(&s->regs, 0, sizeof(s->regs));
	s->regs.rdx = sig.eax;
	s->regs.rip = 0xfff0;
	s->regs.rflags = RFLAGS_RESERVED1;
	real_mode_segments(s, 0xf000, 0xffff0000ull);
	s->gdt = s->idt = (struct vcpu_dtable){ 0, 0xffff };
	s->cr0 = INIT_CR0;
	s->cr2 = s->cr3 = s->cr4 = s->efer = 0;
	s->dr6 = INIT_DR6;
	s->dr7 = INIT_DR7;
	s->interrupt_shadow = 0;
}

static void enter(struct vcpu *v, struct vcpu_state *s)
{
	vcpu_ops->drop_events(v);
	vcpu_ops->set_state(v, s);
	v->regs = s->regs;
	v->pending_exception = false;
	v->halted = false;
	v->wait_for_sipi = !(vlapic_read_apic_base(&v->lapic) & VLAPIC_BASE_BSP);
}

void vcpu_init_state(struct vcpu *v)
{
	struct vcpu_state s;

	vcpu_ops->get_state(v, &s);
	init_registers(v, &s);
	vlapic_init_signal(&v->lapic);
	enter(v, &s);
}

void vcpu_power_on_ap(struct vcpu *v, uint64_t tsc_offset)
{
	struct vcpu_state s;

	memset(&s, 0, sizeof(s));
	init_registers(v, &s);
	s.pat = PAT_POWER_ON;
	s.tsc_offset = tsc_offset;
	enter(v, &s);
	/* Its TSC-deadline timer counts in guest TSC too. */
	vlapic_set_tsc_offset(&v->lapic, tsc_offset, rdtsc());
}

/* SDM 8.4.3: execution starts at VV00:0000 in real mode. */
static void start_up(struct vcpu *v, uint8_t vector)
{
	struct vcpu_state s;

	vcpu_ops->get_state(v, &s);
	s.seg[SEG_CS].selector = (uint16_t)(vector << 8);
	s.seg[SEG_CS].base = (uint64_t)vector << 12;
	s.regs.rip = 0;
	vcpu_ops->set_state(v, &s);
	v->regs = s.regs;
	v->wait_for_sipi = false;
}

void vcpu_take_signals(struct vcpu *v)
{
	if (vlapic_take_init(&v->lapic))
		vcpu_init_state(v);
	int vector = vlapic_take_sipi(&v->lapic);
	if (vector >= 0 && v->wait_for_sipi)
		start_up(v, (uint8_t)vector);
}

void vcpu_drop_stale_sipi(struct vcpu *v)
{
	if (!v->wait_for_sipi && !v->lapic.init_pending)
		(void)vlapic_take_sipi(&v->lapic);
}
