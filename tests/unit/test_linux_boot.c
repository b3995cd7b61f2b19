#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "hv/lib/byteorder.h"
#include "hv/vm/linux_boot.h"

#define MiB (1ull << 20)
#define RAM (64 * MiB)
#define SETUP_SECTS 4
#define SETUP_BYTES ((SETUP_SECTS + 1) * 512)
#define PAYLOAD 8192

static uint8_t *ram;
static struct guest_mem gm;
static uint8_t kernel[SETUP_BYTES + PAYLOAD];

static void *flat_p2v(void *ctx, uint64_t pa)
{
	(void)ctx;
	return ram + pa;
}

static void make_kernel(uint16_t version, uint8_t relocatable, uint32_t init_size)
{
	memset(kernel, 0, sizeof(kernel));
	kernel[0x1f1] = SETUP_SECTS;
	put_le32(kernel + 0x1f4, PAYLOAD / 16);          /* syssize */
	put_le16(kernel + 0x1fe, 0xaa55);
	kernel[0x200] = 0xeb;                            /* jmp over the header */
	kernel[0x201] = 0x6a;                            /* header ends at 0x26c */
	memcpy(kernel + 0x202, "HdrS", 4);
	put_le16(kernel + 0x206, version);
	kernel[0x211] = 0x01;                            /* LOADED_HIGH */
	put_le32(kernel + 0x214, 0x100000);              /* code32_start */
	put_le32(kernel + 0x22c, 0x7fffffff);            /* initrd_addr_max */
	put_le32(kernel + 0x230, 0x200000);              /* kernel_alignment */
	kernel[0x234] = relocatable;
	put_le32(kernel + 0x238, 2047);                  /* cmdline_size */
	put_le64(kernel + 0x258, 0x1000000);             /* pref_address */
	put_le32(kernel + 0x260, init_size);
	for (size_t i = 0; i < PAYLOAD; i++)
		kernel[SETUP_BYTES + i] = (uint8_t)(i * 7 + 1);
}

static const struct e820_entry map[] = {
	{ 0, 0x9fc00, E820_RAM }, { 0x9fc00, 0x400, E820_RESERVED },
	{ 0xe0000, 0x20000, E820_RESERVED }, { 0x100000, RAM - 0x100000, E820_RAM },
};

static void setup(void)
{
	ram = malloc(RAM);
	memset(ram, 0x5a, RAM);
	memset(&gm, 0, sizeof(gm));
	gm.size = RAM;
	gm.nchunks = RAM / GMEM_CHUNK_SIZE;
	gm.chunks = calloc(gm.nchunks, sizeof(*gm.chunks));
	for (size_t i = 0; i < gm.nchunks; i++)
		gm.chunks[i].hpa = i * GMEM_CHUNK_SIZE;
	gm.host.p2v = flat_p2v;
	make_kernel(0x020f, 1, 16 * MiB);
}

static void teardown(void)
{
	free(gm.chunks);
	free(ram);
}

TestSuite(linux_boot, .init = setup, .fini = teardown);

static struct linux_image image(const uint8_t *const *initrd, const size_t *sizes, size_t n,
				const char *cmdline)
{
	return (struct linux_image){ kernel, sizeof(kernel), initrd, sizes, n, cmdline, map,
				     sizeof(map) / sizeof(map[0]), 0xe0000 };
}

static int load(const struct linux_image *img, struct linux_result *r, char *err, size_t len)
{
	memset(err, '#', len - 1);
	err[len - 1] = 0;
	return linux_load(&gm, img, r, err, len);
}

Test(linux_boot, recognises_a_bzimage_and_nothing_else)
{
	cr_assert(linux_is_bzimage(kernel, sizeof(kernel)));
	cr_assert_not(linux_is_bzimage(kernel, 0x205));
	kernel[0x1fe] = 0;
	cr_assert_not(linux_is_bzimage(kernel, sizeof(kernel)));
}

