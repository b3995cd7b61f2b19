/* UEFI entry: gather the boot info, leave the firmware, start hv_main. */
#include "boot/efi_boot.h"
#include "hv/lib/string.h"
#include "hv/x86/cpu.h"

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st);

EFI_SYSTEM_TABLE *boot_st;
EFI_BOOT_SERVICES *boot_bs;

void *boot_alloc_pages(UINTN bytes)
{
	EFI_PHYSICAL_ADDRESS addr = 0;
	UINTN pages = (bytes + 4095) / 4096;
	EFI_STATUS s = boot_bs->AllocatePages(AllocateAnyPages, EfiLoaderData, pages, &addr);

	if (EFI_ERROR(s))
		return NULL;
	memset((void *)(uintptr_t)addr, 0, pages * 4096);
	return (void *)(uintptr_t)addr;
}

void boot_ucs2_to_ascii(char *dst, size_t size, const CHAR16 *src, size_t max_chars)
{
	size_t n = 0;

	if (!size)
		return;
	for (size_t i = 0; src && i < max_chars && src[i] && n + 1 < size; i++)
		dst[n++] = src[i] < 0x80 ? (char)src[i] : '?';
	dst[n] = '\0';
}

void boot_ascii_to_ucs2(CHAR16 *dst, size_t size, const char *src)
{
	size_t n = 0;

	if (!size)
		return;
	for (; src[n] && n + 1 < size; n++)
		dst[n] = (CHAR16)(unsigned char)src[n];
	dst[n] = 0;
}

/* A SIPI names a page below 1 MiB: the only place the other CPUs can start
 * from, and only the firmware knows which such pages are free. */
static void reserve_ap_trampoline(struct boot_info *bi)
{
	EFI_PHYSICAL_ADDRESS addr = BOOT_AP_TRAMPOLINE_LIMIT;

	if (!EFI_ERROR(boot_bs->AllocatePages(AllocateMaxAddress, EfiLoaderData,
					      BOOT_AP_TRAMPOLINE_PAGES, &addr)))
		bi->ap_trampoline = addr;
	else
		boot_print("hv: no free pages below 640 KiB: only this CPU will run\n");
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
	uint64_t tsc = rdtsc();

	boot_st = st;
	boot_bs = st->BootServices;
	boot_print("hv: UEFI loader starting\n");

	struct boot_info *bi = boot_alloc_pages(sizeof(*bi));
	void *stack = boot_alloc_pages(BOOT_HV_STACK_PAGES * 4096);
	if (!bi || !stack) {
		boot_print("hv: out of memory before ExitBootServices\n");
		return EFI_OUT_OF_RESOURCES;
	}
	bi->boot_tsc = tsc;
	bi->stack_top = (uint64_t)(uintptr_t)stack + BOOT_HV_STACK_PAGES * 4096;
	boot_ucs2_to_ascii(bi->fw_vendor, sizeof(bi->fw_vendor), st->FirmwareVendor, 63);
	bi->fw_revision = st->FirmwareRevision;
	reserve_ap_trampoline(bi);

	boot_runtime_init(st);
	boot_collect_image(image, bi);
	boot_read_config(image, bi);
	boot_read_guest_images(image, bi);
	boot_find_tables(st, bi);
	boot_read_nvram(bi);
	boot_release_network(bi); /* last: PXE boots needed it until here */

	boot_print("hv: exiting boot services\n");
	EFI_STATUS s = boot_exit_firmware(image, bi);
	if (EFI_ERROR(s)) {
		boot_print("hv: ExitBootServices failed: status 0x%lx\n", (unsigned long)s);
		return s;
	}
	irq_disable(); /* the firmware's interrupt setup is no longer ours to use */
	boot_enter_hv(bi, bi->stack_top, hv_main);
}
