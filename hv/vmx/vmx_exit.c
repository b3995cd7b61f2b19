/* Decoding VMX exits into generic ones: a designated-initialiser table from
 * basic exit reason to name and kind, or a decoder for exits with operands
 * (ACRN style). Nothing here decides what the guest gets (hv/vm/vm_exit.c),
 * except MOV CR, which only the backend can apply (vmx_cr.c). */
#include "hv/vmx/vmx.h"

#include "hv/vmx/vmcs.h"
#include "hv/x86/cpu.h"
#include "hv/x86/trap.h"

#define REASONS 70u
#define SLOT_ENTRY_FAILED 0x80u /* + basic reason, for failed VM entries */
#define SLOT_VMFAIL 0xfeu
#define SLOT_OTHER 0xffu
#define EXIT_REASON_ENTRY_FAILED (1u << 31)
#define REASON_OTHER 0xffffu /* a basic reason no table entry has */

enum {
	REASON_EXCEPTION_NMI = 0, REASON_EXTERNAL_INTERRUPT = 1, REASON_TRIPLE_FAULT = 2,
	REASON_INIT = 3, REASON_SIPI = 4, REASON_INTERRUPT_WINDOW = 7, REASON_TASK_SWITCH = 9,
	REASON_CPUID = 10, REASON_GETSEC = 11, REASON_HLT = 12, REASON_INVD = 13,
	REASON_INVLPG = 14, REASON_RDPMC = 15, REASON_RDTSC = 16, REASON_RSM = 17,
	REASON_VMCALL = 18, REASON_VMCLEAR = 19, REASON_VMLAUNCH = 20, REASON_VMPTRLD = 21,
	REASON_VMPTRST = 22, REASON_VMREAD = 23, REASON_VMRESUME = 24, REASON_VMWRITE = 25,
	REASON_VMXOFF = 26, REASON_VMXON = 27, REASON_CR_ACCESS = 28, REASON_DR_ACCESS = 29,
	REASON_IO = 30, REASON_RDMSR = 31, REASON_WRMSR = 32, REASON_INVALID_GUEST_STATE = 33,
	REASON_MSR_LOADING = 34, REASON_MWAIT = 36, REASON_MTF = 37, REASON_MONITOR = 39,
	REASON_PAUSE = 40, REASON_MACHINE_CHECK = 41, REASON_EPT_VIOLATION = 48,
	REASON_EPT_MISCONFIG = 49, REASON_INVEPT = 50, REASON_RDTSCP = 51,
	REASON_INVVPID = 53, REASON_WBINVD = 54, REASON_XSETBV = 55, REASON_RDRAND = 57,
	REASON_INVPCID = 58, REASON_VMFUNC = 59, REASON_RDSEED = 61, REASON_PML_FULL = 62,
};

typedef void (*vmx_decoder)(struct vcpu *v, struct vm_exit *e);

/* An exit is either decoded by a function (it has operands) or maps
 * straight to a kind; VMX reports every instruction's length. */
struct vmx_exit_desc {
	const char *name;
	vmx_decoder decode;
	enum exit_kind kind;
};

/* NMIs exit (the host's, not the guest's); exceptions only if intercepted. */
static void dec_exception(struct vcpu *v, struct vm_exit *e)
{
	uint32_t info = (uint32_t)vmread(VMCS_EXIT_INTR_INFO);

	(void)v;
	e->info2 = info;
	if (((info >> INTR_INFO_TYPE_SHIFT) & 7) == INTR_TYPE_NMI)
		e->kind = EXIT_EXTERNAL_INTERRUPT;
	else if ((info & 0xff) == VEC_MC)
		e->kind = EXIT_MACHINE_CHECK;
	else if ((info & 0xff) == VEC_AC) {
		e->kind = EXIT_EXCEPTION;
		e->exc.vector = VEC_AC;
		e->exc.has_error = true;
		e->exc.error = (uint32_t)vmread(VMCS_EXIT_INTR_ERROR);
	}
}

/* CR accesses touch state only the backend holds (read shadows, forced
 * bits, PDPTEs): vmx_cr.c applies them as the SDM defines MOV CR. */
static void dec_cr(struct vcpu *v, struct vm_exit *e)
{
	vmx_handle_cr_access(v, e, e->info1);
}

/* String I/O: the CPU reports address size and segment when VMX_BASIC
 * bit 54 says so; otherwise the guest's code segment decides. */
static void io_string_operands(struct vm_exit *e)
{
	if (vmx_caps.inout_info) {
		uint32_t info = (uint32_t)vmread(VMCS_EXIT_INSN_INFO);
		unsigned size = (info >> 7) & 7;
		e->io.addr_size = size == 0 ? 2 : size == 1 ? 4 : 8;
		e->io.segment = (uint8_t)((info >> 15) & 7);
		return;
	}
	uint32_t cs_ar = (uint32_t)vmread(VMCS_GUEST_ES_AR + 2);
	bool long_mode = (vmread(VMCS_GUEST_EFER) & EFER_LMA) && (cs_ar & (1u << 13));
	e->io.addr_size = long_mode ? 8 : (cs_ar & (1u << 14)) ? 4 : 2;
	e->io.segment = SEG_DS;
}

