#include "hv/core/mainloop.h"

#include <stddef.h>

#include "hv/core/profile.h"
#include "hv/x86/cpu.h"
#include "hv/x86/percpu.h"

static struct poller *first;

void mainloop_register(struct poller *p)
{
	struct poller **at = &first;

	/* Stable: pollers of one stage keep their registration order. */
	while (*at && (*at)->stage <= p->stage)
		at = &(*at)->next;
	p->next = *at;
	*at = p;
}

void mainloop_poll(bool may_sleep)
{
	bool busy = false;
	/* The loop runs with interrupts off and takes them when idle; the
	 * profiler's tick must land inside the work, so while it samples they
	 * stay on (every lock is taken with interrupts off, as while a guest
	 * runs). */
	if (profile_running())
		irq_enable();
	for (struct poller *p = first; p; p = p->next) {
		p->runs++;
		if (p->poll()) {
			p->busy++;
			busy = true;
		}
	}
	if (!busy && may_sleep) {
		cpu_idle_counted(); /* nothing to do: sleep until the next interrupt */
		if (profile_running())
			irq_enable(); /* the idle left them off: the caller's work is sampled too */
	}
}

const struct poller *mainloop_pollers(void)
{
	return first;
}
