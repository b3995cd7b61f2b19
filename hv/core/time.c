#include "hv/core/time.h"

#include "hv/lib/muldiv.h"
#include "hv/x86/cpu.h"

static uint64_t tsc_hz;
static uint64_t tsc_zero;
static const char *source = "uncalibrated";
static volatile uint64_t ticks;
static uint32_t tick_hz;
static struct tick_hook *tick_hooks;

void time_set_calibration(uint64_t hz, uint64_t tsc_at_zero, const char *src)
{
	tsc_hz = hz;
	tsc_zero = tsc_at_zero;
	source = src;
}

uint64_t time_tsc_hz(void)
{
	return tsc_hz;
}

const char *time_calibration_source(void)
{
	return source;
}

uint64_t time_tsc_to_ns(uint64_t delta)
{
	if (!tsc_hz)
		return 0;
	return mul_div_u64(delta, NS_PER_SEC, tsc_hz);
}

uint64_t time_ns_to_tsc(uint64_t ns)
{
	return mul_div_u64(ns, tsc_hz, NS_PER_SEC);
}

uint64_t time_ns_at(uint64_t tsc)
{
	if (!tsc_hz || tsc < tsc_zero)
		return 0;
	return time_tsc_to_ns(tsc - tsc_zero);
}

uint64_t time_ns(void)
{
	return time_ns_at(rdtsc());
}

uint64_t time_ticks(void)
{
	return ticks;
}

uint32_t time_tick_hz(void)
{
	return tick_hz;
}

void time_set_tick_hz(uint32_t hz)
{
	tick_hz = hz;
}

void time_register_tick_hook(struct tick_hook *hook)
{
	bool irq = irq_save();

	hook->next = tick_hooks;
	tick_hooks = hook;
	irq_restore(irq);
}

void time_tick(void)
{
	ticks++;
	for (struct tick_hook *h = tick_hooks; h; h = h->next)
		h->fn();
}
