/* bench compute N: the benchmark kernel run by the hypervisor itself, with
 * the host tick running as it does while guests run. */
#include "hv/lib/parse.h"
#include "hv/lib/string.h"
#include "hv/shell/commands.h"
#include "hv/x86/bench_kernel.h"
#include "hv/x86/cpu.h"

int cmd_bench(struct shell *sh, int argc, char **argv)
{
	uint64_t n;

	(void)argc;
	if (strcmp(argv[1], "compute"))
		return sh_error(sh, "unknown benchmark '%.20s' (compute)", argv[1]);
	if (!parse_u64(argv[2], &n) || n == 0 || n > UINT32_MAX)
		return sh_error(sh, "N must be 1 to 4294967295");
	irq_enable();
	uint64_t t0 = rdtsc();
	uint32_t result = bench_kernel((uint32_t)n);
	uint64_t t1 = rdtsc();
	irq_disable();
	sh_printf(sh, "n: %lu\ntsc: %lu\nresult: 0x%x\n", (unsigned long)n,
		  (unsigned long)(t1 - t0), result);
	return SHELL_OK;
}
