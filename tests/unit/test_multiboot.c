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

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static void str_fill_marker(char *s, size_t size)
{
	memset(s, '#', size - 1);
	s[size - 1] = 0;
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

/* Loading must fail (-1) with a message containing 'why'. The buffer is
 * filled with a marker first, so a message left from an earlier case or no
 * message at all cannot pass. */
static void refused_with(const uint8_t *img, size_t n, const char *cmdline,
			 const struct mb_module *mods, size_t nmods, const char *why)
{
	struct mb_result r;
	char err[160];

	memset(err, 0, sizeof(err));
	str_fill_marker(err, sizeof(err));
	cr_assert_eq(multiboot_load(&gm, img, n, cmdline, mods, nmods, &r, err, sizeof(err)), -1,
		     "loaded, expected a refusal with '%s'", why);
	cr_assert(strstr(err, why), "refused with '%s', expected '%s'", err, why);
}

static void refused(const uint8_t *img, size_t n, const char *why)
{
	refused_with(img, n, "", NULL, 0, why);
}

Test(multiboot, aout_kludge_loads_and_clears_bss)
{
	uint8_t img[4096];
	struct mb_result r;
	char err[160];
	size_t n = make_aout(img, 0x100000, 0x100000 + 2048, 0x100000 + 8000);

	memset(ram + 0x100000, 0xee, 16384);
	cr_assert_eq(multiboot_load(&gm, img, n, "hello world", NULL, 0, &r, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(r.entry, 0x100040);
	cr_assert_eq(r.eax, MB_BOOTLOADER_MAGIC);
	cr_assert_eq(memcmp(ram + 0x100000, img, 2048), 0);
	for (int i = 2048; i < 8000; i++)
		cr_assert_eq(ram[0x100000 + i], 0, "bss byte %d not cleared", i);
	for (int i = 8000; i < 8192; i++)
		cr_assert_eq(ram[0x100000 + i], 0xee, "wrote past bss_end at +%d", i);
	/* The boot information follows the kernel, on the next page. */
	cr_assert_eq(r.gdt_base, 0x102000);
	cr_assert_gt(r.ebx, 0x102000);
	cr_assert_lt(r.ebx, 0x103000);
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

	make_aout(img, 0x100000, 0x100000 + 2048, 0);
	put32(img + 28, 0x10000); /* header_addr below load_addr */
	refused(img, 4096, "invalid load_addr address");

	make_aout(img, 0x100000, 0x10000, 0);
	refused(img, 4096, "invalid load_end_addr address");

	make_aout(img, 0x100000, 0x100000 + 2048, 0x100000 + 1024);
	refused(img, 4096, "invalid bss_end_addr address");

	/* QEMU's scenario 9: the image would end beyond 4 GiB (QEMU only
	 * accepts it through 32-bit overflow). */
	make_aout(img, 0xfffff000, 0, 0xfffff001);
	refused(img, 4096, "invalid bss_end_addr address");
	make_aout(img, 0xfffff000, 0, 0);
	refused(img, 4096, "kernel image at 0xfffff000-0x100000000 is outside guest memory (16 MiB)");

	/* A kernel that leaves no room after itself for the information. */
	make_aout(img, 16 * MiB - 4096, 0, 0);
	refused(img, 4096, "no room for the boot information after the kernel and modules");
}

/* Any address a kernel may use works: low memory is not the loader's. */
Test(multiboot, kernels_linked_low_load_with_the_information_after_them)
{
	uint8_t img[4096];
	struct mb_result r;
	char err[160];

	for (uint32_t load = 0x1000; load <= 0x9000; load += 0x1000) {
		size_t n = make_aout(img, load, 0, 0);
		cr_assert_eq(multiboot_load(&gm, img, n, "low", NULL, 0, &r, err, sizeof(err)), 0,
			     "at 0x%x: %s", load, err);
		cr_assert_eq(memcmp(ram + load, img, 4096), 0, "kernel at 0x%x", load);
		cr_assert_geq(r.gdt_base, load + 4096, "information over the kernel at 0x%x", load);
		cr_assert_str_eq((char *)ram + ((uint32_t *)(ram + r.ebx))[4], "low");
	}
}

Test(multiboot, aout_header_fields_outside_the_image_are_refused)
{
	uint8_t img[4096];

	/* The header claims to sit 32 bytes into the load, but only 16 bytes
	 * of the file precede it. */
	make_aout(img, 0x100000, 0, 0);
	put32(img + 32, 0x100000 - 16);
	refused(img, 4096, "invalid header_addr address");

	make_aout(img, 0x100000, 0x100000 + 8192, 0); /* the file has 4096 bytes */
	refused(img, 4096, "load_end_addr beyond the end of the image");

	make_aout(img, 0x100000, 0, 0); /* the header's load fields are cut off */
	refused(img, 40, "truncated multiboot header");
}

Test(multiboot, no_header_or_bad_checksum)
{
	uint8_t img[9000];

	memset(img, 0, sizeof(img));
	refused(img, sizeof(img), "not a multiboot kernel (no header in the first 8 KiB)");
	put32(img + 8192, 0x1badb002); /* beyond the 8 KiB search window */
	put32(img + 8196, 0);
	put32(img + 8200, -0x1badb002u);
	refused(img, sizeof(img), "not a multiboot kernel");
	put32(img + 0, 0x1badb002);
	put32(img + 4, 0);
	put32(img + 8, -0x1badb002u + 1); /* checksum off by one */
	refused(img, sizeof(img), "not a multiboot kernel");
	put32(img + 4, 0x4); /* video mode: unsupported required feature */
	put32(img + 8, -(0x1badb002u + 4));
	refused(img, sizeof(img), "kernel requires unsupported multiboot features (flags 0x4)");
}

Test(multiboot, guest_memory_below_2_mib_is_refused)
{
	uint8_t img[4096];

	make_aout(img, 0x100000, 0, 0);
	gm.size = (2u << 20) - 4096;
	refused(img, 4096, "guest memory below 2 MiB is too small");
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
	refused(img, n, "ELF segment 0 lies outside the file");
}

/* An ELF64 image with one PT_LOAD segment at 2 MiB and the given entry. */
static size_t make_elf64(uint8_t *img, uint64_t entry)
{
	memset(img, 0, 8192);
	memcpy(img, "\x7f" "ELF\x02\x01\x01", 7);
	put64(img + 24, entry);
	put64(img + 32, 64);                  /* e_phoff */
	img[54] = 56;                         /* e_phentsize */
	img[56] = 1;                          /* e_phnum */
	uint8_t *ph = img + 64;
	put32(ph, 1);                         /* PT_LOAD */
	put64(ph + 8, 0);                     /* p_offset */
	put64(ph + 16, 0x200000);             /* p_vaddr */
	put64(ph + 24, 0x200000);             /* p_paddr */
	put64(ph + 32, 4096);                 /* p_filesz */
	put64(ph + 40, 4096);                 /* p_memsz */
	put32(img + 128, 0x1badb002);
	put32(img + 132, 0);
	put32(img + 136, -0x1badb002u);
	return 8192;
}

Test(multiboot, elf64_loads_and_its_entry_must_be_below_4_gib)
{
	uint8_t img[8192];
	struct mb_result r;
	char err[160];
	size_t n = make_elf64(img, 0x200040);

	cr_assert_eq(multiboot_load(&gm, img, n, "", NULL, 0, &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(r.entry, 0x200040);
	cr_assert_eq(r.kernel_start, 0x200000);
	cr_assert_eq(r.kernel_end, 0x201000);

	make_elf64(img, 0x100000000ull); /* outside the segment: taken as physical */
	refused(img, n, "entry point 0x100000000 is not reachable from 32-bit mode");
	/* 60 bytes: an ELF64 header needs 64. The multiboot header must be in
	 * them, so it overlaps the ELF header's tail. */
	make_elf64(img, 0x200040);
	put32(img + 44, 0x1badb002);
	put32(img + 48, 0);
	put32(img + 52, -0x1badb002u);
	refused(img, 60, "truncated ELF header");
}

/* Each malformed ELF header, and the reason given for it. */
Test(multiboot, malformed_elf_headers_are_refused)
{
	uint8_t img[8192];
	size_t n = make_elf(img, 0x200000, 0x200000, 4096, 4096);

	img[0] = 'X';
	refused(img, n, "not an ELF file and no a.out kludge in the multiboot header");

	make_elf(img, 0x200000, 0x200000, 4096, 4096);
	img[4] = 3; /* no such class */
	refused(img, n, "unsupported ELF class or byte order");
	make_elf(img, 0x200000, 0x200000, 4096, 4096);
	img[5] = 2; /* big endian */
	refused(img, n, "unsupported ELF class or byte order");

	make_elf(img, 0x200000, 0x200000, 4096, 4096);
	img[44] = 0; /* e_phnum */
	refused(img, n, "ELF file has no usable program headers");
	make_elf(img, 0x200000, 0x200000, 4096, 4096);
	img[42] = 16; /* e_phentsize shorter than a program header */
	refused(img, n, "ELF file has no usable program headers");

	make_elf(img, 0x200000, 0x200000, 4096, 4096);
	put32(img + 28, 8192 - 16); /* e_phoff: the header runs off the end */
	refused(img, n, "truncated ELF program header 0");

	make_elf(img, 0x200000, 0x200000, 4096, 4096);
	put32(img + 52, 2); /* PT_DYNAMIC: nothing to load */
	refused(img, n, "ELF file has no loadable segments");

	make_elf(img, 0x200000, 0x200000, 4096, 2048); /* filesz > memsz */
	refused(img, n, "ELF segment 0 lies outside the file");

	make_elf(img, 0xfff000, 0xfff000, 4096, 8192); /* ends 4 KiB past 16 MiB */
	refused(img, n, "ELF segment at 0xfff000-0x1001000 is outside guest memory (16 MiB)");
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

Test(multiboot, command_line_and_modules_that_do_not_fit_are_refused)
{
	uint8_t img[4096];
	static char cmdline[4097]; /* 4097 bytes with its NUL: one too many */
	size_t n = make_aout(img, 0x100000, 0x100000 + 2048, 0x100000 + 8192);

	memset(cmdline, 'c', sizeof(cmdline) - 1);
	refused_with(img, n, cmdline, NULL, 0, "command line too long (4097 bytes, at most 4096)");
	cmdline[sizeof(cmdline) - 2] = 0;
	struct mb_result r;
	char err[160];
	cr_assert_eq(multiboot_load(&gm, img, n, cmdline, NULL, 0, &r, err, sizeof(err)), 0,
		     "4096 bytes fit: %s", err);

	static const uint8_t data[16];
	struct mb_module mods[MB_MAX_MODULES + 1];
	for (size_t i = 0; i < MB_MAX_MODULES + 1; i++)
		mods[i] = (struct mb_module){ data, sizeof(data), "m" };
	refused_with(img, n, "", mods, MB_MAX_MODULES + 1, "too many modules (at most 16)");
	cr_assert_eq(multiboot_load(&gm, img, n, "", mods, MB_MAX_MODULES, &r, err, sizeof(err)), 0,
		     "16 modules fit: %s", err);

	static uint8_t big[15 << 20]; /* 16 MiB of guest memory minus the kernel */
	struct mb_module too_big[2] = { { data, sizeof(data), "a" }, { big, sizeof(big), "b" } };
	refused_with(img, n, "", too_big, 2, "module 2 (15728640 bytes) does not fit in guest memory");

	/* Module strings and the command line share 8 KiB of the information area. */
	static char s1[4100], s2[4100];
	memset(s1, 'x', sizeof(s1) - 1);
	memset(s2, 'y', sizeof(s2) - 1);
	struct mb_module long_strings[2] = { { data, sizeof(data), s1 }, { data, sizeof(data), s2 } };
	refused_with(img, n, "", long_strings, 2, "module command lines are too long");
}
