#include "hv/x86/percpu.h"

#include "hv/x86/cpu.h"

static struct percpu boot_cpu;
static struct percpu *cpus[CPU_MAX] = { &boot_cpu };
static uint32_t ncpus = 1;
static uint32_t main_index;

void percpu_enter(struct percpu *c)
{
	c->self = c;
	gdt_load(&c->desc);
	wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)c);
}

struct percpu *percpu_boot_cpu(void)
{
	return &boot_cpu;
}

uint32_t percpu_main_index(void)
{
	return __atomic_load_n(&main_index, __ATOMIC_ACQUIRE);
}

void percpu_set_main_index(uint32_t index)
{
	__atomic_store_n(&main_index, index, __ATOMIC_RELEASE);
}

struct percpu *percpu_get(uint32_t index)
{
	return index < ncpus ? cpus[index] : NULL;
}

uint32_t percpu_count(void)
{
	return ncpus;
}

bool percpu_add(struct percpu *c)
{
	if (ncpus >= CPU_MAX)
		return false;
	c->index = ncpus;
	cpus[ncpus++] = c;
	return true;
}

const char *cpu_state_name(enum cpu_state s)
{
	switch (s) {
	case CPU_OFFLINE: return "offline";
	case CPU_STARTING: return "starting";
	case CPU_ALIVE: return "setting-up";
	case CPU_ONLINE: return "online";
	case CPU_FAILED: return "failed";
	}
	return "?";
}
