/* Facts about how the image was started: where from, its load options. */
#include "boot/efi_boot.h"
#include "hv/lib/string.h"

/* OVMF's QEMU kernel loader file system (-kernel) uses this vendor media
 * device path GUID. */
static EFI_GUID qemu_kernel_loader_fs_guid = {
	0x1428f772, 0xb64a, 0x441e, { 0xb8, 0xc3, 0x9e, 0xbd, 0xd7, 0xf8, 0x93, 0xc7 }
};
static EFI_GUID loaded_image_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
static EFI_GUID pxe_guid = EFI_PXE_BASE_CODE_PROTOCOL_GUID;
static EFI_GUID device_path_guid = EFI_DEVICE_PATH_PROTOCOL_GUID;

#define DP_MEDIA 4
#define DP_MEDIA_VENDOR 3
#define DP_MEDIA_FILEPATH 4
#define DP_END 0x7f

static uint16_t node_length(const EFI_DEVICE_PATH *n)
{
	return (uint16_t)(n->Length[0] | (n->Length[1] << 8));
}

/* Joins the file-path nodes of a device path ("\EFI\BOOT" + "BOOTX64.EFI"). */
static void file_path_of(const EFI_DEVICE_PATH *dp, char *out, size_t size)
{
	size_t len = 0;

	out[0] = '\0';
	for (int guard = 0; dp && dp->Type != DP_END && guard < 64; guard++) {
		uint16_t nlen = node_length(dp);
		if (nlen < 4)
			break;
		if (dp->Type == DP_MEDIA && dp->SubType == DP_MEDIA_FILEPATH) {
			const CHAR16 *name = (const CHAR16 *)((const uint8_t *)dp + 4);
			size_t chars = (nlen - 4) / 2;
			if (len && out[len - 1] != '\\' && name[0] != L'\\' && len + 1 < size)
				out[len++] = '\\';
			boot_ucs2_to_ascii(out + len, size - len, name, chars);
			len = strlen(out);
		}
		dp = (const EFI_DEVICE_PATH *)((const uint8_t *)dp + nlen);
	}
}

static int has_vendor_node(const EFI_DEVICE_PATH *dp, EFI_GUID *guid)
{
	for (int guard = 0; dp && dp->Type != DP_END && guard < 64; guard++) {
		uint16_t nlen = node_length(dp);
		if (nlen < 4)
			break;
		if (dp->Type == DP_MEDIA && dp->SubType == DP_MEDIA_VENDOR && nlen >= 20 &&
		    memcmp((const uint8_t *)dp + 4, guid, sizeof(*guid)) == 0)
			return 1;
		dp = (const EFI_DEVICE_PATH *)((const uint8_t *)dp + nlen);
	}
	return 0;
}

void boot_collect_image(EFI_HANDLE image, struct boot_info *bi)
{
	EFI_LOADED_IMAGE *li = NULL;

	if (EFI_ERROR(boot_bs->HandleProtocol(image, &loaded_image_guid, (void **)&li)) || !li) {
		boot_print("hv: no LoadedImage protocol; boot source unknown\n");
		return;
	}
	bi->image_base = (uint64_t)(uintptr_t)li->ImageBase;
	bi->image_size = li->ImageSize;
	file_path_of(li->FilePath, bi->image_path, sizeof(bi->image_path));

	/* Load options are a UCS-2 command line when set by a boot entry,
	 * the UEFI shell or OVMF's -kernel/-append path. */
	if (li->LoadOptions && li->LoadOptionsSize >= 2)
		boot_ucs2_to_ascii(bi->cmdline, sizeof(bi->cmdline), li->LoadOptions,
				   li->LoadOptionsSize / 2);

	void *iface = NULL;
	EFI_DEVICE_PATH *dev_path = NULL;
	if (li->DeviceHandle &&
	    !EFI_ERROR(boot_bs->HandleProtocol(li->DeviceHandle, &pxe_guid, &iface)))
		bi->source = BOOT_FROM_NETWORK;
	else if (li->DeviceHandle &&
		 !EFI_ERROR(boot_bs->HandleProtocol(li->DeviceHandle, &device_path_guid,
						    (void **)&dev_path)) &&
		 has_vendor_node(dev_path, &qemu_kernel_loader_fs_guid))
		bi->source = BOOT_FROM_KERNEL;
	else if (li->DeviceHandle)
		bi->source = BOOT_FROM_DISK;
	boot_print("hv: image at 0x%lx (%lu KiB) path '%s'\n", (unsigned long)bi->image_base,
		   (unsigned long)(bi->image_size / 1024), bi->image_path);
}
