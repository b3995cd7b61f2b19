#include "hv/vm/multiboot.h"

#include <stdbool.h>

#include "hv/lib/format.h"
#include "hv/lib/string.h"

#define MB_HEADER_MAGIC 0x1badb002u
#define MB_SEARCH_BYTES 8192u
#define MB_FLAG_ALIGN_MODULES (1u << 0)
#define MB_FLAG_MEMORY_INFO (1u << 1)
#define MB_FLAG_VIDEO_MODE (1u << 2)
#define MB_FLAG_AOUT_KLUDGE (1u << 16)
#define MB_KNOWN_REQUIRED (MB_FLAG_ALIGN_MODULES | MB_FLAG_MEMORY_INFO)

#define INFO_MEM (1u << 0)
#define INFO_CMDLINE (1u << 2)
#define INFO_MODS (1u << 3)
#define INFO_MMAP (1u << 6)
#define INFO_LOADER_NAME (1u << 9)

/* The boot information area, placed after the kernel and its modules as
 * QEMU does, so that any address a kernel may use stays free for it. */
#define AREA_GDT 0x000u
#define AREA_INFO 0x040u
#define AREA_LOADER_NAME 0x100u
#define AREA_MMAP 0x200u
#define AREA_MODLIST 0x300u
#define AREA_STRINGS 0x400u /* module strings, then the command line */
#define CMDLINE_MAX 4096u
#define STRINGS_MAX (MB_MAX_MODULES * 256u + CMDLINE_MAX)

struct mb_header {
	uint32_t magic, flags, checksum;
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr, drives_length, drives_addr, config_table;
	uint32_t boot_loader_name, apm_table;
	uint32_t vbe[6];
} __attribute__((packed));

struct mb_mmap_entry {
	uint32_t size;
	uint64_t addr, len;
	uint32_t type;
} __attribute__((packed));

struct mb_mod_entry {
	uint32_t mod_start, mod_end, string, reserved;
};

struct loader {
	const struct guest_mem *m;
	const uint8_t *image;
	size_t size;
	char *err;
	size_t errlen;
	uint64_t lo, hi; /* span the kernel occupies */
};

