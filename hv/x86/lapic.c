#include "hv/x86/lapic.h"

#include "hv/x86/cpu.h"

#define APIC_BASE_ADDR_MASK 0xffffff000ull

enum {
	REG_ID = 0x20, REG_VERSION = 0x30, REG_TPR = 0x80, REG_EOI = 0xb0, REG_SVR = 0xf0,
	REG_ICR_LOW = 0x300, REG_ICR_HIGH = 0x310,
	REG_LVT_TIMER = 0x320, REG_LVT_LINT0 = 0x350, REG_LVT_LINT1 = 0x360,
	REG_LVT_ERROR = 0x370, REG_TIMER_INIT = 0x380, REG_TIMER_CUR = 0x390,
	REG_TIMER_DIV = 0x3e0,
};

#define SVR_ENABLE 0x100
#define ICR_PENDING 0x1000
#define LVT_MASKED 0x10000
#define LVT_PERIODIC 0x20000
#define TIMER_DIV_16 0x3
#define CALIBRATION_PER_SECOND 100 /* counted for 10 ms */

static volatile uint32_t *mmio;
static bool x2apic;

static uint32_t lapic_read(uint32_t reg)
{
	if (x2apic)
		return (uint32_t)rdmsr(MSR_X2APIC_FIRST + (reg >> 4));
	return mmio[reg / 4];
}

static void lapic_write(uint32_t reg, uint32_t v)
{
	if (x2apic)
		wrmsr(MSR_X2APIC_FIRST + (reg >> 4), v);
	else
		mmio[reg / 4] = v;
}

uint64_t lapic_mmio_base(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);

	return base & APIC_BASE_X2APIC ? 0 : base & APIC_BASE_ADDR_MASK;
}

void lapic_init(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);

	if (!(base & APIC_BASE_ENABLE))
		wrmsr(MSR_APIC_BASE, base |= APIC_BASE_ENABLE);
	/* Every CPU uses the mode the boot CPU found (x2APIC is entered from
	 * xAPIC mode, never left without a disable). */
	if (x2apic && !(base & APIC_BASE_X2APIC))
		wrmsr(MSR_APIC_BASE, base |= APIC_BASE_X2APIC);
	x2apic = base & APIC_BASE_X2APIC;
	/* Identity mapped: the caller mapped the page (lapic_mmio_base). */
	mmio = (volatile uint32_t *)(uintptr_t)(base & APIC_BASE_ADDR_MASK);

	lapic_write(REG_TPR, 0);
	lapic_write(REG_LVT_TIMER, LVT_MASKED);
	lapic_write(REG_LVT_ERROR, LVT_MASKED);
	lapic_write(REG_SVR, SVR_ENABLE | 0xff);
}

bool lapic_is_x2apic(void)
{
	return x2apic;
}

uint32_t lapic_id(void)
{
	uint32_t id = lapic_read(REG_ID);

	return x2apic ? id : id >> 24;
}

void lapic_eoi(void)
{
	if (mmio || x2apic)
		lapic_write(REG_EOI, 0);
}

uint64_t lapic_timer_start(uint32_t hz, uint8_t vector, uint64_t tsc_hz)
{
	lapic_write(REG_TIMER_DIV, TIMER_DIV_16);
	lapic_write(REG_LVT_TIMER, LVT_MASKED);
	lapic_write(REG_TIMER_INIT, 0xffffffffu);

	uint64_t t0 = rdtsc();
	uint64_t wait = tsc_hz / CALIBRATION_PER_SECOND;
	while (rdtsc() - t0 < wait)
		cpu_relax();
	uint32_t elapsed = 0xffffffffu - lapic_read(REG_TIMER_CUR);
	uint64_t t1 = rdtsc();

	uint64_t timer_hz = (uint64_t)elapsed * tsc_hz / (t1 - t0);
	if (!timer_hz || !hz)
		return 0;
	uint64_t count = timer_hz / hz;
	lapic_write(REG_LVT_TIMER, LVT_PERIODIC | vector);
	lapic_write(REG_TIMER_INIT, count ? (uint32_t)count : 1);
	return timer_hz;
}

void lapic_send_ipi(uint32_t apic_id, uint32_t icr_low)
{
	if (x2apic) {
		wrmsr(MSR_X2APIC_FIRST + (REG_ICR_LOW >> 4), (uint64_t)apic_id << 32 | icr_low);
		return;
	}
	while (lapic_read(REG_ICR_LOW) & ICR_PENDING)
		cpu_relax();
	lapic_write(REG_ICR_HIGH, apic_id << 24);
	lapic_write(REG_ICR_LOW, icr_low);
}
