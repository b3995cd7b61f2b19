#ifndef HV_VM_VM_RUN_H
#define HV_VM_VM_RUN_H

#include <stdbool.h>
#include <stdint.h>

struct vm;

/* Runs the VM's vCPU until it yields (host tick, HLT), stops, or the TSC
 * passes 'until'. */
void vm_run(struct vm *vm, uint64_t until);

/* A halted vCPU wakes when an interrupt it can take is pending. */
bool vm_wake_if_due(struct vm *vm, uint64_t now);

#endif
