/* debug: deliberately broken paths, for the tests of the fatal handlers. */
#include "hv/lib/string.h"
#include "hv/panic.h"
#include "hv/shell/commands.h"

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
	return sh_error(sh, "usage: debug fault de|ud|gp|pf|bp | debug panic");
}
