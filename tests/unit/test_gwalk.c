/* The guest page walker against the rules of Intel SDM vol. 3 §4.6-4.8 /
 * AMD APM vol. 2 §5.6: translations in every paging mode, access rights
 * by CPL and access kind, reserved bits, #PF error codes, A/D flags. */
#include <criterion/criterion.h>
#include <string.h>

#include "guest_pt.h"
#include "hv/emul/gwalk.h"
#include "hv/x86/cpu.h"
#include "hv/x86/msr.h"
#include "hv/x86/trap.h"

#define P PF_ERR_P
#define W PF_ERR_W
#define U PF_ERR_U
#define RSVD PF_ERR_RSVD
#define ID PF_ERR_ID
#define READ 0u
#define WRITE GWALK_WRITE
#define FETCH GWALK_FETCH

static struct gwalk_xlat x;
static struct emul_fault f;

static enum gwalk_status walk(const struct gwalk *w, uint64_t la, unsigned access)
{
	memset(&f, 0, sizeof(f));
	return gwalk_translate(w, la, access, &x, &f);
}

static void expect_ok(const struct gwalk *w, uint64_t la, unsigned access, uint64_t gpa)
{
	enum gwalk_status st = walk(w, la, access);

	cr_assert_eq(st, GWALK_OK, "0x%lx (access %u, CPL %u): status %d, error 0x%x",
		     (unsigned long)la, access, w->cpl, st, f.error);
	cr_assert_eq(x.gpa, gpa, "0x%lx -> 0x%lx, expected 0x%lx", (unsigned long)la,
		     (unsigned long)x.gpa, (unsigned long)gpa);
}

static void expect_pf(const struct gwalk *w, uint64_t la, unsigned access, uint32_t error)
{
	enum gwalk_status st = walk(w, la, access);

	cr_assert_eq(st, GWALK_FAULT, "0x%lx (access %u, CPL %u): status %d, expected #PF 0x%x",
		     (unsigned long)la, access, w->cpl, st, error);
	cr_assert_eq(f.vector, VEC_PF);
	cr_assert(f.has_error);
	cr_assert_eq(f.error, error, "0x%lx (access %u, CPL %u): error 0x%x, expected 0x%x",
		     (unsigned long)la, access, w->cpl, f.error, error);
	cr_assert_eq(f.address, la, "CR2 0x%lx, expected 0x%lx", (unsigned long)f.address,
		     (unsigned long)la);
}

TestSuite(gwalk, .init = guest_reset);

Test(gwalk, long_mode_page_sizes)
{
	struct gwalk w = walker_long();

	map64(false, 0xffff800000201000ull, 0x345000, 0, E_ALL, E_P | E_RW);
	expect_ok(&w, 0xffff800000201123ull, READ, 0x345123);
	map64(false, 0xffff800000400000ull, 0x600000, 1, E_ALL, E_P | E_RW);
	expect_ok(&w, 0xffff800000412345ull, WRITE, 0x612345);
	map64(false, 0x40000000, 0x80000000, 2, E_ALL, E_P);
	expect_pf(&w, 0x42345678, READ, P | RSVD); /* no 1 GiB pages offered: PS reserved */
	w.gbpages = true;
	expect_ok(&w, 0x42345678, READ, 0x82345678);
	/* Not present: P clear, the access described. */
	expect_pf(&w, 0xffff800000800000ull, READ, 0);
	expect_pf(&w, 0xffff800000800000ull, WRITE, W);
	w.cpl = 3;
	expect_pf(&w, 0xffff800000800000ull, WRITE, W | U);
	expect_pf(&w, 0xffff800000800000ull, FETCH, U | ID);
	/* A table outside guest RAM is no fault the guest could get. */
	guest_put(GUEST_CR3 + 8, 0x7fff0000 | E_ALL, 8);
	cr_assert_eq(walk(&w, 0x8000000000ull, READ), GWALK_BAD_TABLE);
}

