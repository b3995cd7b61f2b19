/* Generic handling of decoded VM exits: one handler per exit kind, in a
 * designated-initialiser table (ACRN style). Vendor backends only decode;
 * everything a guest can ask for is answered here. */
#include "hv/vm/vm_exit.h"

#include "hv/vm/cpuid_policy.h"
#include "hv/vm/mmio.h"
#include "hv/vm/msr_policy.h"
#include "hv/vm/poison.h"
#include "hv/vm/platform.h"
#include "hv/vm/ports.h"
#include "hv/vm/vcpu_walk.h"
#include "hv/vm/vm.h"
#include "hv/x86/trap.h"

#define HYPERCALL_NOP 0
/* -KVM_ENOSYS: CPUID tells the guest it may use KVM's interfaces (the clock
 * only), so its unknown-hypercall answer is KVM's. */
#define HYPERCALL_UNKNOWN ((uint64_t)-1000)

typedef enum exit_action (*exit_handler_fn)(struct vcpu *v, const struct vm_exit *e);

/* Delivered by vm_run before the next entry (an exception queued by the
 * backend's own emulation, vmx_cr.c, goes the same way). */
void vcpu_queue_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
	v->exception = (struct vcpu_event){ EVENT_EXCEPTION, vector, has_error, error };
	v->pending_exception = true;
}

/* CR2 is architectural state, not part of the event: it goes in through
 * the vCPU state, which both backends apply (SVM: the VMCB's CR2; VMX has
 * no CR2 field and loads it into the CPU before every entry). It is set
 * now rather than at delivery so that a migration between the two carries
 * it along with the pending exception. */
void vcpu_queue_page_fault(struct vcpu *v, uint64_t address, uint32_t error)
{
	struct vcpu_state s;

	vcpu_ops->get_state(v, &s);
	s.cr2 = address;
	vcpu_ops->set_state(v, &s);
	vcpu_queue_exception(v, VEC_PF, true, error);
}

static void skip_instruction(struct vcpu *v, const struct vm_exit *e)
{
	v->regs.rip += e->insn_len;
}

static enum exit_action on_none(struct vcpu *v, const struct vm_exit *e)
{
	(void)v;
	(void)e;
	return EXIT_CONTINUE;
}

static enum exit_action on_external_interrupt(struct vcpu *v, const struct vm_exit *e)
{
	(void)v;
	(void)e;
	return EXIT_YIELD; /* the host's tick: let the main loop run */
}

static enum exit_action on_interrupt_window(struct vcpu *v, const struct vm_exit *e)
{
	(void)e;
	vcpu_ops->request_interrupt_window(v, false);
	return EXIT_CONTINUE; /* the pending interrupt goes in on entry */
}

static enum exit_action on_io(struct vcpu *v, const struct vm_exit *e)
{
	if (e->io.string)
		return emulate_string_io(v, e);
	uint64_t mask = e->io.size == 4 ? 0xffffffffull : e->io.size == 2 ? 0xffff : 0xff;
	if (e->io.in) {
		uint32_t value = port_read(v->vm, e->io.port, e->io.size);
		/* IN AL/AX merge into RAX; IN EAX, like every write to a 32-bit
		 * register, zero-extends (SDM vol. 1, 3.4.1.1). */
		v->regs.rax = e->io.size == 4 ? value : (v->regs.rax & ~mask) | (value & mask);
	} else if (port_write(v->vm, e->io.port, e->io.size, (uint32_t)(v->regs.rax & mask)) ==
		   PORT_VM_STOPPED) {
		skip_instruction(v, e);
		return EXIT_STOP;
	}
	skip_instruction(v, e);
	return EXIT_CONTINUE;
}

static enum exit_action on_cpuid(struct vcpu *v, const struct vm_exit *e)
{
	struct cpuid_regs r = cpuid_guest(&v->vm->cpuid, (uint32_t)v->regs.rax,
					  (uint32_t)v->regs.rcx, v->lapic.id);

	v->regs.rax = r.eax;
	v->regs.rbx = r.ebx;
	v->regs.rcx = r.ecx;
	v->regs.rdx = r.edx;
	skip_instruction(v, e);
	return EXIT_CONTINUE;
}

