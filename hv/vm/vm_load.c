#include "hv/vm/vm_load.h"

#include <stdarg.h>

#include "hv/lib/format.h"
#include "hv/lib/string.h"
#include "hv/vm/image.h"
#include "hv/vm/linux_boot.h"
#include "hv/vm/multiboot.h"
#include "hv/vm/platform.h"
#include "hv/vm/vm.h"
#include "hv/x86/cpu.h"

/* Where the vCPU starts: flat 32-bit protected mode, paging off. */
struct entry32 {
	uint32_t rip, eax, ebx, esi;
	uint32_t gdt_base, gdt_limit;
	uint16_t code_selector, data_selector;
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

/* Splits "IMAGE args..." into the image name and its command line. */
static const struct guest_image *module_image(const char *spec, char *name, size_t size)
{
	size_t n = 0;

	while (spec[n] && spec[n] != ' ' && n + 1 < size) {
		name[n] = spec[n];
		n++;
	}
	name[n] = '\0';
	return image_find(name);
}

static int find_modules(const struct vm_create_args *a, const struct guest_image **mods,
			char *err, size_t errlen)
{
	char name[IMAGE_NAME_MAX];

	for (size_t i = 0; i < a->nmodules; i++) {
		mods[i] = module_image(a->modules[i], name, sizeof(name));
		if (!mods[i])
			return fail(err, errlen, "no guest image '%s' for a module", name);
	}
	return 0;
}

static void start_flat32(struct vm *vm, const struct entry32 *e)
{
	struct vcpu_state s;

	memset(&s, 0, sizeof(s));
	s.regs.rax = e->eax;
	s.regs.rbx = e->ebx;
	s.regs.rsi = e->esi;
	s.regs.rip = e->rip;
	s.regs.rflags = RFLAGS_RESERVED1;
	struct vcpu_segment code = { e->code_selector, 0xc9b, 0xffffffffu, 0 };
	struct vcpu_segment data = { e->data_selector, 0xc93, 0xffffffffu, 0 };
	s.seg[SEG_CS] = code;
	s.seg[SEG_DS] = s.seg[SEG_ES] = s.seg[SEG_FS] = s.seg[SEG_GS] = s.seg[SEG_SS] = data;
	s.seg[SEG_TR] = (struct vcpu_segment){ 0, 0x8b, 0x67, 0 };
	s.seg[SEG_LDTR] = (struct vcpu_segment){ 0, 0x82, 0xffff, 0 };
	s.gdt = (struct vcpu_dtable){ e->gdt_base, e->gdt_limit };
	s.idt = (struct vcpu_dtable){ 0, 0x3ff };
	s.cr0 = CR0_PE | CR0_ET;
	s.dr6 = 0xffff0ff0;
	s.dr7 = 0x400;
	s.pat = 0x0007040600070406ull;
	s.tsc_offset = (uint64_t)0 - rdtsc(); /* the guest's TSC starts near 0 */
	vcpu_ops->set_state(vm_bsp(vm), &s);
	vlapic_set_tsc_offset(&vm_bsp(vm)->lapic, s.tsc_offset, rdtsc());
	vm_bsp(vm)->regs = s.regs;
	vm->entry = e->rip;
}

static int load_multiboot(struct vm *vm, const struct guest_image *img,
			  const struct vm_create_args *a, const struct guest_image **found,
			  char *err, size_t errlen)
{
	struct mb_module mods[VM_MAX_MODULES];
	struct mb_result r;
	char why[160];

	for (size_t i = 0; i < a->nmodules; i++)
		mods[i] = (struct mb_module){ found[i]->data, found[i]->size, a->modules[i] };
	if (multiboot_load(&vm->mem, img->data, img->size, vm->cmdline, mods, a->nmodules, &r,
			   why, sizeof(why)))
		return fail(err, errlen, "cannot load '%s': %s", img->name, why);
	struct entry32 e = { r.entry, r.eax, r.ebx, 0, r.gdt_base, r.gdt_limit,
			     (uint16_t)r.code_selector, (uint16_t)r.data_selector };
	start_flat32(vm, &e);
	return 0;
}

/* A Linux kernel: every module is a piece of the initrd, the command line
 * is the kernel's. */
static int load_linux(struct vm *vm, const struct guest_image *img,
		      const struct vm_create_args *a, const struct guest_image **found,
		      char *err, size_t errlen)
{
	const uint8_t *pieces[VM_MAX_MODULES];
	size_t sizes[VM_MAX_MODULES];
	struct e820_entry map[PLATFORM_E820_MAX];
	struct linux_result r;
	char why[200];

	for (size_t i = 0; i < a->nmodules; i++) {
		pieces[i] = found[i]->data;
		sizes[i] = found[i]->size;
	}
	struct linux_image li = {
		.kernel = img->data, .kernel_size = img->size,
		.initrd = pieces, .initrd_sizes = sizes, .ninitrd = a->nmodules,
		.cmdline = vm->cmdline, .map = map,
		.nmap = platform_e820(vm->mem.size, map, PLATFORM_E820_MAX),
		.acpi_rsdp = platform_acpi_rsdp(vm),
	};
	if (linux_load(&vm->mem, &li, &r, why, sizeof(why)))
		return fail(err, errlen, "cannot load '%s': %s", img->name, why);
	struct entry32 e = { r.entry, 0, 0, r.esi, r.gdt_base, r.gdt_limit, LINUX_BOOT_CS,
			     LINUX_BOOT_DS };
	start_flat32(vm, &e);
	return 0;
}

int vm_load_image(struct vm *vm, const struct guest_image *img, const struct vm_create_args *a,
		  char *err, size_t errlen)
{
	const struct guest_image *found[VM_MAX_MODULES];

	if (find_modules(a, found, err, errlen))
		return -1;
	if (linux_is_bzimage(img->data, img->size))
		return load_linux(vm, img, a, found, err, errlen);
	return load_multiboot(vm, img, a, found, err, errlen);
}
