/* Guest pages lost to uncorrected memory errors. A poisoned page is
 * unmapped from the VM's second-level tables, so a guest touching it
 * exits and is stopped with the reason (guests are offered no MCA to take
 * a virtual machine check); migration sends it as a typed entry with no
 * data and the destination poisons the same guest page. */
#ifndef HV_VM_POISON_H
#define HV_VM_POISON_H

#include <stdbool.h>
#include <stdint.h>

struct vm;

/* @return false when memory for the bookkeeping is short (the page is
 * unmapped anyway). */
bool poison_guest_page(struct vm *vm, uint64_t gpa);
/* The same without its log line: the caller logs many at once (a
 * migration record of poisoned pages). */
bool poison_guest_page_quiet(struct vm *vm, uint64_t gpa);
bool vm_page_poisoned(const struct vm *vm, uint64_t gpa);
void poison_release(struct vm *vm);

#endif
