#include <criterion/criterion.h>

#include "hv/mm/pagetable.h"
#include "sim_mem.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

static struct sim_mem mem;
static struct pagetable pt;

static void setup_fmt(const struct pt_format *fmt)
{
	sim_init(&mem, 8 * MiB);
	sim_pool_init(&mem, 4096); /* 0 means "no page" */
	struct pt_mem_ops ops = { sim_pool_alloc_zeroed, sim_pool_free, sim_pool_p2v, &mem };
	cr_assert_eq(pt_init(&pt, fmt, &ops), PT_OK);
}

static void teardown(void)
{
	pt_destroy(&pt);
	cr_assert_eq(mem.live_pages, 0, "%zu table pages leaked", mem.live_pages);
	sim_destroy(&mem);
}

static void setup_x86(void)
{
	setup_fmt(&pt_format_x86);
}

static void setup_ept(void)
{
	setup_fmt(&pt_format_ept);
}

static void setup_npt(void)
{
	setup_fmt(&pt_format_npt);
}

static void expect(uint64_t va, uint64_t pa, uint64_t size, unsigned prot)
{
	struct pt_mapping m;

	cr_assert(pt_lookup(&pt, va, &m), "0x%lx not mapped", va);
	cr_assert_eq(m.pa, pa, "0x%lx -> 0x%lx, expected 0x%lx", va, m.pa, pa);
	cr_assert_eq(m.page_size, size, "0x%lx leaf size 0x%lx, expected 0x%lx", va,
		     m.page_size, size);
	cr_assert_eq(m.prot & (PT_R | PT_W), prot & (PT_R | PT_W));
}

static void expect_unmapped(uint64_t va)
{
	struct pt_mapping m;

	cr_assert_not(pt_lookup(&pt, va, &m), "0x%lx unexpectedly mapped", va);
}

TestSuite(pt_x86, .init = setup_x86, .fini = teardown);
TestSuite(pt_ept, .init = setup_ept, .fini = teardown);
TestSuite(pt_npt, .init = setup_npt, .fini = teardown);

Test(pt_x86, maps_with_the_largest_leaves_alignment_allows)
{
	/* 4 KiB head, 2 MiB middle, 1 GiB, 2 MiB, 4 KiB tail. */
	uint64_t va = 2 * GiB - 2 * MiB - 4096;
	uint64_t size = 4096 + 2 * MiB + GiB + 2 * MiB + 4096;

	cr_assert_eq(pt_map(&pt, va, va + 0x100000000ull, size, PT_RWX, PT_MT_WB, PT_MAP_ANY), PT_OK);
	expect(va, va + 0x100000000ull, 4096, PT_RWX);
	expect(2 * GiB - 2 * MiB, 2 * GiB - 2 * MiB + 0x100000000ull, 2 * MiB, PT_RWX);
	expect(2 * GiB + 12345 * 4096, 2 * GiB + 12345 * 4096 + 0x100000000ull, GiB, PT_RWX);
	expect(3 * GiB, 3 * GiB + 0x100000000ull, 2 * MiB, PT_RWX);
	expect(3 * GiB + 2 * MiB, 3 * GiB + 2 * MiB + 0x100000000ull, 4096, PT_RWX);
	expect_unmapped(va - 4096);
	expect_unmapped(3 * GiB + 2 * MiB + 4096);
}

Test(pt_x86, respects_allowed_sizes)
{
	cr_assert_eq(pt_map(&pt, 0, 0, 4 * MiB, PT_R | PT_W, PT_MT_WB, PT_MAP_4K), PT_OK);
	expect(2 * MiB + 4096, 2 * MiB + 4096, 4096, PT_R | PT_W);
	cr_assert_eq(pt_map(&pt, GiB, GiB, GiB, PT_R | PT_W, PT_MT_WB, PT_MAP_4K | PT_MAP_2M), PT_OK);
	expect(GiB + 3 * MiB, GiB + 3 * MiB, 2 * MiB, PT_R | PT_W);
	cr_assert_eq(pt_map(&pt, 4 * GiB, 0, 4096, PT_R, PT_MT_WB, PT_MAP_2M), PT_EINVAL);
}

