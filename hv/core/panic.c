#include "hv/core/panic.h"

#include <stdarg.h>
#include <stdbool.h>

#include "hv/core/backtrace.h"
#include "hv/core/console.h"
#include "hv/core/log.h"
#include "hv/core/reset.h"
#include "hv/core/settings.h"
#include "hv/lib/string.h"
#include "hv/x86/cpu.h"

enum panic_action { PANIC_HALT, PANIC_REBOOT };

static enum panic_action action = PANIC_HALT;
static volatile int depth;

CONFIG_KEY(key_panic, "panic", "halt", "on a fatal error: halt or reboot");

void panic_configure(void)
{
	const char *p = setting("panic");

	if (!strcmp(p, "reboot"))
		action = PANIC_REBOOT;
	else if (!strcmp(p, "halt"))
		action = PANIC_HALT;
	else
		log_warn("config: panic '%s' unknown (halt, reboot)", p);
}

void panic_finish(void)
{
	if (action == PANIC_REBOOT) {
		con_puts("*** hypervisor rebooting\n");
		machine_reset(FW_RESET_COLD);
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

void panic_lock_order(const struct spinlock *taking, enum lock_verdict v, const char *held)
{
	panic("lock order: taking '%s' (rank %u): %s (holding '%s')", taking->name, taking->rank,
	      lock_verdict_text(v), held);
}
