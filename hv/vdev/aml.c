#include "hv/vdev/aml.h"

#include "hv/lib/string.h"

#define PKG_LENGTH_MAX_BYTES 4
#define PKG_LENGTH_MAX ((1u << 28) - 1) /* 4 bytes: 4 + 8 + 8 + 8 bits */

void aml_init(struct aml *a, uint8_t *buf, size_t size)
{
	a->buf = buf;
	a->size = size;
	a->pos = 0;
	a->overflow = false;
}

static bool room(struct aml *a, size_t n)
{
	if (a->overflow || a->size - a->pos < n) {
		a->overflow = true;
		return false;
	}
	return true;
}

void aml_byte(struct aml *a, uint8_t b)
{
	if (room(a, 1))
		a->buf[a->pos++] = b;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (room(a, n)) {
		memcpy(a->buf + a->pos, p, n);
		a->pos += n;
	}
}

void aml_nameseg(struct aml *a, const char *seg)
{
	aml_bytes(a, seg, 4);
}

static void little_endian(struct aml *a, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		aml_byte(a, (uint8_t)(v >> (8 * i)));
}

void aml_integer(struct aml *a, uint64_t v)
{
	if (v <= 1) {
		aml_byte(a, v ? AML_ONE : AML_ZERO);
	} else if (v <= 0xff) {
		aml_byte(a, AML_BYTE_PREFIX);
		little_endian(a, v, 1);
	} else if (v <= 0xffff) {
		aml_byte(a, AML_WORD_PREFIX);
		little_endian(a, v, 2);
	} else if (v <= 0xffffffffu) {
		aml_byte(a, AML_DWORD_PREFIX);
		little_endian(a, v, 4);
	} else {
		aml_byte(a, AML_QWORD_PREFIX);
		little_endian(a, v, 8);
	}
}

static unsigned hex_digit(char c)
{
	return c >= 'A' ? (unsigned)(c - 'A' + 10) : (unsigned)(c - '0');
}

/* Three letters of five bits each ('A' = 1) and four hex digits, stored
 * big-endian: "PNP0A03" is 0x41d0 0x0a03, the DWord 0x030ad041. */
void aml_eisaid(struct aml *a, const char *id)
{
	uint32_t v = 0;

	for (int i = 0; i < 3; i++)
		v |= (uint32_t)((id[i] - '@') & 0x1f) << (26 - 5 * i);
	for (int i = 3; i < 7; i++)
		v |= hex_digit(id[i]) << (4 * (6 - i));
	aml_byte(a, AML_DWORD_PREFIX);
	for (int i = 3; i >= 0; i--)
		aml_byte(a, (uint8_t)(v >> (8 * i)));
}

size_t aml_open(struct aml *a)
{
	size_t handle = a->pos;

	/* Room for the longest encoding; aml_close() moves the contents back. */
	if (room(a, PKG_LENGTH_MAX_BYTES))
		a->pos += PKG_LENGTH_MAX_BYTES;
	return handle;
}

/* PkgLength (ACPI 6.0, 20.2.4): the length counts its own bytes. One byte
 * holds up to 63; longer ones put the byte count - 1 in bits 7:6 of the
 * lead byte, the low nibble of the length in its bits 3:0, and the rest in
 * the following bytes. */
void aml_close(struct aml *a, size_t handle)
{
	if (a->overflow)
		return;
	size_t body = a->pos - handle - PKG_LENGTH_MAX_BYTES;
	unsigned n = body + 1 <= 63 ? 1 : body + 2 <= 0xfff ? 2 : body + 3 <= 0xfffff ? 3 : 4;
	size_t len = body + n;

	if (len > PKG_LENGTH_MAX) {
		a->overflow = true;
		return;
	}
	uint8_t *p = a->buf + handle;
	memmove(p + n, p + PKG_LENGTH_MAX_BYTES, body);
	if (n == 1) {
		p[0] = (uint8_t)len;
	} else {
		p[0] = (uint8_t)((n - 1) << 6 | (len & 0x0f));
		for (unsigned i = 1; i < n; i++)
			p[i] = (uint8_t)(len >> (4 + 8 * (i - 1)));
	}
	a->pos = handle + n + body;
}
