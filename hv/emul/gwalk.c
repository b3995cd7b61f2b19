#include "hv/emul/gwalk.h"

#include "hv/emul/gwalk_check.h"
#include "hv/x86/cpu.h"
#include "hv/x86/msr.h"
#include "hv/x86/trap.h"

#define ADDR_MASK 0x000ffffffffff000ull /* bits 51:12 of a 64-bit entry */
#define ADDR_MASK32 0xfffff000u

static enum gwalk_status page_fault(const struct gwalk *w, uint64_t la, unsigned access,
				    uint32_t why, struct emul_fault *f)
{
	*f = (struct emul_fault){ VEC_PF, true, gwalk_error_code(w, access) | why, la };
	return GWALK_FAULT;
}

/* The walk reached the page: the rights gathered on the way decide. */
static enum gwalk_status check_rights(const struct gwalk *w, uint64_t la, unsigned access,
				      struct gwalk_rights r, struct emul_fault *f)
{
	if (!gwalk_allowed(w, access, r))
		return page_fault(w, la, access, PF_ERR_P, f);
	return GWALK_OK;
}

/* PAE and 4-level paging: 64-bit entries, 9 index bits a level. Under PAE
 * the top level is the four PDPTEs CR3 points to (32-byte aligned). */
static enum gwalk_status walk64(const struct gwalk *w, uint64_t la, unsigned access,
				struct gwalk_xlat *x, struct emul_fault *f)
{
	bool pae = !(w->efer & EFER_LMA);
	uint64_t table = pae ? (w->cr3 & 0xffffffe0ull) : (w->cr3 & ADDR_MASK);
	struct gwalk_rights r = { true, true, false };

	for (int level = pae ? 2 : 3; level >= 0; level--) {
		unsigned shift = 12 + 9 * (unsigned)level;
		uint64_t index = pae && level == 2 ? (la >> 30) & 3 : (la >> shift) & 511;
		uint64_t at = table + index * 8, e;
		if (!w->read(w->ctx, at, &e, 8))
			return GWALK_BAD_TABLE;
		if (!(e & PTE_P))
			return page_fault(w, la, access, 0, f);
		if (e & gwalk_reserved64(w, pae, level, e))
			return page_fault(w, la, access, PF_ERR_P | PF_ERR_RSVD, f);
		table = e & ADDR_MASK;
		if (pae && level == 2)
			continue; /* no rights, and the CPU sets no accessed flag there */
		x->entry_gpa[x->entries++] = at;
		gwalk_rights_add(&r, e);
		if (level == 0 || (e & PTE_PS)) {
			uint64_t size = 1ull << shift;
			x->gpa = (e & ADDR_MASK & ~(size - 1)) | (la & (size - 1));
			return check_rights(w, la, access, r, f);
		}
	}
	return GWALK_BAD_TABLE; /* not reached: level 0 always maps */
}

/* 32-bit paging: 32-bit entries, 10 index bits a level, 4 MiB pages with
 * CR4.PSE (bit 7 is ignored without it). */
static enum gwalk_status walk32(const struct gwalk *w, uint32_t la, unsigned access,
				struct gwalk_xlat *x, struct emul_fault *f)
{
	struct gwalk_rights r = { true, true, false };
	uint64_t at = (w->cr3 & ADDR_MASK32) + (la >> 22) * 4;
	uint32_t pde, pte;

	x->entry_size = 4;
	if (!w->read(w->ctx, at, &pde, 4))
		return GWALK_BAD_TABLE;
	if (!(pde & PTE_P))
		return page_fault(w, la, access, 0, f);
	x->entry_gpa[x->entries++] = at;
	gwalk_rights_add(&r, pde);
	if ((pde & PTE_PS) && (w->cr4 & CR4_PSE)) {
		if (pde & gwalk_reserved_4m(w))
			return page_fault(w, la, access, PF_ERR_P | PF_ERR_RSVD, f);
		uint64_t base = (pde & 0xffc00000u) | ((uint64_t)((pde >> 13) & 0xff) << 32);
		x->gpa = base | (la & 0x3fffff);
		return check_rights(w, la, access, r, f);
	}
	at = (pde & ADDR_MASK32) + ((la >> 12) & 1023) * 4;
	if (!w->read(w->ctx, at, &pte, 4))
		return GWALK_BAD_TABLE;
	if (!(pte & PTE_P))
		return page_fault(w, la, access, 0, f);
	x->entry_gpa[x->entries++] = at;
	gwalk_rights_add(&r, pte);
	x->gpa = (pte & ADDR_MASK32) | (la & 0xfff);
	return check_rights(w, la, access, r, f);
}

enum gwalk_status gwalk_translate(const struct gwalk *w, uint64_t la, unsigned access,
				  struct gwalk_xlat *x, struct emul_fault *fault)
{
	*x = (struct gwalk_xlat){ .entry_size = 8 };
	if (!(w->cr0 & CR0_PG)) {
		x->gpa = la & 0xffffffffull;
		return GWALK_OK;
	}
	if (w->efer & EFER_LMA)
		return walk64(w, la, access, x, fault);
	if (w->cr4 & CR4_PAE)
		return walk64(w, la & 0xffffffffull, access, x, fault);
	return walk32(w, (uint32_t)la, access, x, fault);
}

void gwalk_set_ad(const struct gwalk *w, const struct gwalk_xlat *x, unsigned access)
{
	if (!w->set_flags)
		return;
	for (unsigned i = 0; i < x->entries; i++) {
		uint64_t e = 0, set = PTE_A;
		if (i + 1 == x->entries && (access & GWALK_WRITE))
			set |= PTE_D;
		if (!w->read(w->ctx, x->entry_gpa[i], &e, x->entry_size) || (e & set) == set)
			continue;
		w->set_flags(w->ctx, x->entry_gpa[i], e, set, x->entry_size);
	}
}

bool gwalk_read(const struct gwalk *w, uint64_t la, unsigned access, void *buf, size_t len)
{
	uint8_t *out = buf;

	while (len) {
		struct gwalk_xlat x;
		struct emul_fault f;
		size_t n = 4096 - (size_t)(la & 0xfff);
		if (n > len)
			n = len;
		if (gwalk_translate(w, la, access, &x, &f) != GWALK_OK ||
		    !w->read(w->ctx, x.gpa, out, n))
			return false;
		out += n;
		la += n;
		len -= n;
	}
	return true;
}
