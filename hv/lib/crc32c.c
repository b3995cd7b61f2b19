/* CRC-32C; see crc32c.h. The software path is slice-by-8 with tables built
 * on first use (8 KiB), which keeps the image small and the code short. */
#include "hv/lib/crc32c.h"

#include <stdbool.h>

#define POLY 0x82f63b78u /* 0x1EDC6F41 reflected */
#define CPUID1_ECX_SSE42 (1u << 20)

static uint32_t table[8][256];
static bool table_ready;
/* -1: not yet chosen; 0: software; 1: the SSE4.2 CRC32 instruction.
 * Several CPUs may choose at once: each stores a valid answer. */
static int use_hw = -1;

static void build_table(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ POLY : c >> 1;
		table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
	table_ready = true;
}

uint32_t crc32c_sw(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

	if (!table_ready)
		build_table();
	crc = ~crc;
	while (len && ((uintptr_t)p & 7)) {
		crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
		len--;
	}
	for (; len >= 8; len -= 8, p += 8) {
		uint64_t w = *(const uint64_t *)p ^ crc; /* x86: little endian */
		crc = table[7][w & 0xff] ^ table[6][(w >> 8) & 0xff] ^
		      table[5][(w >> 16) & 0xff] ^ table[4][(w >> 24) & 0xff] ^
		      table[3][(w >> 32) & 0xff] ^ table[2][(w >> 40) & 0xff] ^
		      table[1][(w >> 48) & 0xff] ^ table[0][w >> 56];
	}
	while (len--)
		crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
	return ~crc;
}

bool crc32c_hw_available(void)
{
	uint32_t a = 1, b, c = 0, d;

	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return c & CPUID1_ECX_SSE42;
}

/* The CRC32 instruction is an integer one (no XMM state), so it is used
 * with inline assembly in an image built without SSE. */
uint32_t crc32c_hw(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t c = ~crc;

	while (len && ((uintptr_t)p & 7)) {
		__asm__("crc32b %1, %k0" : "+r"(c) : "rm"(*p));
		p++;
		len--;
	}
	for (; len >= 8; len -= 8, p += 8)
		__asm__("crc32q %1, %0" : "+r"(c) : "rm"(*(const uint64_t *)p));
	while (len--) {
		__asm__("crc32b %1, %k0" : "+r"(c) : "rm"(*p));
		p++;
	}
	return ~(uint32_t)c;
}

static uint64_t ticks(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* The instruction where it is faster, timed on the tables themselves (8
 * KiB), each path four times in turn: on hardware it is ~13x faster, but
 * an emulator may run it through a slow helper (QEMU TCG: 3x slower than
 * the software path), and then the software path is kept. */
static int choose(void)
{
	if (!crc32c_hw_available())
		return 0;
	if (!table_ready)
		build_table();
	uint64_t sw = 0, hw = 0;
	uint32_t a = 0, b = 0;
	for (int i = 0; i < 4; i++) {
		uint64_t t0 = ticks();
		a = crc32c_sw(a, table, sizeof(table));
		uint64_t t1 = ticks();
		b = crc32c_hw(b, table, sizeof(table));
		uint64_t t2 = ticks();
		sw += t1 - t0;
		hw += t2 - t1;
	}
	return a == b && hw < sw;
}

static bool hw_chosen(void)
{
	if (use_hw < 0)
		use_hw = choose();
	return use_hw;
}

const char *crc32c_impl(void)
{
	return hw_chosen() ? "sse4.2" : "software";
}

uint32_t crc32c(uint32_t crc, const void *data, size_t len)
{
	return hw_chosen() ? crc32c_hw(crc, data, len) : crc32c_sw(crc, data, len);
}
