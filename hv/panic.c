#include "hv/panic.h"

#include <stdarg.h>
#include <stdbool.h>

#include "boot/firmware.h"
#include "hv/console.h"
#include "hv/vcpu.h"
#include "hv/x86/backtrace.h"
#include "hv/x86/cpu.h"

static enum panic_action action = PANIC_HALT;
static void (*fatal_hook)(void);
static volatile int depth;

void panic_set_action(enum panic_action a)
{
	action = a;
}

void panic_set_hook(void (*hook)(void))
{
	fatal_hook = hook;
}

void panic_finish(void)
{
	void (*hook)(void) = fatal_hook;

	fatal_hook = NULL; /* a failing hook must not run twice */
	if (hook)
		hook();
	if (action == PANIC_REBOOT) {
		con_puts("*** hypervisor rebooting\n");
		vcpu_hw_disable();
		fw_reset(FW_RESET_COLD);
	}
	con_puts("*** hypervisor halted\n");
	cpu_halt_forever();
}

void panic_at(const char *file, int line, const char *fmt, ...)
{
	irq_disable();
	if (depth++) {
		/* Panicking while panicking: say the least possible and stop. */
		con_puts("\n*** nested panic\n");
		cpu_halt_forever();
	}
	con_panic_begin();
	con_printf("*** PANIC at %s:%d: ", file, line);
	va_list ap;
	va_start(ap, fmt);
	con_vprintf(fmt, ap);
	va_end(ap);
	con_putc('\n');
	backtrace_print_here();
	panic_finish();
}
