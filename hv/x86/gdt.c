#include "hv/x86/gdt.h"

#include "hv/lib/string.h"

struct __attribute__((packed)) descriptor_pointer {
	uint16_t limit;
	uint64_t base;
};

/* Flat long-mode code and data descriptors. */
#define GDT_CODE64 0x00209a0000000000ull
#define GDT_DATA 0x0000920000000000ull

static void set_tss_descriptor(uint64_t *slot, uint64_t base, uint32_t limit)
{
	slot[0] = (limit & 0xffffull) | ((base & 0xffffffull) << 16) | (0x89ull << 40) |
		  ((uint64_t)((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xffull) << 56);
	slot[1] = base >> 32;
}

void gdt_load(struct cpu_descriptors *d)
{
	struct tss64 *tss = &d->tss;

	memset(tss, 0, sizeof(*tss));
	for (int i = 0; i < IST_STACKS; i++)
		tss->ist[i] = (uint64_t)(uintptr_t)&d->ist_stacks[i][IST_STACK_SIZE];
	tss->iomap_base = sizeof(*tss); /* no I/O permission bitmap */

	d->gdt[0] = 0;
	d->gdt[1] = GDT_CODE64;
	d->gdt[2] = GDT_DATA;
	set_tss_descriptor(&d->gdt[3], (uint64_t)(uintptr_t)tss, sizeof(*tss) - 1);

	struct descriptor_pointer gdtr = { sizeof(d->gdt) - 1, (uint64_t)(uintptr_t)d->gdt };
	__asm__ volatile(
		"lgdt %0\n\t"
		"pushq %1\n\t"
		"leaq 1f(%%rip), %%rax\n\t"
		"pushq %%rax\n\t"
		"lretq\n"
		"1:\n\t"
		"movw %w2, %%ax\n\t"
		"movw %%ax, %%ds\n\t"
		"movw %%ax, %%es\n\t"
		"movw %%ax, %%ss\n\t"
		"xorl %%eax, %%eax\n\t"
		"movw %%ax, %%fs\n\t"
		"movw %%ax, %%gs\n\t"
		"movw %w3, %%ax\n\t"
		"ltr %%ax"
		:
		: "m"(gdtr), "i"(SEL_CODE64), "i"(SEL_DATA), "i"(SEL_TSS)
		: "rax", "memory");
}

int gdt_stack_ranges(const struct cpu_descriptors *d, struct ist_range *out, int max)
{
	int n = 0;

	for (int i = 0; i < IST_STACKS && n < max; i++, n++) {
		out[n].lo = (uint64_t)(uintptr_t)d->ist_stacks[i];
		out[n].hi = out[n].lo + IST_STACK_SIZE;
	}
	return n;
}