Test(pt_x86, refuses_overlaps_and_bad_arguments)
{
	cr_assert_eq(pt_map(&pt, 2 * MiB, 0, 2 * MiB, PT_RWX, PT_MT_WB, PT_MAP_ANY), PT_OK);
	size_t pages = pt.table_pages;
	cr_assert_eq(pt_map(&pt, 2 * MiB + 8192, 0, 4096, PT_RWX, PT_MT_WB, PT_MAP_ANY), PT_EEXIST);
	cr_assert_eq(pt_map(&pt, 0, 0, 4 * MiB, PT_RWX, PT_MT_WB, PT_MAP_ANY), PT_EEXIST);
	expect_unmapped(0);
	cr_assert_eq(pt.table_pages, pages);
	cr_assert_eq(pt_map(&pt, 123, 0, 4096, PT_RWX, PT_MT_WB, PT_MAP_ANY), PT_EINVAL);
	cr_assert_eq(pt_map(&pt, 0, 0, 0, PT_RWX, PT_MT_WB, PT_MAP_ANY), PT_EINVAL);
	cr_assert_eq(pt_map(&pt, 1ull << 48, 0, 4096, PT_RWX, PT_MT_WB, PT_MAP_ANY), PT_EINVAL);
}

Test(pt_x86, unmapping_inside_a_large_leaf_splits_it)
{
	cr_assert_eq(pt_map(&pt, 0, 64 * MiB, 2 * MiB, PT_RWX, PT_MT_WB, PT_MAP_ANY), PT_OK);
	cr_assert_eq(pt_unmap(&pt, 5 * 4096, 4096), PT_OK);
	expect_unmapped(5 * 4096);
	expect(4 * 4096, 64 * MiB + 4 * 4096, 4096, PT_RWX);
	expect(6 * 4096, 64 * MiB + 6 * 4096, 4096, PT_RWX);
	expect(2 * MiB - 4096, 64 * MiB + 2 * MiB - 4096, 4096, PT_RWX);
}

Test(pt_x86, splitting_a_1g_leaf_keeps_every_translation)
{
	cr_assert_eq(pt_map(&pt, GiB, 2 * GiB, GiB, PT_RWX, PT_MT_WB, PT_MAP_ANY), PT_OK);
	cr_assert_eq(pt_unmap(&pt, GiB + 3 * MiB + 4096, 4096), PT_OK);
	expect(GiB, 2 * GiB, 2 * MiB, PT_RWX);
	expect(GiB + 2 * MiB + 4096 * 7, 2 * GiB + 2 * MiB + 4096 * 7, 4096, PT_RWX);
	expect_unmapped(GiB + 3 * MiB + 4096);
	expect(2 * GiB - 2 * MiB, 3 * GiB - 2 * MiB, 2 * MiB, PT_RWX);
}

Test(pt_x86, protect_changes_rights_and_splits_partial_leaves)
{
	cr_assert_eq(pt_map(&pt, 0, 0, 4 * MiB, PT_R | PT_W, PT_MT_WB, PT_MAP_ANY), PT_OK);
	cr_assert_eq(pt_protect(&pt, 2 * MiB + 4096, 8192, PT_R), PT_OK);
	expect(0, 0, 2 * MiB, PT_R | PT_W);
	expect(2 * MiB, 2 * MiB, 4096, PT_R | PT_W);
	expect(2 * MiB + 4096, 2 * MiB + 4096, 4096, PT_R);
	expect(2 * MiB + 8192, 2 * MiB + 8192, 4096, PT_R);
	expect(2 * MiB + 3 * 4096, 2 * MiB + 3 * 4096, 4096, PT_R | PT_W);
	cr_assert_eq(pt_protect(&pt, 0, 4096, 0), PT_EINVAL, "no-access protect must be an unmap");
}

struct leaf_log {
	uint64_t va[64];
	uint64_t size[64];
	int n;
};

static bool log_leaf(void *ctx, uint64_t va, uint64_t *entry, uint64_t size)
{
	struct leaf_log *l = ctx;

	(void)entry;
	if (l->n < 64) {
		l->va[l->n] = va;
		l->size[l->n] = size;
	}
	l->n++;
	return true;
}

