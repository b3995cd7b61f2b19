/* debug: deliberately broken paths, for the tests of the fatal handlers. */
#include "boot/firmware.h"
#include "hv/core/panic.h"
#include "hv/core/time.h"
#include "hv/lib/string.h"
#include "hv/mce/retired_list.h"
#include "hv/mm/mm.h"
#include "hv/shell/commands.h"
#include "hv/x86/cpu.h"

/* Kept out of line so that backtraces show a recognisable frame. */
__attribute__((noinline)) static void debug_fault(const char *kind)
{
	if (!strcmp(kind, "ud"))
		__asm__ volatile("ud2");
	else if (!strcmp(kind, "gp"))
		__asm__ volatile("movq $0x8000000000000000, %%rax; movq (%%rax), %%rax" ::: "rax");
	else if (!strcmp(kind, "pf"))
		*(volatile int *)(uintptr_t)0x7ffffffff000ull = 1; /* beyond the identity map */
	else if (!strcmp(kind, "de"))
		__asm__ volatile("xorl %%ecx, %%ecx; movl $1, %%eax; cltd; idivl %%ecx" ::: "eax", "ecx", "edx");
	else if (!strcmp(kind, "bp"))
		__asm__ volatile("int3");
}

/* Copies 2 MiB with copy_mc_safe over and over for 5 s, so a machine
 * check injected meanwhile lands inside it. */
static int debug_mc_copy(struct shell *sh)
{
	uint64_t src = pages_alloc(512, 1), dst = pages_alloc(512, 1);
	uint64_t end = time_ns() + 5 * NS_PER_SEC, copies = 0, failed = 0;

	if (!src || !dst) {
		if (src)
			pages_free(src, 512);
		if (dst)
			pages_free(dst, 512);
		return sh_error(sh, "out of memory");
	}
	while (time_ns() < end && !failed) {
		failed += copy_mc_safe(phys_to_virt(dst), phys_to_virt(src), 2u << 20) != 0;
		copies++;
	}
	pages_free(src, 512);
	pages_free(dst, 512);
	sh_printf(sh, "copies: %lu\ninterrupted_by_machine_check: %s\n", (unsigned long)copies,
		  failed ? "yes" : "no");
	return SHELL_OK;
}

/* Takes every free page (chained through the pages themselves), counts
 * retired ones handed out (there must be none), frees all. */
static int debug_alloc_all(struct shell *sh)
{
	uint64_t head = 0, pa;
	size_t n = 0, retired = 0;

	while ((pa = page_alloc())) {
		for (size_t i = 0; i < retired_list_count(); i++)
			retired += retired_list_at(i)->addr == pa;
		*(uint64_t *)phys_to_virt(pa) = head;
		head = pa;
		n++;
	}
	while (head) {
		uint64_t next = *(uint64_t *)phys_to_virt(head);
		page_free(head);
		head = next;
	}
	sh_printf(sh, "allocated: %zu\nretired_handed_out: %zu\n", n, retired);
	return SHELL_OK;
}

/* A retired-page record with a wrong checksum, for the boot test. */
static int debug_nvram_corrupt(struct shell *sh)
{
	static uint8_t rec[RETIRED_RECORD_HDR + RETIRED_RECORD_ENTRY];
	struct retired_entry e = { 0x1000000, 0, RETIRE_OPERATOR };
	size_t len = retired_record_encode(&e, 1, rec);

	rec[12] ^= 0xff;
	int s = fw_set_variable("HvRetiredPages", rec, len);
	if (s != FW_OK)
		return sh_error(sh, "writing the variable failed: %s", fw_status_name(s));
	sh_printf(sh, "written: %zu bytes with a bad checksum\n", len);
	return SHELL_OK;
}

int cmd_debug(struct shell *sh, int argc, char **argv)
{
	if (!strcmp(argv[1], "panic") && argc == 2)
		panic("panic requested with 'debug panic'");
	if (!strcmp(argv[1], "fault") && argc == 3) {
		const char *k = argv[2];
		if (strcmp(k, "ud") && strcmp(k, "gp") && strcmp(k, "pf") && strcmp(k, "de") &&
		    strcmp(k, "bp"))
			return sh_error(sh, "unknown fault kind '%.10s' (de, ud, gp, pf, bp)", k);
		debug_fault(k);
		return sh_error(sh, "the fault did not happen");
	}
	if (!strcmp(argv[1], "mc-copy") && argc == 2)
		return debug_mc_copy(sh);
	if (!strcmp(argv[1], "alloc-all") && argc == 2)
		return debug_alloc_all(sh);
	if (!strcmp(argv[1], "nvram-corrupt") && argc == 2)
		return debug_nvram_corrupt(sh);
	return sh_error(sh, "usage: debug fault de|ud|gp|pf|bp | debug panic | debug alloc-all | "
			    "debug mc-copy | debug nvram-corrupt");
}
