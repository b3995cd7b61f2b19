/* bench compute N: the benchmark kernel run by the hypervisor itself, with
 * the host tick running as it does while guests run.
 * bench copy N: N page copies with memcpy and with copy_mc_safe, side by
 * side, the cost of making migration reads survive a machine check.
 * bench crc N: CRC-32C over N pages in software and with the SSE4.2
 * instruction (where CPUID offers it), side by side: what a migration
 * record's check costs per page.
 * bench alloc N: N kmalloc/kfree pairs of a TCP header's size and of a
 * receive buffer's, and N bare lock/unlock pairs, in TSC cycles each:
 * what the network stack pays per frame for its buffers. */
#include "hv/lib/crc32c.h"
#include "hv/lib/parse.h"
#include "hv/lib/string.h"
#include "hv/mm/mm.h"
#include "hv/shell/commands.h"
#include "hv/x86/bench_kernel.h"
#include "hv/x86/cpu.h"
#include "hv/x86/spinlock.h"

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

/* Alternated in short runs, like bench_copy. */
static int bench_crc(struct shell *sh, uint64_t n)
{
	enum { RUN = 64 };
	uint64_t pa = page_alloc(), sw = 0, hw = 0;
	bool have_hw = crc32c_hw_available();
	uint32_t c_sw = 0, c_hw = 0;

	if (!pa)
		return sh_error(sh, "no free page for the CRC benchmark");
	uint8_t *page = phys_to_virt(pa);
	for (size_t i = 0; i < PAGE_SIZE; i++)
		page[i] = (uint8_t)(i * 131 + 7);
	for (uint64_t done = 0; done < n; done += RUN) {
		uint64_t k = n - done < RUN ? n - done : RUN;
		uint64_t t0 = rdtsc();
		for (uint64_t i = 0; i < k; i++)
			c_sw = crc32c_sw(c_sw, page, PAGE_SIZE);
		uint64_t t1 = rdtsc();
		for (uint64_t i = 0; have_hw && i < k; i++)
			c_hw = crc32c_hw(c_hw, page, PAGE_SIZE);
		uint64_t t2 = rdtsc();
		sw += t1 - t0;
		hw += t2 - t1;
	}
	page_free(pa);
	if (have_hw && c_sw != c_hw)
		return sh_error(sh, "the two CRC-32C paths disagree: 0x%x vs 0x%x", c_sw, c_hw);
	sh_printf(sh, "pages: %lu\nimpl: %s\nsoftware_tsc: %lu\n", (unsigned long)n,
		  crc32c_impl(), (unsigned long)sw);
	if (have_hw)
		sh_printf(sh, "sse42_tsc: %lu\n", (unsigned long)hw);
	else
		sh_printf(sh, "sse42_tsc: absent (CPUID offers no SSE4.2)\n");
	return SHELL_OK;
}

static uint64_t cycles_per_alloc(size_t size, uint64_t n)
{
	uint64_t t0 = rdtsc();

	for (uint64_t i = 0; i < n; i++)
		kfree(kmalloc(size));
	return (rdtsc() - t0) / n;
}

static int bench_alloc(struct shell *sh, uint64_t n)
{
	static struct spinlock lock = SPINLOCK_INIT(LOCK_RANK_CONSOLE, "bench");
	uint64_t t0 = rdtsc();

	for (uint64_t i = 0; i < n; i++) {
		bool irq = spin_lock_irqsave(&lock);
		spin_unlock_irqrestore(&lock, irq);
	}
	uint64_t lock_cycles = (rdtsc() - t0) / n;
	sh_printf(sh, "n: %lu\nlock_pair_tsc: %lu\nkmalloc_kfree_128_tsc: %lu\n"
		      "kmalloc_kfree_2100_tsc: %lu\n",
		  (unsigned long)n, (unsigned long)lock_cycles,
		  (unsigned long)cycles_per_alloc(128, n), (unsigned long)cycles_per_alloc(2100, n));
	return SHELL_OK;
}

int cmd_bench(struct shell *sh, int argc, char **argv)
{
	uint64_t n;

	(void)argc;
	const char *which = argv[1];
	if (strcmp(which, "compute") && strcmp(which, "copy") && strcmp(which, "crc") &&
	    strcmp(which, "alloc"))
		return sh_error(sh, "unknown benchmark '%.20s' (compute, copy, crc, alloc)", which);
	if (!parse_u64(argv[2], &n) || n == 0 || n > UINT32_MAX)
		return sh_error(sh, "N must be 1 to 4294967295");
	if (!strcmp(which, "compute"))
		return bench_compute(sh, n);
	if (!strcmp(which, "alloc"))
		return bench_alloc(sh, n);
	return !strcmp(which, "copy") ? bench_copy(sh, n) : bench_crc(sh, n);
}
