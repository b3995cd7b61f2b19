#include "hv/x86/fpu.h"

#include <stddef.h>

#include "hv/lib/string.h"

#define FXSAVE_FCW 0
#define FXSAVE_MXCSR 24

static uint8_t *owner;

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

void fpu_switch_to(uint8_t *area)
{
	if (owner == area)
		return;
	if (owner)
		save(owner);
	__asm__ volatile("fxrstor64 %0" : : "m"(*(const uint8_t(*)[FPU_AREA_SIZE])area));
	owner = area;
}

void fpu_save_live(void)
{
	if (owner)
		save(owner);
	owner = NULL;
}

void fpu_forget(const uint8_t *area)
{
	if (owner == area)
		owner = NULL;
}
