#include "hv/vm/platform.h"

#include "hv/vm/vm.h"

size_t platform_e820(uint64_t ram_size, struct e820_entry *map, size_t max)
{
	const struct e820_entry layout[] = {
		{ 0, PLATFORM_EBDA, E820_RAM },
		{ PLATFORM_EBDA, 0xa0000 - PLATFORM_EBDA, E820_RESERVED },
		{ PLATFORM_BIOS_AREA, PLATFORM_HIGH_RAM - PLATFORM_BIOS_AREA, E820_RESERVED },
		{ PLATFORM_HIGH_RAM, ram_size - PLATFORM_HIGH_RAM, E820_RAM },
	};
	size_t n = 0;

	for (size_t i = 0; i < sizeof(layout) / sizeof(layout[0]) && n < max; i++)
		if (layout[i].size && layout[i].addr + layout[i].size <= ram_size)
			map[n++] = layout[i];
	return n;
}

uint64_t platform_acpi_rsdp(const struct vm *vm)
{
	(void)vm;
	return 0;
}
