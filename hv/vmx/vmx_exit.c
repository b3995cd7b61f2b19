/* Decoding VMX exits into generic ones: a designated-initialiser table from
 * basic exit reason to name and decoder (ACRN style). VMX instructions the
 * guest cannot have (it sees no VMX) raise #UD in the guest. */
#include "hv/vmx/vmx.h"

#include "hv/vmx/vmcs.h"
#include "hv/x86/cpu.h"
#include "hv/x86/trap.h"

#define REASONS 70u
#define SLOT_ENTRY_FAILED 0x80u /* + basic reason, for failed VM entries */
#define SLOT_VMFAIL 0xfeu
#define SLOT_OTHER 0xffu
#define EXIT_REASON_ENTRY_FAILED (1u << 31)

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

struct vmx_exit_desc {
	const char *name;
	vmx_decoder decode;
};

static void dec_external(struct vcpu *v, struct vm_exit *e)
{
	(void)v;
	e->kind = EXIT_EXTERNAL_INTERRUPT;
}

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
}

static void dec_window(struct vcpu *v, struct vm_exit *e)
{
	(void)v;
	e->kind = EXIT_INTERRUPT_WINDOW;
}

static void dec_triple_fault(struct vcpu *v, struct vm_exit *e)
{
	(void)v;
	e->kind = EXIT_TRIPLE_FAULT;
}

/* INIT and SIPI come from other CPUs' IPIs, never meant for a guest. */
static void dec_ignore(struct vcpu *v, struct vm_exit *e)
{
	(void)v;
	e->kind = EXIT_NONE;
}

static void dec_cpuid(struct vcpu *v, struct vm_exit *e)
{
	(void)v;
	e->kind = EXIT_CPUID;
}

static void dec_hlt(struct vcpu *v, struct vm_exit *e)
{
	(void)v;
	e->kind = EXIT_HLT;
}

static void dec_vmcall(struct vcpu *v, struct vm_exit *e)
{
	(void)v;
	e->kind = EXIT_HYPERCALL;
}

static void dec_xsetbv(struct vcpu *v, struct vm_exit *e)
{
	(void)v;
	e->kind = EXIT_XSETBV;
}

/* INVD would drop dirty lines the host owns; INVLPG only exits when the
 * CPU forces it, and EPT makes it a guest-only matter: both are no-ops. */
static void dec_skip(struct vcpu *v, struct vm_exit *e)
{
	v->regs.rip += e->insn_len;
	e->kind = EXIT_NONE;
}

static void dec_ud(struct vcpu *v, struct vm_exit *e)
{
	vcpu_queue_exception(v, VEC_UD, false, 0);
	e->kind = EXIT_NONE;
}

static void dec_invalid(struct vcpu *v, struct vm_exit *e)
{
	(void)v;
	e->kind = EXIT_INVALID_STATE;
}

static void dec_machine_check(struct vcpu *v, struct vm_exit *e)
{
	(void)v;
	e->kind = EXIT_MACHINE_CHECK;
}

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

static void dec_msr(struct vcpu *v, struct vm_exit *e, bool write)
{
	if ((uint32_t)v->regs.rcx == MSR_EFER) {
		if (vmx_efer_access(v, write))
			v->regs.rip += e->insn_len;
		else
			vcpu_queue_exception(v, VEC_GP, true, 0);
		e->kind = EXIT_NONE;
		return;
	}
	e->kind = write ? EXIT_WRMSR : EXIT_RDMSR;
}

static void dec_rdmsr(struct vcpu *v, struct vm_exit *e)
{
	dec_msr(v, e, false);
}

