#include "hv/vm/linux_boot.h"

#include "hv/lib/byteorder.h"
#include "hv/lib/format.h"
#include "hv/lib/string.h"

/* Offsets in the image's first sector and in struct boot_params (boot.rst,
 * "The real-mode kernel header" and zero-page.rst). */
#define HDR_START 0x1f1
#define HDR_SETUP_SECTS 0x1f1
#define HDR_SYSSIZE 0x1f4
#define HDR_BOOT_FLAG 0x1fe
#define HDR_JUMP 0x200
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_CODE32_START 0x214
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_KERNEL_ALIGNMENT 0x230
#define HDR_RELOCATABLE 0x234
#define HDR_CMDLINE_SIZE 0x238
#define HDR_PREF_ADDRESS 0x258
#define HDR_INIT_SIZE 0x260
#define BP_ACPI_RSDP 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_E820_TABLE 0x2d0
#define BOOT_PARAMS_SIZE 0x1000

#define LOADED_HIGH 0x01
#define QUIET_FLAG 0x20
#define KEEP_SEGMENTS 0x40
#define LOADER_UNDEFINED 0xff
#define DEFAULT_LOAD 0x100000u
#define SECTOR 512u

/* What the header says, checked before anything is written. */
struct plan {
	uint16_t protocol;
	size_t setup_size;     /* real-mode part: (setup_sects + 1) sectors */
	size_t header_end;     /* 0x202 + the jump's displacement byte */
	uint64_t load, init_size, initrd_at, initrd_size;
	size_t cmdline_len;
};

static int fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -1;
}

