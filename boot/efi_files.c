/* Reads the guest images in the `guests` folder beside hv.efi into memory
 * that the hypervisor keeps, so VMs can be created from them after the
 * firmware is gone. */
#include "boot/efi_boot.h"
#include "hv/lib/string.h"

#define GUESTS_DIR "guests"
#define INFO_BUF 512

static EFI_GUID loaded_image_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
static EFI_GUID fs_guid = EFI_SIMPLE_FILE_SYSTEM_PROTOCOL_GUID;

static void guests_dir_path(const char *image_path, CHAR16 *out, size_t size)
{
	char path[160];
	size_t dir_len = 0;

	for (size_t i = 0; image_path[i]; i++)
		if (image_path[i] == '\\')
			dir_len = i + 1;
	if (dir_len > sizeof(path) - sizeof(GUESTS_DIR))
		dir_len = 0;
	memcpy(path, image_path, dir_len);
	str_copy(path + dir_len, GUESTS_DIR, sizeof(path) - dir_len);
	boot_ascii_to_ucs2(out, size, path);
}

static void read_one(EFI_FILE_HANDLE dir, EFI_FILE_INFO *info, struct boot_info *bi,
		     uint64_t *total)
{
	EFI_FILE_HANDLE f = NULL;
	struct boot_file *bf = &bi->files[bi->nfiles];

	if (info->FileSize == 0 || *total + info->FileSize > BOOT_FILES_MAX_BYTES) {
		boot_print("hv: guests: skipping a file (%s)\n",
			   info->FileSize ? "size limit reached" : "empty");
		return;
	}
	if (EFI_ERROR(dir->Open(dir, &f, info->FileName, EFI_FILE_MODE_READ, 0)))
		return;
	void *buf = boot_alloc_pages(info->FileSize);
	UINTN size = info->FileSize;
	if (buf && !EFI_ERROR(f->Read(f, &size, buf)) && size == info->FileSize) {
		boot_ucs2_to_ascii(bf->name, sizeof(bf->name), info->FileName, 47);
		/* FAT keeps upper case for 8.3 names; guests are named in lower case. */
		for (char *p = bf->name; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		bf->addr = (uint64_t)(uintptr_t)buf;
		bf->size = size;
		bi->nfiles++;
		*total += size;
	}
	f->Close(f);
}

void boot_read_guest_images(EFI_HANDLE image, struct boot_info *bi)
{
	EFI_LOADED_IMAGE *li = NULL;
	EFI_SIMPLE_FILE_SYSTEM_PROTOCOL *fs = NULL;
	EFI_FILE_HANDLE root = NULL, dir = NULL;
	CHAR16 path[160];
	uint64_t total = 0;

	if (bi->source != BOOT_FROM_DISK ||
	    EFI_ERROR(boot_bs->HandleProtocol(image, &loaded_image_guid, (void **)&li)) || !li ||
	    EFI_ERROR(boot_bs->HandleProtocol(li->DeviceHandle, &fs_guid, (void **)&fs)) ||
	    EFI_ERROR(fs->OpenVolume(fs, &root)))
		return;
	guests_dir_path(bi->image_path, path, 160);
	if (EFI_ERROR(root->Open(root, &dir, path, EFI_FILE_MODE_READ, 0))) {
		root->Close(root);
		return;
	}
	for (;;) {
		uint64_t buf[INFO_BUF / 8];
		UINTN size = sizeof(buf);
		EFI_FILE_INFO *info = (EFI_FILE_INFO *)buf;
		if (EFI_ERROR(dir->Read(dir, &size, info)) || size == 0)
			break;
		if (info->Attribute & EFI_FILE_DIRECTORY)
			continue;
		if (bi->nfiles == BOOT_MAX_FILES) {
			boot_print("hv: guests: more than %d files, the rest ignored\n", BOOT_MAX_FILES);
			break;
		}
		read_one(dir, info, bi, &total);
	}
	dir->Close(dir);
	root->Close(root);
	if (bi->nfiles)
		boot_print("hv: %lu guest images (%lu KiB) from the boot disk\n",
			   (unsigned long)bi->nfiles, (unsigned long)(total / 1024));
}
