#include "hv/core/backtrace.h"

#include <stdbool.h>

#include "hv/core/console.h"
#include "hv/core/symbols.h"
#include "hv/lib/format.h"
#include "hv/x86/percpu.h"

#define MAX_FRAMES 24

static bool on_known_stack(uint64_t addr)
{
	struct ist_range ist[IST_STACKS];
	const struct percpu *cpu = this_cpu();
	int n = gdt_stack_ranges(&cpu->desc, ist, IST_STACKS);

	if (addr >= cpu->stack_lo && addr + 16 <= cpu->stack_hi)
		return true;
	for (int i = 0; i < n; i++)
		if (addr >= ist[i].lo && addr + 16 <= ist[i].hi)
			return true;
	return false;
}

void backtrace_format_addr(char *buf, unsigned size, uint64_t addr)
{
	uint64_t off;
	const char *name = symbol_lookup(addr, &off);

	if (name)
		fmt_snprintf(buf, size, "%s+0x%lx", name, (unsigned long)off);
	else
		fmt_snprintf(buf, size, "hv.efi+0x%lx", (unsigned long)(addr - symbol_image_base()));
}

static void print_frame(int n, uint64_t addr)
{
	char where[96];

	backtrace_format_addr(where, sizeof(where), addr);
	con_printf("  #%-2d 0x%016lx %s\n", n, (unsigned long)addr, where);
}

void backtrace_print(uint64_t rip, uint64_t rbp)
{
	con_puts("backtrace:\n");
	print_frame(0, rip);
	for (int n = 1; n < MAX_FRAMES; n++) {
		if (!rbp || (rbp & 7) || !on_known_stack(rbp))
			return;
		const uint64_t *frame = (const uint64_t *)(uintptr_t)rbp;
		uint64_t ret = frame[1];
		if (!ret)
			return;
		/* The return address points after the call: report the call. */
		print_frame(n, ret - 1);
		if (frame[0] <= rbp)
			return; /* frames must move towards the stack's base */
		rbp = frame[0];
	}
}

void backtrace_print_here(void)
{
	uint64_t rbp;

	__asm__ volatile("movq %%rbp, %0" : "=r"(rbp));
	backtrace_print((uint64_t)(uintptr_t)__builtin_return_address(0), rbp);
}
