#ifndef HV_VM_VM_RUN_H
#define HV_VM_VM_RUN_H

#include <stdbool.h>
#include <stdint.h>

struct vm;

/* Runs the VM's vCPUs in turn until the host wants the CPU (a host
 * interrupt), the VM stops, every vCPU halts, or the TSC passes 'until'. */
void vm_run(struct vm *vm, uint64_t until);

/* Halted vCPUs wake when an interrupt they can take is pending; INIT and
 * start-up IPIs are applied. Returns whether any vCPU can run. */
bool vm_wake_if_due(struct vm *vm, uint64_t now);
/* Whether any vCPU can run now (none halted for good or waiting). */
bool vm_runnable(const struct vm *vm);

#endif
