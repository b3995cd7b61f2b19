#include "hv/vm/mmio.h"

#include "hv/emul/decode.h"
#include "hv/emul/gwalk.h"
#include "hv/vm/platform.h"
#include "hv/vm/poison.h"
#include "hv/vm/ports.h"
#include "hv/vm/vm.h"
#include "hv/x86/cpu.h"
#include "hv/x86/trap.h"

#define STRING_IO_MAX_PER_EXIT 4096 /* REP iterations before re-entering */

static bool read_guest(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	return gmem_read(&((struct vm *)ctx)->mem, gpa, buf, len);
}

static void walker(struct vcpu *v, const struct vcpu_state *s, struct gwalk *w)
{
	*w = (struct gwalk){ s->cr0, s->cr3, s->cr4, s->efer, read_guest, v->vm };
}

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
	walker(v, &s, &w);
	uint64_t rip = code_mode(&s) == 64 ? v->regs.rip : s.seg[SEG_CS].base + (uint32_t)v->regs.rip;
	size_t avail = sizeof(code);
	/* Fetch what lies on mapped pages; a short read shows as truncation. */
	while (avail && !gwalk_read(&w, rip, code, avail))
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
		platform_mmio_write(vm, e->mem.gpa, in.size, value & mask_of(in.size));
	} else {
		uint64_t value = 0;
		platform_mmio_read(vm, e->mem.gpa, in.size, &value);
		write_reg(v, &in, value & mask_of(in.size));
	}
	vm->mmio_emulated++;
	v->regs.rip += in.len;
	return EXIT_CONTINUE;
}

/* Linear address of the string operand: DS (or an override) :rSI for OUTS,
 * ES:rDI for INS. */
static uint64_t string_address(const struct vcpu_state *s, const struct vm_exit *e,
			       uint64_t index)
{
	uint64_t amask = e->io.addr_size == 8 ? ~0ull : mask_of(e->io.addr_size);
	unsigned seg = e->io.in ? SEG_ES : e->io.segment;

	if ((s->efer & EFER_LMA) && (s->seg[SEG_CS].attr & SEG_ATTR_L))
		return (seg == SEG_FS || seg == SEG_GS ? s->seg[seg].base : 0) + (index & amask);
	return (s->seg[seg].base + (index & amask)) & 0xffffffffull;
}

enum exit_action emulate_string_io(struct vcpu *v, const struct vm_exit *e)
{
	struct vm *vm = v->vm;
	struct vcpu_state s;
	struct gwalk w;
	uint64_t amask = e->io.addr_size == 8 ? ~0ull : mask_of(e->io.addr_size);
	uint64_t *index = e->io.in ? &v->regs.rdi : &v->regs.rsi;
	int64_t step = (v->regs.rflags & RFLAGS_DF) ? -(int64_t)e->io.size : e->io.size;
	unsigned done = 0;

	vcpu_ops->get_state(v, &s);
	walker(v, &s, &w);
	while (!e->io.rep || (v->regs.rcx & amask)) {
		uint64_t la = string_address(&s, e, *index), gpa;
		uint32_t value = 0;
		if (gwalk_translate(&w, la, &gpa) != GWALK_OK ||
		    !gmem_contains(&vm->mem, gpa, e->io.size)) {
			vm_crash(vm, "string I/O on port 0x%x with an unmapped buffer at 0x%lx",
				 e->io.port, (unsigned long)la);
			return EXIT_STOP;
		}
		if (vm_page_poisoned(vm, gpa) || vm_page_poisoned(vm, gpa + e->io.size - 1)) {
			vm_crash(vm, "machine check: string I/O on port 0x%x with a buffer in poisoned "
				 "guest page 0x%lx", e->io.port, (unsigned long)(gpa & ~0xfffull));
			return EXIT_STOP;
		}
		if (e->io.in) {
			value = port_read(vm, e->io.port, e->io.size);
			gmem_write(&vm->mem, gpa, &value, e->io.size);
			dirty_log_mark(vm, gpa, e->io.size); /* bypasses the tables */
		} else {
			gmem_read(&vm->mem, gpa, &value, e->io.size);
			if (port_write(vm, e->io.port, e->io.size, value) == PORT_VM_STOPPED)
				return EXIT_STOP;
		}
		*index = (*index & ~amask) | ((*index + (uint64_t)step) & amask);
		if (!e->io.rep)
			break;
		v->regs.rcx = (v->regs.rcx & ~amask) | ((v->regs.rcx - 1) & amask);
		if (++done == STRING_IO_MAX_PER_EXIT)
			return EXIT_CONTINUE; /* same RIP: the guest re-executes the rest */
	}
	v->regs.rip += e->insn_len;
	return EXIT_CONTINUE;
}