static void dec_io(struct vcpu *v, struct vm_exit *e)
{
	uint64_t q = e->info1;

	(void)v;
	e->kind = EXIT_IO;
	e->io.size = (uint8_t)((q & 7) + 1);
	e->io.in = (q >> 3) & 1;
	e->io.string = (q >> 4) & 1;
	e->io.rep = (q >> 5) & 1;
	e->io.port = (uint16_t)(q >> 16);
	if (e->io.string)
		io_string_operands(e);
}

static void dec_ept_violation(struct vcpu *v, struct vm_exit *e)
{
	uint64_t q = e->info1;

	(void)v;
	e->kind = EXIT_MEMORY;
	e->info2 = e->mem.gpa = vmread(VMCS_GUEST_PHYS_ADDR);
	e->mem.write = (q >> 1) & 1;
	e->mem.fetch = (q >> 2) & 1;
	e->mem.present = (q & (7u << 3)) != 0;
	/* Bit 7: a linear address exists; bit 8 clear then means the fault
	 * hit the guest's own page-table walk. */
	e->mem.walk = ((q >> 7) & 1) && !((q >> 8) & 1);
}

/* A misconfigured EPT entry is a hypervisor bug: the VM is stopped with
 * the GPA as an unsupported exit. */
static void dec_ept_misconfig(struct vcpu *v, struct vm_exit *e)
{
	(void)v;
	e->info2 = vmread(VMCS_GUEST_PHYS_ADDR);
	e->kind = EXIT_UNHANDLED;
}

static const struct vmx_exit_desc exits[REASONS] = {
	[REASON_EXCEPTION_NMI] = { "exception-nmi", dec_exception, EXIT_UNHANDLED },
	[REASON_EXTERNAL_INTERRUPT] = { "external-interrupt", NULL, EXIT_EXTERNAL_INTERRUPT },
	[REASON_TRIPLE_FAULT] = { "triple-fault", NULL, EXIT_TRIPLE_FAULT },
	/* INIT and SIPI come from other CPUs' IPIs, never meant for a guest. */
	[REASON_INIT] = { "init", NULL, EXIT_NONE },
	[REASON_SIPI] = { "sipi", NULL, EXIT_NONE },
	[REASON_INTERRUPT_WINDOW] = { "interrupt-window", NULL, EXIT_INTERRUPT_WINDOW },
	[REASON_TASK_SWITCH] = { "task-switch", NULL, EXIT_UNHANDLED },
	[REASON_CPUID] = { "cpuid", NULL, EXIT_CPUID },
	[REASON_GETSEC] = { "getsec", NULL, EXIT_GETSEC },
	[REASON_HLT] = { "hlt", NULL, EXIT_HLT },
	[REASON_INVD] = { "invd", NULL, EXIT_INVD },
	[REASON_INVLPG] = { "invlpg", NULL, EXIT_INVLPG },
	[REASON_RDPMC] = { "rdpmc", NULL, EXIT_RDPMC },
	[REASON_RDTSC] = { "rdtsc", NULL, EXIT_UNHANDLED },
	[REASON_RSM] = { "rsm", NULL, EXIT_RSM },
	[REASON_VMCALL] = { "vmcall", NULL, EXIT_HYPERCALL },
	[REASON_VMCLEAR] = { "vmclear", NULL, EXIT_VIRT_INSN },
	[REASON_VMLAUNCH] = { "vmlaunch", NULL, EXIT_VIRT_INSN },
	[REASON_VMPTRLD] = { "vmptrld", NULL, EXIT_VIRT_INSN },
	[REASON_VMPTRST] = { "vmptrst", NULL, EXIT_VIRT_INSN },
	[REASON_VMREAD] = { "vmread", NULL, EXIT_VIRT_INSN },
	[REASON_VMRESUME] = { "vmresume", NULL, EXIT_VIRT_INSN },
	[REASON_VMWRITE] = { "vmwrite", NULL, EXIT_VIRT_INSN },
	[REASON_VMXOFF] = { "vmxoff", NULL, EXIT_VIRT_INSN },
	[REASON_VMXON] = { "vmxon", NULL, EXIT_VIRT_INSN },
	[REASON_CR_ACCESS] = { "cr-access", dec_cr, EXIT_NONE },
	[REASON_DR_ACCESS] = { "dr-access", NULL, EXIT_UNHANDLED },
	[REASON_IO] = { "io", dec_io, EXIT_IO },
	[REASON_RDMSR] = { "rdmsr", NULL, EXIT_RDMSR },
	[REASON_WRMSR] = { "wrmsr", NULL, EXIT_WRMSR },
	[REASON_INVALID_GUEST_STATE] = { "invalid-guest-state", NULL, EXIT_INVALID_STATE },
	[REASON_MSR_LOADING] = { "msr-loading", NULL, EXIT_INVALID_STATE },
	[REASON_MWAIT] = { "mwait", NULL, EXIT_MWAIT },
	[REASON_MTF] = { "monitor-trap", NULL, EXIT_UNHANDLED },
	[REASON_MONITOR] = { "monitor", NULL, EXIT_MONITOR },
	[REASON_PAUSE] = { "pause", NULL, EXIT_PAUSE },
	[REASON_MACHINE_CHECK] = { "machine-check", NULL, EXIT_MACHINE_CHECK },
	[REASON_EPT_VIOLATION] = { "ept-violation", dec_ept_violation, EXIT_MEMORY },
	[REASON_EPT_MISCONFIG] = { "ept-misconfig", dec_ept_misconfig, EXIT_UNHANDLED },
	[REASON_INVEPT] = { "invept", NULL, EXIT_VIRT_INSN },
	[REASON_RDTSCP] = { "rdtscp", NULL, EXIT_UNHANDLED },
	[REASON_INVVPID] = { "invvpid", NULL, EXIT_VIRT_INSN },
	[REASON_WBINVD] = { "wbinvd", NULL, EXIT_WBINVD },
	[REASON_XSETBV] = { "xsetbv", NULL, EXIT_XSETBV },
	[REASON_RDRAND] = { "rdrand", NULL, EXIT_UNHANDLED },
	[REASON_INVPCID] = { "invpcid", NULL, EXIT_UNHANDLED },
	[REASON_VMFUNC] = { "vmfunc", NULL, EXIT_VIRT_INSN },
	[REASON_RDSEED] = { "rdseed", NULL, EXIT_UNHANDLED },
	/* The log is full; the write that needs an entry happens on re-entry. */
	[REASON_PML_FULL] = { "pml-full", NULL, EXIT_DIRTY_LOG_FULL },
};

