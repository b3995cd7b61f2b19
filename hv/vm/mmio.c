#include "hv/vm/mmio.h"

#include "hv/core/log.h"
#include "hv/emul/decode.h"
#include "hv/emul/gwalk.h"
#include "hv/vm/platform.h"
#include "hv/vm/vcpu_walk.h"
#include "hv/vm/vm.h"
#include "hv/x86/cpu.h"

static int code_mode(const struct vcpu_state *s)
{
	if ((s->efer & EFER_LMA) && (s->seg[SEG_CS].attr & SEG_ATTR_L))
		return 64;
	if (!(s->cr0 & CR0_PE))
		return 16;
	return (s->seg[SEG_CS].attr & SEG_ATTR_DB) ? 32 : 16;
}

static uint64_t mask_of(unsigned size)
{
	return size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

static uint64_t read_reg(struct vcpu *v, const struct mmio_insn *in)
{
	uint64_t r = *vcpu_gpr(&v->regs, in->reg);

	return in->high_byte ? (r >> 8) & 0xff : r & mask_of(in->size);
}

static void write_reg(struct vcpu *v, const struct mmio_insn *in, uint64_t value)
{
	uint64_t *r = vcpu_gpr(&v->regs, in->reg);

	if (in->sign_extend)
		value = (uint64_t)((int64_t)(value << (64 - 8 * in->size)) >> (64 - 8 * in->size));
	if (in->high_byte)
		*r = (*r & ~0xff00ull) | ((value & 0xff) << 8);
	else if (in->reg_size >= 4)
		*r = value & mask_of(in->reg_size); /* 32-bit writes zero the top */
	else
		*r = (*r & ~mask_of(in->reg_size)) | (value & mask_of(in->reg_size));
}

enum exit_action emulate_mmio(struct vcpu *v, const struct vm_exit *e)
{
	struct vm *vm = v->vm;
	struct vcpu_state s;
	struct gwalk w;
	uint8_t code[15];
	struct mmio_insn in;

	vcpu_ops->get_state(v, &s);
	vcpu_walker(v, &s, &w);
	uint64_t rip = code_mode(&s) == 64 ? v->regs.rip : s.seg[SEG_CS].base + (uint32_t)v->regs.rip;
	size_t avail = sizeof(code);
	/* Fetch what lies on mapped pages; a short read shows as truncation. */
	while (avail && !gwalk_read(&w, rip, GWALK_FETCH, code, avail))
		avail--;
	enum decode_result d = avail ? decode_mmio(code, avail, code_mode(&s), &in) :
				       DECODE_TRUNCATED;
	if (d != DECODE_OK) {
		vm_crash(vm, "cannot emulate the instruction at RIP 0x%lx touching device memory "
			 "at GPA 0x%lx (bytes %02x %02x %02x %02x)", (unsigned long)v->regs.rip,
			 (unsigned long)e->mem.gpa, code[0], code[1], code[2], code[3]);
		return EXIT_STOP;
	}
	if (in.write) {
		uint64_t value = in.has_imm ? in.imm : read_reg(v, &in);
		platform_mmio_write(v, e->mem.gpa, in.size, value & mask_of(in.size));
	} else {
		uint64_t value = 0;
		platform_mmio_read(v, e->mem.gpa, in.size, &value);
		write_reg(v, &in, value & mask_of(in.size));
	}
	vm->mmio_emulated++;
	v->regs.rip += in.len;
	return EXIT_CONTINUE;
}

/* Whether this page's first access is still to be logged (a few pages). */
static bool first_on_page(struct vm *vm, uint64_t gpa)
{
	const size_t n = sizeof(vm->unbacked_logged) / sizeof(vm->unbacked_logged[0]);
	uint64_t key = (gpa >> 12) + 1;

	for (size_t i = 0; i < n; i++) {
		if (vm->unbacked_logged[i] == key)
			return false;
		if (!vm->unbacked_logged[i]) {
			vm->unbacked_logged[i] = key;
			return true;
		}
	}
	return false;
}

enum exit_action emulate_unbacked(struct vcpu *v, const struct vm_exit *e)
{
	struct vm *vm = v->vm;
	const char *what = e->mem.write ? "write" : "read";

	if (vm->unbacked_stops) {
		vm_crash(vm, "%s outside guest memory at GPA 0x%lx (RIP 0x%lx; unbacked=stop)", what,
			 (unsigned long)e->mem.gpa, (unsigned long)v->regs.rip);
		return EXIT_STOP;
	}
	if (first_on_page(vm, e->mem.gpa))
		log_info("vm %s: vcpu %u: %s at GPA 0x%lx (RIP 0x%lx), where it has no RAM and no "
			 "device: reads all ones, writes dropped, as a PC's master abort",
			 vm->name, v->index, what, (unsigned long)e->mem.gpa,
			 (unsigned long)v->regs.rip);
	return emulate_mmio(v, e);
}