Test(gwalk, user_accesses_need_user_pages_at_every_level)
{
	struct gwalk w = walker_long();

	map64(false, 0x400000, 0x500000, 0, E_ALL, E_P | E_RW | E_US);
	map64(false, 0x401000, 0x501000, 0, E_ALL, E_P | E_RW); /* supervisor */
	map64(false, 0x80000000, 0x502000, 0, E_P | E_RW, E_P | E_RW | E_US); /* U/S clear above */
	w.cpl = 3;
	expect_ok(&w, 0x400010, READ, 0x500010);
	expect_ok(&w, 0x400010, WRITE, 0x500010);
	expect_ok(&w, 0x400010, FETCH, 0x500010);
	expect_pf(&w, 0x401010, READ, P | U);
	expect_pf(&w, 0x401010, WRITE, P | W | U);
	expect_pf(&w, 0x401010, FETCH, P | U | ID);
	expect_pf(&w, 0x80000010, READ, P | U);
	/* Implicit accesses (descriptor tables) are supervisor at any CPL. */
	expect_ok(&w, 0x401010, READ | GWALK_IMPLICIT, 0x501010);
	w.cpl = 2; /* CPL 0-2 are all supervisor */
	expect_ok(&w, 0x401010, WRITE, 0x501010);
	expect_ok(&w, 0x80000010, WRITE, 0x502010);
}

Test(gwalk, writes_need_rw_at_every_level_and_wp_binds_the_supervisor)
{
	struct gwalk w = walker_long();

	map64(false, 0x400000, 0x500000, 0, E_ALL, E_P | E_US);            /* read-only leaf */
	map64(false, 0x80000000, 0x502000, 0, E_P | E_US, E_P | E_RW | E_US); /* R/W clear above */
	w.cpl = 3;
	expect_ok(&w, 0x400000, READ, 0x500000);
	expect_pf(&w, 0x400000, WRITE, P | W | U);
	expect_pf(&w, 0x80000000, WRITE, P | W | U);
	w.cpl = 0;
	expect_pf(&w, 0x400000, WRITE, P | W);
	expect_pf(&w, 0x80000000, WRITE, P | W);
	w.cr0 &= ~CR0_WP;
	expect_ok(&w, 0x400000, WRITE, 0x500000);
	expect_ok(&w, 0x80000000, WRITE, 0x502000);
	w.cpl = 3; /* WP has no say over user accesses */
	expect_pf(&w, 0x400000, WRITE, P | W | U);
}

Test(gwalk, execute_disable_with_nxe_and_reserved_without)
{
	struct gwalk w = walker_long();

	map64(false, 0x400000, 0x500000, 0, E_ALL, E_P | E_US | E_XD);
	map64(false, 0x80000000, 0x502000, 0, E_ALL | E_XD, E_P | E_US); /* XD above */
	map64(false, 0x401000, 0x501000, 0, E_ALL, E_P | E_US);
	expect_ok(&w, 0x400000, READ, 0x500000);
	expect_pf(&w, 0x400000, FETCH, P | ID);
	expect_pf(&w, 0x80000000, FETCH, P | ID);
	expect_ok(&w, 0x401000, FETCH, 0x501000);
	w.cpl = 3;
	expect_pf(&w, 0x400000, FETCH, P | U | ID);
	/* Without EFER.NXE bit 63 is reserved, for every access, and I/D is
	 * not reported (no SMEP either). */
	w.efer &= ~EFER_NXE;
	expect_pf(&w, 0x400000, READ, P | U | RSVD);
	expect_pf(&w, 0x80000000, FETCH, P | U | RSVD);
	expect_pf(&w, 0x402000, FETCH, U);
	w.cpl = 0;
	expect_ok(&w, 0x401000, FETCH, 0x501000);
}

