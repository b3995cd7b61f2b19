/* INS/OUTS exits: the VM's side of the string I/O emulation of
 * hv/emul/strio.c (guest RAM, ports, the vCPU's registers and mode) and
 * what becomes of its outcome. */
#include "hv/vm/mmio.h"

#include "hv/emul/strio.h"
#include "hv/vm/poison.h"
#include "hv/vm/ports.h"
#include "hv/vm/vcpu_walk.h"
#include "hv/vm/vm.h"
#include "hv/x86/cpu.h"
#include "hv/x86/msr.h"
#include "hv/x86/trap.h"

#define STRING_IO_MAX_PER_EXIT 4096 /* REP iterations before re-entering */

static enum emul_mode emul_mode_of(const struct vcpu_state *s)
{
	if ((s->efer & EFER_LMA) && (s->seg[SEG_CS].attr & SEG_ATTR_L))
		return EMUL_LONG64;
	if (!(s->cr0 & CR0_PE))
		return EMUL_REAL;
	return (s->regs.rflags & RFLAGS_VM) ? EMUL_V86 : EMUL_PROTECTED;
}

/* ES for INS (no override); for OUTS DS or the override the exit names
 * (a value beyond GS would be the backend's mistake: DS then). */
static struct emul_segment string_segment(const struct vcpu_state *s, const struct vm_exit *e)
{
	unsigned seg = e->io.in ? SEG_ES : e->io.segment <= SEG_GS ? e->io.segment : SEG_DS;
	const struct vcpu_segment *g = &s->seg[seg];

	return (struct emul_segment){ .base = g->base, .limit = g->limit, .attr = g->attr,
				      .is_ss = seg == SEG_SS,
				      .base_in_64 = seg == SEG_FS || seg == SEG_GS };
}

static enum strio_mem mem_kind(void *ctx, uint64_t gpa, size_t len)
{
	struct vm *vm = ctx;

	if (!gmem_contains(&vm->mem, gpa, len))
		return STRIO_MEM_NONE;
	return vm_page_poisoned(vm, gpa) ? STRIO_MEM_POISONED : STRIO_MEM_RAM;
}

static void mem_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	gmem_read(&((struct vm *)ctx)->mem, gpa, buf, len);
}

static void mem_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	vcpu_write_guest(ctx, gpa, buf, len); /* string I/O into guest memory is logged too */
}

static uint32_t port_in(void *ctx, uint16_t port, unsigned size)
{
	return port_read(ctx, port, size);
}

static bool port_out(void *ctx, uint16_t port, unsigned size, uint32_t value)
{
	return port_write(ctx, port, size, value) != PORT_VM_STOPPED;
}

static const struct strio_ops strio_vm_ops = { mem_kind, mem_read, mem_write, port_in, port_out };

static enum exit_action string_io_result(struct vcpu *v, const struct vm_exit *e,
					 const struct strio *op, enum strio_result r)
{
	struct vm *vm = v->vm;

	switch (r) {
	case STRIO_DONE:
		v->regs.rip += e->insn_len;
		return EXIT_CONTINUE;
	case STRIO_MORE:
		return EXIT_CONTINUE; /* same RIP: the guest re-executes the rest */
	case STRIO_FAULT:
		if (op->fault.vector == VEC_PF)
			vcpu_queue_page_fault(v, op->fault.address, op->fault.error);
		else
			vcpu_queue_exception(v, op->fault.vector, op->fault.has_error,
					     op->fault.error);
		return EXIT_CONTINUE;
	case STRIO_STOPPED:
		return EXIT_STOP;
	case STRIO_UNMAPPED:
		vm_crash(vm, "string I/O on port 0x%x with an unmapped buffer at 0x%lx", e->io.port,
			 (unsigned long)op->bad_la);
		return EXIT_STOP;
	case STRIO_POISONED:
		vm_crash(vm, "machine check: string I/O on port 0x%x with a buffer in poisoned "
			 "guest page 0x%lx", e->io.port, (unsigned long)(op->bad_gpa & ~0xfffull));
		return EXIT_STOP;
	}
	return EXIT_STOP;
}

enum exit_action emulate_string_io(struct vcpu *v, const struct vm_exit *e)
{
	struct vcpu_state s;
	struct gwalk w;

	vcpu_ops->get_state(v, &s);
	vcpu_walker(v, &s, &w);
	struct strio op = {
		.port = e->io.port, .size = e->io.size, .addr_size = e->io.addr_size,
		.in = e->io.in, .rep = e->io.rep, .mode = emul_mode_of(&s),
		.seg = string_segment(&s, e), .df = (v->regs.rflags & RFLAGS_DF) != 0,
		.walk = &w, .budget = STRING_IO_MAX_PER_EXIT, .ops = &strio_vm_ops, .ctx = v->vm,
		.rcx = v->regs.rcx, .rsi = v->regs.rsi, .rdi = v->regs.rdi,
	};
	enum strio_result r = strio_run(&op);
	v->regs.rcx = op.rcx;
	v->regs.rsi = op.rsi;
	v->regs.rdi = op.rdi;
	return string_io_result(v, e, &op, r);
}