Test(linux_boot, loads_the_kernel_at_its_preferred_address_with_a_zero_page)
{
	static const uint8_t initrd[5000] = { 1, 2, 3 };
	const uint8_t *pieces[] = { initrd };
	const size_t sizes[] = { sizeof(initrd) };
	struct linux_image img = image(pieces, sizes, 1, "console=ttyS0 quiet");
	struct linux_result r;
	char err[160];

	cr_assert_eq(load(&img, &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(r.entry, 0x1000000);
	cr_assert_eq(r.esi, LINUX_BOOT_PARAMS_GPA);
	cr_assert_eq(r.kernel_end, 0x1000000 + 16 * MiB);
	cr_assert_eq(memcmp(ram + 0x1000000, kernel + SETUP_BYTES, PAYLOAD), 0);

	const uint8_t *bp = ram + LINUX_BOOT_PARAMS_GPA;
	cr_assert_eq(memcmp(bp + 0x1f1, kernel + 0x1f1, 0x210 - 0x1f1), 0,
		     "the setup header up to type_of_loader is the image's");
	cr_assert_eq(memcmp(bp + 0x230, kernel + 0x230, 0x26c - 0x230), 0, "and after the pointers");
	cr_assert_eq(bp[0x210], 0xff, "type_of_loader: undefined boot loader");
	cr_assert_eq(get_le32(bp + 0x214), 0x1000000, "code32_start: where it was loaded");
	cr_assert_eq(get_le32(bp + 0x228), LINUX_CMDLINE_GPA);
	cr_assert_str_eq((char *)ram + LINUX_CMDLINE_GPA, "console=ttyS0 quiet");
	cr_assert_eq(get_le64(bp + 0x070), 0xe0000, "acpi_rsdp_addr");
	cr_assert_eq(bp[0x1e8], 4, "e820 entries");
	cr_assert_eq(get_le64(bp + 0x2d0 + 3 * 20), 0x100000);
	cr_assert_eq(get_le64(bp + 0x2d0 + 3 * 20 + 8), RAM - 0x100000);
	cr_assert_eq(get_le32(bp + 0x2d0 + 1 * 20 + 16), E820_RESERVED);
	/* The initrd sits at the top of RAM, page aligned. */
	uint32_t at = get_le32(bp + 0x218);
	cr_assert_eq(at, (RAM - sizeof(initrd)) & ~4095u);
	cr_assert_eq(get_le32(bp + 0x21c), sizeof(initrd));
	cr_assert_eq(r.initrd_start, at);
	cr_assert_eq(memcmp(ram + at, initrd, sizeof(initrd)), 0);
	/* The 32-bit entry's selectors are in the GDT the vCPU starts with. */
	const uint8_t *gdt = ram + r.gdt_base;
	cr_assert_eq(get_le64(gdt + LINUX_BOOT_CS), 0x00cf9b000000ffffull);
	cr_assert_eq(get_le64(gdt + LINUX_BOOT_DS), 0x00cf93000000ffffull);
	cr_assert_geq(r.gdt_limit, LINUX_BOOT_DS + 7);
}

Test(linux_boot, initrd_pieces_are_concatenated)
{
	static const uint8_t a[4096 + 10] = { 0xaa }, b[300] = { 0xbb };
	const uint8_t *pieces[] = { a, b };
	const size_t sizes[] = { sizeof(a), sizeof(b) };
	struct linux_image img = image(pieces, sizes, 2, "");
	struct linux_result r;
	char err[160];

	cr_assert_eq(load(&img, &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(r.initrd_end - r.initrd_start, sizeof(a) + sizeof(b));
	cr_assert_eq(ram[r.initrd_start], 0xaa);
	cr_assert_eq(ram[r.initrd_start + sizeof(a)], 0xbb);
	cr_assert_eq(get_le32(ram + LINUX_BOOT_PARAMS_GPA + 0x21c), sizeof(a) + sizeof(b));
}

Test(linux_boot, a_kernel_that_is_not_relocatable_runs_at_code32_start)
{
	make_kernel(0x020c, 0, 4 * MiB);
	struct linux_image img = image(NULL, NULL, 0, "");
	struct linux_result r;
	char err[160];

	cr_assert_eq(load(&img, &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(r.entry, 0x100000);
	cr_assert_eq(get_le32(ram + LINUX_BOOT_PARAMS_GPA + 0x218), 0, "no initrd");
}

/* A refusal says why and writes nothing into guest memory. */
static void refused(const struct linux_image *img, const char *why)
{
	struct linux_result r;
	char err[200];

	cr_assert_eq(load(img, &r, err, sizeof(err)), -1, "loaded, expected '%s'", why);
	cr_assert(strstr(err, why), "refused with '%s', expected '%s'", err, why);
	for (size_t i = 0; i < RAM; i += 4093)
		cr_assert_eq(ram[i], 0x5a, "guest memory written at 0x%zx", i);
}

Test(linux_boot, bad_images_are_refused_with_the_reason)
{
	struct linux_image img = image(NULL, NULL, 0, "");

	img.kernel_size = 1000;
	refused(&img, "truncated kernel image (1000 bytes)");
	img.kernel_size = sizeof(kernel) - 16;
	refused(&img, "truncated kernel image: 10736 bytes, the header announces 10752");
	img.kernel_size = sizeof(kernel);

	memcpy(kernel + 0x202, "HdrX", 4);
	refused(&img, "not a Linux kernel");
	memcpy(kernel + 0x202, "HdrS", 4);

	put_le16(kernel + 0x206, 0x020b);
	refused(&img, "boot protocol 2.11 is older than 2.12");
	put_le16(kernel + 0x206, 0x020f);

	kernel[0x211] = 0;
	refused(&img, "a zImage (loaded low) is not supported");
	kernel[0x211] = 1;

	put_le32(kernel + 0x260, 64 * MiB);
	refused(&img, "the kernel needs 80 MiB of RAM (it runs at 0x1000000 and takes 64 MiB); "
		      "the VM has 64 MiB");
	put_le32(kernel + 0x260, 16 * MiB);

	static char cmdline[2049];
	memset(cmdline, 'x', 2048);
	img.cmdline = cmdline;
	refused(&img, "command line too long (2048 bytes, the kernel takes 2047)");
}

Test(linux_boot, an_initrd_that_does_not_fit_is_refused)
{
	static uint8_t big[33 * MiB]; /* RAM ends at 64 MiB, the kernel's area at 32 MiB */
	const uint8_t *pieces[] = { big };
	const size_t sizes[] = { sizeof(big) };
	struct linux_image img = image(pieces, sizes, 1, "");

	refused(&img, "the initrd (33792 KiB) does not fit between the kernel's end (0x2000000) and "
		      "0x4000000");
	put_le32(kernel + 0x22c, 0x1ffffff); /* initrd_addr_max below the kernel's end */
	static uint8_t small[4096];
	const uint8_t *one[] = { small };
	const size_t one_size[] = { sizeof(small) };
	struct linux_image img2 = image(one, one_size, 1, "");
	refused(&img2, "does not fit between the kernel's end (0x2000000) and 0x2000000");
}
