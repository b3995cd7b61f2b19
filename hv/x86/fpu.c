#include "hv/x86/fpu.h"

#include <stddef.h>

#include "hv/lib/string.h"
#include "hv/x86/cpu.h"
#include "hv/x86/percpu.h"

#define FXSAVE_FCW 0
#define FXSAVE_MXCSR 24


uint64_t fpu_init_host(bool has_xsave)
{
	uint64_t xcr0 = XCR0_X87 | XCR0_SSE;

	if (!has_xsave)
		return 0;
	write_cr4(read_cr4() | CR4_OSXSAVE);
	__asm__ volatile("xsetbv" : : "c"(0), "a"((uint32_t)xcr0), "d"((uint32_t)(xcr0 >> 32)));
	return xcr0;
}

void fpu_init_area(uint8_t *area)
{
	memset(area, 0, FPU_AREA_SIZE);
	*(uint16_t *)&area[FXSAVE_FCW] = 0x037f;   /* FNINIT default */
	*(uint32_t *)&area[FXSAVE_MXCSR] = 0x1f80; /* all exceptions masked */
}

static void save(uint8_t *area)
{
	__asm__ volatile("fxsave64 %0" : "=m"(*(uint8_t(*)[FPU_AREA_SIZE])area));
}

/* Each CPU's registers hold at most one vCPU's state: this_cpu()->fpu_owner. */
void fpu_switch_to(uint8_t *area)
{
	struct percpu *cpu = this_cpu();

	if (cpu->fpu_owner == area)
		return;
	if (cpu->fpu_owner)
		save(cpu->fpu_owner);
	__asm__ volatile("fxrstor64 %0" : : "m"(*(const uint8_t(*)[FPU_AREA_SIZE])area));
	cpu->fpu_owner = area;
}

void fpu_save_live(void)
{
	struct percpu *cpu = this_cpu();

	if (cpu->fpu_owner)
		save(cpu->fpu_owner);
	cpu->fpu_owner = NULL;
}

void fpu_forget(const uint8_t *area)
{
	for (uint32_t i = 0; i < percpu_count(); i++) {
		struct percpu *cpu = percpu_get(i);
		if (cpu->fpu_owner == area)
			cpu->fpu_owner = NULL;
	}
}