static enum exit_action on_rdmsr(struct vcpu *v, const struct vm_exit *e)
{
	uint64_t value;

	if (!msr_guest_read(v, (uint32_t)v->regs.rcx, &value)) {
		vcpu_queue_exception(v, VEC_GP, true, 0);
		return EXIT_CONTINUE;
	}
	v->regs.rax = (uint32_t)value;
	v->regs.rdx = value >> 32;
	skip_instruction(v, e);
	return EXIT_CONTINUE;
}

/* RDPMC reads the counters the guest is offered (msr_policy.c); outside
 * ring 0 only with CR4.PCE, as on the CPU. */
static enum exit_action on_rdpmc(struct vcpu *v, const struct vm_exit *e)
{
	struct vcpu_state s;
	uint64_t value;

	vcpu_ops->get_state(v, &s);
	if ((!(s.cr4 & CR4_PCE) && vcpu_cpl(&s)) ||
	    !pmc_guest_read(v, (uint32_t)v->regs.rcx, &value)) {
		vcpu_queue_exception(v, VEC_GP, true, 0);
		return EXIT_CONTINUE;
	}
	v->regs.rax = (uint32_t)value;
	v->regs.rdx = (uint32_t)(value >> 32);
	skip_instruction(v, e);
	return EXIT_CONTINUE;
}

static enum exit_action on_wrmsr(struct vcpu *v, const struct vm_exit *e)
{
	uint64_t value = (v->regs.rdx << 32) | (uint32_t)v->regs.rax;

	if (!msr_guest_write(v, (uint32_t)v->regs.rcx, value)) {
		vcpu_queue_exception(v, VEC_GP, true, 0);
		return EXIT_CONTINUE;
	}
	skip_instruction(v, e);
	return EXIT_CONTINUE;
}

static enum exit_action on_hlt(struct vcpu *v, const struct vm_exit *e)
{
	skip_instruction(v, e);
	v->halted = true; /* until an interrupt it can take arrives */
	return EXIT_YIELD;
}

static enum exit_action on_hypercall(struct vcpu *v, const struct vm_exit *e)
{
	v->regs.rax = v->regs.rax == HYPERCALL_NOP ? 0 : HYPERCALL_UNKNOWN;
	skip_instruction(v, e);
	return EXIT_CONTINUE;
}

static enum exit_action on_memory(struct vcpu *v, const struct vm_exit *e)
{
	struct vm *vm = v->vm;

	if (e->mem.write && e->mem.present && dirty_log_write_fault(vm, v->index, e->mem.gpa))
		return EXIT_CONTINUE; /* logged and writable again: the write retries */
	if (platform_mmio_claims(v, e->mem.gpa) && !e->mem.fetch)
		return emulate_mmio(v, e);
	/* Not for the guest's own page walk: its entry would read all ones
	 * (a reserved-bit #PF on a PC), not the instruction's data. */
	if (!gmem_contains(&vm->mem, e->mem.gpa, 1) && !e->mem.fetch && !e->mem.walk)
		return emulate_unbacked(v, e);
	if (vm_page_poisoned(vm, e->mem.gpa)) {
		/* A real CPU would raise #MC; this platform offers guests no MCA. */
		vm_crash(vm, "machine check: %s poisoned guest page 0x%lx (GPA 0x%lx, RIP 0x%lx)",
			 e->mem.fetch ? "instruction fetch from" : e->mem.write ? "write to" : "read of",
			 (unsigned long)(e->mem.gpa & ~0xfffull), (unsigned long)e->mem.gpa,
			 (unsigned long)v->regs.rip);
		return EXIT_STOP;
	}
	vm_crash(vm, "%s %s guest memory at GPA 0x%lx (RIP 0x%lx, exit %s, info 0x%lx)",
		 e->mem.fetch ? "instruction fetch" : e->mem.write ? "write" : "read",
		 gmem_contains(&vm->mem, e->mem.gpa, 1) ? "denied in" : "outside",
		 (unsigned long)e->mem.gpa, (unsigned long)v->regs.rip,
		 vcpu_ops->exit_name(e->code), (unsigned long)e->info1);
	return EXIT_STOP;
}

