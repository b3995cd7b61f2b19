/* Decoding of the instructions guests use to access emulated memory-mapped
 * devices (MOV in its register, immediate and moffs forms, MOVZX, MOVSX),
 * in 16-, 32- and 64-bit code. Without decode assists (QEMU TCG offers
 * none) the hypervisor needs the length and the register operand itself. */
#ifndef HV_EMUL_DECODE_H
#define HV_EMUL_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mmio_insn {
	uint8_t len;       /* bytes, prefixes included */
	uint8_t size;      /* memory access size: 1, 2, 4 or 8 */
	bool write;        /* stores to memory */
	bool has_imm;      /* the stored value is 'imm', not a register */
	uint64_t imm;
	uint8_t reg;       /* register operand (0-15, x86 numbering) */
	bool high_byte;    /* AH/CH/DH/BH */
	uint8_t reg_size;  /* register width written by loads */
	bool sign_extend;  /* MOVSX */
};

enum decode_result { DECODE_OK, DECODE_UNSUPPORTED, DECODE_TRUNCATED };

/* mode: 16, 32 or 64 (the code segment's default size). */
enum decode_result decode_mmio(const uint8_t *code, size_t n, int mode, struct mmio_insn *out);

#endif
