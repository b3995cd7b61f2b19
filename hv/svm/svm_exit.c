/* Decoding SVM exits into generic ones: a designated-initialiser table from
 * exit code to name and decoder (ACRN style). Exits the guest should never
 * cause (SVM instructions; it sees no SVM) raise #UD in the guest. */
#include "hv/svm/svm.h"

#include "hv/vm.h"
#include "hv/x86/cpu.h"
#include "hv/x86/cpu_features.h"
#include "hv/x86/trap.h"

#define SLOT_NPF 0xa0u
#define SLOT_INVALID 0xa4u
#define SLOT_OTHER 0xa5u
#define SLOTS 0xa6u
#define CODE_NPF 0x400u
#define CODE_INVALID 0xffffffffu

typedef void (*svm_decoder)(struct vcpu *v, struct vmcb *vmcb, struct vm_exit *e);

struct svm_exit_desc {
	const char *name;
	svm_decoder decode;
	uint8_t insn_len; /* fixed length of the intercepted instruction */
};

/* Instruction length: nRIP when the CPU provides it (NRIPS), else fixed. */
static void set_len(struct vcpu *v, struct vmcb *vmcb, struct vm_exit *e, uint8_t fixed)
{
	if (cpu_features()->nrips && vmcb->control.next_rip > v->regs.rip)
		e->insn_len = (uint8_t)(vmcb->control.next_rip - v->regs.rip);
	else
		e->insn_len = fixed;
}

static void dec_kind(struct vm_exit *e, enum exit_kind k)
{
	e->kind = k;
}

static void dec_external(struct vcpu *v, struct vmcb *vmcb, struct vm_exit *e)
{
	(void)v;
	(void)vmcb;
	dec_kind(e, EXIT_EXTERNAL_INTERRUPT);
}

static void dec_window(struct vcpu *v, struct vmcb *vmcb, struct vm_exit *e)
{
	(void)v;
	(void)vmcb;
	dec_kind(e, EXIT_INTERRUPT_WINDOW);
}

static void dec_cpuid(struct vcpu *v, struct vmcb *vmcb, struct vm_exit *e)
{
	set_len(v, vmcb, e, 2);
	dec_kind(e, EXIT_CPUID);
}

static void dec_hlt(struct vcpu *v, struct vmcb *vmcb, struct vm_exit *e)
{
	set_len(v, vmcb, e, 1);
	dec_kind(e, EXIT_HLT);
}

static void dec_vmmcall(struct vcpu *v, struct vmcb *vmcb, struct vm_exit *e)
{
	set_len(v, vmcb, e, 3);
	dec_kind(e, EXIT_HYPERCALL);
}

static void dec_xsetbv(struct vcpu *v, struct vmcb *vmcb, struct vm_exit *e)
{
	set_len(v, vmcb, e, 3);
	dec_kind(e, EXIT_XSETBV);
}

/* INVD would drop dirty cache lines the host owns: treat it as a no-op. */
static void dec_invd(struct vcpu *v, struct vmcb *vmcb, struct vm_exit *e)
{
	set_len(v, vmcb, e, 2);
	v->regs.rip += e->insn_len;
	dec_kind(e, EXIT_NONE);
}

static void dec_ud(struct vcpu *v, struct vmcb *vmcb, struct vm_exit *e)
{
	(void)vmcb;
	vcpu_queue_exception(v, VEC_UD, false, 0);
	dec_kind(e, EXIT_NONE);
}

static void dec_shutdown(struct vcpu *v, struct vmcb *vmcb, struct vm_exit *e)
{
	(void)v;
	(void)vmcb;
	dec_kind(e, EXIT_TRIPLE_FAULT);
}

static void dec_invalid(struct vcpu *v, struct vmcb *vmcb, struct vm_exit *e)
{
	(void)v;
	(void)vmcb;
	dec_kind(e, EXIT_INVALID_STATE);
}

static void dec_io(struct vcpu *v, struct vmcb *vmcb, struct vm_exit *e)
{
	uint64_t info = vmcb->control.exit_info1;

	e->kind = EXIT_IO;
	e->io.in = info & 1;
	e->io.string = (info >> 2) & 1;
	e->io.rep = (info >> 3) & 1;
	e->io.size = (info & (1u << 4)) ? 1 : (info & (1u << 5)) ? 2 : 4;
	e->io.addr_size = (info & (1u << 7)) ? 2 : (info & (1u << 8)) ? 4 : 8;
	e->io.segment = (uint8_t)((info >> 10) & 7);
	e->io.port = (uint16_t)(info >> 16);
	/* EXITINFO2 holds the next RIP even without NRIPS. */
	e->insn_len = (uint8_t)(vmcb->control.exit_info2 - v->regs.rip);
}

