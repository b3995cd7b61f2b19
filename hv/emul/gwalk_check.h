/* The checks of a guest page walk (hv/emul/gwalk.c): which bits of an
 * entry are reserved, what the entries of one walk allow together, and
 * the #PF error code for an access. Intel SDM vol. 3 §4.3-4.7, AMD APM
 * vol. 2 §5.3-5.6. */
#ifndef HV_EMUL_GWALK_CHECK_H
#define HV_EMUL_GWALK_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/emul/gwalk.h"

/* Paging-structure entry bits (the same in 32-bit, PAE and 4-level). */
#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)
#define PTE_XD (1ull << 63)

/* Levels of the 64-bit formats: 0 maps 4 KiB pages, 1 is the page
 * directory, 2 the PDPT (the four PDPTEs under PAE), 3 the PML4. */
uint64_t gwalk_reserved64(const struct gwalk *w, bool pae, int level, uint64_t entry);
/* Reserved bits of a 32-bit paging PDE that maps a 4 MiB page. */
uint64_t gwalk_reserved_4m(const struct gwalk *w);

/* What the entries of one walk allow together: U/S and R/W must be set in
 * every one, XD in any one denies execution. */
struct gwalk_rights {
	bool user, writable, nx;
};

static inline void gwalk_rights_add(struct gwalk_rights *r, uint64_t entry)
{
	r->user = r->user && (entry & PTE_US);
	r->writable = r->writable && (entry & PTE_RW);
	r->nx = r->nx || (entry & PTE_XD);
}

/* Whether the access (GWALK_* flags) may use a page with these rights. */
bool gwalk_allowed(const struct gwalk *w, unsigned access, struct gwalk_rights r);

/* The W/R, U/S and I/D bits of the #PF error code for the access; the
 * caller adds P and RSVD for what went wrong. */
uint32_t gwalk_error_code(const struct gwalk *w, unsigned access);

#endif