static int fail(struct loader *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct loader *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(l->err, l->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static const struct mb_header *find_header(const uint8_t *img, size_t size, size_t *offset)
{
	size_t limit = size < MB_SEARCH_BYTES ? size : MB_SEARCH_BYTES;

	for (size_t off = 0; off + 12 <= limit; off += 4) {
		uint32_t magic = rd32(img + off), flags = rd32(img + off + 4);
		if (magic == MB_HEADER_MAGIC && magic + flags + rd32(img + off + 8) == 0) {
			*offset = off;
			return (const struct mb_header *)(img + off);
		}
	}
	return NULL;
}

/* Kernel pieces must be inside RAM. */
static int place(struct loader *l, uint64_t gpa, uint64_t len, const char *what)
{
	if (len == 0)
		return 0;
	if (!gmem_contains(l->m, gpa, len))
		return fail(l, "%s at 0x%lx-0x%lx is outside guest memory (%lu MiB)", what,
			    (unsigned long)gpa, (unsigned long)(gpa + len),
			    (unsigned long)(l->m->size >> 20));
	if (gpa < l->lo)
		l->lo = gpa;
	if (gpa + len > l->hi)
		l->hi = gpa + len;
	return 0;
}

static int load_aout_kludge(struct loader *l, const struct mb_header *h, size_t hoff,
			    uint32_t *entry)
{
	if (hoff + sizeof(*h) > l->size)
		return fail(l, "truncated multiboot header");
	if (h->header_addr < h->load_addr)
		return fail(l, "invalid load_addr address");
	if (h->header_addr - h->load_addr > hoff)
		return fail(l, "invalid header_addr address");
	uint64_t file_off = hoff - (h->header_addr - h->load_addr);
	uint64_t load_len = l->size - file_off;
	if (h->load_end_addr) {
		if (h->load_end_addr < h->load_addr)
			return fail(l, "invalid load_end_addr address");
		load_len = h->load_end_addr - h->load_addr;
		if (load_len > l->size - file_off)
			return fail(l, "load_end_addr beyond the end of the image");
	}
	uint64_t bss_len = 0;
	if (h->bss_end_addr) {
		if (h->bss_end_addr < h->load_addr + load_len)
			return fail(l, "invalid bss_end_addr address");
		bss_len = h->bss_end_addr - (h->load_addr + load_len);
	}
	if (place(l, h->load_addr, load_len + bss_len, "kernel image"))
		return -1;
	gmem_write(l->m, h->load_addr, l->image + file_off, load_len);
	gmem_fill(l->m, h->load_addr + load_len, 0, bss_len);
	*entry = h->entry_addr;
	return 0;
}

struct phdr {
	uint32_t type;
	uint64_t offset, vaddr, paddr, filesz, memsz;
};

static bool read_phdr(const uint8_t *img, size_t size, bool is64, uint64_t off, struct phdr *p)
{
	if (off > size || size - off < (is64 ? 56u : 32u))
		return false;
	const uint8_t *b = img + off;
	if (is64) {
		memcpy(&p->type, b, 4);
		memcpy(&p->offset, b + 8, 8);
		memcpy(&p->vaddr, b + 16, 8);
		memcpy(&p->paddr, b + 24, 8);
		memcpy(&p->filesz, b + 32, 8);
		memcpy(&p->memsz, b + 40, 8);
	} else {
		p->type = rd32(b);
		p->offset = rd32(b + 4);
		p->vaddr = rd32(b + 8);
		p->paddr = rd32(b + 12);
		p->filesz = rd32(b + 16);
		p->memsz = rd32(b + 20);
	}
	return true;
}

static int load_elf(struct loader *l, uint32_t *entry)
{
	const uint8_t *e = l->image;

	if (l->size < 52 || memcmp(e, "\x7f" "ELF", 4) != 0)
		return fail(l, "not an ELF file and no a.out kludge in the multiboot header");
	bool is64 = e[4] == 2;
	if ((e[4] != 1 && e[4] != 2) || e[5] != 1)
		return fail(l, "unsupported ELF class or byte order");
	if (is64 && l->size < 64)
		return fail(l, "truncated ELF header");

	uint64_t e_entry, phoff;
	uint16_t phentsize, phnum;
	if (is64) {
		memcpy(&e_entry, e + 24, 8);
		memcpy(&phoff, e + 32, 8);
		memcpy(&phentsize, e + 54, 2);
		memcpy(&phnum, e + 56, 2);
	} else {
		e_entry = rd32(e + 24);
		phoff = rd32(e + 28);
		memcpy(&phentsize, e + 42, 2);
		memcpy(&phnum, e + 44, 2);
	}
	if (phentsize < (is64 ? 56 : 32) || phnum == 0)
		return fail(l, "ELF file has no usable program headers");

	uint64_t phys_entry = e_entry;
	int loaded = 0;
	for (uint16_t i = 0; i < phnum; i++) {
		struct phdr p;
		if (!read_phdr(l->image, l->size, is64, phoff + (uint64_t)i * phentsize, &p))
			return fail(l, "truncated ELF program header %u", i);
		if (p.type != 1 /* PT_LOAD */ || p.memsz == 0)
			continue;
		if (p.filesz > p.memsz || p.offset > l->size || p.filesz > l->size - p.offset)
			return fail(l, "ELF segment %u lies outside the file", i);
		if (place(l, p.paddr, p.memsz, "ELF segment"))
			return -1;
		gmem_write(l->m, p.paddr, l->image + p.offset, (size_t)p.filesz);
		gmem_fill(l->m, p.paddr + p.filesz, 0, (size_t)(p.memsz - p.filesz));
		/* Entry is a virtual address: translate through its segment. */
		if (e_entry >= p.vaddr && e_entry < p.vaddr + p.memsz)
			phys_entry = e_entry - p.vaddr + p.paddr;
		loaded++;
	}
	if (!loaded)
		return fail(l, "ELF file has no loadable segments");
	if (phys_entry > UINT32_MAX)
		return fail(l, "entry point 0x%lx is not reachable from 32-bit mode",
			    (unsigned long)phys_entry);
	*entry = (uint32_t)phys_entry;
	return 0;
}

static void write_gdt(const struct guest_mem *m, uint64_t area, struct mb_result *r)
{
	/* null, flat 32-bit code (0x08), flat data (0x10) */
	static const uint64_t gdt[3] = { 0, 0x00cf9a000000ffffull, 0x00cf92000000ffffull };

	gmem_write(m, area + AREA_GDT, gdt, sizeof(gdt));
	r->gdt_base = (uint32_t)(area + AREA_GDT);
	r->gdt_limit = sizeof(gdt) - 1;
	r->code_selector = 0x08;
	r->data_selector = 0x10;
}

static uint32_t write_mmap(const struct guest_mem *m, uint64_t at)
{
	uint64_t top = m->size;
	const struct mb_mmap_entry map[] = {
		{ 20, 0, 0x9fc00, 1 },
		{ 20, 0x9fc00, 0x400, 2 },
		{ 20, 0xf0000, 0x10000, 2 },
		{ 20, 0x100000, top > 0x100000 ? top - 0x100000 : 0, 1 },
		{ 20, MB_LAPIC_GPA, 0x1000, 2 },
	};
	uint32_t n = 0;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (!map[i].len)
			continue;
		gmem_write(m, at + n * sizeof(map[0]), &map[i], sizeof(map[0]));
		n++;
	}
	return n * (uint32_t)sizeof(map[0]);
}

/* Modules go after the kernel, page aligned if it asks; returns where
 * they end. */
static int load_modules(struct loader *l, const struct mb_module *mods, size_t nmods, bool align,
			uint64_t *end)
{
	uint64_t at = (l->hi + 0xfff) & ~0xfffull;

	if (nmods > MB_MAX_MODULES)
		return fail(l, "too many modules (at most %d)", MB_MAX_MODULES);
	for (size_t i = 0; i < nmods; i++) {
		if (align)
			at = (at + 0xfff) & ~0xfffull;
		if (!gmem_contains(l->m, at, mods[i].size) || at + mods[i].size > UINT32_MAX)
			return fail(l, "module %zu (%zu bytes) does not fit in guest memory", i + 1,
				    mods[i].size);
		gmem_write(l->m, at, mods[i].data, mods[i].size);
		at += mods[i].size;
	}
	*end = at;
	return 0;
}

/* The module list and strings in the information area; *str advances. */
static void write_module_list(struct loader *l, const struct mb_module *mods, size_t nmods,
			      bool align, uint64_t area, uint64_t *str, struct mb_info *info)
{
	uint64_t at = (l->hi + 0xfff) & ~0xfffull;

	for (size_t i = 0; i < nmods; i++) {
		if (align)
			at = (at + 0xfff) & ~0xfffull;
		size_t slen = strlen(mods[i].string) + 1;
		gmem_write(l->m, *str, mods[i].string, slen);
		struct mb_mod_entry e = { (uint32_t)at, (uint32_t)(at + mods[i].size),
					  (uint32_t)*str, 0 };
		gmem_write(l->m, area + AREA_MODLIST + i * sizeof(e), &e, sizeof(e));
		*str += slen;
		at += mods[i].size;
	}
	info->flags |= INFO_MODS;
	info->mods_count = (uint32_t)nmods;
	info->mods_addr = (uint32_t)(area + AREA_MODLIST);
}

static size_t strings_size(const char *cmdline, const struct mb_module *mods, size_t nmods)
{
	size_t n = strlen(cmdline) + 1;

	for (size_t i = 0; i < nmods; i++)
		n += strlen(mods[i].string) + 1;
	return n;
}

int multiboot_load(const struct guest_mem *m, const uint8_t *image, size_t size,
		   const char *cmdline, const struct mb_module *mods, size_t nmods,
		   struct mb_result *out, char *err, size_t errlen)
{
	struct loader l = { m, image, size, err, errlen, UINT64_MAX, 0 };
	size_t hoff;
	const struct mb_header *h = find_header(image, size, &hoff);

	memset(out, 0, sizeof(*out));
	if (!h)
		return fail(&l, "not a multiboot kernel (no header in the first 8 KiB)");
	if (h->flags & 0xffff & ~MB_KNOWN_REQUIRED)
		return fail(&l, "kernel requires unsupported multiboot features (flags 0x%x)",
			    h->flags & 0xffff & ~MB_KNOWN_REQUIRED);
	if (m->size < (2u << 20))
		return fail(&l, "guest memory below 2 MiB is too small for a multiboot kernel");

	uint32_t entry = 0;
	int rc = (h->flags & MB_FLAG_AOUT_KLUDGE) ? load_aout_kludge(&l, h, hoff, &entry) :
						    load_elf(&l, &entry);
	if (rc)
		return rc;

	size_t clen = strlen(cmdline) + 1;
	if (clen > CMDLINE_MAX)
		return fail(&l, "command line too long (%zu bytes, at most %u)", clen, CMDLINE_MAX);
	if (nmods > MB_MAX_MODULES)
		return fail(&l, "too many modules (at most %d)", MB_MAX_MODULES);
	size_t strings = strings_size(cmdline, mods, nmods);
	if (strings > STRINGS_MAX)
		return fail(&l, "module command lines are too long");

	bool align = h->flags & MB_FLAG_ALIGN_MODULES;
	uint64_t mods_end = l.hi;
	if (load_modules(&l, mods, nmods, align, &mods_end))
		return -1;
	uint64_t area = (mods_end + 0xfff) & ~0xfffull;
	uint64_t area_size = AREA_STRINGS + strings;
	if (!gmem_contains(m, area, area_size) || area + area_size > UINT32_MAX)
		return fail(&l, "no room for the boot information after the kernel and modules "
			    "(they end at 0x%lx; RAM ends at 0x%lx)", (unsigned long)mods_end,
			    (unsigned long)m->size);

	struct mb_info info;
	memset(&info, 0, sizeof(info));
	info.flags = INFO_MEM | INFO_CMDLINE | INFO_MMAP | INFO_LOADER_NAME;
	info.mem_lower = 639;
	uint64_t upper_end = m->size < 0xfee00000ull ? m->size : 0xfee00000ull;
	info.mem_upper = (uint32_t)((upper_end - 0x100000) / 1024);
	info.boot_loader_name = (uint32_t)(area + AREA_LOADER_NAME);
	info.mmap_addr = (uint32_t)(area + AREA_MMAP);
	info.mmap_length = write_mmap(m, area + AREA_MMAP);
	gmem_write(m, area + AREA_LOADER_NAME, "hv", 3);
	uint64_t str = area + AREA_STRINGS;
	if (nmods)
		write_module_list(&l, mods, nmods, align, area, &str, &info);
	info.cmdline = (uint32_t)str;
	gmem_write(m, str, cmdline, clen);
	gmem_write(m, area + AREA_INFO, &info, sizeof(info));
	write_gdt(m, area, out);
	out->modules_end = mods_end;

	out->entry = entry;
	out->eax = MB_BOOTLOADER_MAGIC;
	out->ebx = (uint32_t)(area + AREA_INFO);
	out->kernel_start = l.lo;
	out->kernel_end = l.hi;
	return 0;
}
