/* Each CPU's own GDT and TSS, with the interrupt stacks the TSS names. */
#ifndef HV_X86_GDT_H
#define HV_X86_GDT_H

#include <stdint.h>

#define SEL_CODE64 0x08
#define SEL_DATA 0x10
#define SEL_TSS 0x18

/* Interrupt stacks for exceptions that must not trust the current stack. */
enum ist_slot { IST_DOUBLE_FAULT = 1, IST_NMI = 2, IST_MACHINE_CHECK = 3 };
#define IST_STACKS 3
#define IST_STACK_SIZE 16384

struct __attribute__((packed)) tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
};

struct cpu_descriptors {
	uint64_t gdt[5] __attribute__((aligned(16)));
	struct tss64 tss;
	uint8_t ist_stacks[IST_STACKS][IST_STACK_SIZE] __attribute__((aligned(16)));
};

/* Fills d for the calling CPU and loads it (GDTR, segments, TR). The
 * segment loads leave FS and GS null, with no base: set GS base after. */
void gdt_load(struct cpu_descriptors *d);

struct ist_range {
	uint64_t lo, hi;
};
/* Bounds of d's interrupt stacks, for backtraces that must not wander off. */
int gdt_stack_ranges(const struct cpu_descriptors *d, struct ist_range *out, int max);

#endif
