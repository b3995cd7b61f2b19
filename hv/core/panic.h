/* Fatal errors in the hypervisor itself. */
#ifndef HV_CORE_PANIC_H
#define HV_CORE_PANIC_H

__attribute__((noreturn, format(printf, 3, 4))) void panic_at(const char *file, int line,
							     const char *fmt, ...);

#define panic(...) panic_at(__FILE__, __LINE__, __VA_ARGS__)

#define HV_ASSERT(cond)                                                       \
	do {                                                                  \
		if (!(cond))                                                  \
			panic("assertion failed: %s", #cond);                 \
	} while (0)

#include "hv/x86/spinlock.h"

struct trap_frame;
/* A fatal exception in the hypervisor: register dump, backtrace, then
 * panic_finish(). Installed as the trap path's fatal handler. */
__attribute__((noreturn)) void panic_trap(struct trap_frame *f);
/* The report for a broken lock nesting rule (spin_set_violation_handler). */
__attribute__((noreturn)) void panic_lock_order(const struct spinlock *taking,
						enum lock_verdict v, const char *held);

/* Registered by hv/smp: stops every other CPU before the report. */
void panic_set_stop_others(void (*fn)(void));

/* Applies the panic setting: halt (the default) or reboot after a panic. */
void panic_configure(void);

/* Ends a fatal path: halts, or reboots if configured. Prints the final line. */
__attribute__((noreturn)) void panic_finish(void);

#endif
