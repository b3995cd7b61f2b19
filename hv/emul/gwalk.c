#include "hv/emul/gwalk.h"

#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define EFER_LMA (1ull << 10)
#define PTE_P 1ull
#define PTE_PS (1ull << 7)
#define ADDR_MASK 0x000ffffffffff000ull

static bool entry64(const struct gwalk *w, uint64_t table, unsigned idx, uint64_t *e)
{
	return w->read(w->ctx, (table & ADDR_MASK) + idx * 8, e, 8);
}

static enum gwalk_result walk_long(const struct gwalk *w, uint64_t la, uint64_t *gpa)
{
	uint64_t table = w->cr3;

	for (int level = 3; level >= 0; level--) {
		uint64_t e;
		if (!entry64(w, table, (unsigned)(la >> (12 + 9 * level)) & 511, &e))
			return GWALK_BAD_TABLE;
		if (!(e & PTE_P))
			return GWALK_NOT_PRESENT;
		if (level == 0 || (level <= 2 && (e & PTE_PS))) {
			uint64_t size = 1ull << (12 + 9 * level);
			*gpa = (e & ADDR_MASK & ~(size - 1)) | (la & (size - 1));
			return GWALK_OK;
		}
		table = e;
	}
	return GWALK_BAD_TABLE;
}

static enum gwalk_result walk_pae(const struct gwalk *w, uint64_t la, uint64_t *gpa)
{
	uint64_t pdpte;

	if (!w->read(w->ctx, (w->cr3 & 0xffffffe0ull) + ((la >> 30) & 3) * 8, &pdpte, 8))
		return GWALK_BAD_TABLE;
	if (!(pdpte & PTE_P))
		return GWALK_NOT_PRESENT;
	uint64_t table = pdpte;
	for (int level = 1; level >= 0; level--) {
		uint64_t e;
		if (!entry64(w, table, (unsigned)(la >> (12 + 9 * level)) & 511, &e))
			return GWALK_BAD_TABLE;
		if (!(e & PTE_P))
			return GWALK_NOT_PRESENT;
		if (level == 0 || (e & PTE_PS)) {
			uint64_t size = 1ull << (12 + 9 * level);
			*gpa = (e & ADDR_MASK & ~(size - 1)) | (la & (size - 1));
			return GWALK_OK;
		}
		table = e;
	}
	return GWALK_BAD_TABLE;
}

static enum gwalk_result walk_32(const struct gwalk *w, uint32_t la, uint64_t *gpa)
{
	uint32_t pde, pte;

	if (!w->read(w->ctx, (w->cr3 & 0xfffff000u) + (la >> 22) * 4, &pde, 4))
		return GWALK_BAD_TABLE;
	if (!(pde & PTE_P))
		return GWALK_NOT_PRESENT;
	if ((pde & PTE_PS) && (w->cr4 & CR4_PSE)) {
		/* 4 MiB page; bits 20:13 extend the address beyond 4 GiB (PSE-36). */
		uint64_t base = (pde & 0xffc00000u) | ((uint64_t)((pde >> 13) & 0xff) << 32);
		*gpa = base | (la & 0x3fffff);
		return GWALK_OK;
	}
	if (!w->read(w->ctx, (pde & 0xfffff000u) + ((la >> 12) & 1023) * 4, &pte, 4))
		return GWALK_BAD_TABLE;
	if (!(pte & PTE_P))
		return GWALK_NOT_PRESENT;
	*gpa = (pte & 0xfffff000u) | (la & 0xfff);
	return GWALK_OK;
}

enum gwalk_result gwalk_translate(const struct gwalk *w, uint64_t la, uint64_t *gpa)
{
	if (!(w->cr0 & CR0_PG)) {
		*gpa = la & 0xffffffffull;
		return GWALK_OK;
	}
	if (w->efer & EFER_LMA)
		return walk_long(w, la, gpa);
	if (w->cr4 & CR4_PAE)
		return walk_pae(w, la & 0xffffffffull, gpa);
	return walk_32(w, (uint32_t)la, gpa);
}

bool gwalk_read(const struct gwalk *w, uint64_t la, void *buf, size_t len)
{
	uint8_t *out = buf;

	while (len) {
		uint64_t gpa;
		size_t n = 4096 - (size_t)(la & 0xfff);
		if (n > len)
			n = len;
		if (gwalk_translate(w, la, &gpa) != GWALK_OK || !w->read(w->ctx, gpa, out, n))
			return false;
		out += n;
		la += n;
		len -= n;
	}
	return true;
}