static void dec_wrmsr(struct vcpu *v, struct vm_exit *e)
{
	dec_msr(v, e, true);
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

static void dec_ept_misconfig(struct vcpu *v, struct vm_exit *e)
{
	(void)v;
	e->info2 = vmread(VMCS_GUEST_PHYS_ADDR);
	e->kind = EXIT_UNHANDLED; /* a hypervisor bug: the VM is stopped with the GPA */
}

/* The log is full; the write that needs an entry happens on re-entry. */
static void dec_pml_full(struct vcpu *v, struct vm_exit *e)
{
	(void)v;
	e->kind = EXIT_DIRTY_LOG_FULL;
}

static const struct vmx_exit_desc exits[REASONS] = {
	[REASON_EXCEPTION_NMI] = { "exception-nmi", dec_exception },
	[REASON_EXTERNAL_INTERRUPT] = { "external-interrupt", dec_external },
	[REASON_TRIPLE_FAULT] = { "triple-fault", dec_triple_fault },
	[REASON_INIT] = { "init", dec_ignore },
	[REASON_SIPI] = { "sipi", dec_ignore },
	[REASON_INTERRUPT_WINDOW] = { "interrupt-window", dec_window },
	[REASON_TASK_SWITCH] = { "task-switch", NULL },
	[REASON_CPUID] = { "cpuid", dec_cpuid },
	[REASON_GETSEC] = { "getsec", dec_ud },
	[REASON_HLT] = { "hlt", dec_hlt },
	[REASON_INVD] = { "invd", dec_skip },
	[REASON_INVLPG] = { "invlpg", dec_skip },
	[REASON_RDPMC] = { "rdpmc", NULL },
	[REASON_RDTSC] = { "rdtsc", NULL },
	[REASON_RSM] = { "rsm", dec_ud },
	[REASON_VMCALL] = { "vmcall", dec_vmcall },
	[REASON_VMCLEAR] = { "vmclear", dec_ud },
	[REASON_VMLAUNCH] = { "vmlaunch", dec_ud },
	[REASON_VMPTRLD] = { "vmptrld", dec_ud },
	[REASON_VMPTRST] = { "vmptrst", dec_ud },
	[REASON_VMREAD] = { "vmread", dec_ud },
	[REASON_VMRESUME] = { "vmresume", dec_ud },
	[REASON_VMWRITE] = { "vmwrite", dec_ud },
	[REASON_VMXOFF] = { "vmxoff", dec_ud },
	[REASON_VMXON] = { "vmxon", dec_ud },
	[REASON_CR_ACCESS] = { "cr-access", dec_cr },
	[REASON_DR_ACCESS] = { "dr-access", NULL },
	[REASON_IO] = { "io", dec_io },
	[REASON_RDMSR] = { "rdmsr", dec_rdmsr },
	[REASON_WRMSR] = { "wrmsr", dec_wrmsr },
	[REASON_INVALID_GUEST_STATE] = { "invalid-guest-state", dec_invalid },
	[REASON_MSR_LOADING] = { "msr-loading", dec_invalid },
	[REASON_MWAIT] = { "mwait", dec_ud },
	[REASON_MTF] = { "monitor-trap", NULL },
	[REASON_MONITOR] = { "monitor", dec_ud },
	[REASON_PAUSE] = { "pause", dec_skip },
	[REASON_MACHINE_CHECK] = { "machine-check", dec_machine_check },
	[REASON_EPT_VIOLATION] = { "ept-violation", dec_ept_violation },
	[REASON_EPT_MISCONFIG] = { "ept-misconfig", dec_ept_misconfig },
	[REASON_INVEPT] = { "invept", dec_ud },
	[REASON_RDTSCP] = { "rdtscp", NULL },
	[REASON_INVVPID] = { "invvpid", dec_ud },
	[REASON_WBINVD] = { "wbinvd", dec_skip },
	[REASON_XSETBV] = { "xsetbv", dec_xsetbv },
	[REASON_RDRAND] = { "rdrand", NULL },
	[REASON_INVPCID] = { "invpcid", NULL },
	[REASON_VMFUNC] = { "vmfunc", dec_ud },
	[REASON_RDSEED] = { "rdseed", NULL },
	[REASON_PML_FULL] = { "pml-full", dec_pml_full },
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
	return slot == SLOT_VMFAIL ? VMX_EXIT_VMFAIL : 0xfffffffeu;
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
	if (reason < REASONS && exits[reason].decode)
		exits[reason].decode(v, e);
}
