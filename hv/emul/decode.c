#include "hv/emul/decode.h"

#include "hv/lib/string.h"

#define MAX_INSN 15

struct cursor {
	const uint8_t *p;
	size_t n, pos;
	bool short_;
};

static uint8_t next(struct cursor *c)
{
	if (c->pos >= c->n || c->pos >= MAX_INSN) {
		c->short_ = true;
		return 0;
	}
	return c->p[c->pos++];
}

static uint64_t take_imm(struct cursor *c, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)next(c) << (8 * i);
	return v;
}

static uint64_t sign_extend(uint64_t v, unsigned bytes)
{
	unsigned shift = 64 - 8 * bytes;

	return (uint64_t)((int64_t)(v << shift) >> shift);
}

/* Skips ModRM's addressing bytes; false for a register operand (mod 3),
 * which cannot be a memory access. */
static bool skip_modrm(struct cursor *c, uint8_t modrm, unsigned addr_size)
{
	unsigned mod = modrm >> 6, rm = modrm & 7;

	if (mod == 3)
		return false;
	if (addr_size == 2) {
		if (mod == 0 && rm == 6)
			take_imm(c, 2);
		else if (mod == 1)
			take_imm(c, 1);
		else if (mod == 2)
			take_imm(c, 2);
		return true;
	}
	if (rm == 4) {
		uint8_t sib = next(c);
		if (mod == 0 && (sib & 7) == 5)
			take_imm(c, 4);
	}
	if (mod == 0 && rm == 5)
		take_imm(c, 4);
	else if (mod == 1)
		take_imm(c, 1);
	else if (mod == 2)
		take_imm(c, 4);
	return true;
}

enum decode_result decode_mmio(const uint8_t *code, size_t n, int mode, struct mmio_insn *out)
{
	struct cursor c = { code, n, 0, false };
	bool opsize = false, addrsize = false;
	uint8_t rex = 0, op;

	memset(out, 0, sizeof(*out));
	for (;;) {
		op = next(&c);
		if (op == 0x66)
			opsize = true;
		else if (op == 0x67)
			addrsize = true;
		else if (op == 0x26 || op == 0x2e || op == 0x36 || op == 0x3e || op == 0x64 ||
			 op == 0x65 || op == 0xf0 || op == 0xf2 || op == 0xf3)
			continue; /* segment, lock, rep: no effect on the decoding */
		else
			break;
		if (c.short_)
			return DECODE_TRUNCATED;
	}
	if (mode == 64 && (op & 0xf0) == 0x40) {
		rex = op;
		op = next(&c);
	}
	unsigned osz = mode == 16 ? (opsize ? 4 : 2) : (opsize ? 2 : 4);
	if (rex & 8)
		osz = 8;
	unsigned asz = mode == 64 ? (addrsize ? 4 : 8) : mode == 32 ? (addrsize ? 2 : 4) :
				    (addrsize ? 4 : 2);

	uint8_t modrm;
	switch (op) {
	case 0x88: case 0x89: case 0x8a: case 0x8b:
		modrm = next(&c);
		if (!skip_modrm(&c, modrm, asz))
			return DECODE_UNSUPPORTED;
		out->size = (op & 1) ? (uint8_t)osz : 1;
		out->write = op < 0x8a;
		out->reg = ((modrm >> 3) & 7) | ((rex & 4) ? 8 : 0);
		out->reg_size = out->size;
		break;
	case 0xc6: case 0xc7:
		modrm = next(&c);
		if (((modrm >> 3) & 7) != 0 || !skip_modrm(&c, modrm, asz))
			return DECODE_UNSUPPORTED;
		out->size = op == 0xc6 ? 1 : (uint8_t)osz;
		out->write = true;
		out->has_imm = true;
		unsigned ib = out->size == 8 ? 4 : out->size;
		out->imm = sign_extend(take_imm(&c, ib), ib);
		break;
	case 0xa0: case 0xa1: case 0xa2: case 0xa3:
		take_imm(&c, asz);
		out->size = (op & 1) ? (uint8_t)osz : 1;
		out->write = op >= 0xa2;
		out->reg = 0; /* AL/AX/EAX/RAX */
		out->reg_size = out->size;
		break;
	case 0x0f:
		op = next(&c);
		if (op != 0xb6 && op != 0xb7 && op != 0xbe && op != 0xbf)
			return c.short_ ? DECODE_TRUNCATED : DECODE_UNSUPPORTED;
		modrm = next(&c);
		if (!skip_modrm(&c, modrm, asz))
			return DECODE_UNSUPPORTED;
		out->size = (op & 1) ? 2 : 1;
		out->write = false;
		out->reg = ((modrm >> 3) & 7) | ((rex & 4) ? 8 : 0);
		out->reg_size = (uint8_t)osz;
		out->sign_extend = op >= 0xbe;
		break;
	default:
		return c.short_ ? DECODE_TRUNCATED : DECODE_UNSUPPORTED;
	}
	if (c.short_)
		return DECODE_TRUNCATED;
	/* Byte registers 4-7 without REX are AH, CH, DH, BH. */
	if (out->size == 1 && !out->has_imm && !rex && out->reg >= 4 && out->reg < 8 &&
	    out->reg_size == 1) {
		out->high_byte = true;
		out->reg -= 4;
	}
	out->len = (uint8_t)c.pos;
	return DECODE_OK;
}
