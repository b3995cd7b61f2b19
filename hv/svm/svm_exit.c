/* Decoding SVM exits into generic ones: a designated-initialiser table from
 * exit code to name and kind, or a decoder for exits with operands (ACRN
 * style). Nothing here decides what the guest gets: see hv/vm/vm_exit.c. */
#include "hv/svm/svm.h"

#include "hv/vm/vm.h"
#include "hv/x86/cpu.h"
#include "hv/x86/trap.h"

#define SLOT_NPF 0xa0u
#define SLOT_INVALID 0xa4u
#define SLOT_OTHER 0xa5u
#define SLOTS 0xa6u
#define CODE_NPF 0x400u
#define CODE_INVALID 0xffffffffu

typedef void (*svm_decoder)(struct vcpu *v, const struct vmcb *vmcb, struct vm_exit *e);

/* An exit is either decoded by a function (it has operands) or maps
 * straight to a kind, with the intercepted instruction's fixed length. */
struct svm_exit_desc {
	const char *name;
	svm_decoder decode;
	enum exit_kind kind;
	uint8_t insn_len;
};

/* Instruction length: nRIP when the CPU provides it (NRIPS), else fixed. */
static void set_len(const struct vcpu *v, const struct vmcb *vmcb, struct vm_exit *e,
		    uint8_t fixed)
{
	if (svm_caps.nrips && vmcb->control.next_rip > v->regs.rip)
		e->insn_len = (uint8_t)(vmcb->control.next_rip - v->regs.rip);
	else
		e->insn_len = fixed;
}

static void dec_io(struct vcpu *v, const struct vmcb *vmcb, struct vm_exit *e)
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

/* EXITINFO1 bit 0: WRMSR. EFER goes the same way as every other MSR: the
 * backend keeps SVME set underneath (svm_set_state). */
static void dec_msr(struct vcpu *v, const struct vmcb *vmcb, struct vm_exit *e)
{
	set_len(v, vmcb, e, 2);
	e->kind = (vmcb->control.exit_info1 & 1) ? EXIT_WRMSR : EXIT_RDMSR;
}

static void dec_npf(struct vcpu *v, const struct vmcb *vmcb, struct vm_exit *e)
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

/* An intercepted exception, before the CPU delivered it: for #DB the
 * VMCB's DR6 already holds the cause. #AC always pushes an error code 0. */
static void dec_exception(struct vcpu *v, const struct vmcb *vmcb, struct vm_exit *e)
{
	(void)v;
	e->kind = EXIT_EXCEPTION;
	e->exc.vector = (uint8_t)(vmcb->control.exit_code - 0x40);
	e->exc.has_error = e->exc.vector == VEC_AC;
	e->exc.error = (uint32_t)vmcb->control.exit_info1;
}

static const struct svm_exit_desc exits[SLOTS] = {
	[0x40 + VEC_DB] = { "excp-db", dec_exception, EXIT_EXCEPTION, 0 },
	[0x40 + VEC_AC] = { "excp-ac", dec_exception, EXIT_EXCEPTION, 0 },
	[0x40 + VEC_MC] = { "excp-mc", NULL, EXIT_MACHINE_CHECK, 0 },
	[0x60] = { "intr", NULL, EXIT_EXTERNAL_INTERRUPT, 0 },
	[0x61] = { "nmi", NULL, EXIT_EXTERNAL_INTERRUPT, 0 },
	[0x62] = { "smi", NULL, EXIT_EXTERNAL_INTERRUPT, 0 },
	[0x63] = { "init", NULL, EXIT_EXTERNAL_INTERRUPT, 0 },
	[0x64] = { "vintr", NULL, EXIT_INTERRUPT_WINDOW, 0 },
	[0x6f] = { "rdpmc", NULL, EXIT_RDPMC, 2 },
	[0x72] = { "cpuid", NULL, EXIT_CPUID, 2 },
	[0x73] = { "rsm", NULL, EXIT_RSM, 2 },
	[0x76] = { "invd", NULL, EXIT_INVD, 2 },
	[0x77] = { "pause", NULL, EXIT_PAUSE, 2 },
	[0x78] = { "hlt", NULL, EXIT_HLT, 1 },
	[0x7a] = { "invlpga", NULL, EXIT_VIRT_INSN, 3 },
	[0x7b] = { "ioio", dec_io, EXIT_IO, 0 },
	[0x7c] = { "msr", dec_msr, EXIT_RDMSR, 0 },
	[0x7f] = { "shutdown", NULL, EXIT_TRIPLE_FAULT, 0 },
	[0x80] = { "vmrun", NULL, EXIT_VIRT_INSN, 3 },
	[0x81] = { "vmmcall", NULL, EXIT_HYPERCALL, 3 },
	[0x82] = { "vmload", NULL, EXIT_VIRT_INSN, 3 },
	[0x83] = { "vmsave", NULL, EXIT_VIRT_INSN, 3 },
	[0x84] = { "stgi", NULL, EXIT_VIRT_INSN, 3 },
	[0x85] = { "clgi", NULL, EXIT_VIRT_INSN, 3 },
	[0x86] = { "skinit", NULL, EXIT_VIRT_INSN, 3 },
	[0x89] = { "wbinvd", NULL, EXIT_WBINVD, 2 },
	[0x8a] = { "monitor", NULL, EXIT_MONITOR, 3 },
	[0x8b] = { "mwait", NULL, EXIT_MWAIT, 3 },
	[0x8c] = { "mwait-cond", NULL, EXIT_MWAIT, 3 },
	[0x8d] = { "xsetbv", NULL, EXIT_XSETBV, 3 },
	[SLOT_NPF] = { "npf", dec_npf, EXIT_MEMORY, 0 },
	[SLOT_INVALID] = { "invalid", NULL, EXIT_INVALID_STATE, 0 },
	[SLOT_OTHER] = { "other", NULL, EXIT_UNHANDLED, 0 },
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

void svm_decode_exit(struct vcpu *v, const struct vmcb *vmcb, struct vm_exit *e)
{
	uint32_t code = (uint32_t)vmcb->control.exit_code; /* VMEXIT_INVALID is -1 */
	unsigned slot = svm_exit_slot(code);
	const struct svm_exit_desc *d = slot < SLOTS && exits[slot].name ? &exits[slot] : NULL;

	*e = (struct vm_exit){ .kind = EXIT_UNHANDLED, .code = code };
	e->info1 = vmcb->control.exit_info1;
	e->info2 = vmcb->control.exit_info2;
	if (d && d->decode) {
		d->decode(v, vmcb, e);
	} else if (d) {
		e->kind = d->kind;
		set_len(v, vmcb, e, d->insn_len);
	}
}
