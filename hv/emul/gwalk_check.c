#include "hv/emul/gwalk_check.h"

#include "hv/x86/cpu.h"
#include "hv/x86/msr.h"
#include "hv/x86/trap.h"

/* Bits lo..hi of an entry (empty when lo > hi). */
static uint64_t bit_range(unsigned lo, unsigned hi)
{
	if (lo > hi)
		return 0;
	return (~0ull >> (63 - hi)) & ~((1ull << lo) - 1);
}

/* Address bits beyond MAXPHYADDR are reserved; a width outside what
 * paging can hold is taken at the nearest bound. */
static unsigned phys_bits(const struct gwalk *w)
{
	return w->maxphyaddr < 32 ? 32 : w->maxphyaddr > 52 ? 52 : w->maxphyaddr;
}

uint64_t gwalk_reserved64(const struct gwalk *w, bool pae, int level, uint64_t entry)
{
	unsigned m = phys_bits(w);

	/* PAE PDPTEs have neither rights nor XD: SDM table 4-8. */
	if (pae && level == 2)
		return bit_range(m, 63) | bit_range(1, 2) | bit_range(5, 8);
	/* Above the address, PAE entries reserve up to bit 62; 4-level
	 * entries leave 62:52 to software. */
	uint64_t r = bit_range(m, pae ? 62 : 51);
	if (!(w->efer & EFER_NXE))
		r |= PTE_XD;
	bool large = entry & PTE_PS;
	if (level == 3)
		r |= PTE_PS; /* no 512 GiB pages */
	else if (level == 2 && large)
		r |= w->gbpages ? bit_range(13, 29) : PTE_PS;
	else if (level == 1 && large)
		r |= bit_range(13, 20);
	return r;
}

uint64_t gwalk_reserved_4m(const struct gwalk *w)
{
	/* Bits 20:13 hold address bits 39:32 (PSE-36), so PDE bit k carries
	 * address bit k + 19; bit 21 is always reserved. */
	unsigned m = phys_bits(w) < 40 ? phys_bits(w) : 40;

	return bit_range(m - 19, 21);
}

/* Supervisor accesses at CPL 3 are the implicit ones only. */
static bool user_access(const struct gwalk *w, unsigned access)
{
	return w->cpl == 3 && !(access & GWALK_IMPLICIT);
}

bool gwalk_allowed(const struct gwalk *w, unsigned access, struct gwalk_rights r)
{
	bool write = access & GWALK_WRITE;

	if (access & GWALK_FETCH) {
		if (r.nx)
			return false;
		if (user_access(w, access))
			return r.user;
		return !(r.user && (w->cr4 & CR4_SMEP));
	}
	if (user_access(w, access))
		return r.user && (r.writable || !write);
	if (write && !r.writable && (w->cr0 & CR0_WP))
		return false;
	/* SMAP: RFLAGS.AC opens user pages to explicit accesses only. */
	if (r.user && (w->cr4 & CR4_SMAP) && ((access & GWALK_IMPLICIT) || !w->ac))
		return false;
	return true;
}

uint32_t gwalk_error_code(const struct gwalk *w, unsigned access)
{
	uint32_t error = 0;

	if (access & GWALK_WRITE)
		error |= PF_ERR_W;
	if (user_access(w, access))
		error |= PF_ERR_U;
	/* I/D is reported only where fetches can be refused (SDM §4.7). */
	if ((access & GWALK_FETCH) &&
	    ((w->cr4 & CR4_SMEP) || ((w->cr4 & CR4_PAE) && (w->efer & EFER_NXE))))
		error |= PF_ERR_ID;
	return error;
}
