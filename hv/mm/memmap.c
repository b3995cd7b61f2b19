#include "hv/mm/memmap.h"

const char *mem_kind_name(enum mem_kind kind)
{
	static const char *const names[MEM_KIND_COUNT] = {
		[MEM_FREE] = "free",
		[MEM_BOOT_SERVICES] = "boot-services",
		[MEM_HV] = "hypervisor",
		[MEM_FW_RUNTIME] = "fw-runtime",
		[MEM_ACPI] = "acpi",
		[MEM_RESERVED] = "reserved",
		[MEM_MMIO] = "mmio",
	};

	return kind < MEM_KIND_COUNT ? names[kind] : "unknown";
}
