/* The hypervisor's own GDT and TSS (one CPU for now). */
#ifndef HV_X86_GDT_H
#define HV_X86_GDT_H

#include <stdint.h>

#define SEL_CODE64 0x08
#define SEL_DATA 0x10
#define SEL_TSS 0x18

/* Interrupt stacks for exceptions that must not trust the current stack. */
enum ist_slot { IST_DOUBLE_FAULT = 1, IST_NMI = 2, IST_MACHINE_CHECK = 3 };

void gdt_init(void);

struct ist_range {
	uint64_t lo, hi;
};
/* Bounds of each known stack, for backtraces that must not wander off. */
int gdt_stack_ranges(struct ist_range *out, int max);

#endif
