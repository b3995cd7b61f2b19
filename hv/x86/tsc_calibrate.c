#include "hv/x86/tsc_calibrate.h"

#include "hv/x86/cpu.h"

#define PM_TIMER_HZ 3579545ull
#define PIT_HZ 1193182ull
#define WINDOW_MS 40ull
#define WINDOWS 3
#define SAMPLE_TRIES 8

static uint64_t from_cpuid(void)
{
	if (cpuid(0, 0).eax < 0x15)
		return 0;
	struct cpuid_regs r = cpuid(0x15, 0);
	if (!r.eax || !r.ebx || !r.ecx)
		return 0; /* crystal frequency not enumerated */
	return (uint64_t)r.ecx * r.ebx / r.eax;
}

/* A PM timer reading and the TSC at the same moment: the port read is
 * bracketed by two TSC readings, and the tightest of several pairs is kept.
 * A read whose bracket is wide had the CPU taken away in the middle (under
 * an emulator, its thread descheduled; on hardware an SMI): at one end of a
 * window that put a 2-core CI machine's calibration 25 % off. */
static void pm_sample(uint16_t port, uint32_t mask, uint32_t *pm, uint64_t *tsc)
{
	uint64_t best = ~0ull;

	for (int i = 0; i < SAMPLE_TRIES; i++) {
		uint64_t a = rdtsc();
		uint32_t v = inl(port) & mask;
		uint64_t b = rdtsc();
		if (b - a < best) {
			best = b - a;
			*pm = v;
			*tsc = a + (b - a) / 2;
		}
	}
}

static uint64_t pm_window(uint16_t port, uint32_t mask)
{
	uint32_t target = (uint32_t)(PM_TIMER_HZ * WINDOW_MS / 1000), start = 0, end = 0;
	uint64_t t0 = 0, t1 = 0, spins = 0;

	pm_sample(port, mask, &start, &t0);
	do {
		if (++spins > 100000000ull)
			return 0; /* the timer does not move */
	} while (((inl(port) - start) & mask) < target);
	pm_sample(port, mask, &end, &t1);
	return (t1 - t0) * PM_TIMER_HZ / ((end - start) & mask);
}

/* The median of a few windows: one disturbed window does not count. */
static uint64_t against_pm_timer(uint16_t port, bool wide)
{
	uint32_t mask = wide ? 0xffffffffu : 0xffffffu;
	uint64_t hz[WINDOWS];

	for (int i = 0; i < WINDOWS; i++) {
		hz[i] = pm_window(port, mask);
		for (int k = i; k > 0 && hz[k] < hz[k - 1]; k--) {
			uint64_t t = hz[k];
			hz[k] = hz[k - 1];
			hz[k - 1] = t;
		}
	}
	return hz[WINDOWS / 2];
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