Test(gwalk, smep_refuses_supervisor_fetches_from_user_pages)
{
	struct gwalk w = walker_long();

	w.efer &= ~EFER_NXE; /* I/D must come from SMEP alone */
	w.cr4 |= CR4_SMEP;
	map64(false, 0x400000, 0x500000, 0, E_ALL, E_P | E_US);
	map64(false, 0x401000, 0x501000, 0, E_ALL, E_P);
	expect_pf(&w, 0x400000, FETCH, P | ID);
	expect_ok(&w, 0x400000, READ, 0x500000); /* data is SMAP's business */
	expect_ok(&w, 0x401000, FETCH, 0x501000);
	expect_pf(&w, 0x402000, FETCH, ID);
	w.cpl = 3;
	expect_ok(&w, 0x400000, FETCH, 0x500000);
	expect_pf(&w, 0x401000, FETCH, P | U | ID);
}

Test(gwalk, smap_refuses_supervisor_data_accesses_to_user_pages)
{
	struct gwalk w = walker_long();

	w.cr4 |= CR4_SMAP;
	map64(false, 0x400000, 0x500000, 0, E_ALL, E_P | E_RW | E_US);
	map64(false, 0x401000, 0x501000, 0, E_ALL, E_P | E_RW);
	expect_pf(&w, 0x400000, READ, P);
	expect_pf(&w, 0x400000, WRITE, P | W);
	expect_ok(&w, 0x400000, FETCH, 0x500000); /* fetches are SMEP's business */
	expect_ok(&w, 0x401000, WRITE, 0x501000);
	w.ac = true; /* STAC: explicit accesses may */
	expect_ok(&w, 0x400000, READ, 0x500000);
	expect_ok(&w, 0x400000, WRITE, 0x500000);
	expect_pf(&w, 0x400000, READ | GWALK_IMPLICIT, P); /* implicit ones never */
	w.cpl = 3;
	expect_ok(&w, 0x400000, WRITE, 0x500000); /* user accesses are not affected */
	expect_pf(&w, 0x400000, READ | GWALK_IMPLICIT, P);
	w.ac = false;
	expect_pf(&w, 0x400000, WRITE | GWALK_IMPLICIT, P | W);
	w.cr4 &= ~CR4_SMAP;
	w.cpl = 0;
	expect_ok(&w, 0x400000, WRITE, 0x500000);
}

Test(gwalk, reserved_bits_in_4_level_entries)
{
	struct gwalk w = walker_long();

	/* Address bits at or above MAXPHYADDR (36 here). */
	map64(false, 0x400000, 1ull << 40, 0, E_ALL, E_P | E_RW | E_US);
	expect_pf(&w, 0x400000, READ, P | RSVD);
	expect_pf(&w, 0x400000, FETCH, P | RSVD | ID);
	w.cpl = 3;
	expect_pf(&w, 0x400000, WRITE, P | W | U | RSVD);
	w.maxphyaddr = 48;
	expect_ok(&w, 0x400000, WRITE, 1ull << 40);
	w.cpl = 0;
	/* Bits 62:52 are the software's in 4-level entries. */
	map64(false, 0x401000, 0x501000, 0, E_ALL, E_P | (0x7ffull << 52));
	expect_ok(&w, 0x401000, READ, 0x501000);
	/* A not-present entry is not looked at any further. */
	map64(false, 0x402000, 1ull << 50, 0, E_ALL, 0);
	expect_pf(&w, 0x402000, READ, 0);
	/* In a table entry too, above the leaf. */
	map64(false, 0x40000000, 0x503000, 0, E_ALL, E_P);
	guest_put(entry_gpa64(false, 0x40000000, 2),
		  guest_get(entry_gpa64(false, 0x40000000, 2), 8) | (1ull << 50), 8);
	expect_pf(&w, 0x40000000, READ, P | RSVD);
	/* PS in a PML4E: there are no 512 GiB pages. */
	map64(false, 0x8000000000ull, 0x504000, 0, E_ALL, E_P);
	guest_put(GUEST_CR3 + 8, guest_get(GUEST_CR3 + 8, 8) | E_PS, 8);
	expect_pf(&w, 0x8000000000ull, READ, P | RSVD);
	/* Large leaves: bits 20:13 (2 MiB) and 29:13 (1 GiB) hold no address. */
	map64(false, 0x600000, 0x600000 | (1ull << 13), 1, E_ALL, E_P);
	expect_pf(&w, 0x600000, READ, P | RSVD);
	map64(false, 0x600000, 0x600000 | (1ull << 12), 1, E_ALL, E_P); /* bit 12 is PAT */
	expect_ok(&w, 0x612345, READ, 0x612345);
	w.gbpages = true;
	map64(false, 0xc0000000, 0xc0000000 | (1ull << 20), 2, E_ALL, E_P);
	expect_pf(&w, 0xc0000000, READ, P | RSVD);
}

