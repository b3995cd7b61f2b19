#include "hv/x86/ap_start.h"

#include "hv/lib/string.h"
#include "hv/x86/cpu.h"
#include "hv/x86/lapic.h"
#include "hv/x86/page.h"

/* The parameter block at ap_trampoline_params; ap_trampoline.S names the
 * same offsets (AP_*). */
struct __attribute__((packed)) ap_params {
	uint16_t gdt_limit;
	uint32_t gdt_base;
	uint16_t pad0;
	uint32_t jump32_offset;
	uint16_t jump32_selector;
	uint16_t pad1;
	uint32_t jump64_offset;
	uint16_t jump64_selector;
	uint16_t pad2;
	uint32_t pml4;
	volatile uint32_t arrived;
	uint64_t efer, cr0, cr4, cr3, stack, arg, entry;
	uint64_t gdt[4];
};
_Static_assert(__builtin_offsetof(struct ap_params, pml4) == 24, "AP_PML4");
_Static_assert(__builtin_offsetof(struct ap_params, efer) == 32, "AP_EFER");
_Static_assert(__builtin_offsetof(struct ap_params, entry) == 80, "AP_ENTRY");
_Static_assert(__builtin_offsetof(struct ap_params, gdt) == 88, "AP_GDT");

extern const char ap_trampoline_start[], ap_trampoline_32[], ap_trampoline_64[];
extern char ap_trampoline_params[], ap_trampoline_end[];
extern const char ap_census_start[], ap_census_count[], ap_census_ids[], ap_census_end[];

#define SEL_TRAMP_CODE32 0x08
#define SEL_TRAMP_CODE64 0x18
#define PTE_P 1ull
#define PTE_W 2ull
#define PTE_LARGE 0x80ull


static uint64_t offset_of(const char *sym)
{
	return (uint64_t)(sym - ap_trampoline_start);
}

static struct ap_params *params_at(uint64_t tramp_pa)
{
	return (struct ap_params *)(uintptr_t)(tramp_pa + offset_of(ap_trampoline_params));
}

void ap_trampoline_install(uint64_t tramp_pa)
{
	uint64_t *pml4 = (uint64_t *)(uintptr_t)(tramp_pa + 1 * PAGE_SIZE);
	uint64_t *pdpt = (uint64_t *)(uintptr_t)(tramp_pa + 2 * PAGE_SIZE);
	uint64_t *pd = (uint64_t *)(uintptr_t)(tramp_pa + 3 * PAGE_SIZE);

	memcpy((void *)(uintptr_t)tramp_pa, ap_trampoline_start,
	       (size_t)(ap_trampoline_end - ap_trampoline_start));
	memset(pml4, 0, 3 * PAGE_SIZE);
	pml4[0] = (uint64_t)(uintptr_t)pdpt | PTE_P | PTE_W;
	pdpt[0] = (uint64_t)(uintptr_t)pd | PTE_P | PTE_W;
	pd[0] = PTE_P | PTE_W | PTE_LARGE; /* 0-2 MiB, the trampoline among it */

	struct ap_params *p = params_at(tramp_pa);
	p->gdt[0] = 0;
	p->gdt[1] = 0x00cf9a000000ffffull; /* 32-bit code, flat */
	p->gdt[2] = 0x00cf92000000ffffull; /* data, flat */
	p->gdt[3] = 0x00af9a000000ffffull; /* 64-bit code */
	p->gdt_limit = sizeof(p->gdt) - 1;
	p->gdt_base = (uint32_t)(uintptr_t)p->gdt;
	p->jump32_offset = (uint32_t)(tramp_pa + offset_of(ap_trampoline_32));
	p->jump32_selector = SEL_TRAMP_CODE32;
	p->jump64_offset = (uint32_t)(tramp_pa + offset_of(ap_trampoline_64));
	p->jump64_selector = SEL_TRAMP_CODE64;
	p->pml4 = (uint32_t)(uintptr_t)pml4;
}

#define CENSUS_WAIT_MS 200

static void wait_us(uint64_t us, uint64_t tsc_hz)
{
	uint64_t t0 = rdtsc(), n = tsc_hz / 1000000 * us;

	while (rdtsc() - t0 < n)
		cpu_relax();
}

bool ap_start(uint64_t tramp_pa, uint32_t apic_id, ap_entry_fn entry, void *arg,
	      uint64_t stack_top, uint64_t tsc_hz, uint32_t timeout_ms)
{
	struct ap_params *p = params_at(tramp_pa);

	p->efer = rdmsr(MSR_EFER) & (EFER_SCE | EFER_LME | EFER_NXE);
	p->cr0 = read_cr0();
	/* #MC waits for the CPU's own queues (the mce start hook sets it). */
	p->cr4 = read_cr4() & ~(CR4_PCIDE | CR4_VMXE | CR4_MCE);
	p->cr3 = read_cr3();
	p->stack = stack_top;
	p->arg = (uint64_t)(uintptr_t)arg;
	p->entry = (uint64_t)(uintptr_t)entry;
	p->arrived = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	/* The MP initialisation sequence: INIT, 10 ms, then SIPI twice
	 * 200 us apart (SDM vol. 3 §9.4.4.1). */
	lapic_send_ipi(apic_id, LAPIC_ICR_INIT);
	wait_us(10000, tsc_hz);
	for (int i = 0; i < 2 && !p->arrived; i++) {
		lapic_send_ipi(apic_id, LAPIC_ICR_STARTUP | (uint32_t)(tramp_pa >> 12));
		wait_us(200, tsc_hz);
	}
	uint64_t t0 = rdtsc(), limit = tsc_hz / 1000 * timeout_ms;
	while (!p->arrived && rdtsc() - t0 < limit)
		cpu_relax();
	if (p->arrived)
		return true;
	lapic_send_ipi(apic_id, LAPIC_ICR_INIT);
	return false;
}

int ap_census(uint64_t tramp_pa, uint32_t *ids, int max, uint64_t tsc_hz)
{
	uint8_t *page = (uint8_t *)(uintptr_t)tramp_pa;
	volatile uint16_t *count = (volatile uint16_t *)(page + (ap_census_count - ap_census_start));
	const uint32_t *found = (const uint32_t *)(page + (ap_census_ids - ap_census_start));

	memcpy(page, ap_census_start, (size_t)(ap_census_end - ap_census_start));
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	lapic_send_ipi(0, LAPIC_ICR_ALL_BUT_SELF | LAPIC_ICR_INIT);
	wait_us(10000, tsc_hz);
	for (int i = 0; i < 2; i++) {
		lapic_send_ipi(0, LAPIC_ICR_ALL_BUT_SELF | LAPIC_ICR_STARTUP | (uint32_t)(tramp_pa >> 12));
		wait_us(200, tsc_hz);
	}
	/* No count to wait for: give every CPU the time one start may take. */
	wait_us(CENSUS_WAIT_MS * 1000ull, tsc_hz);
	int n = *count < max ? *count : max;
	for (int i = 0; i < n; i++)
		ids[i] = found[i];
	return n;
}
