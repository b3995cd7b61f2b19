#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "hv/vm/multiboot.h"

#define MiB (1ull << 20)

static uint8_t *ram;
static struct guest_mem gm;

/* A flat "guest memory" in one host buffer: one contiguous chunk per
 * 2 MiB, as gmem_alloc would produce. */
static void *flat_p2v(void *ctx, uint64_t pa)
{
	(void)ctx;
	return ram + pa;
}

static void setup(void)
{
	size_t size = 16 * MiB;
	ram = calloc(1, size);
	memset(&gm, 0, sizeof(gm));
	gm.size = size;
	gm.nchunks = size / GMEM_CHUNK_SIZE;
	gm.chunks = calloc(gm.nchunks, sizeof(*gm.chunks));
	for (size_t i = 0; i < gm.nchunks; i++)
		gm.chunks[i].hpa = i * GMEM_CHUNK_SIZE;
	gm.host.p2v = flat_p2v;
}

static void teardown(void)
{
	free(gm.chunks);
	free(ram);
}

TestSuite(multiboot, .init = setup, .fini = teardown);

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* An a.out-kludge kernel: header at offset 16, loaded at 1 MiB. */
static size_t make_aout(uint8_t *img, uint32_t load, uint32_t load_end, uint32_t bss_end)
{
	memset(img, 0x90, 4096);
	put32(img + 16, 0x1badb002);
	put32(img + 20, 0x10000);
	put32(img + 24, -(0x1badb002u + 0x10000));
	put32(img + 28, load + 16);  /* header_addr */
	put32(img + 32, load);       /* load_addr */
	put32(img + 36, load_end);
	put32(img + 40, bss_end);
	put32(img + 44, load + 64);  /* entry */
	return 4096;
}

