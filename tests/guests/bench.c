/* Benchmark guest: mode=exits n=N runs N CPUID exits; mode=compute n=N runs
 * the shared compute kernel N iterations; mode=memwalk n=N touches pages.
 * Prints "bench: <mode> n=N tsc=T" (TSC ticks) and exits with 0. */
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
