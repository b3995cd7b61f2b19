/* Reads hv.cfg from beside the image: from its file system, or over TFTP
 * from the server that PXE-booted it. A missing file is normal. */
#include "boot/efi_boot.h"
#include "hv/lib/format.h"
#include "hv/lib/string.h"

#define CONFIG_NAME "hv.cfg"

static EFI_GUID loaded_image_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
static EFI_GUID fs_guid = EFI_SIMPLE_FILE_SYSTEM_PROTOCOL_GUID;
static EFI_GUID pxe_guid = EFI_PXE_BASE_CODE_PROTOCOL_GUID;

/* "\EFI\BOOT\BOOTX64.EFI" -> "\EFI\BOOT\hv.cfg" (sep: '\\' or '/'). */
static void sibling_path(const char *image_path, char sep, char *out, size_t size)
{
	size_t dir_len = 0;

	for (size_t i = 0; image_path[i]; i++)
		if (image_path[i] == '\\' || image_path[i] == '/')
			dir_len = i + 1;
	if (dir_len >= size)
		dir_len = 0;
	memcpy(out, image_path, dir_len);
	for (size_t i = 0; i < dir_len; i++)
		if (out[i] == '\\' || out[i] == '/')
			out[i] = sep;
	str_copy(out + dir_len, CONFIG_NAME, size - dir_len);
}

static int read_from_fs(EFI_HANDLE device, const char *path, struct boot_info *bi)
{
	EFI_SIMPLE_FILE_SYSTEM_PROTOCOL *fs = NULL;
	EFI_FILE_HANDLE root = NULL, file = NULL;
	CHAR16 wpath[128];

	if (EFI_ERROR(boot_bs->HandleProtocol(device, &fs_guid, (void **)&fs)) || !fs)
		return 0;
	if (EFI_ERROR(fs->OpenVolume(fs, &root)))
		return 0;
	boot_ascii_to_ucs2(wpath, 128, path);
	EFI_STATUS s = root->Open(root, &file, wpath, EFI_FILE_MODE_READ, 0);
	if (EFI_ERROR(s)) {
		root->Close(root);
		return 0;
	}
	UINTN size = BOOT_CONFIG_MAX - 1;
	s = file->Read(file, &size, bi->config);
	file->Close(file);
	root->Close(root);
	if (EFI_ERROR(s))
		return 0;
	bi->config_len = size;
	bi->config[size] = '\0';
	return 1;
}

static int read_from_tftp(EFI_HANDLE device, struct boot_info *bi)
{
	EFI_PXE_BASE_CODE_PROTOCOL *pxe = NULL;

	if (EFI_ERROR(boot_bs->HandleProtocol(device, &pxe_guid, (void **)&pxe)) || !pxe ||
	    !pxe->Mode)
		return 0;

	EFI_PXE_BASE_CODE_DHCPV4_PACKET *ack = &pxe->Mode->DhcpAck.Dhcpv4;
	if (pxe->Mode->ProxyOfferReceived && pxe->Mode->ProxyOffer.Dhcpv4.BootpBootFile[0])
		ack = &pxe->Mode->ProxyOffer.Dhcpv4;

	char bootfile[129];
	memcpy(bootfile, ack->BootpBootFile, 128);
	bootfile[128] = '\0';
	char path[160];
	sibling_path(bootfile, '/', path, sizeof(path));
	if (!bi->image_path[0])
		str_copy(bi->image_path, bootfile, sizeof(bi->image_path));

	EFI_IP_ADDRESS server;
	memset(&server, 0, sizeof(server));
	memcpy(server.v4.Addr, ack->BootpSiAddr, 4);

	UINT64 size = BOOT_CONFIG_MAX - 1;
	EFI_STATUS s = pxe->Mtftp(pxe, EFI_PXE_BASE_CODE_TFTP_READ_FILE, bi->config, FALSE, &size,
				  NULL, &server, (UINT8 *)path, NULL, FALSE);
	if (EFI_ERROR(s))
		return 0;
	bi->config_len = (size_t)size;
	bi->config[bi->config_len] = '\0';
	fmt_snprintf(bi->config_path, sizeof(bi->config_path), "tftp://%u.%u.%u.%u/%s",
		     server.v4.Addr[0], server.v4.Addr[1], server.v4.Addr[2], server.v4.Addr[3],
		     path);
	return 1;
}

void boot_read_config(EFI_HANDLE image, struct boot_info *bi)
{
	EFI_LOADED_IMAGE *li = NULL;

	if (EFI_ERROR(boot_bs->HandleProtocol(image, &loaded_image_guid, (void **)&li)) || !li ||
	    !li->DeviceHandle)
		return;

	int found = 0;
	if (bi->source == BOOT_FROM_NETWORK) {
		found = read_from_tftp(li->DeviceHandle, bi);
	} else {
		char path[128];
		sibling_path(bi->image_path, '\\', path, sizeof(path));
		found = read_from_fs(li->DeviceHandle, path, bi);
		if (found)
			str_copy(bi->config_path, path, sizeof(bi->config_path));
	}
	if (found)
		boot_print("hv: config %s (%lu bytes)\n", bi->config_path,
			   (unsigned long)bi->config_len);
}