/* EFER stays in the backend: SVME must remain set under the guest. */
static bool efer_access(struct vcpu *v, struct vmcb *vmcb, bool write)
{
	if (!write) {
		uint64_t efer = vmcb->save.efer & ~EFER_SVME;
		v->regs.rax = (uint32_t)efer;
		v->regs.rdx = efer >> 32;
		return true;
	}
	uint64_t value = (v->regs.rdx << 32) | (uint32_t)v->regs.rax;
	uint64_t allowed = EFER_SCE | EFER_LME | EFER_NXE;
	if (value & ~(allowed | EFER_LMA))
		return false;
	vmcb->save.efer = (value & allowed) | (vmcb->save.efer & EFER_LMA) | EFER_SVME;
	return true;
}

static void dec_msr(struct vcpu *v, struct vmcb *vmcb, struct vm_exit *e)
{
	bool write = vmcb->control.exit_info1 & 1;

	set_len(v, vmcb, e, 2);
	if ((uint32_t)v->regs.rcx == MSR_EFER) {
		if (efer_access(v, vmcb, write))
			v->regs.rip += e->insn_len;
		else
			vcpu_queue_exception(v, VEC_GP, true, 0);
		e->kind = EXIT_NONE;
		return;
	}
	e->kind = write ? EXIT_WRMSR : EXIT_RDMSR;
}

static void dec_npf(struct vcpu *v, struct vmcb *vmcb, struct vm_exit *e)
{
	uint64_t err = vmcb->control.exit_info1;

	(void)v;
	e->kind = EXIT_MEMORY;
	e->mem.gpa = vmcb->control.exit_info2;
	e->mem.present = err & 1;
	e->mem.write = (err >> 1) & 1;
	e->mem.fetch = (err >> 4) & 1;
	e->mem.walk = (err >> 33) & 1;
}

static void dec_machine_check(struct vcpu *v, struct vmcb *vmcb, struct vm_exit *e)
{
	(void)v;
	(void)vmcb;
	dec_kind(e, EXIT_MACHINE_CHECK);
}

static const struct svm_exit_desc exits[SLOTS] = {
	[0x40 + VEC_MC] = { "excp-mc", dec_machine_check, 0 },
	[0x60] = { "intr", dec_external, 0 },
	[0x61] = { "nmi", dec_external, 0 },
	[0x62] = { "smi", dec_external, 0 },
	[0x63] = { "init", dec_external, 0 },
	[0x64] = { "vintr", dec_window, 0 },
	[0x72] = { "cpuid", dec_cpuid, 2 },
	[0x76] = { "invd", dec_invd, 2 },
	[0x78] = { "hlt", dec_hlt, 1 },
	[0x7a] = { "invlpga", dec_ud, 0 },
	[0x7b] = { "ioio", dec_io, 0 },
	[0x7c] = { "msr", dec_msr, 2 },
	[0x7f] = { "shutdown", dec_shutdown, 0 },
	[0x80] = { "vmrun", dec_ud, 0 },
	[0x81] = { "vmmcall", dec_vmmcall, 3 },
	[0x82] = { "vmload", dec_ud, 0 },
	[0x83] = { "vmsave", dec_ud, 0 },
	[0x84] = { "stgi", dec_ud, 0 },
	[0x85] = { "clgi", dec_ud, 0 },
	[0x86] = { "skinit", dec_ud, 0 },
	[0x8a] = { "monitor", dec_ud, 0 },
	[0x8b] = { "mwait", dec_ud, 0 },
	[0x8c] = { "mwait-cond", dec_ud, 0 },
	[0x8d] = { "xsetbv", dec_xsetbv, 3 },
	[SLOT_NPF] = { "npf", dec_npf, 0 },
	[SLOT_INVALID] = { "invalid", dec_invalid, 0 },
	[SLOT_OTHER] = { "other", NULL, 0 },
};

unsigned svm_exit_slot(uint32_t code)
{
	if (code < 0xa0)
		return code;
	if (code >= CODE_NPF && code <= CODE_NPF + 3)
		return SLOT_NPF + (code - CODE_NPF);
	if (code == CODE_INVALID)
		return SLOT_INVALID;
	return SLOT_OTHER;
}

uint32_t svm_slot_code(unsigned slot)
{
	if (slot < 0xa0)
		return slot;
	if (slot >= SLOT_NPF && slot < SLOT_INVALID)
		return CODE_NPF + (slot - SLOT_NPF);
	return slot == SLOT_INVALID ? CODE_INVALID : 0xfffffffeu;
}

const char *svm_exit_name(uint32_t code)
{
	unsigned slot = svm_exit_slot(code);

	return slot < SLOTS && exits[slot].name ? exits[slot].name : "other";
}

void svm_decode_exit(struct vcpu *v, struct vmcb *vmcb, struct vm_exit *e)
{
	uint32_t code = (uint32_t)vmcb->control.exit_code; /* VMEXIT_INVALID is -1 */
	unsigned slot = svm_exit_slot(code);

	*e = (struct vm_exit){ .kind = EXIT_UNHANDLED, .code = code };
	e->info1 = vmcb->control.exit_info1;
	e->info2 = vmcb->control.exit_info2;
	if (slot < SLOTS && exits[slot].decode)
		exits[slot].decode(v, vmcb, e);
}