Test(multiboot, aout_kludge_loads_and_clears_bss)
{
	uint8_t img[4096];
	struct mb_result r;
	char err[160];
	size_t n = make_aout(img, 0x100000, 0x100000 + 2048, 0x100000 + 8192);

	memset(ram + 0x100000, 0xee, 16384);
	cr_assert_eq(multiboot_load(&gm, img, n, "hello world", NULL, 0, &r, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(r.entry, 0x100040);
	cr_assert_eq(r.eax, MB_BOOTLOADER_MAGIC);
	cr_assert_eq(memcmp(ram + 0x100000, img, 2048), 0);
	for (int i = 2048; i < 8192; i++)
		cr_assert_eq(ram[0x100000 + i], 0, "bss byte %d not cleared", i);
	cr_assert_eq(ram[0x100000 + 8192], 0xee, "wrote past bss_end");
	/* Information structure: flags, memory, command line, mmap. */
	uint32_t *info = (uint32_t *)(ram + r.ebx);
	cr_assert(info[0] & 1 && info[0] & 4 && info[0] & 64);
	cr_assert_eq(info[1], 639);
	cr_assert_eq(info[2], (16 * MiB - 1 * MiB) / 1024);
	cr_assert_str_eq((char *)ram + info[4], "hello world");
	uint32_t mmap_len = info[11], mmap_addr = info[12];
	cr_assert_gt(mmap_len, 0);
	uint64_t ram_top = 0;
	for (uint32_t off = 0; off < mmap_len; off += 24) {
		uint8_t *e = ram + mmap_addr + off;
		uint64_t base, len;
		uint32_t type;
		memcpy(&base, e + 4, 8);
		memcpy(&len, e + 12, 8);
		memcpy(&type, e + 20, 4);
		if (type == 1 && base + len > ram_top)
			ram_top = base + len;
	}
	cr_assert_eq(ram_top, 16 * MiB);
}

Test(multiboot, qemu_style_bad_headers_are_refused)
{
	uint8_t img[4096];
	struct mb_result r;
	char err[160];

	make_aout(img, 0x100000, 0x100000 + 2048, 0);
	put32(img + 28, 0x10000); /* header_addr below load_addr */
	cr_assert_neq(multiboot_load(&gm, img, 4096, "", NULL, 0, &r, err, sizeof(err)), 0);
	cr_assert_str_eq(err, "invalid load_addr address");

	make_aout(img, 0x100000, 0x10000, 0);
	cr_assert_neq(multiboot_load(&gm, img, 4096, "", NULL, 0, &r, err, sizeof(err)), 0);
	cr_assert_str_eq(err, "invalid load_end_addr address");

	make_aout(img, 0x100000, 0x100000 + 2048, 0x100000 + 1024);
	cr_assert_neq(multiboot_load(&gm, img, 4096, "", NULL, 0, &r, err, sizeof(err)), 0);
	cr_assert_str_eq(err, "invalid bss_end_addr address");

	/* QEMU's scenario 9: the image would end beyond 4 GiB (QEMU only
	 * accepts it through 32-bit overflow). */
	make_aout(img, 0xfffff000, 0, 0xfffff001);
	cr_assert_neq(multiboot_load(&gm, img, 4096, "", NULL, 0, &r, err, sizeof(err)), 0);
	cr_assert_str_eq(err, "invalid bss_end_addr address");
	make_aout(img, 0xfffff000, 0, 0);
	cr_assert_neq(multiboot_load(&gm, img, 4096, "", NULL, 0, &r, err, sizeof(err)), 0);
	cr_assert(strstr(err, "outside guest memory"), "%s", err);

	make_aout(img, 0x7000, 0, 0); /* over the loader's own area */
	cr_assert_neq(multiboot_load(&gm, img, 4096, "", NULL, 0, &r, err, sizeof(err)), 0);
	cr_assert(strstr(err, "boot information area"), "%s", err);
}

Test(multiboot, no_header_or_bad_checksum)
{
	uint8_t img[9000];
	struct mb_result r;
	char err[160];

	memset(img, 0, sizeof(img));
	cr_assert_neq(multiboot_load(&gm, img, sizeof(img), "", NULL, 0, &r, err, sizeof(err)), 0);
	cr_assert(strstr(err, "not a multiboot kernel"));
	put32(img + 8192, 0x1badb002); /* beyond the 8 KiB search window */
	put32(img + 8196, 0);
	put32(img + 8200, -0x1badb002u);
	cr_assert_neq(multiboot_load(&gm, img, sizeof(img), "", NULL, 0, &r, err, sizeof(err)), 0);
	put32(img + 0, 0x1badb002);
	put32(img + 4, 0x4); /* video mode: unsupported required feature */
	put32(img + 8, -(0x1badb002u + 4));
	cr_assert_neq(multiboot_load(&gm, img, sizeof(img), "", NULL, 0, &r, err, sizeof(err)), 0);
	cr_assert(strstr(err, "unsupported"), "%s", err);
}

/* A minimal ELF32 with one PT_LOAD segment and the header in it. */
static size_t make_elf(uint8_t *img, uint32_t paddr, uint32_t vaddr, uint32_t filesz,
		       uint32_t memsz)
{
	memset(img, 0, 8192);
	memcpy(img, "\x7f" "ELF\x01\x01\x01", 7);
	put32(img + 24, vaddr + 0x100);       /* e_entry (virtual) */
	put32(img + 28, 52);                  /* e_phoff */
	img[42] = 32;                         /* e_phentsize */
	img[44] = 1;                          /* e_phnum */
	uint8_t *ph = img + 52;
	put32(ph, 1);                         /* PT_LOAD */
	put32(ph + 4, 0);                     /* p_offset */
	put32(ph + 8, vaddr);
	put32(ph + 12, paddr);
	put32(ph + 16, filesz);
	put32(ph + 20, memsz);
	put32(img + 128, 0x1badb002);
	put32(img + 132, 0);
	put32(img + 136, -0x1badb002u);
	return 8192;
}

Test(multiboot, elf_segments_load_at_physical_addresses)
{
	uint8_t img[8192];
	struct mb_result r;
	char err[160];
	size_t n = make_elf(img, 0x200000, 0xc0200000u, 4096, 12288);

	img[4000] = 0x5a;
	memset(ram + 0x200000, 0xee, 16384);
	cr_assert_eq(multiboot_load(&gm, img, n, "", NULL, 0, &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(ram[0x200000 + 4000], 0x5a);
	cr_assert_eq(ram[0x200000 + 5000], 0, "memsz beyond filesz must be zero");
	cr_assert_eq(r.entry, 0x200100, "entry translated to physical: 0x%x", r.entry);

	make_elf(img, 0x200000, 0x200000, 9000, 9000); /* filesz past the file end */
	cr_assert_neq(multiboot_load(&gm, img, n, "", NULL, 0, &r, err, sizeof(err)), 0);
	cr_assert(strstr(err, "outside the file"), "%s", err);
}

Test(multiboot, modules_follow_the_kernel)
{
	uint8_t img[4096];
	struct mb_result r;
	char err[160];
	const char data[] = "module payload\n";
	struct mb_module mods[2] = {
		{ (const uint8_t *)data, sizeof(data) - 1, "first.txt arg" },
		{ (const uint8_t *)data, 5, "second" },
	};
	size_t n = make_aout(img, 0x100000, 0x100000 + 2048, 0x100000 + 8192);

	cr_assert_eq(multiboot_load(&gm, img, n, "", mods, 2, &r, err, sizeof(err)), 0, "%s", err);
	uint32_t *info = (uint32_t *)(ram + r.ebx);
	cr_assert(info[0] & 8);
	cr_assert_eq(info[5], 2);
	uint32_t *m = (uint32_t *)(ram + info[6]);
	cr_assert_geq(m[0], 0x100000 + 8192, "module overlaps the kernel");
	cr_assert_eq(m[1] - m[0], sizeof(data) - 1);
	cr_assert_eq(memcmp(ram + m[0], data, sizeof(data) - 1), 0);
	cr_assert_str_eq((char *)ram + m[2], "first.txt arg");
	/* Header flag 0 (page-align modules) is clear here: packed. */
	cr_assert_eq(m[4], m[1]);
	cr_assert_str_eq((char *)ram + m[6], "second");
}
