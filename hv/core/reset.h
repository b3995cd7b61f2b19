/* Resetting or switching off the machine through the firmware. Modules that
 * leave the CPU in a state the firmware cannot reset from (VMX root
 * operation blocks INIT) register hooks to leave it first, and to come back
 * when the firmware refuses. */
#ifndef HV_CORE_RESET_H
#define HV_CORE_RESET_H

#include <stdbool.h>

#include "boot/firmware.h"

struct reset_hook {
	void (*before)(void);  /* runs before the firmware is called */
	void (*refused)(void); /* runs when the firmware returned */
};

#define RESET_HOOKS_MAX 4

/* @pre hook stays valid; at most RESET_HOOKS_MAX are kept (false beyond). */
bool reset_add_hook(const struct reset_hook *hook);

/* Returns only when the firmware refused; the hooks' 'refused' ran then. */
void machine_reset(enum fw_reset_kind kind);

#endif
