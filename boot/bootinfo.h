/* Everything the hypervisor takes over from the firmware, gathered by boot/
 * before ExitBootServices. hv/ depends on this header, never on UEFI's. */
#ifndef BOOT_BOOTINFO_H
#define BOOT_BOOTINFO_H

#include <stddef.h>
#include <stdint.h>

/* The physical memory map: boot/ translates the UEFI map into these kinds
 * so that hv/ never sees firmware types. */
enum mem_kind {
	MEM_FREE,          /* usable now */
	MEM_BOOT_SERVICES, /* usable once the hypervisor's own page tables,
			    * stack and descriptor tables are installed */
	MEM_HV,            /* the hypervisor image and what boot/ allocated */
	MEM_FW_RUNTIME,    /* UEFI runtime services code and data: keep mapped */
	MEM_ACPI,          /* ACPI tables and NVS */
	MEM_RESERVED,      /* reserved, unusable or persistent memory */
	MEM_MMIO,          /* memory-mapped I/O described by the firmware */
	MEM_KIND_COUNT
};

struct mem_region {
	uint64_t base;   /* page aligned */
	uint64_t pages;
	uint32_t kind;   /* enum mem_kind */
	uint32_t fw_type; /* the firmware's own type number, for display */
	uint64_t fw_attr;
};

#define BOOT_CMDLINE_MAX 1024
#define BOOT_CONFIG_MAX 8192
#define BOOT_NVRAM_BLOB_MAX 34816
#define BOOT_HV_STACK_PAGES 32
#define BOOT_AP_TRAMPOLINE_PAGES 4
#define BOOT_AP_TRAMPOLINE_LIMIT 0x9ffff /* below the EBDA and legacy video */

#define BOOT_MAX_FILES 32
#define BOOT_FILES_MAX_BYTES (256ull << 20)

/* A file read from the boot medium before ExitBootServices. */
struct boot_file {
	char name[48];
	uint64_t addr; /* LoaderData, kept for the hypervisor's lifetime */
	uint64_t size;
};

enum boot_source {
	BOOT_FROM_UNKNOWN,
	BOOT_FROM_DISK,   /* a file system, e.g. EFI/BOOT/BOOTX64.EFI */
	BOOT_FROM_KERNEL, /* QEMU -kernel (OVMF's kernel loader) */
	BOOT_FROM_NETWORK,/* PXE / TFTP */
};

struct boot_info {
	uint64_t image_base;
	uint64_t image_size;
	enum boot_source source;
	char image_path[128];   /* as the firmware named it, ASCII */

	struct mem_region *memmap; /* final map, after ExitBootServices */
	size_t memmap_count;
	uint32_t ebs_attempts;     /* ExitBootServices calls needed */

	uint64_t acpi_rsdp;        /* physical address or 0 */
	uint64_t smbios;           /* physical address or 0 */

	char cmdline[BOOT_CMDLINE_MAX]; /* load options, ASCII */
	char config[BOOT_CONFIG_MAX];   /* hv.cfg beside the image, NUL-terminated */
	size_t config_len;
	char config_path[128];          /* where it came from, "" if none */

	/* Raw contents of the hypervisor's NVRAM variables, read while boot
	 * services were still up; hv/ validates them. */
	uint8_t retired_pages_var[BOOT_NVRAM_BLOB_MAX];
	size_t retired_pages_var_len; /* 0: variable absent */
	int retired_pages_var_status; /* 0 ok, else firmware error class */

	/* Guest images from the `guests` folder beside the image. */
	struct boot_file files[BOOT_MAX_FILES];
	size_t nfiles;

	/* Network controllers whose firmware drivers were disconnected (or
	 * refused to let go) before ExitBootServices. */
	uint32_t nics_released, nics_not_released;

	uint64_t stack_top;        /* hypervisor stack (LoaderData) */
	/* BOOT_AP_TRAMPOLINE_PAGES below 1 MiB where the other CPUs start
	 * (LoaderData); 0 when the firmware had none free. */
	uint64_t ap_trampoline;
	char fw_vendor[64];
	uint32_t fw_revision;
	uint64_t boot_tsc;         /* TSC when efi_main started */
};

/* The hypervisor proper (hv/main.c), entered on its own stack once the
 * firmware is gone. */
__attribute__((noreturn)) void hv_main(struct boot_info *bi);

#endif
