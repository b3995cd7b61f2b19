#include "hv/x86/tsc_calibrate.h"

#include "hv/x86/cpu.h"

#define PM_TIMER_HZ 3579545ull
#define PIT_HZ 1193182ull
#define WINDOW_MS 50ull

static uint64_t from_cpuid(void)
{
	if (cpuid(0, 0).eax < 0x15)
		return 0;
	struct cpuid_regs r = cpuid(0x15, 0);
	if (!r.eax || !r.ebx || !r.ecx)
		return 0; /* crystal frequency not enumerated */
	return (uint64_t)r.ecx * r.ebx / r.eax;
}

static uint64_t against_pm_timer(uint16_t port, bool wide)
{
	uint32_t mask = wide ? 0xffffffffu : 0xffffffu;
	uint32_t target = (uint32_t)(PM_TIMER_HZ * WINDOW_MS / 1000);
	uint32_t start = inl(port) & mask;
	uint64_t t0 = rdtsc();
	uint32_t now;
	uint64_t spins = 0;

	do {
		now = inl(port) & mask;
		if (++spins > 100000000ull)
			return 0; /* the timer does not move */
	} while (((now - start) & mask) < target);
	uint64_t t1 = rdtsc();
	return (t1 - t0) * PM_TIMER_HZ / ((now - start) & mask);
}

static uint64_t against_pit(void)
{
	uint16_t count = (uint16_t)(PIT_HZ * WINDOW_MS / 1000);

	/* Channel 2, gate on, speaker off, mode 0: OUT2 rises at terminal count. */
	outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01));
	outb(0x43, 0xb0);
	outb(0x42, (uint8_t)count);
	outb(0x42, (uint8_t)(count >> 8));
	uint64_t t0 = rdtsc();
	uint64_t spins = 0;
	while (!(inb(0x61) & 0x20)) {
		if (++spins > 100000000ull)
			return 0;
	}
	uint64_t t1 = rdtsc();
	return (t1 - t0) * PIT_HZ / count;
}

struct tsc_rate tsc_calibrate(uint16_t pm_port, bool pm_32bit)
{
	struct tsc_rate r = { from_cpuid(), "cpuid" };

	if (!r.hz && pm_port)
		r = (struct tsc_rate){ against_pm_timer(pm_port, pm_32bit), "acpi-pm-timer" };
	if (!r.hz)
		r = (struct tsc_rate){ against_pit(), "pit" };
	return r;
}
