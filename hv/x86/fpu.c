#include "hv/x86/fpu.h"

#include "hv/lib/string.h"
#include "hv/vcpu.h"

#define FXSAVE_FCW 0
#define FXSAVE_MXCSR 24

static struct vcpu *owner;

void fpu_init_state(struct vcpu *v)
{
	memset(v->fpu, 0, sizeof(v->fpu));
	*(uint16_t *)&v->fpu[FXSAVE_FCW] = 0x037f;   /* FNINIT default */
	*(uint32_t *)&v->fpu[FXSAVE_MXCSR] = 0x1f80; /* all exceptions masked */
}

static void save(struct vcpu *v)
{
	__asm__ volatile("fxsave64 %0" : "=m"(*(uint8_t(*)[512])v->fpu));
}

void fpu_switch_to(struct vcpu *v)
{
	if (owner == v)
		return;
	if (owner)
		save(owner);
	__asm__ volatile("fxrstor64 %0" : : "m"(*(const uint8_t(*)[512])v->fpu));
	owner = v;
}

void fpu_save_live(void)
{
	if (owner)
		save(owner);
	owner = NULL;
}

void fpu_forget(struct vcpu *v)
{
	if (owner == v)
		owner = NULL;
}