Test(gwalk, pae_paging)
{
	struct gwalk w = walker_pae();
	uint64_t pdpte = GUEST_CR3 + 8 * 1;

	map64(true, 0x40201000, 0x345000, 0, E_ALL, E_P | E_RW | E_US);
	expect_ok(&w, 0x40201123, WRITE, 0x345123);
	map64(true, 0x40400000, 0x600000, 1, E_ALL, E_P | E_US);
	expect_ok(&w, 0x40412345, READ, 0x612345);
	w.cpl = 3;
	expect_pf(&w, 0x40412345, WRITE, P | W | U);
	w.cpl = 0;
	/* PDPTEs: bits 2:1, 8:5 and 63 are reserved (no rights, no XD). */
	guest_put(pdpte, guest_get(pdpte, 8) | E_RW, 8);
	expect_pf(&w, 0x40201123, READ, P | RSVD);
	guest_put(pdpte, (guest_get(pdpte, 8) & ~E_RW) | E_XD, 8);
	expect_pf(&w, 0x40201123, READ, P | RSVD);
	guest_put(pdpte, guest_get(pdpte, 8) & ~E_XD, 8);
	expect_ok(&w, 0x40201123, READ, 0x345123);
	expect_pf(&w, 0x80000000, READ, 0); /* PDPTE 2 not present */
	/* Other PAE entries reserve bits 62:MAXPHYADDR. */
	map64(true, 0x40202000, 0x346000 | (1ull << 52), 0, E_ALL, E_P);
	expect_pf(&w, 0x40202000, READ, P | RSVD);
	/* XD with NXE; bit 63 reserved without. */
	map64(true, 0x40203000, 0x347000, 0, E_ALL, E_P | E_XD);
	expect_pf(&w, 0x40203000, FETCH, P | ID);
	w.efer = 0;
	expect_pf(&w, 0x40203000, READ, P | RSVD);
	expect_pf(&w, 0x40203000, FETCH, P | RSVD); /* I/D needs NXE or SMEP */
	/* The linear address is 32 bits. */
	expect_ok(&w, 0xf00000040201123ull, READ, 0x345123);
}

