/* Poisoned guest pages; see poison.h. */
#include "hv/vm/poison.h"

#include "hv/core/log.h"
#include "hv/mm/mm.h"
#include "hv/vm/vm.h"

static bool poison_page(struct vm *vm, uint64_t gpa, bool quiet)
{
	uint64_t pages = vm->mem.size / GMEM_PAGE;
	uint64_t gfn = gpa / GMEM_PAGE;

	gpa &= ~(GMEM_PAGE - 1);
	if (!vm->poisoned) {
		vm->poisoned = kzalloc((pages + 63) / 64 * 8);
		vm->mem.poisoned = vm->poisoned;
	}
	/* Never mapped again: split the 2 MiB leaf around it, drop the 4 KiB. */
	bool unmapped = pt_split(&vm->slpt, gpa & ~(GMEM_CHUNK_SIZE - 1), GMEM_CHUNK_SIZE) == 0 &&
			pt_unmap(&vm->slpt, gpa, GMEM_PAGE) == 0;
	if (!unmapped) {
		/* The page table split needs a page: without one, drop the whole
		 * 2 MiB mapping around it (no allocation needed). */
		unmapped = pt_unmap(&vm->slpt, gpa & ~(GMEM_CHUNK_SIZE - 1), GMEM_CHUNK_SIZE) == 0;
	}
	vcpu_ops->flush_guest_tlb(vm);
	if (!vm->poisoned || !unmapped) {
		/* Cannot keep the guest away from it, or not remember it: stop it. */
		log_err("vm %s: poisoned GPA 0x%lx could not be isolated", vm->name,
			(unsigned long)gpa);
		if (vm->state == VM_RUNNING || vm->state == VM_PAUSED)
			vm_crash(vm, "machine check: poisoned guest page 0x%lx could not be isolated",
				 (unsigned long)gpa);
		if (!vm->poisoned)
			return false;
	}
	if (!(vm->poisoned[gfn / 64] & (1ull << (gfn % 64)))) {
		vm->poisoned[gfn / 64] |= 1ull << (gfn % 64);
		vm->poisoned_pages++;
		if (!quiet)
			log_warn("vm %s: GPA 0x%lx poisoned", vm->name, (unsigned long)gpa);
	}
	return true;
}

bool poison_guest_page(struct vm *vm, uint64_t gpa)
{
	return poison_page(vm, gpa, false);
}

bool poison_guest_page_quiet(struct vm *vm, uint64_t gpa)
{
	return poison_page(vm, gpa, true);
}

bool vm_page_poisoned(const struct vm *vm, uint64_t gpa)
{
	uint64_t gfn = gpa / GMEM_PAGE;

	return vm->poisoned && gpa < vm->mem.size &&
	       (vm->poisoned[gfn / 64] & (1ull << (gfn % 64)));
}

void poison_release(struct vm *vm)
{
	kfree(vm->poisoned);
	vm->poisoned = NULL;
	vm->mem.poisoned = NULL;
	vm->poisoned_pages = 0;
}
