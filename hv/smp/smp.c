#include "hv/smp/smp.h"

#include "drivers/acpi/acpi.h"
#include "hv/core/log.h"
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

static struct cpu_start_hook *hooks, **hooks_tail = &hooks;
static uint32_t tick_hz;

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
	for (struct cpu_start_hook *h = hooks; h; h = h->next) {
		const char *why = h->start();
		if (why)
			ap_fail(c, why);
	}
	__atomic_store_n(&c->state, CPU_ONLINE, __ATOMIC_RELEASE);
	for (;;)
		cpu_idle();
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

void smp_start_cpus(uint64_t trampoline_pa, uint32_t hz)
{
	const struct acpi_facts *acpi = acpi_facts();
	struct percpu *boot = percpu_boot_cpu();
	uint32_t self = lapic_id();

	boot->apic_id = self;
	boot->state = CPU_ONLINE;
	tick_hz = hz;
	if (acpi->apic_id_count > 1 && !trampoline_pa)
		log_err("smp: no trampoline page below 1 MiB; the other CPUs stay parked");
	if (trampoline_pa) {
		ap_trampoline_install(trampoline_pa);
		for (int i = 0; i < acpi->apic_id_count; i++)
			if (acpi->apic_ids[i] != self)
				start_one(trampoline_pa, acpi->apic_ids[i]);
	}
	if (acpi->cpu_count > acpi->apic_id_count)
		log_warn("smp: %d CPUs listed, the first %d used", acpi->cpu_count,
			 acpi->apic_id_count);
	log_info("smp: %u of %d CPUs online", smp_cpus_online(),
		 acpi->cpu_count ? acpi->cpu_count : 1);
}

uint32_t smp_cpus_online(void)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < percpu_count(); i++)
		n += __atomic_load_n(&percpu_get(i)->state, __ATOMIC_ACQUIRE) == CPU_ONLINE;
	return n;
}
