/* Prints a rising counter forever: "counter: N" every interval=MS
 * milliseconds (default 100). Time comes from the TSC (its rate from the
 * hypervisor's CPUID leaf), as an OS clocksource would; the local APIC
 * timer only wakes the HLT loop. start=N sets the first value. */
#include "rt.h"

int main(uint32_t magic, const struct mb_info *mbi);
int main(uint32_t magic, const struct mb_info *mbi)
{
	rt_init(magic, mbi);
	uint32_t interval = arg_u32("interval", 100);
	uint32_t n = arg_u32("start", 0);
	uint64_t step = (uint64_t)(tsc_khz() ? tsc_khz() : 1000000) * interval;

	timer_start_periodic(1000); /* 1 ms wake-ups */
	gprintf("counter: starting, interval %u ms\n", interval);
	uint64_t next = rdtsc();
	for (;; n++) {
		gprintf("counter: %u\n", n);
		next += step;
		while (rdtsc() < next)
			__asm__ volatile("sti; hlt");
	}
}
