#include <criterion/criterion.h>
#include <string.h>

#include "hv/emul/decode.h"
#include "hv/emul/gwalk.h"

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

static uint8_t guest[1 << 22];

static bool read_guest(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	if (gpa + len > sizeof(guest))
		return false;
	memcpy(buf, guest + gpa, len);
	return true;
}

static void put64(uint64_t gpa, uint64_t v)
{
	memcpy(guest + gpa, &v, 8);
}

static void put32(uint64_t gpa, uint32_t v)
{
	memcpy(guest + gpa, &v, 4);
}

Test(gwalk, long_mode_4k_and_2m)
{
	struct gwalk w = { .cr0 = 0x80000011, .cr3 = 0x1000, .cr4 = 0x20, .efer = 0x500,
			   .read = read_guest };
	uint64_t gpa;
	uint64_t va = 0xffff800000201123ull; /* PML4 256, PDPT 0, PD 1, PT 1 */

	memset(guest, 0, 0x10000);
	put64(0x1000 + 256 * 8, 0x2003);
	put64(0x2000, 0x3003);
	put64(0x3000 + 1 * 8, 0x4003);
	put64(0x4000 + 1 * 8, 0x345003);
	cr_assert_eq(gwalk_translate(&w, va, &gpa), GWALK_OK);
	cr_assert_eq(gpa, 0x345123);
	put64(0x3000 + 2 * 8, 0x600083); /* 2 MiB page */
	cr_assert_eq(gwalk_translate(&w, 0xffff800000412345ull, &gpa), GWALK_OK);
	cr_assert_eq(gpa, 0x612345);
	cr_assert_eq(gwalk_translate(&w, 0xffff800000800000ull, &gpa), GWALK_NOT_PRESENT);
	put64(0x1000, 0x7fff0003); /* a table outside guest RAM */
	cr_assert_eq(gwalk_translate(&w, 0x1000, &gpa), GWALK_BAD_TABLE);
}

Test(gwalk, protected_mode_paging_and_pse)
{
	struct gwalk w = { .cr0 = 0x80000011, .cr3 = 0x1000, .cr4 = 0x10, .read = read_guest };
	uint64_t gpa;

	memset(guest, 0, 0x10000);
	put32(0x1000 + 1 * 4, 0x2003);
	put32(0x2000 + 3 * 4, 0x9000 | 3);
	cr_assert_eq(gwalk_translate(&w, 0x403abc, &gpa), GWALK_OK);
	cr_assert_eq(gpa, 0x9abc);
	put32(0x1000 + 2 * 4, 0x00c00083); /* 4 MiB page */
	cr_assert_eq(gwalk_translate(&w, 0x8abcde, &gpa), GWALK_OK);
	cr_assert_eq(gpa, 0xcabcde);
	w.cr0 = 0x11;
	cr_assert_eq(gwalk_translate(&w, 0x12345678, &gpa), GWALK_OK);
	cr_assert_eq(gpa, 0x12345678, "no paging: identity");
}

Test(gwalk, reads_across_pages)
{
	struct gwalk w = { .cr0 = 0x80000011, .cr3 = 0x1000, .cr4 = 0, .read = read_guest };
	char out[8];

	memset(guest, 0, 0x20000);
	put32(0x1000, 0x2003);
	put32(0x2000 + 0 * 4, 0x10003); /* va 0x0000 -> 0x10000 */
	put32(0x2000 + 1 * 4, 0x5003);  /* va 0x1000 -> 0x5000 */
	memcpy(guest + 0x10ffc, "abcd", 4);
	memcpy(guest + 0x5000, "efgh", 4);
	cr_assert(gwalk_read(&w, 0xffc, out, 8));
	cr_assert_eq(memcmp(out, "abcdefgh", 8), 0);
	cr_assert_not(gwalk_read(&w, 0x1ffc, out, 8), "read into an unmapped page");
}
