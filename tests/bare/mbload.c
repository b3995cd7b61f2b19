/* mbload.efi: boots a multiboot (v1) ELF32 kernel on the bare machine, for
 * the differential conformance test on emulators whose firmware is UEFI
 * only (Bochs here): it reads \kernel.elf from its own disk, puts its
 * segments where they ask to be, leaves the firmware and enters the kernel
 * in 32-bit protected mode with paging off, as a multiboot loader does
 * (EAX = 0x2BADB002, EBX = the information block). Nothing of the
 * hypervisor is involved. */
#include <efi.h>
#include <efilib.h>
#include <stdint.h>

#define MB_LOADER_MAGIC 0x2badb002u
#define MB_INFO_MEMORY (1u << 0)
#define PT_LOAD 1

struct elf32_header {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version, entry, phoff, shoff, flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf32_phdr {
	uint32_t type, offset, vaddr, paddr, filesz, memsz, flags, align;
};

struct mb_info {
	uint32_t flags, mem_lower, mem_upper, rest[19];
};

/* mbload_enter.S: leaves long mode and jumps; never returns. */
void mbload_enter(uint32_t entry, uint32_t info) __attribute__((noreturn));

static EFI_GUID loaded_image_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
static EFI_GUID fs_guid = EFI_SIMPLE_FILE_SYSTEM_PROTOCOL_GUID;
static EFI_GUID file_info_guid = EFI_FILE_INFO_ID;

static void *read_kernel(EFI_HANDLE image, UINTN *size)
{
	EFI_LOADED_IMAGE *li = NULL;
	EFI_SIMPLE_FILE_SYSTEM_PROTOCOL *fs = NULL;
	EFI_FILE_HANDLE root = NULL, f = NULL;
	uint64_t info_buf[128];
	UINTN info_size = sizeof(info_buf);
	void *buf = NULL;

	if (EFI_ERROR(BS->HandleProtocol(image, &loaded_image_guid, (void **)&li)) ||
	    EFI_ERROR(BS->HandleProtocol(li->DeviceHandle, &fs_guid, (void **)&fs)) ||
	    EFI_ERROR(fs->OpenVolume(fs, &root)) ||
	    EFI_ERROR(root->Open(root, &f, L"\\kernel.elf", EFI_FILE_MODE_READ, 0)) ||
	    EFI_ERROR(f->GetInfo(f, &file_info_guid, &info_size, info_buf)))
		return NULL;
	*size = ((EFI_FILE_INFO *)info_buf)->FileSize;
	if (EFI_ERROR(BS->AllocatePool(EfiLoaderData, *size, &buf)) ||
	    EFI_ERROR(f->Read(f, size, buf)))
		return NULL;
	return buf;
}

/* Each PT_LOAD segment at its physical address, the rest zeroed. */
static int place_segments(const uint8_t *elf, UINTN size)
{
	const struct elf32_header *h = (const void *)elf;

	if (size < sizeof(*h) || elf[0] != 0x7f || elf[1] != 'E' || elf[4] != 1 ||
	    h->phoff + (uint64_t)h->phnum * sizeof(struct elf32_phdr) > size)
		return -1;
	for (unsigned i = 0; i < h->phnum; i++) {
		const struct elf32_phdr *p = (const void *)(elf + h->phoff + i * sizeof(*p));
		if (p->type != PT_LOAD || !p->memsz)
			continue;
		if ((uint64_t)p->offset + p->filesz > size || p->filesz > p->memsz)
			return -1;
		EFI_PHYSICAL_ADDRESS at = p->paddr & ~0xfffull;
		UINTN pages = (p->paddr + p->memsz - at + 0xfff) >> 12;
		if (EFI_ERROR(BS->AllocatePages(AllocateAddress, EfiLoaderData, pages, &at))) {
			Print(L"mbload: 0x%x-0x%x is not free\n", p->paddr, p->paddr + p->memsz);
			return -1;
		}
		CopyMem((void *)(uintptr_t)p->paddr, elf + p->offset, p->filesz);
		SetMem((void *)(uintptr_t)(p->paddr + p->filesz), p->memsz - p->filesz, 0);
	}
	return 0;
}

/* The information block below 1 MiB's top, with the memory sizes. */
static struct mb_info *make_info(void)
{
	EFI_PHYSICAL_ADDRESS at = 0xfffff;
	UINTN map_size = 0, key, desc_size;
	UINT32 desc_version;
	uint64_t top = 0x100000;

	if (EFI_ERROR(BS->AllocatePages(AllocateMaxAddress, EfiLoaderData, 1, &at)))
		return NULL;
	EFI_MEMORY_DESCRIPTOR *map = LibMemoryMap(&map_size, &key, &desc_size, &desc_version);
	for (UINTN off = 0; map && off < map_size * desc_size; off += desc_size) {
		EFI_MEMORY_DESCRIPTOR *d = (void *)((uint8_t *)map + off);
		uint64_t end = d->PhysicalStart + (d->NumberOfPages << 12);
		if (d->Type == EfiConventionalMemory && d->PhysicalStart <= top && end > top)
			top = end; /* the RAM that continues from 1 MiB */
	}
	struct mb_info *mbi = (void *)(uintptr_t)at;
	SetMem(mbi, sizeof(*mbi), 0);
	mbi->flags = MB_INFO_MEMORY;
	mbi->mem_lower = 640;
	mbi->mem_upper = (uint32_t)((top - 0x100000) >> 10);
	return mbi;
}

static void leave_firmware(EFI_HANDLE image)
{
	for (int tries = 0; tries < 8; tries++) {
		UINTN map_size = 0, key = 0, desc_size = 0;
		UINT32 desc_version;
		EFI_MEMORY_DESCRIPTOR *map = LibMemoryMap(&map_size, &key, &desc_size, &desc_version);
		if (map && !EFI_ERROR(BS->ExitBootServices(image, key)))
			return;
	}
	Print(L"mbload: ExitBootServices keeps failing\n");
	for (;;)
		;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st);
EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
	UINTN size = 0;

	InitializeLib(image, st);
	uint8_t *elf = read_kernel(image, &size);
	if (!elf) {
		Print(L"mbload: cannot read \\kernel.elf\n");
		return EFI_NOT_FOUND;
	}
	struct mb_info *mbi = make_info();
	if (place_segments(elf, size) || !mbi) {
		Print(L"mbload: \\kernel.elf is not a loadable ELF32 kernel\n");
		return EFI_LOAD_ERROR;
	}
	uint32_t entry = ((const struct elf32_header *)elf)->entry;
	Print(L"mbload: entering the kernel at 0x%x\n", entry);
	leave_firmware(image);
	mbload_enter(entry, (uint32_t)(uintptr_t)mbi);
}