Test(gwalk, legacy_32_bit_paging)
{
	struct gwalk w = walker_32();

	map32(0x403000, 0x9000, false, E_ALL, E_P | E_RW | E_US);
	expect_ok(&w, 0x403abc, READ, 0x9abc);
	map32(0x800000, 0xc00000, true, 0, E_P | E_RW);
	expect_ok(&w, 0x8abcde, READ, 0xcabcde);
	/* PSE-36: PDE bits 20:13 are address bits 39:32, up to MAXPHYADDR. */
	map32(0xc00000, 0x400000, true, 0, E_P | (0xfu << 13));
	expect_ok(&w, 0xc12345, READ, 0xf00412345ull);
	map32(0xc00000, 0x400000, true, 0, E_P | (1u << 17)); /* address bit 36 */
	expect_pf(&w, 0xc12345, READ, P | RSVD);
	w.maxphyaddr = 40;
	expect_ok(&w, 0xc12345, READ, 0x1000412345ull);
	map32(0xc00000, 0x400000, true, 0, E_P | (1u << 21)); /* always reserved */
	expect_pf(&w, 0xc12345, READ, P | RSVD);
	/* Without CR4.PSE, PS is ignored: the PDE points to a table. */
	guest_put(entry_gpa32(0x403000, 1), guest_get(entry_gpa32(0x403000, 1), 4) | E_PS, 4);
	w.cr4 = 0;
	expect_ok(&w, 0x403abc, READ, 0x9abc);
	/* Rights; I/D only with SMEP (no PAE here). */
	map32(0x404000, 0xa000, false, E_ALL, E_P | E_US);
	map32(0x405000, 0xb000, false, E_ALL, E_P | E_RW);
	w.cpl = 3;
	expect_pf(&w, 0x404000, WRITE, P | W | U);
	expect_pf(&w, 0x405000, READ, P | U);
	expect_pf(&w, 0x405000, FETCH, P | U);
	w.efer = EFER_NXE; /* NXE without PAE: nothing is execute-disabled */
	expect_pf(&w, 0x405000, FETCH, P | U);
	w.cr4 |= CR4_SMEP;
	expect_pf(&w, 0x405000, FETCH, P | U | ID);
	w.cpl = 0;
	expect_pf(&w, 0x404000, FETCH, P | ID);
	expect_pf(&w, 0x404000, WRITE, P | W); /* CR0.WP */
}

Test(gwalk, no_paging_is_the_identity_below_4_gib)
{
	struct gwalk w = walker_32();

	w.cr0 = CR0_PE;
	w.cpl = 3;
	expect_ok(&w, 0x123456789ull, WRITE, 0x23456789);
	cr_assert_eq(x.entries, 0);
}

/* Each entry the walk went through, as it is now. */
static uint64_t entry(unsigned i)
{
	return guest_get(x.entry_gpa[i], x.entry_size);
}

Test(gwalk, accessed_and_dirty_flags_as_the_cpu_sets_them)
{
	struct gwalk w = walker_long();

	map64(false, 0x400000, 0x500000, 0, E_ALL, E_P | E_RW);
	expect_ok(&w, 0x400000, READ, 0x500000);
	cr_assert_eq(guest_entry_writes, 0, "translating writes nothing");
	cr_assert_eq(x.entries, 4);
	gwalk_set_ad(&w, &x, READ);
	for (unsigned i = 0; i < 4; i++)
		cr_assert_eq(entry(i) & (E_A | E_D), E_A, "entry %u: 0x%lx", i,
			     (unsigned long)entry(i));
	cr_assert_eq(guest_entry_writes, 4);
	gwalk_set_ad(&w, &x, READ);
	cr_assert_eq(guest_entry_writes, 4, "flags already set are not written again");
	gwalk_set_ad(&w, &x, WRITE);
	cr_assert_eq(guest_entry_writes, 5, "only the leaf gets D");
	cr_assert_eq(entry(3) & (E_A | E_D), E_A | E_D);
	cr_assert_eq(entry(2) & E_D, 0);
	cr_assert_eq(entry(3) & ~(E_A | E_D), 0x500000 | E_P | E_RW, "nothing else changes");
	/* The dirty flag lands in a large page's leaf. */
	map64(false, 0x600000, 0x600000, 1, E_ALL, E_P | E_RW);
	expect_ok(&w, 0x600000, WRITE, 0x600000);
	cr_assert_eq(x.entries, 3);
	gwalk_set_ad(&w, &x, WRITE);
	cr_assert_eq(entry(2) & (E_A | E_D), E_A | E_D);
	/* Without a write callback nothing is written. */
	map64(false, 0x401000, 0x501000, 0, E_ALL, E_P | E_RW);
	w.set_flags = NULL;
	expect_ok(&w, 0x401000, WRITE, 0x501000);
	gwalk_set_ad(&w, &x, WRITE);
	cr_assert_eq(entry(3) & (E_A | E_D), 0);
}

