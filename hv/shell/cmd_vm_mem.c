/* vm memsum: a checksum of a VM's memory computed by the hypervisor, so
 * tests (and people) can compare a VM before and after a migration without
 * the guest reading its own memory. Poisoned pages are skipped and listed. */
#include "hv/lib/stream_sum.h"
#include "hv/shell/cmd_vm.h"
#include "hv/shell/shell.h"
#include "hv/vm/poison.h"
#include "hv/vm/vm.h"

int cmd_vm_memsum(struct shell *sh, int argc, char **argv)
{
	struct vm *vm = cmd_vm_lookup(sh, argv[2]);
	struct stream_sum sum;
	uint64_t skipped = 0;

	(void)argc;
	if (!vm)
		return SHELL_FAILED;
	stream_sum_init(&sum);
	for (uint64_t gpa = 0; gpa < vm->mem.size; gpa += GMEM_PAGE) {
		if (vm_page_poisoned(vm, gpa)) {
			skipped++;
			continue;
		}
		stream_sum_update(&sum, gmem_ptr(&vm->mem, gpa), GMEM_PAGE);
	}
	sh_printf(sh, "checksum: 0x%016lx\npages: %lu\npoisoned_pages: %lu\n",
		  (unsigned long)stream_sum_value(&sum),
		  (unsigned long)(vm->mem.size / GMEM_PAGE - skipped), (unsigned long)skipped);
	if (skipped) {
		sh_printf(sh, "poisoned:");
		for (uint64_t gpa = 0; gpa < vm->mem.size; gpa += GMEM_PAGE)
			if (vm_page_poisoned(vm, gpa))
				sh_printf(sh, " 0x%lx", (unsigned long)gpa);
		sh_printf(sh, "\n");
	}
	return SHELL_OK;
}
