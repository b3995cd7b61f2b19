/* Guest linear to guest physical translation by walking the guest's own
 * page tables (no paging, 32-bit, PAE and 4-level paging), checking what
 * the CPU checks on the way: present bits, reserved bits and the access
 * rights of Intel SDM vol. 3 §4.6 / AMD APM vol. 2 §5.6 (U/S, R/W with
 * CR0.WP, NX with EFER.NXE, SMEP, SMAP with RFLAGS.AC). A refused access
 * comes back as the #PF the CPU would raise. Protection keys and 5-level
 * paging are not handled: guests are not offered them. */
#ifndef HV_EMUL_GWALK_H
#define HV_EMUL_GWALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/emul/fault.h"

struct gwalk {
	uint64_t cr0, cr3, cr4, efer;
	unsigned cpl;        /* 0-3: the current privilege level */
	bool ac;             /* RFLAGS.AC: lets CPL < 3 reach user pages under SMAP */
	unsigned maxphyaddr; /* the guest's physical-address width (CPUID 0x80000008) */
	bool gbpages;        /* the guest is offered 1 GiB pages (CPUID 0x80000001) */
	bool (*read)(void *ctx, uint64_t gpa, void *buf, size_t len); /* guest RAM */
	/* Sets `bits` (A/D, gwalk_set_ad) in the paging-structure entry of
	 * `size` bytes at gpa if it still holds `old`, with one atomic
	 * compare-and-swap: another vCPU may rewrite that entry meanwhile,
	 * and neither a stored copy nor flags in an entry that changed (not
	 * present now, or another frame) may undo its write. It must go
	 * through the dirty log. NULL: the walk writes nothing. */
	bool (*set_flags)(void *ctx, uint64_t gpa, uint64_t old, uint64_t bits, size_t size);
	void *ctx;
};

/* The access, as flags: a data read is 0. */
#define GWALK_WRITE 1u
#define GWALK_FETCH 2u
/* A supervisor-mode access whatever the CPL (descriptor tables, TSS):
 * SMAP then refuses user pages even with RFLAGS.AC set. */
#define GWALK_IMPLICIT 4u

enum gwalk_status {
	GWALK_OK,
	GWALK_FAULT,     /* the CPU would raise the #PF in the fault description */
	GWALK_BAD_TABLE, /* a paging structure lies outside guest RAM */
};

/* A successful translation, and the entries it went through. */
struct gwalk_xlat {
	uint64_t gpa;
	uint64_t entry_gpa[4]; /* top level first; the last one maps the page */
	unsigned entries;      /* 0 without paging */
	unsigned entry_size;   /* 4 (32-bit paging) or 8 */
};

/* Translates linear address la for an access of the given kind (GWALK_*
 * flags). On GWALK_FAULT *fault holds the #PF (error code, and la as the
 * CR2 value). Guest memory is not changed: see gwalk_set_ad.
 * @pre in 64-bit mode la is canonical (the caller's segment check). */
enum gwalk_status gwalk_translate(const struct gwalk *w, uint64_t la, unsigned access,
				  struct gwalk_xlat *x, struct emul_fault *fault);

/* Sets the accessed flag in every entry of x and, for a write, the dirty
 * flag in the one that maps the page, as the CPU does when it makes the
 * access; entries that have them already are not written. */
void gwalk_set_ad(const struct gwalk *w, const struct gwalk_xlat *x, unsigned access);

/* Reads len bytes at linear address la (may cross pages) for an access of
 * the given kind; A/D are left alone. false if any byte is unreachable. */
bool gwalk_read(const struct gwalk *w, uint64_t la, unsigned access, void *buf, size_t len);

#endif
