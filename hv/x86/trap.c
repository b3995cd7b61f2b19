#include "hv/x86/trap.h"

#include <stddef.h>

#include "hv/x86/cpu.h"
#include "hv/x86/lapic.h"
#include "hv/x86/percpu.h"

struct ex_table_entry {
	int32_t fault;  /* relative to &entry->fault */
	int32_t fixup;  /* relative to &entry->fixup */
};

extern const struct ex_table_entry __start_ex_table[];
extern const struct ex_table_entry __stop_ex_table[];

static trap_handler_fn handlers[256];
static trap_fatal_fn fatal;

void trap_set_handler(unsigned vector, trap_handler_fn fn)
{
	if (vector < 256)
		handlers[vector] = fn;
}

void trap_set_fatal_handler(trap_fatal_fn fn)
{
	fatal = fn;
}

static const struct ex_table_entry *fixup_for(uint64_t rip)
{
	for (const struct ex_table_entry *e = __start_ex_table; e < __stop_ex_table; e++) {
		uint64_t fault = (uint64_t)(uintptr_t)&e->fault + (int64_t)e->fault;
		if (fault == rip)
			return e;
	}
	return NULL;
}

bool trap_has_fixup(uint64_t rip)
{
	return fixup_for(rip) != NULL;
}

bool trap_apply_fixup(struct trap_frame *f)
{
	const struct ex_table_entry *e = fixup_for(f->rip);

	if (!e)
		return false;
	f->rip = (uint64_t)(uintptr_t)&e->fixup + (int64_t)e->fixup;
	return true;
}

const char *trap_vector_name(unsigned v)
{
	static const char *const names[32] = {
		"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
		"#BR bound range", "#UD invalid opcode", "#NM device not available",
		"#DF double fault", "coprocessor overrun", "#TS invalid TSS",
		"#NP segment not present", "#SS stack fault", "#GP general protection",
		"#PF page fault", "reserved 15", "#MF x87 error", "#AC alignment check",
		"#MC machine check", "#XM SIMD error", "#VE virtualization exception",
		"#CP control protection",
	};

	if (v < 32)
		return names[v] ? names[v] : "reserved exception";
	if (v == VEC_TIMER)
		return "timer";
	if (v == VEC_SPURIOUS)
		return "spurious";
	return "interrupt";
}

void trap_dispatch(struct trap_frame *f);

static void dispatch(struct trap_frame *f)
{
	unsigned v = (unsigned)f->vector & 0xff;

	if (v < 32) {
		if (handlers[v]) {
			handlers[v](f); /* NMI and #MC owners decide what is fatal */
			return;
		}
		if (trap_apply_fixup(f))
			return;
		if (fatal)
			fatal(f);
		cpu_halt_forever();
	}
	if (v == VEC_SPURIOUS)
		return; /* spurious interrupts must not be acknowledged */
	if (handlers[v])
		handlers[v](f);
	lapic_eoi();
}

void trap_dispatch(struct trap_frame *f)
{
	struct percpu *c = this_cpu();

	c->trap_depth++;
	dispatch(f);
	c->trap_depth--;
}
