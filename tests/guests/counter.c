/* Prints a rising counter forever: "counter: N" every interval=MS
 * milliseconds (default 100), paced by the local APIC timer and HLT.
 * start=N sets the first value. */
#include "rt.h"

int main(uint32_t magic, const struct mb_info *mbi);
int main(uint32_t magic, const struct mb_info *mbi)
{
	rt_init(magic, mbi);
	uint32_t interval = arg_u32("interval", 100);
	uint32_t n = arg_u32("start", 0);

	timer_start_periodic(1000); /* 1 ms */
	gprintf("counter: starting, interval %u ms\n", interval);
	for (;; n++) {
		gprintf("counter: %u\n", n);
		wait_ticks(interval);
	}
}
