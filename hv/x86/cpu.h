/* Thin wrappers around privileged x86 instructions (host side). */
#ifndef HV_X86_CPU_H
#define HV_X86_CPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/x86/msr.h"

struct cpuid_regs {
	uint32_t eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_regs r;

	__asm__ volatile("cpuid"
			 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
			 : "a"(leaf), "c"(subleaf));
	return r;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t value)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
			 : "memory");
}

/* memcpy that returns -1 instead of dying when a machine check hits it
 * (hv/x86/copy_mc.S); 0 when the copy completed. */
int copy_mc_safe(void *dst, const void *src, size_t len);

/* rdmsr that reports #GP instead of taking it (see trap fixups). */
bool rdmsr_safe(uint32_t msr, uint64_t *value);
bool wrmsr_safe(uint32_t msr, uint64_t value);

/* 48-bit linear addresses (no LA57): bits 63:47 all equal. */
static inline bool canonical_address(uint64_t a)
{
	uint64_t top = a >> 47;

	return top == 0 || top == 0x1ffff;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

#define DEFINE_CR_ACCESS(n)                                                   \
	static inline uint64_t read_cr##n(void)                               \
	{                                                                     \
		uint64_t v;                                                   \
		__asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));             \
		return v;                                                     \
	}                                                                     \
	static inline void write_cr##n(uint64_t v)                            \
	{                                                                     \
		__asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory");    \
	}
DEFINE_CR_ACCESS(0)
DEFINE_CR_ACCESS(2)
DEFINE_CR_ACCESS(3)
DEFINE_CR_ACCESS(4)
#undef DEFINE_CR_ACCESS

static inline uint64_t read_rflags(void)
{
	uint64_t v;

	__asm__ volatile("pushfq; popq %0" : "=r"(v));
	return v;
}

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

static inline void irq_disable(void)
{
	__asm__ volatile("cli" ::: "memory");
}

/* The NOP fills STI's shadow, so a waiting interrupt is taken right after
 * it wherever it comes from: the profiler knows such a tick by the two
 * bytes before its RIP (hv/core/profile.c). */
static inline void irq_enable(void)
{
	__asm__ volatile("sti; nop" ::: "memory");
}

/* Returns whether interrupts were enabled, and disables them. */
static inline bool irq_save(void)
{
	bool was = (read_rflags() >> 9) & 1;

	irq_disable();
	return was;
}

static inline void irq_restore(bool was_enabled)
{
	if (was_enabled)
		irq_enable();
}

/* Waits for the next interrupt with interrupts enabled, atomically. */
static inline void cpu_idle(void)
{
	__asm__ volatile("sti; hlt; cli" ::: "memory");
}

static inline void invlpg(uint64_t va)
{
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

static inline void barrier(void)
{
	__asm__ volatile("" ::: "memory");
}

__attribute__((noreturn)) static inline void cpu_halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}


#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_EM (1ull << 2)
#define CR0_TS (1ull << 3)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_AM (1ull << 18)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)
#define DR6_BD (1ull << 13) /* #DB: a MOV DR under DR7.GD */
#define DR7_GD (1ull << 13)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_MCE (1ull << 6)
#define CR4_PGE (1ull << 7)
#define CR4_PCE (1ull << 8)
#define CR4_OSFXSR (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_VMXE (1ull << 13)
#define CR4_PCIDE (1ull << 17)
#define CR4_OSXSAVE (1ull << 18)
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)

#endif
