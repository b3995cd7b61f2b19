#ifndef HV_VM_VM_RUN_H
#define HV_VM_VM_RUN_H

#include <stdbool.h>
#include <stdint.h>

struct vm;

/* Runs the VM's vCPUs this CPU claimed (vm_claim_placed) in turn until
 * the host wants the CPU (a host interrupt), the VM stops, every one of
 * them halts, or the TSC passes 'until'. */
void vm_run(struct vm *vm, uint64_t until);

/* This CPU's halted vCPUs wake when an interrupt they can take is
 * pending; INIT and start-up IPIs are applied. Returns whether any of
 * them can run. */
bool vm_wake_if_due(struct vm *vm, uint64_t now);
/* Whether any vCPU can run now (not all halted or waiting). */
bool vm_runnable(const struct vm *vm);
/* The same for the vCPUs this CPU claimed. */
bool vm_runnable_here(const struct vm *vm);

#endif
