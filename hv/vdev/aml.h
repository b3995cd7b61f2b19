/* A small AML (ACPI Machine Language) encoder for the definition blocks the
 * VM hands its guests (ACPI 6.0, chapter 20 "AML Specification"): names,
 * integers, packages, buffers, scopes and devices, enough for \_S5, a PCI
 * root bridge and whatever SSDTs come later. Writes into a caller's buffer;
 * running out of room sets 'overflow' and writes nothing further. */
#ifndef HV_VDEV_AML_H
#define HV_VDEV_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct aml {
	uint8_t *buf;
	size_t size, pos;
	bool overflow;
};

/* Opcodes used (ACPI 6.0, 20.2.5). */
enum {
	AML_ZERO = 0x00, AML_ONE = 0x01, AML_NAME = 0x08, AML_BYTE_PREFIX = 0x0a,
	AML_WORD_PREFIX = 0x0b, AML_DWORD_PREFIX = 0x0c, AML_QWORD_PREFIX = 0x0e,
	AML_SCOPE = 0x10, AML_BUFFER = 0x11, AML_PACKAGE = 0x12, AML_EXT_PREFIX = 0x5b,
	AML_DEVICE = 0x82, /* after AML_EXT_PREFIX */
	AML_ROOT_CHAR = 0x5c,
};

void aml_init(struct aml *a, uint8_t *buf, size_t size);
void aml_byte(struct aml *a, uint8_t b);
void aml_bytes(struct aml *a, const void *p, size_t n);
/* A NameSeg: exactly four characters ("_S5_", "PCI0"). */
void aml_nameseg(struct aml *a, const char *seg);
/* The shortest encoding of an integer constant (Zero, One, Byte... QWord). */
void aml_integer(struct aml *a, uint64_t v);
/* EISA ID "PNP0A03" compressed into a DWord constant (ACPI 6.0, 19.6.35). */
void aml_eisaid(struct aml *a, const char *id);

/* A package length opens: aml_open() after the opcode, aml_close() once the
 * contents are written; the length (1-4 bytes, the shortest) is inserted
 * before them. Opens nest. Returns the handle aml_close() takes. */
size_t aml_open(struct aml *a);
void aml_close(struct aml *a, size_t handle);

#endif
