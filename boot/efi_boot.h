/* Internal interface between the files of boot/ (UEFI side only). */
#ifndef BOOT_EFI_BOOT_H
#define BOOT_EFI_BOOT_H

#include <efi.h>

#include "boot/bootinfo.h"

extern EFI_SYSTEM_TABLE *boot_st;
extern EFI_BOOT_SERVICES *boot_bs;

/* Formatted ASCII output on the firmware console (before ExitBootServices). */
void boot_print(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* LoaderData pages: the hypervisor keeps these after ExitBootServices. */
void *boot_alloc_pages(UINTN bytes);

/* UCS-2 to ASCII; characters outside ASCII become '?'. */
void boot_ucs2_to_ascii(char *dst, size_t size, const CHAR16 *src, size_t max_chars);
void boot_ascii_to_ucs2(CHAR16 *dst, size_t size, const char *src);

void boot_collect_image(EFI_HANDLE image, struct boot_info *bi);
void boot_read_config(EFI_HANDLE image, struct boot_info *bi);
void boot_read_guest_images(EFI_HANDLE image, struct boot_info *bi);
void boot_find_tables(EFI_SYSTEM_TABLE *st, struct boot_info *bi);
void boot_runtime_init(EFI_SYSTEM_TABLE *st);
void boot_read_nvram(struct boot_info *bi);
/* Disconnects the firmware's drivers from network controllers. */
void boot_release_network(struct boot_info *bi);

/* ExitBootServices with the retry the spec requires; fills bi->memmap.
 * Returns EFI_SUCCESS or the error (boot services still up on error). */
EFI_STATUS boot_exit_firmware(EFI_HANDLE image, struct boot_info *bi);

/* Switches to the hypervisor stack and calls entry(bi); never returns. */
__attribute__((noreturn)) void boot_enter_hv(struct boot_info *bi, uint64_t stack_top,
					     void (*entry)(struct boot_info *));

#endif