bool linux_is_bzimage(const uint8_t *image, size_t size)
{
	return size >= HDR_MAGIC + 4 && get_le16(image + HDR_BOOT_FLAG) == 0xaa55 &&
	       !memcmp(image + HDR_MAGIC, "HdrS", 4);
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static int check_header(const struct linux_image *img, struct plan *p, char *err, size_t len)
{
	const uint8_t *k = img->kernel;

	if (img->kernel_size < SECTOR * 2)
		return fail(err, len, "truncated kernel image (%zu bytes)", img->kernel_size);
	if (!linux_is_bzimage(k, img->kernel_size))
		return fail(err, len, "not a Linux kernel: no boot flag 0xAA55 and \"HdrS\" magic");
	p->protocol = get_le16(k + HDR_VERSION);
	if (p->protocol < LINUX_MIN_PROTOCOL)
		return fail(err, len, "boot protocol %u.%u is older than 2.12, which this loader needs",
			    p->protocol >> 8, p->protocol & 0xff);
	if (!(k[HDR_LOADFLAGS] & LOADED_HIGH))
		return fail(err, len, "a zImage (loaded low) is not supported; use a bzImage");
	unsigned sects = k[HDR_SETUP_SECTS] ? k[HDR_SETUP_SECTS] : 4;
	p->setup_size = (size_t)(sects + 1) * SECTOR;
	p->header_end = HDR_MAGIC + k[HDR_JUMP + 1];
	uint64_t payload = (uint64_t)get_le32(k + HDR_SYSSIZE) * 16;
	if (p->setup_size >= img->kernel_size || payload > img->kernel_size - p->setup_size ||
	    !payload)
		return fail(err, len, "truncated kernel image: %zu bytes, the header announces %lu",
			    img->kernel_size, (unsigned long)(p->setup_size + payload));
	if (p->header_end > SECTOR * 2 || p->header_end <= HDR_MAGIC + 4)
		return fail(err, len, "malformed setup header (ends at 0x%zx)", p->header_end);
	return 0;
}

/* The protected-mode kernel goes to its preferred address when it is
 * relocatable and fits, else to code32_start; it needs init_size bytes. */
static int place_kernel(const struct guest_mem *m, const uint8_t *k, struct plan *p, char *err,
			size_t len)
{
	uint64_t pref = get_le64(k + HDR_PREF_ADDRESS);
	uint64_t align = get_le32(k + HDR_KERNEL_ALIGNMENT);

	p->init_size = get_le32(k + HDR_INIT_SIZE);
	p->load = k[HDR_RELOCATABLE] && pref ? pref : get_le32(k + HDR_CODE32_START);
	if (!p->load)
		p->load = DEFAULT_LOAD;
	if (k[HDR_RELOCATABLE] && align && (align & (align - 1)) == 0)
		p->load = align_up(p->load, align);
	if (p->init_size < get_le32(k + HDR_SYSSIZE) * 16ull)
		p->init_size = get_le32(k + HDR_SYSSIZE) * 16ull;
	if (p->load + p->init_size > m->size || p->load + p->init_size > UINT32_MAX)
		return fail(err, len, "the kernel needs %lu MiB of RAM (it runs at 0x%lx and takes "
			    "%lu MiB); the VM has %lu MiB",
			    (unsigned long)((p->load + p->init_size + (1 << 20) - 1) >> 20),
			    (unsigned long)p->load, (unsigned long)(p->init_size >> 20),
			    (unsigned long)(m->size >> 20));
	return 0;
}

/* The initrd goes as high as the kernel allows (initrd_addr_max), page
 * aligned, above the kernel's working area. */
static int place_initrd(const struct guest_mem *m, const struct linux_image *img,
			struct plan *p, char *err, size_t len)
{
	uint64_t max = get_le32(img->kernel + HDR_INITRD_ADDR_MAX);
	uint64_t top = m->size;

	p->initrd_size = 0;
	for (size_t i = 0; i < img->ninitrd; i++)
		p->initrd_size += img->initrd_sizes[i];
	if (!p->initrd_size)
		return 0;
	if (max && max + 1 < top)
		top = max + 1;
	uint64_t floor = align_up(p->load + p->init_size, 4096);
	if (p->initrd_size > top || ((top - p->initrd_size) & ~4095ull) < floor)
		return fail(err, len, "the initrd (%lu KiB) does not fit between the kernel's end "
			    "(0x%lx) and 0x%lx; give the VM more memory",
			    (unsigned long)(p->initrd_size >> 10), (unsigned long)floor,
			    (unsigned long)top);
	p->initrd_at = (top - p->initrd_size) & ~4095ull;
	return 0;
}

static int check_rest(const struct linux_image *img, struct plan *p, char *err, size_t len)
{
	uint32_t cmdline_size = get_le32(img->kernel + HDR_CMDLINE_SIZE);

	p->cmdline_len = strlen(img->cmdline);
	if (!cmdline_size)
		cmdline_size = 255; /* protocols before 2.06 */
	if (p->cmdline_len > cmdline_size || p->cmdline_len + 1 > LINUX_CMDLINE_MAX)
		return fail(err, len, "command line too long (%zu bytes, the kernel takes %u)",
			    p->cmdline_len, cmdline_size);
	if (img->nmap > LINUX_E820_MAX)
		return fail(err, len, "memory map too long (%zu entries)", img->nmap);
	return 0;
}

static void write_gdt(const struct guest_mem *m)
{
	/* 0x10: flat 32-bit code, 0x18: flat data, as the 32-bit entry expects. */
	static const uint64_t gdt[4] = { 0, 0, 0x00cf9b000000ffffull, 0x00cf93000000ffffull };

	gmem_write(m, LINUX_GDT_GPA, gdt, sizeof(gdt));
}

static void write_boot_params(const struct guest_mem *m, const struct linux_image *img,
			      const struct plan *p)
{
	uint8_t bp[BOOT_PARAMS_SIZE];
	uint8_t e820[20];

	memset(bp, 0, sizeof(bp));
	memcpy(bp + HDR_START, img->kernel + HDR_START, p->header_end - HDR_START);
	bp[HDR_TYPE_OF_LOADER] = LOADER_UNDEFINED;
	bp[HDR_LOADFLAGS] &= (uint8_t)~(QUIET_FLAG | KEEP_SEGMENTS);
	put_le32(bp + HDR_CODE32_START, (uint32_t)p->load);
	put_le32(bp + HDR_RAMDISK_IMAGE, (uint32_t)p->initrd_at);
	put_le32(bp + HDR_RAMDISK_SIZE, (uint32_t)p->initrd_size);
	put_le32(bp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(p->initrd_at >> 32));
	put_le32(bp + BP_EXT_RAMDISK_SIZE, (uint32_t)(p->initrd_size >> 32));
	put_le32(bp + HDR_CMD_LINE_PTR, LINUX_CMDLINE_GPA);
	put_le32(bp + BP_EXT_CMD_LINE_PTR, 0);
	put_le64(bp + BP_ACPI_RSDP, img->acpi_rsdp);
	bp[BP_E820_ENTRIES] = (uint8_t)img->nmap;
	for (size_t i = 0; i < img->nmap; i++) {
		put_le64(e820, img->map[i].addr);
		put_le64(e820 + 8, img->map[i].size);
		put_le32(e820 + 16, img->map[i].type);
		memcpy(bp + BP_E820_TABLE + i * sizeof(e820), e820, sizeof(e820));
	}
	gmem_write(m, LINUX_BOOT_PARAMS_GPA, bp, sizeof(bp));
}

int linux_load(const struct guest_mem *m, const struct linux_image *img,
	       struct linux_result *out, char *err, size_t errlen)
{
	struct plan p;

	memset(out, 0, sizeof(*out));
	memset(&p, 0, sizeof(p));
	if (check_header(img, &p, err, errlen) || place_kernel(m, img->kernel, &p, err, errlen) ||
	    place_initrd(m, img, &p, err, errlen) || check_rest(img, &p, err, errlen))
		return -1;

	gmem_write(m, p.load, img->kernel + p.setup_size, img->kernel_size - p.setup_size);
	uint64_t at = p.initrd_at;
	for (size_t i = 0; i < img->ninitrd; i++) {
		gmem_write(m, at, img->initrd[i], img->initrd_sizes[i]);
		at += img->initrd_sizes[i];
	}
	gmem_write(m, LINUX_CMDLINE_GPA, img->cmdline, p.cmdline_len + 1);
	write_gdt(m);
	write_boot_params(m, img, &p);

	out->entry = (uint32_t)p.load;
	out->esi = LINUX_BOOT_PARAMS_GPA;
	out->gdt_base = LINUX_GDT_GPA;
	out->gdt_limit = 4 * 8 - 1;
	out->kernel_start = p.load;
	out->kernel_end = p.load + p.init_size;
	out->initrd_start = p.initrd_at;
	out->initrd_end = p.initrd_at + p.initrd_size;
	out->protocol = p.protocol;
	return 0;
}
