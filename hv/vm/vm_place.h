/* Which CPU runs a VM's vCPU, and how CPU 0 (the main loop: console,
 * network, migration) gets hold of a VM that another CPU runs.
 *
 * A VM is placed on one CPU (`vm->cpu`, 0 by default; `vm pin` moves it)
 * and only that CPU runs it. CPU 0 touches a VM placed elsewhere only while
 * it holds it: the other CPU leaves the guest at its next exit (a kick IPI
 * forces one), puts the vCPU down (VMCLEAR), and does not run it again
 * until the hold is released. */
#ifndef HV_VM_VM_PLACE_H
#define HV_VM_VM_PLACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;

/* Stops vm if another CPU than the caller's runs it; true when it did
 * (release it with vm_release), false for a VM of the caller's CPU.
 * @pre called on CPU 0 */
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

/* Places the VM on CPU `cpu` (an online CPU). What only CPU 0 can do for a
 * VM for now keeps it there: disks, and a migration filling it in.
 * @return 0, or -1 with the reason in err. @pre called on CPU 0; vm is
 * held if placed elsewhere */
int vm_place(struct vm *vm, uint32_t cpu, char *err, size_t errlen);

/* On the CPU that runs vm: done with it for now (a hold is pending). */
void vm_put_down(struct vm *vm);

#endif
