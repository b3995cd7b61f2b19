#include "hv/smp/smp.h"

#include "drivers/acpi/acpi.h"
#include "hv/core/log.h"
#include "hv/core/panic.h"
#include "hv/core/settings.h"
#include "hv/core/time.h"
#include "hv/mm/mm.h"
#include "hv/x86/ap_start.h"
#include "hv/x86/cpu.h"
#include "hv/x86/cpu_features.h"
#include "hv/x86/fpu.h"
#include "hv/x86/lapic.h"
#include "hv/x86/percpu.h"
#include "hv/x86/trap.h"

#define AP_STACK_PAGES 16
/* TCG and Bochs run a started CPU's first instructions late: generous. */
#define ARRIVE_TIMEOUT_MS 1000
#define SETUP_TIMEOUT_MS 5000

CONFIG_KEY(key_cpus, "cpus", "0", "CPUs to use, the boot CPU among them (0: every one listed)");
CONFIG_KEY(key_main_cpu, "main_cpu", "0",
	   "the CPU that runs the console, network, migration and disk loop (0: the boot CPU)");
CONFIG_KEY(key_fail_cpu, "debug_fail_cpu", "0",
	   "a CPU index (1 and up) whose start fails on purpose, to exercise that path (0: none)");

static struct cpu_start_hook *hooks, **hooks_tail = &hooks;
static uint32_t tick_hz;
static uint64_t fail_on_purpose;
static bool (*volatile idle_work)(void);
static void (*volatile main_loop)(void);

void smp_set_idle_work(bool (*work)(void))
{
	idle_work = work;
}

static void stop_here(struct trap_frame *f)
{
	(void)f;
	cpu_halt_forever();
}

/* A panic on any CPU stops the others, in a guest or not (the IPI makes
 * a guest exit; the host takes it right after). */
static void stop_other_cpus(void)
{
	uint32_t self = this_cpu_index();

	for (uint32_t i = 0; i < percpu_count(); i++)
		if (i != self && percpu_get(i)->state == CPU_ONLINE)
			smp_send_ipi(i, VEC_IPI_STOP);
}

void smp_send_ipi(uint32_t cpu, uint8_t vector)
{
	const struct percpu *c = percpu_get(cpu);

	if (c)
		lapic_send_ipi(c->apic_id, LAPIC_ICR_FIXED | vector);
}

static struct cpu_poller *cpu_pollers;

void smp_add_cpu_poller(struct cpu_poller *p)
{
	p->next = cpu_pollers;
	cpu_pollers = p;
}

void smp_add_start_hook(struct cpu_start_hook *hook)
{
	hook->next = NULL;
	*hooks_tail = hook;
	hooks_tail = &hook->next;
}

static __attribute__((noreturn)) void ap_fail(struct percpu *c, const char *why)
{
	c->why = why;
	__atomic_store_n(&c->state, CPU_FAILED, __ATOMIC_RELEASE);
	cpu_halt_forever();
}

/* A CPU other than the main loop's: its pollers and its vCPUs, else HLT
 * until its next tick or a kick; or the main loop once it is handed here. */
static __attribute__((noreturn)) void serve(void)
{
	uint32_t self = this_cpu_index();

	for (;;) {
		void (*loop)(void) = main_loop;
		if (loop && percpu_main_index() == self) {
			loop();
			panic("smp: the main loop returned");
		}
		for (struct cpu_poller *p = cpu_pollers; p; p = p->next)
			p->poll();
		bool (*work)(void) = idle_work;
		if (!work || !work())
			cpu_idle_counted();
	}
}

static void ap_main(void *arg)
{
	struct percpu *c = arg;

	percpu_enter(c);
	idt_load();
	__atomic_store_n(&c->state, CPU_ALIVE, __ATOMIC_RELEASE);
	fpu_init_host(cpu_features()->xsave); /* XCR0 as on the boot CPU */
	lapic_init();
	if (lapic_id() != c->apic_id)
		ap_fail(c, "answered with another APIC ID than the MADT lists");
	c->timer_hz = lapic_timer_start(tick_hz, VEC_TIMER, time_tsc_hz());
	if (!c->timer_hz)
		ap_fail(c, "its LAPIC timer does not count");
	if (c->index == fail_on_purpose)
		ap_fail(c, "debug_fail_cpu names it");
	for (struct cpu_start_hook *h = hooks; h; h = h->next) {
		const char *why = h->start();
		if (why)
			ap_fail(c, why);
	}
	__atomic_store_n(&c->state, CPU_ONLINE, __ATOMIC_RELEASE);
	irq_enable();
	serve();
}

static struct percpu *new_cpu(uint32_t apic_id)
{
	size_t pages = (sizeof(struct percpu) + PAGE_SIZE - 1) / PAGE_SIZE;
	uint64_t pa = pages_alloc(pages, 1);
	uint64_t stack = pages_alloc(AP_STACK_PAGES, 1);