unsigned vmx_exit_slot(uint32_t code)
{
	if (code == VMX_EXIT_VMFAIL)
		return SLOT_VMFAIL;
	if (code & EXIT_REASON_ENTRY_FAILED)
		return SLOT_ENTRY_FAILED + ((code & 0xffffu) % REASONS);
	return (code & 0xffffu) < REASONS ? (code & 0xffffu) : SLOT_OTHER;
}

uint32_t vmx_slot_code(unsigned slot)
{
	if (slot < REASONS)
		return slot;
	if (slot >= SLOT_ENTRY_FAILED && slot < SLOT_ENTRY_FAILED + REASONS)
		return EXIT_REASON_ENTRY_FAILED | (slot - SLOT_ENTRY_FAILED);
	/* Any reason past the table stands for the shared slot; it must not
	 * have bit 31 set, or it would read as a failed entry. */
	return slot == SLOT_VMFAIL ? VMX_EXIT_VMFAIL : REASON_OTHER;
}

const char *vmx_exit_name(uint32_t code)
{
	if (code == VMX_EXIT_VMFAIL)
		return "vmfail";
	unsigned reason = code & 0xffffu;
	if (code & EXIT_REASON_ENTRY_FAILED)
		return reason == REASON_INVALID_GUEST_STATE ? "entry-failed-guest-state" :
		       reason == REASON_MSR_LOADING	    ? "entry-failed-msr-loading" :
		       reason == REASON_MACHINE_CHECK	    ? "entry-failed-machine-check" :
							      "entry-failed";
	return reason < REASONS && exits[reason].name ? exits[reason].name : "other";
}

void vmx_decode_exit(struct vcpu *v, struct vm_exit *e)
{
	uint32_t code = (uint32_t)vmread(VMCS_EXIT_REASON);
	unsigned reason = code & 0xffffu;

	*e = (struct vm_exit){ .kind = EXIT_UNHANDLED, .code = code };
	e->info1 = vmread(VMCS_EXIT_QUALIFICATION);
	e->insn_len = (uint8_t)vmread(VMCS_EXIT_INSN_LEN);
	if (code & EXIT_REASON_ENTRY_FAILED) {
		/* Reason 41: a machine check during VM entry; the guest never ran. */
		e->kind = reason == REASON_MACHINE_CHECK ? EXIT_MACHINE_CHECK : EXIT_INVALID_STATE;
		return;
	}
	const struct vmx_exit_desc *d = reason < REASONS && exits[reason].name ? &exits[reason] : NULL;
	if (d && d->decode)
		d->decode(v, e);
	else if (d)
		e->kind = d->kind;
}
