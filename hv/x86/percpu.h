/* What each CPU keeps for itself, reached through GS: the boot CPU's is
 * static, the others' are allocated as they are started (hv/smp). */
#ifndef HV_X86_PERCPU_H
#define HV_X86_PERCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/lib/lock_order.h"
#include "hv/x86/cpu.h"
#include "hv/x86/gdt.h"

#define CPU_MAX 256

enum cpu_state {
	CPU_OFFLINE,  /* listed by the firmware, not started (yet) */
	CPU_STARTING, /* INIT-SIPI-SIPI sent */
	CPU_ALIVE,    /* running our code, setting itself up */
	CPU_ONLINE,   /* set up: its timer ticks, guests could run on it */
	CPU_FAILED,   /* did not come up; percpu.why says what happened */
};

struct percpu {
	struct percpu *self; /* at %gs:0, for this_cpu() */
	uint32_t index;      /* 0 is the boot CPU */
	uint32_t apic_id;
	volatile uint32_t state; /* enum cpu_state, written by the CPU itself once alive */
	const char *why;         /* CPU_FAILED: a static string */
	volatile uint64_t ticks; /* its own timer interrupts */
	uint64_t timer_hz;       /* its LAPIC timer's input clock */
	uint64_t stack_lo, stack_hi;
	struct lock_held locks;  /* what this CPU holds (spinlock.c) */
	uint8_t *fpu_owner;      /* fpu.c: whose FPU state the registers hold */
	uint64_t last_vm_uid;    /* side_channel.c: the VM that ran here last (0: none) */
	uint32_t mce_unhandled;  /* errors it queued that the main loop has not acted on */
	uint32_t trap_depth;     /* trap.c: inside how many trap handlers */
	/* Where its time went besides work (the `cpu` command): asleep in HLT
	 * with nothing to do, and waiting for a lock another CPU held (how
	 * often it slept for one: spinlock.c). */
	uint64_t idle_tsc, lock_wait_tsc, lock_sleeps;
	uint64_t longest_lock_wait_tsc; /* and which lock it was */
	const char *longest_lock_wait_name;
	struct cpu_descriptors desc;
};

static inline struct percpu *this_cpu(void)
{
	struct percpu *c;

	__asm__("movq %%gs:0, %0" : "=r"(c));
	return c;
}

static inline uint32_t this_cpu_index(void)
{
	return this_cpu()->index;
}

/* cpu_idle, its time counted as this CPU's idle time. */
static inline void cpu_idle_counted(void)
{
	uint64_t t0 = rdtsc();

	cpu_idle();
	this_cpu()->idle_tsc += rdtsc() - t0;
}

/* The CPU that runs the main loop (console, network, migrations, disks):
 * the boot CPU until hv/smp hands the loop over once, at the end of the
 * start-up, to the CPU the main_cpu setting names. */
uint32_t percpu_main_index(void);
void percpu_set_main_index(uint32_t index);

static inline bool on_main_cpu(void)
{
	return this_cpu_index() == percpu_main_index();
}

/* Loads c's GDT and TSS on the calling CPU and points GS at c.
 * @pre c->index and the stack bounds are set. */
void percpu_enter(struct percpu *c);

/* The boot CPU's record, entered before anything else runs. */
struct percpu *percpu_boot_cpu(void);

/* Every CPU the firmware listed, by index; NULL past the end. */
struct percpu *percpu_get(uint32_t index);
uint32_t percpu_count(void);
/* Adds a CPU's record at the next index; false when CPU_MAX are known. */
bool percpu_add(struct percpu *c);
const char *cpu_state_name(enum cpu_state s);

#endif
