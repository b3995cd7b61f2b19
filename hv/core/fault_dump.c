/* What a fatal exception in the hypervisor prints before it halts. */
#include "hv/core/backtrace.h"
#include "hv/core/console.h"
#include "hv/core/panic.h"
#include "hv/x86/cpu.h"
#include "hv/x86/trap.h"

static volatile int fatal_depth;

static void print_reg_row(const char *a, uint64_t va, const char *b, uint64_t vb,
			  const char *c, uint64_t vc)
{
	con_printf("%-6s 0x%016lx  %-6s 0x%016lx  %-6s 0x%016lx\n", a, (unsigned long)va, b,
		   (unsigned long)vb, c, (unsigned long)vc);
}

void panic_trap(struct trap_frame *f)
{
	irq_disable();
	if (fatal_depth++) {
		con_puts("\n*** nested fatal exception\n");
		cpu_halt_forever();
	}
	con_panic_begin();

	char where[96];
	backtrace_format_addr(where, sizeof(where), f->rip);
	con_printf("*** FATAL EXCEPTION %s (vector %lu) error 0x%lx at %s\n",
		   trap_vector_name((unsigned)f->vector), (unsigned long)f->vector,
		   (unsigned long)f->error, where);
	print_reg_row("rip", f->rip, "rsp", f->rsp, "rflags", f->rflags);
	print_reg_row("rax", f->rax, "rbx", f->rbx, "rcx", f->rcx);
	print_reg_row("rdx", f->rdx, "rsi", f->rsi, "rdi", f->rdi);
	print_reg_row("rbp", f->rbp, "r8", f->r8, "r9", f->r9);
	print_reg_row("r10", f->r10, "r11", f->r11, "r12", f->r12);
	print_reg_row("r13", f->r13, "r14", f->r14, "r15", f->r15);
	print_reg_row("cr0", read_cr0(), "cr2", read_cr2(), "cr3", read_cr3());
	print_reg_row("cr4", read_cr4(), "efer", rdmsr(MSR_EFER), "cs:ss",
		      (f->cs << 16) | (f->ss & 0xffff));
	backtrace_print(f->rip, f->rbp);
	panic_finish();
}
