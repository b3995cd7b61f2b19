/* bench compute N: the benchmark kernel run by the hypervisor itself, with
 * the host tick running as it does while guests run.
 * bench copy N: N page copies with memcpy and with copy_mc_safe, side by
 * side, the cost of making migration reads survive a machine check. */
#include "hv/lib/parse.h"
#include "hv/lib/string.h"
#include "hv/mm/mm.h"
#include "hv/shell/commands.h"
#include "hv/x86/bench_kernel.h"
#include "hv/x86/cpu.h"

static int bench_compute(struct shell *sh, uint64_t n)
{
	irq_enable();
	uint64_t t0 = rdtsc();
	uint32_t result = bench_kernel((uint32_t)n);
	uint64_t t1 = rdtsc();
	irq_disable();
	sh_printf(sh, "n: %lu\ntsc: %lu\nresult: 0x%x\n", (unsigned long)n,
		  (unsigned long)(t1 - t0), result);
	return SHELL_OK;
}

/* Alternates the two copies in short runs so that both see the same
 * conditions (caches, host ticks) even when the emulator's speed drifts. */
static int bench_copy(struct shell *sh, uint64_t n)
{
	enum { RUN = 64 };
	uint64_t src_pa = page_alloc(), dst_pa = page_alloc();
	uint64_t plain = 0, safe = 0;

	if (!src_pa || !dst_pa) {
		if (src_pa)
			page_free(src_pa);
		return sh_error(sh, "no free page for the copy benchmark");
	}
	uint8_t *src = phys_to_virt(src_pa), *dst = phys_to_virt(dst_pa);
	memset(src, 0x5a, PAGE_SIZE);
	for (uint64_t done = 0; done < n; done += RUN) {
		uint64_t k = n - done < RUN ? n - done : RUN;
		uint64_t t0 = rdtsc();
		for (uint64_t i = 0; i < k; i++) {
			memcpy(dst, src, PAGE_SIZE);
			barrier();
		}
		uint64_t t1 = rdtsc();
		int failed = 0;
		for (uint64_t i = 0; i < k; i++)
			failed |= copy_mc_safe(dst, src, PAGE_SIZE);
		uint64_t t2 = rdtsc();
		if (failed) {
			page_free(src_pa);
			page_free(dst_pa);
			return sh_error(sh, "a machine check interrupted the copy");
		}
		plain += t1 - t0;
		safe += t2 - t1;
	}
	page_free(src_pa);
	page_free(dst_pa);
	sh_printf(sh, "pages: %lu\nmemcpy_tsc: %lu\ncopy_mc_safe_tsc: %lu\n", (unsigned long)n,
		  (unsigned long)plain, (unsigned long)safe);
	return SHELL_OK;
}

int cmd_bench(struct shell *sh, int argc, char **argv)
{
	uint64_t n;

	(void)argc;
	bool compute = !strcmp(argv[1], "compute");
	if (!compute && strcmp(argv[1], "copy"))
		return sh_error(sh, "unknown benchmark '%.20s' (compute, copy)", argv[1]);
	if (!parse_u64(argv[2], &n) || n == 0 || n > UINT32_MAX)
		return sh_error(sh, "N must be 1 to 4294967295");
	return compute ? bench_compute(sh, n) : bench_copy(sh, n);
}