/* Instructions of features the guest is not offered raise #UD, as on a CPU
 * without them: XSAVE (hidden in CPUID), MONITOR/MWAIT (hidden), SVM and
 * VMX (hidden: no nesting), RSM (the guest never runs in SMM), GETSEC (it
 * cannot set CR4.SMXE). */
static enum exit_action on_absent_feature(struct vcpu *v, const struct vm_exit *e)
{
	(void)e;
	vcpu_queue_exception(v, VEC_UD, false, 0);
	return EXIT_CONTINUE;
}

/* Cache and TLB maintenance has nothing to do for a guest: INVD would drop
 * dirty lines the host owns, so it runs as a no-op, like WBINVD (second-level
 * tables keep guest memory write-back); INVLPG only exits when the CPU forces
 * it, and EPT/NPT make guest TLB entries the guest's own business. */
static enum exit_action on_no_op(struct vcpu *v, const struct vm_exit *e)
{
	skip_instruction(v, e);
	return EXIT_CONTINUE;
}

/* PAUSE exits only where the VM's vCPUs share a CPU (pause_ends_turn): a
 * spinning vCPU waits for one that holds what it wants and is not running,
 * so the spinner's turn ends and the next vCPU's begins. */
static enum exit_action on_pause(struct vcpu *v, const struct vm_exit *e)
{
	skip_instruction(v, e);
	v->yield = true;
	v->pause_yields++;
	return EXIT_CONTINUE;
}

static enum exit_action on_dirty_log_full(struct vcpu *v, const struct vm_exit *e)
{
	(void)e;
	dirty_log_buffer_full(v);
	return EXIT_CONTINUE;
}

static enum exit_action on_triple_fault(struct vcpu *v, const struct vm_exit *e)
{
	(void)e;
	vm_crash(v->vm, "triple fault at RIP 0x%lx", (unsigned long)v->regs.rip);
	return EXIT_STOP;
}

static bool (*machine_check_reader)(void);

void vm_exit_set_machine_check_reader(bool (*reader)(void))
{
	machine_check_reader = reader;
}

static enum exit_action on_machine_check(struct vcpu *v, const struct vm_exit *e)
{
	(void)e;
	/* The one handler called without the VM's lock (the reader joins the
	 * broadcast rendezvous, see vm_run.c): the crash takes it, as another
	 * vCPU's exit may be writing the VM's output meanwhile. */
	if (machine_check_reader && !machine_check_reader()) {
		bool irq = spin_lock_irqsave(&v->vm->lock);
		vm_crash(v->vm, "machine check while the guest ran, no restart IP (RIP 0x%lx)",
			 (unsigned long)v->regs.rip);
		spin_unlock_irqrestore(&v->vm->lock, irq);
		return EXIT_STOP;
	}
	/* The main loop retires and poisons the page before this guest runs again. */
	return EXIT_YIELD;
}

/* Intercepted only so that an exception raised while delivering itself
 * cannot hold the CPU (see the backends): the guest gets it as the CPU
 * would have delivered it. A #DB for a MOV DR under DR7.GD clears GD on
 * delivery, and the intercept came first. */
static enum exit_action on_exception(struct vcpu *v, const struct vm_exit *e)
{
	if (e->exc.vector == VEC_DB) {
		struct vcpu_state s;
		vcpu_ops->get_state(v, &s);
		if ((s.dr6 & DR6_BD) && (s.dr7 & DR7_GD)) {
			s.dr7 &= ~DR7_GD;
			vcpu_ops->set_state(v, &s);
		}
	}
	v->vm->exceptions_reflected++;
	vcpu_queue_exception(v, e->exc.vector, e->exc.has_error, e->exc.error);
	return EXIT_CONTINUE;
}

static enum exit_action on_invalid_state(struct vcpu *v, const struct vm_exit *e)
{
	vm_crash(v->vm, "invalid guest state: entry refused (exit %s, info 0x%lx) at RIP 0x%lx",
		 vcpu_ops->exit_name(e->code), (unsigned long)e->info1, (unsigned long)v->regs.rip);
	return EXIT_STOP;
}