	if (!pa || !stack) {
		if (pa)
			pages_free(pa, pages);
		if (stack)
			pages_free(stack, AP_STACK_PAGES);
		return NULL;
	}
	struct percpu *c = phys_to_virt(pa);
	c->apic_id = apic_id;
	c->stack_lo = (uint64_t)(uintptr_t)phys_to_virt(stack);
	c->stack_hi = c->stack_lo + AP_STACK_PAGES * PAGE_SIZE;
	if (!percpu_add(c)) {
		pages_free(stack, AP_STACK_PAGES);
		pages_free(pa, pages);
		return NULL;
	}
	return c;
}

static bool wait_setup(struct percpu *c)
{
	uint64_t deadline = time_ns() + SETUP_TIMEOUT_MS * NS_PER_MS;

	while (time_ns() < deadline) {
		uint32_t s = __atomic_load_n(&c->state, __ATOMIC_ACQUIRE);
		if (s == CPU_ONLINE || s == CPU_FAILED)
			return true;
		cpu_relax();
	}
	return false;
}

static void start_one(uint64_t trampoline_pa, uint32_t apic_id)
{
	struct percpu *c = new_cpu(apic_id);

	if (!c) {
		log_err("smp: no memory for CPU with APIC ID %u", apic_id);
		return;
	}
	c->state = CPU_STARTING;
	if (!ap_start(trampoline_pa, apic_id, ap_main, c, c->stack_hi, time_tsc_hz(),
		      ARRIVE_TIMEOUT_MS)) {
		c->why = "did not answer INIT-SIPI-SIPI";
		c->state = CPU_FAILED;
	} else if (!wait_setup(c)) {
		c->why = "did not finish its set-up";
		c->state = CPU_FAILED;
	}
	if (c->state == CPU_FAILED)
		log_err("smp: cpu %u (APIC ID %u) is not online: %s", c->index, apic_id, c->why);
}

/* The CPUs to start: the MADT's, or where the firmware gave none, those
 * that answer a census. */
static int list_cpus(uint64_t trampoline_pa, uint32_t *ids, int max, const char **source)
{
	const struct acpi_facts *acpi = acpi_facts();

	if (acpi->apic_id_count) {
		*source = "the MADT";
		for (int i = 0; i < acpi->apic_id_count && i < max; i++)
			ids[i] = acpi->apic_ids[i];
		if (acpi->cpu_count > acpi->apic_id_count)
			log_warn("smp: the MADT lists %d CPUs; the first %d are used", acpi->cpu_count,
				 acpi->apic_id_count);
		return acpi->apic_id_count < max ? acpi->apic_id_count : max;
	}
	*source = "a census, with no MADT";
	ids[0] = lapic_id();
	return 1 + ap_census(trampoline_pa, ids + 1, max - 1, time_tsc_hz());
}

void smp_start_cpus(uint64_t trampoline_pa, uint32_t hz)
{
	static uint32_t ids[CPU_MAX];
	struct percpu *boot = percpu_boot_cpu();
	uint32_t self = lapic_id();
	const char *source = "the MADT";
	int n = 1;

	boot->apic_id = self;
	boot->state = CPU_ONLINE;
	tick_hz = hz;
	trap_set_handler(VEC_IPI_STOP, stop_here);
	panic_set_stop_others(stop_other_cpus);
	uint64_t max = 0; /* a malformed value is warned about and reads as the default */
	setting_u64("cpus", &max);
	setting_u64("debug_fail_cpu", &fail_on_purpose);
	if (max == 1) {
		log_info("smp: cpus=1: the other CPUs stay parked");
	} else if (!trampoline_pa) {
		log_err("smp: no trampoline page below 1 MiB; the other CPUs stay parked");
	} else {
		n = list_cpus(trampoline_pa, ids, CPU_MAX, &source);
		ap_trampoline_install(trampoline_pa);
		for (int i = 0; i < n && (!max || percpu_count() < max); i++)
			if (ids[i] != self)
				start_one(trampoline_pa, ids[i]);
	}
	log_info("smp: %u of %d CPUs online (listed by %s)", smp_cpus_online(), n > 0 ? n : 1,
		 source);
}

/* Which CPU the setting names: the boot CPU unless another is online. */
static uint32_t chosen_main_cpu(void)
{
	uint64_t want = 0;

	setting_u64("main_cpu", &want);
	if (!want)
		return 0;
	const struct percpu *c = want < CPU_MAX ? percpu_get((uint32_t)want) : NULL;
	if (!c || __atomic_load_n(&c->state, __ATOMIC_ACQUIRE) != CPU_ONLINE) {
		log_warn("smp: main_cpu=%lu is not an online CPU (see 'cpu'); the main loop stays "
			 "on cpu 0",
			 (unsigned long)want);
		return 0;
	}
	return (uint32_t)want;
}

void smp_run_main_loop(void (*loop)(void))
{
	uint32_t cpu = chosen_main_cpu();

	if (!cpu) {
		loop();
		panic("smp: the main loop returned");
	}
	log_info("smp: the main loop moves to cpu %u; cpu 0 runs guests placed on it", cpu);
	main_loop = loop;
	percpu_set_main_index(cpu); /* release: the loop's pointer is out first */
	smp_send_ipi(cpu, VEC_IPI_WAKE);
	serve();
}

uint32_t smp_cpus_online(void)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < percpu_count(); i++)
		n += __atomic_load_n(&percpu_get(i)->state, __ATOMIC_ACQUIRE) == CPU_ONLINE;
	return n;
}
