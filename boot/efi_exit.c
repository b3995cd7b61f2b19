/* Leaving the firmware: final memory map, ExitBootServices, and the
 * translation of UEFI memory types into the hypervisor's kinds. */
#include "boot/efi_boot.h"
#include "hv/lib/string.h"

#define EBS_MAX_ATTEMPTS 8
/* Room for the descriptors that allocations made after sizing may add. */
#define MAP_SLACK_DESCRIPTORS 64

static enum mem_kind kind_of(UINT32 type, UINT64 attr)
{
	/* Reserved ranges that cannot be cached (PCIe ECAM windows, for one)
	 * are address space, not RAM. */
	if (type == EfiReservedMemoryType && !(attr & EFI_MEMORY_WB))
		return MEM_MMIO;
	switch (type) {
	case EfiConventionalMemory: return MEM_FREE;
	case EfiBootServicesCode:
	case EfiBootServicesData: return MEM_BOOT_SERVICES;
	case EfiLoaderCode:
	case EfiLoaderData: return MEM_HV;
	case EfiRuntimeServicesCode:
	case EfiRuntimeServicesData: return MEM_FW_RUNTIME;
	case EfiACPIReclaimMemory:
	case EfiACPIMemoryNVS: return MEM_ACPI;
	case EfiMemoryMappedIO:
	case EfiMemoryMappedIOPortSpace: return MEM_MMIO;
	default: return MEM_RESERVED;
	}
}

static void sort_regions(struct mem_region *r, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct mem_region x = r[i];
		size_t j = i;
		while (j > 0 && r[j - 1].base > x.base) {
			r[j] = r[j - 1];
			j--;
		}
		r[j] = x;
	}
}

EFI_STATUS boot_exit_firmware(EFI_HANDLE image, struct boot_info *bi)
{
	UINTN size = 0, key = 0, desc_size = 0;
	UINT32 desc_version = 0;
	EFI_STATUS s = boot_bs->GetMemoryMap(&size, NULL, &key, &desc_size, &desc_version);

	if (s != EFI_BUFFER_TOO_SMALL || desc_size < sizeof(EFI_MEMORY_DESCRIPTOR))
		return EFI_ERROR(s) ? s : EFI_LOAD_ERROR;

	UINTN capacity = size + MAP_SLACK_DESCRIPTORS * desc_size;
	uint8_t *raw = boot_alloc_pages(capacity);
	struct mem_region *regions =
		boot_alloc_pages((capacity / desc_size) * sizeof(struct mem_region));
	if (!raw || !regions)
		return EFI_OUT_OF_RESOURCES;

	/* ExitBootServices fails with EFI_INVALID_PARAMETER when the map changed
	 * since GetMemoryMap (an event allocated memory): fetch it again and
	 * retry, with no allocation in between. */
	for (bi->ebs_attempts = 1;; bi->ebs_attempts++) {
		size = capacity;
		s = boot_bs->GetMemoryMap(&size, (EFI_MEMORY_DESCRIPTOR *)raw, &key, &desc_size,
					  &desc_version);
		if (EFI_ERROR(s))
			return s;
		s = boot_bs->ExitBootServices(image, key);
		if (s == EFI_SUCCESS)
			break;
		if (s != EFI_INVALID_PARAMETER || bi->ebs_attempts >= EBS_MAX_ATTEMPTS)
			return s;
	}

	/* Boot services are gone: only plain code from here on. */
	size_t n = size / desc_size;
	for (size_t i = 0; i < n; i++) {
		const EFI_MEMORY_DESCRIPTOR *d = (const void *)(raw + i * desc_size);
		regions[i] = (struct mem_region){
			.base = d->PhysicalStart,
			.pages = d->NumberOfPages,
			.kind = kind_of(d->Type, d->Attribute),
			.fw_type = d->Type,
			.fw_attr = d->Attribute,
		};
	}
	sort_regions(regions, n);
	bi->memmap = regions;
	bi->memmap_count = n;
	return EFI_SUCCESS;
}