Test(gwalk, accessed_flags_skip_pae_pdptes_and_fit_32_bit_entries)
{
	struct gwalk w = walker_pae();

	map64(true, 0x40201000, 0x345000, 0, E_ALL, E_P | E_RW);
	uint64_t pdpte = guest_get(GUEST_CR3 + 8, 8);
	expect_ok(&w, 0x40201000, WRITE, 0x345000);
	cr_assert_eq(x.entries, 2, "the PDPTE has no accessed flag");
	gwalk_set_ad(&w, &x, WRITE);
	cr_assert_eq(guest_get(GUEST_CR3 + 8, 8), pdpte);
	cr_assert_eq(entry(1) & (E_A | E_D), E_A | E_D);

	guest_reset();
	w = walker_32();
	map32(0x400000, 0x9000, false, E_ALL, E_P | E_RW);
	map32(0x401000, 0xa000, false, E_ALL, E_P | E_RW);
	expect_ok(&w, 0x400000, WRITE, 0x9000);
	cr_assert_eq(x.entry_size, 4);
	gwalk_set_ad(&w, &x, WRITE);
	cr_assert_eq(entry(1), 0x9000 | E_P | E_RW | E_A | E_D);
	cr_assert_eq(guest_get(entry_gpa32(0x401000, 0), 4), 0xa000 | E_P | E_RW,
		     "the next entry is untouched");
}

Test(gwalk, reads_across_pages_with_the_access_checked_on_each)
{
	struct gwalk w = walker_long();
	char out[8];

	map64(false, 0x400000, 0x10000 + 0x100000, 0, E_ALL, E_P | E_US);
	map64(false, 0x401000, 0x5000 + 0x100000, 0, E_ALL, E_P | E_US | E_XD);
	memcpy(guest_ram + 0x110ffc, "abcd", 4);
	memcpy(guest_ram + 0x105000, "efgh", 4);
	cr_assert(gwalk_read(&w, 0x400ffc, READ, out, 8));
	cr_assert_eq(memcmp(out, "abcdefgh", 8), 0);
	cr_assert_not(gwalk_read(&w, 0x400ffc, FETCH, out, 8), "the second page is XD");
	cr_assert(gwalk_read(&w, 0x400ff8, FETCH, out, 8));
	cr_assert_not(gwalk_read(&w, 0x401ffc, READ, out, 8), "0x402000 is not mapped");
	cr_assert_eq(guest_entry_writes, 0);
}

/* Another vCPU rewrites an entry between the walk's read and its flag
 * update (here: inside the update, just before it lands): the update
 * neither stores back what it read nor flags the entry that replaced it;
 * entries that did not change get theirs. */
static uint64_t race_at;

static bool racing_set_flags(void *ctx, uint64_t gpa, uint64_t old, uint64_t bits, size_t size)
{
	if (gpa == race_at) /* the other vCPU's write: another frame */
		guest_put(gpa, (old & ~0xfffff000ull) | 0x777000, (unsigned)size);
	return guest_set_flags_cb(ctx, gpa, old, bits, size);
}

Test(gwalk, accessed_and_dirty_flags_never_undo_a_concurrent_write)
{
	struct gwalk w = walker_long();

	map64(false, 0x400000, 0x500000, 0, E_ALL, E_P | E_RW);
	expect_ok(&w, 0x400000, WRITE, 0x500000);
	w.set_flags = racing_set_flags;
	race_at = x.entry_gpa[3];
	gwalk_set_ad(&w, &x, WRITE);
	cr_assert_eq(entry(3), 0x777000 | E_P | E_RW, "0x%lx", (unsigned long)entry(3));
	for (unsigned i = 0; i < 3; i++)
		cr_assert_eq(entry(i) & E_A, E_A, "entry %u", i);
}
