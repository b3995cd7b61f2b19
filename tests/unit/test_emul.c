#include <criterion/criterion.h>
#include <string.h>

#include "hv/emul/decode.h"

static void expect_decode(const char *bytes, size_t n, int mode, uint8_t len, uint8_t size,
			  bool write, uint8_t reg)
{
	struct mmio_insn in;

	cr_assert_eq(decode_mmio((const uint8_t *)bytes, n, mode, &in), DECODE_OK);
	cr_assert_eq(in.len, len, "length %u, expected %u", in.len, len);
	cr_assert_eq(in.size, size);
	cr_assert_eq(in.write, write);
	if (!in.has_imm)
		cr_assert_eq(in.reg, reg);
}

Test(decode, mov_forms)
{
	/* mov %eax, 0xfee000b0 (absolute disp32) */
	expect_decode("\x89\x05\xb0\x00\xe0\xfe", 6, 32, 6, 4, true, 0);
	/* mov 0x20(%edx), %ecx */
	expect_decode("\x8b\x4a\x20", 3, 32, 3, 4, false, 1);
	/* mov %esi, (%eax,%ebx,4) with SIB */
	expect_decode("\x89\x34\x98", 3, 32, 3, 4, true, 6);
	/* movl $0x1ff, 0xf0(%eax) */
	struct mmio_insn in;
	cr_assert_eq(decode_mmio((const uint8_t *)"\xc7\x80\xf0\x00\x00\x00\xff\x01\x00\x00", 10, 32,
				 &in), DECODE_OK);
	cr_assert_eq(in.len, 10);
	cr_assert(in.has_imm && in.imm == 0x1ff && in.write && in.size == 4);
	/* 64-bit: mov %r9d, 0x300(%rdi) and mov 0x390(%rip), %rax */
	expect_decode("\x44\x89\x8f\x00\x03\x00\x00", 7, 64, 7, 4, true, 9);
	expect_decode("\x48\x8b\x05\x90\x03\x00\x00", 7, 64, 7, 8, false, 0);
	/* 16-bit operand prefix and moffs form: mov %ax, moffs32 */
	expect_decode("\x66\xa3\x80\x00\xe0\xfe", 6, 32, 6, 2, true, 0);
	/* movzbl (%ebx), %eax */
	cr_assert_eq(decode_mmio((const uint8_t *)"\x0f\xb6\x03", 3, 32, &in), DECODE_OK);
	cr_assert(in.len == 3 && in.size == 1 && in.reg_size == 4 && !in.write);
	/* mov %ah, (%ecx): high byte register */
	cr_assert_eq(decode_mmio((const uint8_t *)"\x88\x21", 2, 32, &in), DECODE_OK);
	cr_assert(in.high_byte && in.reg == 0);
	/* 16-bit addressing: mov %ax, 0x1234 (disp16) */
	expect_decode("\x89\x06\x34\x12", 4, 16, 4, 2, true, 0);
}

Test(decode, refuses_what_it_cannot_emulate)
{
	struct mmio_insn in;

	cr_assert_eq(decode_mmio((const uint8_t *)"\x89\xc0", 2, 32, &in), DECODE_UNSUPPORTED);
	cr_assert_eq(decode_mmio((const uint8_t *)"\x01\x05\0\0\0\0", 6, 32, &in), DECODE_UNSUPPORTED);
	cr_assert_eq(decode_mmio((const uint8_t *)"\x89\x05\xb0", 3, 32, &in), DECODE_TRUNCATED);
	cr_assert_eq(decode_mmio((const uint8_t *)"\x66\x66", 2, 32, &in), DECODE_TRUNCATED);
	uint8_t prefixes[15];
	memset(prefixes, 0x2e, sizeof(prefixes));
	cr_assert_eq(decode_mmio(prefixes, sizeof(prefixes), 32, &in), DECODE_TRUNCATED);
}
