/* Multiboot (version 1) kernel loading into guest memory: ELF32/ELF64
 * program headers or the a.out kludge, the information structure, memory
 * map, command line and modules, as the specification describes. Existing
 * multiboot kernels run unchanged; the project's own test guests are
 * multiboot kernels too. */
#ifndef HV_VM_MULTIBOOT_H
#define HV_VM_MULTIBOOT_H

#include <stddef.h>
#include <stdint.h>

#include "hv/vm/guest_mem.h"

#define MB_BOOTLOADER_MAGIC 0x2badb002u
#define MB_MAX_MODULES 16

/* Guest-physical range reported as reserved for the local APIC. */
#define MB_LAPIC_GPA 0xfee00000u

struct mb_module {
	const uint8_t *data;
	size_t size;
	const char *string; /* the module's command line */
};

struct mb_result {
	uint32_t entry;
	uint32_t eax, ebx;     /* magic and information structure address; the
				* information follows the kernel and modules */
	uint64_t kernel_start, kernel_end; /* guest-physical, end exclusive */
	uint64_t modules_end;
	uint32_t gdt_base, gdt_limit, code_selector, data_selector;
};

/* Returns 0, or -1 with a reason in err. Guest memory is written only
 * within [0, m->size). */
int multiboot_load(const struct guest_mem *m, const uint8_t *image, size_t size,
		   const char *cmdline, const struct mb_module *mods, size_t nmods,
		   struct mb_result *out, char *err, size_t errlen);

#endif
