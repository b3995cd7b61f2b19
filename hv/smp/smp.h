/* The other CPUs: started once at boot from the MADT's list, each set up
 * like the boot CPU (descriptor tables, LAPIC timer, then the start hooks
 * the subsystems registered), then idle until work is placed on them. */
#ifndef HV_SMP_SMP_H
#define HV_SMP_SMP_H

#include <stdbool.h>
#include <stdint.h>

/* A subsystem's set-up on each CPU the boot CPU starts (the boot CPU's own
 * is done by the subsystem's init). Runs on that CPU with interrupts off,
 * while the boot CPU waits: it must not log. */
struct cpu_start_hook {
	const char *name;
	/* NULL when this CPU is ready, else why not (a static string). */
	const char *(*start)(void);
	struct cpu_start_hook *next;
};

/* @pre called before smp_start_cpus */
void smp_add_start_hook(struct cpu_start_hook *hook);

/* Work a subsystem does on each started CPU between that CPU's turns, as
 * the main loop's pollers do there (reading the CPU's own MCA banks).
 * Runs with interrupts on, outside any guest; keep it short. */
struct cpu_poller {
	const char *name;
	void (*poll)(void);
	struct cpu_poller *next;
};

/* @pre called before smp_start_cpus */
void smp_add_cpu_poller(struct cpu_poller *p);

/* Starts every enabled CPU of the MADT but the caller, one at a time,
 * through the trampoline pages boot/ reserved (0: none, then only the boot
 * CPU runs). A CPU that does not come up is marked failed with the reason;
 * the others go on.
 * @pre the boot CPU's timer runs at tick_hz; the hooks are registered. */
void smp_start_cpus(uint64_t trampoline_pa, uint32_t tick_hz);

uint32_t smp_cpus_online(void);

/* Runs the main loop for good: on this CPU, or on the online CPU that the
 * main_cpu setting names, and then this one serves its vCPUs as a started
 * CPU does (a bad setting is warned about and ignored).
 * @pre on the boot CPU, the other CPUs started, nothing placed yet */
__attribute__((noreturn)) void smp_run_main_loop(void (*loop)(void));

/* A fixed IPI with this vector to the CPU of this index (none if unknown). */
void smp_send_ipi(uint32_t cpu, uint8_t vector);

/* What a started CPU does instead of idling (the scheduler's pass over the
 * VMs placed on it); false when it had nothing to do, and the CPU halts
 * until its next timer tick or a kick. */
void smp_set_idle_work(bool (*work)(void));

#endif
