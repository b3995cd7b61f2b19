/* Loading a Linux bzImage as the x86 boot protocol describes it
 * (Documentation/arch/x86/boot.rst, protocol 2.12 and later): the setup
 * header copied into a zero page (struct boot_params) with the e820 map,
 * the command line and the initrd, the protected-mode kernel at its
 * preferred address, and entry through the 32-bit protected-mode entry
 * point with paging off. Nothing runs from the image's real-mode setup. */
#ifndef HV_VM_LINUX_BOOT_H
#define HV_VM_LINUX_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/vm/guest_mem.h"

#define LINUX_MIN_PROTOCOL 0x020c /* 2.12: 64-bit-capable loaders, xloadflags */

/* Low memory the loader uses for its own structures (the boot protocol
 * leaves below 0x90000 to the boot loader). */
#define LINUX_GDT_GPA 0x6000u
#define LINUX_BOOT_PARAMS_GPA 0x7000u
#define LINUX_CMDLINE_GPA 0x8000u
#define LINUX_CMDLINE_MAX 0x1000u

/* Segment selectors the 32-bit entry requires (__BOOT_CS, __BOOT_DS). */
#define LINUX_BOOT_CS 0x10u
#define LINUX_BOOT_DS 0x18u

enum e820_type { E820_RAM = 1, E820_RESERVED = 2, E820_ACPI = 3, E820_NVS = 4 };

struct e820_entry {
	uint64_t addr, size;
	uint32_t type;
};

#define LINUX_E820_MAX 128 /* what boot_params holds */

struct linux_image {
	const uint8_t *kernel;
	size_t kernel_size;
	/* The initrd, possibly several pieces that are loaded back to back
	 * (Linux unpacks concatenated cpio archives). */
	const uint8_t *const *initrd;
	const size_t *initrd_sizes;
	size_t ninitrd;
	const char *cmdline;
	const struct e820_entry *map; /* the guest's memory map */
	size_t nmap;
	uint64_t acpi_rsdp;           /* 0: none; the kernel then scans for it */
};

struct linux_result {
	uint32_t entry;               /* the 32-bit entry (the kernel's load address) */
	uint32_t esi;                 /* the zero page */
	uint32_t gdt_base, gdt_limit;
	uint64_t kernel_start, kernel_end; /* the load address + init_size */
	uint64_t initrd_start, initrd_end;
	uint16_t protocol;
};

/* Whether the image looks like a bzImage (boot sector flag and "HdrS").
 * A multiboot kernel is not one. */
bool linux_is_bzimage(const uint8_t *image, size_t size);

/* Returns 0, or -1 with the reason in err. Guest memory is written only
 * after every check passed: a refused image loads nothing.
 * @pre m covers at least 1 MiB */
int linux_load(const struct guest_mem *m, const struct linux_image *img,
	       struct linux_result *out, char *err, size_t errlen);

#endif
