/* Firmware configuration tables the hypervisor needs (ACPI, SMBIOS). */
#include "boot/efi_boot.h"
#include "hv/lib/string.h"

static EFI_GUID acpi20_guid = ACPI_20_TABLE_GUID;
static EFI_GUID acpi10_guid = ACPI_TABLE_GUID;
static EFI_GUID smbios3_guid = SMBIOS3_TABLE_GUID;
static EFI_GUID smbios_guid = SMBIOS_TABLE_GUID;

static int guid_eq(const EFI_GUID *a, const EFI_GUID *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

void boot_find_tables(EFI_SYSTEM_TABLE *st, struct boot_info *bi)
{
	uint64_t acpi10 = 0, smbios2 = 0;

	for (UINTN i = 0; i < st->NumberOfTableEntries; i++) {
		EFI_CONFIGURATION_TABLE *t = &st->ConfigurationTable[i];
		uint64_t addr = (uint64_t)(uintptr_t)t->VendorTable;
		if (guid_eq(&t->VendorGuid, &acpi20_guid))
			bi->acpi_rsdp = addr;
		else if (guid_eq(&t->VendorGuid, &acpi10_guid))
			acpi10 = addr;
		else if (guid_eq(&t->VendorGuid, &smbios3_guid))
			bi->smbios = addr;
		else if (guid_eq(&t->VendorGuid, &smbios_guid))
			smbios2 = addr;
	}
	if (!bi->acpi_rsdp)
		bi->acpi_rsdp = acpi10;
	if (!bi->smbios)
		bi->smbios = smbios2;
	if (!bi->acpi_rsdp)
		boot_print("hv: warning: firmware provides no ACPI tables\n");
}