Test(pt_x86, leaf_walk_visits_in_order)
{
	pt_map(&pt, 2 * MiB, 0, 2 * MiB, PT_RWX, PT_MT_WB, PT_MAP_ANY);
	pt_map(&pt, 8 * MiB, 0, 4096 * 3, PT_RWX, PT_MT_WB, PT_MAP_ANY);
	pt_map(&pt, GiB, 0, GiB, PT_RWX, PT_MT_WB, PT_MAP_ANY);
	struct leaf_log l = { .n = 0 };
	pt_for_each_leaf(&pt, 0, 4 * GiB, log_leaf, &l);
	cr_assert_eq(l.n, 5);
	cr_assert_eq(l.va[0], 2 * MiB);
	cr_assert_eq(l.size[0], 2 * MiB);
	cr_assert_eq(l.va[1], 8 * MiB);
	cr_assert_eq(l.va[3], 8 * MiB + 8192);
	cr_assert_eq(l.va[4], GiB);
	cr_assert_eq(l.size[4], GiB);
	l.n = 0;
	pt_for_each_leaf(&pt, 8 * MiB + 4096, 4096, log_leaf, &l);
	cr_assert_eq(l.n, 1);
}

Test(pt_x86, destroy_frees_every_table)
{
	for (uint64_t i = 0; i < 300; i++)
		cr_assert_eq(pt_map(&pt, i * 7 * MiB + 4096 * i, 0, 4096, PT_RWX, PT_MT_WB,
				    PT_MAP_ANY), PT_OK);
	cr_assert_eq(mem.live_pages, pt.table_pages);
	/* teardown checks that nothing leaks */
}

Test(pt_x86, uncached_mappings_carry_pcd_pwt)
{
	pt_map(&pt, 0, 0xfee00000, 4096, PT_R | PT_W, PT_MT_UC, PT_MAP_4K);
	struct pt_mapping m;
	cr_assert(pt_lookup(&pt, 0, &m));
	cr_assert_eq(*m.entry & 0x18, 0x18);
}

Test(pt_ept, uses_the_ept_bits)
{
	cr_assert_eq(pt_map(&pt, 0, 16 * MiB, 2 * MiB, PT_RWX, PT_MT_WB, PT_MAP_ANY), PT_OK);
	cr_assert_eq(pt_map(&pt, 4 * MiB, 32 * MiB, 4096, PT_R, PT_MT_WB, PT_MAP_ANY), PT_OK);
	struct pt_mapping m;
	cr_assert(pt_lookup(&pt, 4096, &m));
	cr_assert_eq(*m.entry & 0x7, 0x7, "EPT leaf must have R, W and X");
	cr_assert_eq((*m.entry >> 3) & 7, 6, "EPT leaf memory type must be WB");
	cr_assert(*m.entry & 0x80, "2 MiB EPT leaf needs the large bit");
	cr_assert(pt_lookup(&pt, 4 * MiB, &m));
	cr_assert_eq(*m.entry & 0x7, 0x1);
	cr_assert_eq(m.prot, PT_R);
	/* Write-protect then allow again (dirty logging does this). */
	cr_assert_eq(pt_protect(&pt, 0, 2 * MiB, PT_R | PT_X), PT_OK);
	cr_assert(pt_lookup(&pt, 0, &m));
	cr_assert_eq(*m.entry & 0x7, 0x5);
	cr_assert_eq(pt_protect(&pt, 0, 2 * MiB, PT_RWX), PT_OK);
	cr_assert(pt_lookup(&pt, 0, &m));
	cr_assert_eq(*m.entry & 0x7, 0x7);
}

Test(pt_ept, split_keeps_dirty_bits)
{
	pt_map(&pt, 0, 0, 2 * MiB, PT_RWX, PT_MT_WB, PT_MAP_ANY);
	struct pt_mapping m;
	cr_assert(pt_lookup(&pt, 0, &m));
	*m.entry |= pt_format_ept.accessed | pt_format_ept.dirty;
	cr_assert_eq(pt_split(&pt, 0, 2 * MiB), PT_OK);
	cr_assert(pt_lookup(&pt, 4096 * 9, &m));
	cr_assert_eq(m.page_size, 4096);
	cr_assert(*m.entry & pt_format_ept.dirty);
	cr_assert_not(*m.entry & 0x80, "4 KiB EPT leaf must not have bit 7");
}

Test(pt_npt, every_level_is_user_accessible)
{
	pt_map(&pt, 0x12345000, 0x1000, 4096, PT_R | PT_W, PT_MT_WB, PT_MAP_ANY);
	uint64_t *table = sim_pool_p2v(&mem, pt.root);
	for (int level = 3; level > 0; level--) {
		unsigned idx = (0x12345000ull >> (12 + 9 * level)) & 511;
		cr_assert_eq(table[idx] & 0x7, 0x7, "level %d entry lacks P|RW|US", level);
		table = sim_pool_p2v(&mem, table[idx] & PT_ADDR_MASK);
	}
	cr_assert_eq(table[0x145] & 0x7, 0x7);
}
