/* Benchmark guest: mode=exits n=N runs N CPUID exits; mode=pio n=N reads
 * the ACPI PM timer (port 0x608) N times, the exit Linux's TSC calibration
 * makes; mode=compute n=N runs the shared compute kernel N iterations.
 * Prints "bench: <mode> n=N tsc=T" (TSC ticks; pio adds the fastest and
 * slowest single read) and exits with 0. */
#include "rt.h"
#include "hv/x86/bench_kernel.h"

int main(uint32_t magic, const struct mb_info *mbi);
int main(uint32_t magic, const struct mb_info *mbi)
{
	char mode[16];

	rt_init(magic, mbi);
	uint32_t n = arg_u32("n", 100000);
	if (!arg_str("mode", mode, sizeof(mode)))
		mode[0] = 0;
	uint64_t t0 = rdtsc(), t1;
	uint32_t result = 0;
	if (!strncmp(mode, "exits", 5)) {
		uint32_t r[4];
		for (uint32_t i = 0; i < n; i++)
			cpuid(0, r);
		t1 = rdtsc();
	} else if (!strncmp(mode, "pio", 3)) {
		/* Single reads, and how many took over 2, 10 and 100 times the
		 * fastest (Linux's PIT calibration gives up at 10). */
		uint64_t min = ~0ull, max = 0, last = t0;
		uint32_t over[3] = { 0, 0, 0 };
		static uint32_t ticks[100000];
		if (n > 100000)
			n = 100000;
		for (uint32_t i = 0; i < n; i++) {
			result += inl(0x608);
			uint64_t now = rdtsc();
			ticks[i] = (uint32_t)(now - last);
			if (now - last < min)
				min = now - last;
			if (now - last > max)
				max = now - last;
			last = now;
		}
		t1 = rdtsc();
		for (uint32_t i = 0; i < n; i++) {
			over[0] += ticks[i] > 2 * min;
			over[1] += ticks[i] > 10 * min;
			over[2] += ticks[i] > 100 * min;
		}
		gprintf("bench: pio min=%u max=%u over2x=%u over10x=%u over100x=%u\n",
			(uint32_t)min, (uint32_t)max, over[0], over[1], over[2]);
	} else if (!strncmp(mode, "pitcal", 6)) {
		/* Linux's pit_calibrate_tsc(): channel 2, mode 0, 50 ms, polling
		 * port 0x61 bit 5; it gives up on fewer than 1000 polls or a
		 * slowest poll over 10 times the fastest. */
		for (int round = 0; round < 3; round++) {
			uint32_t latch = 1193182 / 20, polls = 0;
			uint64_t tsc, first, tmin = ~0ull, tmax = 0;
			outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01));
			outb(0x43, 0xb0);
			outb(0x42, (uint8_t)latch);
			outb(0x42, (uint8_t)(latch >> 8));
			tsc = first = rdtsc();
			while (!(inb(0x61) & 0x20)) {
				uint64_t now = rdtsc();
				if (now - tsc < tmin)
					tmin = now - tsc;
				if (now - tsc > tmax)
					tmax = now - tsc;
				tsc = now;
				polls++;
			}
			gprintf("bench: pitcal polls=%u min=%u max=%u khz=%u\n", polls, (uint32_t)tmin,
				(uint32_t)tmax, (uint32_t)(tsc - first) / 50);
		}
		t1 = rdtsc();
	} else if (!strncmp(mode, "compute", 7)) {
		result = bench_kernel(n);
		t1 = rdtsc();
	} else {
		gprintf("bench: unknown mode '%s'\n", mode);
		return 2;
	}
	gprintf("bench: %s n=%u tsc=%lu result=0x%x\n", mode, n, t1 - t0, result);
	return 0;
}
