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
#include "hv/x86/percpu.h"

enum panic_action { PANIC_HALT, PANIC_REBOOT };

static enum panic_action action = PANIC_HALT;
static int32_t panicking_cpu = -1;
static void (*stop_others)(void);

void panic_set_stop_others(void (*fn)(void))
{
	stop_others = fn;
}

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
	int32_t self = (int32_t)this_cpu_index(), first = -1;
	if (!__atomic_compare_exchange_n(&panicking_cpu, &first, self, false, __ATOMIC_SEQ_CST,
					 __ATOMIC_SEQ_CST)) {
		/* Panicking while panicking: say the least possible and stop;
		 * another CPU's panic is that CPU's to report. */
		if (first == self)
			con_puts("\n*** nested panic\n");
		cpu_halt_forever();
	}
	if (stop_others)
		stop_others(); /* nothing else runs on, guests included */
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