static enum exit_action on_unhandled(struct vcpu *v, const struct vm_exit *e)
{
	vm_crash(v->vm, "unhandled exit %s (code 0x%x, info 0x%lx/0x%lx) at RIP 0x%lx",
		 vcpu_ops->exit_name(e->code), e->code, (unsigned long)e->info1,
		 (unsigned long)e->info2, (unsigned long)v->regs.rip);
	return EXIT_STOP;
}

static const exit_handler_fn handlers[EXIT_KIND_COUNT] = {
	[EXIT_NONE] = on_none,
	[EXIT_EXTERNAL_INTERRUPT] = on_external_interrupt,
	[EXIT_INTERRUPT_WINDOW] = on_interrupt_window,
	[EXIT_IO] = on_io,
	[EXIT_CPUID] = on_cpuid,
	[EXIT_RDMSR] = on_rdmsr,
	[EXIT_WRMSR] = on_wrmsr,
	[EXIT_HLT] = on_hlt,
	[EXIT_HYPERCALL] = on_hypercall,
	[EXIT_MEMORY] = on_memory,
	[EXIT_XSETBV] = on_absent_feature,
	[EXIT_INVD] = on_no_op,
	[EXIT_WBINVD] = on_no_op,
	[EXIT_INVLPG] = on_no_op,
	[EXIT_PAUSE] = on_pause,
	[EXIT_MONITOR] = on_absent_feature,
	[EXIT_MWAIT] = on_absent_feature,
	[EXIT_VIRT_INSN] = on_absent_feature,
	[EXIT_RSM] = on_absent_feature,
	[EXIT_GETSEC] = on_absent_feature,
	[EXIT_RDPMC] = on_rdpmc,
	[EXIT_DIRTY_LOG_FULL] = on_dirty_log_full,
	[EXIT_TRIPLE_FAULT] = on_triple_fault,
	[EXIT_MACHINE_CHECK] = on_machine_check,
	[EXIT_EXCEPTION] = on_exception,
	[EXIT_INVALID_STATE] = on_invalid_state,
	[EXIT_UNHANDLED] = on_unhandled,
};

enum exit_action vm_handle_exit(struct vcpu *v, const struct vm_exit *e)
{
	exit_handler_fn fn = e->kind < EXIT_KIND_COUNT ? handlers[e->kind] : NULL;

	v->exits_by_kind[e->kind < EXIT_KIND_COUNT ? e->kind : EXIT_UNHANDLED]++;
	return fn ? fn(v, e) : on_unhandled(v, e);
}

const char *exit_kind_name(enum exit_kind k)
{
	static const char *const names[EXIT_KIND_COUNT] = {
		[EXIT_NONE] = "internal", [EXIT_EXTERNAL_INTERRUPT] = "host-interrupt",
		[EXIT_INTERRUPT_WINDOW] = "interrupt-window", [EXIT_IO] = "io",
		[EXIT_CPUID] = "cpuid", [EXIT_RDMSR] = "rdmsr", [EXIT_WRMSR] = "wrmsr",
		[EXIT_HLT] = "hlt", [EXIT_HYPERCALL] = "hypercall", [EXIT_MEMORY] = "memory",
		[EXIT_XSETBV] = "xsetbv", [EXIT_INVD] = "invd", [EXIT_WBINVD] = "wbinvd",
		[EXIT_INVLPG] = "invlpg", [EXIT_PAUSE] = "pause", [EXIT_MONITOR] = "monitor",
		[EXIT_MWAIT] = "mwait", [EXIT_VIRT_INSN] = "virtualization-insn", [EXIT_RSM] = "rsm",
		[EXIT_GETSEC] = "getsec", [EXIT_RDPMC] = "rdpmc", [EXIT_DIRTY_LOG_FULL] = "dirty-log-full",
		[EXIT_TRIPLE_FAULT] = "triple-fault", [EXIT_MACHINE_CHECK] = "machine-check",
		[EXIT_EXCEPTION] = "exception",
		[EXIT_INVALID_STATE] = "invalid-state", [EXIT_UNHANDLED] = "unhandled",
	};

	return k < EXIT_KIND_COUNT ? names[k] : "?";
}
