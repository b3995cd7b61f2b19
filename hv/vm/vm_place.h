/* Which CPU runs each vCPU, and how the main loop (console, network,
 * migration; on CPU 0 unless main_cpu moved it) gets hold of a VM that
 * other CPUs run.
 *
 * Each vCPU is placed on one CPU (`vcpu->cpu`, the main loop's by default;
 * `vm pin` moves one or all) and only that CPU runs it; a VM's vCPUs may be
 * spread over several CPUs, which then share its devices under `vm->lock`.
 * The main loop touches a VM with a vCPU placed elsewhere only while it holds it: every
 * other CPU leaves the guest at its next exit (a kick IPI forces one), puts
 * its vCPUs down (VMCLEAR), and does not run them again until the hold is
 * released. */
#ifndef HV_VM_VM_PLACE_H
#define HV_VM_VM_PLACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;
struct vcpu;

/* Stops vm if another CPU than the caller's runs any of its vCPUs; true
 * when it did (release it with vm_release), false for a VM all of whose
 * vCPUs are the caller's CPU's.
 * @pre called on the main loop's CPU */
bool vm_hold(struct vm *vm);
/* The same; *waited_ns is how long that CPU took to leave the guest and put
 * it down after the first kick, 0 when it had it down already. */
bool vm_hold_measured(struct vm *vm, uint64_t *waited_ns);
/* @pre vm_hold(vm) returned true */
void vm_release(struct vm *vm);

/* Holds vm until the console command that looked it up ends; false when
 * the command holds too many VMs already. */
bool vm_hold_for_command(struct vm *vm);
/* Ends the holds of the command that ran last (VMs destroyed meanwhile
 * are skipped). */
void vm_release_command_holds(void);

/* Places vCPU `index` on CPU `cpu` (an online CPU). What only the main
 * loop can do for a VM for now keeps all its vCPUs on its CPU: disks, and
 * a migration filling it in. @return 0, or -1 with the reason in err.
 * @pre called on the main loop's CPU; vm is held if any vCPU is placed elsewhere */
int vm_place_vcpu(struct vm *vm, unsigned index, uint32_t cpu, char *err, size_t errlen);
/* Every vCPU of vm on `cpu`, the same way. */
int vm_place(struct vm *vm, uint32_t cpu, char *err, size_t errlen);
/* Whether its vCPUs are placed on more than one CPU. */
bool vm_spread(const struct vm *vm);

/* On the CPU that has v loaded: done with it for now (VMCLEAR, MSRs and
 * FPU saved), so that another CPU may load it. */
void vcpu_put_down(struct vcpu *v);

#endif
