#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>

#include "hv/dirty/dirty_track.h"
#include "hv/lib/bitmap.h"
#include "sim_mem.h"

#define MiB (1ull << 20)
#define RAM (8 * MiB)
#define NPAGES (RAM / 4096)

static struct sim_mem mem;
static struct pagetable pt;
static struct dirty_track t;
static uint64_t out[BITMAP_WORDS(NPAGES)];
static uint64_t pml_buf[4096];
static size_t pml_n;

/* Guest RAM mapped as the hypervisor maps it: 2 MiB leaves. */
static void setup_tables(const struct pt_format *fmt, enum dirty_mode mode, enum dirty_gran gran)
{
	sim_init(&mem, 8 * MiB);
	sim_pool_init(&mem, 4096);
	struct pt_mem_ops ops = { sim_pool_alloc_zeroed, sim_pool_free, sim_pool_p2v, &mem };
	cr_assert_eq(pt_init(&pt, fmt, &ops), PT_OK);
	cr_assert_eq(pt_map(&pt, 0, 0x40000000ull, RAM, PT_RWX, PT_MT_WB, PT_MAP_ANY), PT_OK);
	t = (struct dirty_track){ .pt = &pt, .size = RAM, .mode = mode, .gran = gran };
	t.log = calloc(BITMAP_WORDS(NPAGES), sizeof(uint64_t));
	cr_assert_eq(dirty_track_arm(&t), PT_OK);
	memset(out, 0, sizeof(out));
	pml_n = 0;
}

static void teardown(void)
{
	free(t.log);
	pt_destroy(&pt);
	sim_destroy(&mem);
}

/* What the CPU does on a guest write: fault on a read-only leaf (the
 * hypervisor's handler runs, then the write retries), set the leaf's dirty
 * bit and, in PML mode, log the GPA when the dirty bit was clear. */
static void cpu_write(uint64_t gpa)
{
	struct pt_mapping m;

	cr_assert(pt_lookup(&pt, gpa, &m));
	if (!(m.prot & PT_W)) {
		cr_assert(dirty_track_write_fault(&t, gpa), "fault at 0x%lx not handled", gpa);
		cr_assert(pt_lookup(&pt, gpa, &m));
		cr_assert(m.prot & PT_W, "still read-only after the fault");
	}
	if (!(*m.entry & pt.fmt->dirty) && t.mode == DIRTY_MODE_PML)
		pml_buf[pml_n++] = gpa | 0x5a5; /* the CPU may leave low bits set */
	*m.entry |= pt.fmt->dirty | pt.fmt->accessed;
}

static size_t harvest(void)
{
	memset(out, 0, sizeof(out));
	dirty_track_pml_entries(&t, pml_buf, pml_n);
	pml_n = 0;
	return dirty_track_harvest(&t, out);
}

static void assert_exactly(const size_t *pages, size_t n)
{
	cr_assert_eq(bitmap_count(out, NPAGES), n, "harvested %zu pages, expected %zu",
		     bitmap_count(out, NPAGES), n);
	for (size_t i = 0; i < n; i++)
		cr_assert(bitmap_test(out, pages[i]), "page %zu missing", pages[i]);
}

/* Parameters cross into Criterion's test processes: no pointers. */
struct mode_case {
	bool ept;
	enum dirty_mode mode;
};

static struct mode_case all_cases[] = {
	{ true, DIRTY_MODE_WP }, { true, DIRTY_MODE_AD }, { true, DIRTY_MODE_PML },
	{ false, DIRTY_MODE_WP }, { false, DIRTY_MODE_AD },
};

static const struct pt_format *fmt_of(const struct mode_case *c)
{
	return c->ept ? &pt_format_ept : &pt_format_npt;
}

ParameterizedTestParameters(dirty, exact_at_4k)
{
	return cr_make_param_array(struct mode_case, all_cases,
				   sizeof(all_cases) / sizeof(all_cases[0]));
}

ParameterizedTest(struct mode_case *c, dirty, exact_at_4k, .fini = teardown)
{
	setup_tables(fmt_of(c), c->mode, DIRTY_GRAN_4K);
	size_t first[] = { 3, 7, 1000, 2047 };
	for (size_t i = 0; i < 4; i++)
		cpu_write(first[i] * 4096 + 8);
	cpu_write(7 * 4096 + 100); /* the same page twice: once in the log */
	cr_assert_eq(harvest(), 4);
	assert_exactly(first, 4);

	cr_assert_eq(harvest(), 0, "nothing written since the last harvest");

	size_t second[] = { 7, 512 };
	cpu_write(7 * 4096);
	cpu_write(512 * 4096);
	cr_assert_eq(harvest(), 2, "a page written again after its harvest is reported again");
	assert_exactly(second, 2);
	if (c->mode == DIRTY_MODE_WP)
		cr_assert_eq(t.faults, 6, "one fault per page per round, got %lu", t.faults);
	else
		cr_assert_eq(t.faults, 0);
}

ParameterizedTestParameters(dirty, random_rounds_never_miss_a_page)
{
	return cr_make_param_array(struct mode_case, all_cases,
				   sizeof(all_cases) / sizeof(all_cases[0]));
}

ParameterizedTest(struct mode_case *c, dirty, random_rounds_never_miss_a_page, .fini = teardown)
{
	static uint64_t expect[BITMAP_WORDS(NPAGES)];

	setup_tables(fmt_of(c), c->mode, DIRTY_GRAN_4K);
	srand(1234 + c->mode);
	for (int round = 0; round < 50; round++) {
		memset(expect, 0, sizeof(expect));
		int writes = rand() % 300;
		for (int i = 0; i < writes; i++) {
			size_t page = (size_t)rand() % NPAGES;
			bitmap_set(expect, page);
			cpu_write(page * 4096 + (uint64_t)(rand() % 4096));
		}
		harvest();
		cr_assert_arr_eq(out, expect, sizeof(out), "round %d differs", round);
	}
}

Test(dirty, wp_at_2m_marks_and_rearms_whole_regions, .fini = teardown)
{
	setup_tables(&pt_format_ept, DIRTY_MODE_WP, DIRTY_GRAN_2M);
	cpu_write(5 * 4096);
	cpu_write(6 * 4096);       /* same region: no second fault */
	cpu_write(1536 * 4096 + 4);
	cr_assert_eq(t.faults, 2);
	cr_assert_eq(harvest(), 1024, "two whole 2 MiB regions");
	cr_assert(bitmap_test(out, 0) && bitmap_test(out, 511) && !bitmap_test(out, 512));
	cr_assert(bitmap_test(out, 1536) && bitmap_test(out, 2047));
	cpu_write(100 * 4096);
	cr_assert_eq(t.faults, 3, "the region was write-protected again");
	cr_assert_eq(harvest(), 512);
}

Test(dirty, ad_at_2m_keeps_large_leaves, .fini = teardown)
{
	struct pt_mapping m;

	setup_tables(&pt_format_npt, DIRTY_MODE_AD, DIRTY_GRAN_2M);
	cr_assert(pt_lookup(&pt, 0, &m));
	cr_assert_eq(m.page_size, 2 * MiB, "2 MiB units keep 2 MiB leaves");
	cpu_write(3 * MiB);
	cr_assert_eq(harvest(), 512);
	cr_assert(bitmap_test(out, 512) && bitmap_test(out, 1023));
}

Test(dirty, four_k_units_split_large_leaves, .fini = teardown)
{
	struct pt_mapping m;

	setup_tables(&pt_format_ept, DIRTY_MODE_PML, DIRTY_GRAN_4K);
	cr_assert(pt_lookup(&pt, 5 * MiB, &m));
	cr_assert_eq(m.page_size, 4096);
	cr_assert_eq(m.pa, 0x40000000ull + 5 * MiB, "the split keeps the translation");
}

Test(dirty, pml_entries_are_masked_and_clipped, .fini = teardown)
{
	setup_tables(&pt_format_ept, DIRTY_MODE_PML, DIRTY_GRAN_4K);
	uint64_t entries[] = { 0x3fff, 0x4000, RAM + 0x1000, 0x7fffff };
	dirty_track_pml_entries(&t, entries, 4);
	cr_assert_eq(dirty_track_harvest(&t, out), 3);
	size_t pages[] = { 3, 4, 2047 };
	assert_exactly(pages, 3);
}

Test(dirty, faults_that_tracking_did_not_cause_are_not_swallowed, .fini = teardown)
{
	setup_tables(&pt_format_ept, DIRTY_MODE_WP, DIRTY_GRAN_4K);
	cr_assert_not(dirty_track_write_fault(&t, RAM + 4096), "outside RAM");
	t.mode = DIRTY_MODE_AD;
	cr_assert_not(dirty_track_write_fault(&t, 4096), "A/D mode never write-protects");
}

Test(dirty, hypervisor_writes_are_marked, .fini = teardown)
{
	setup_tables(&pt_format_ept, DIRTY_MODE_AD, DIRTY_GRAN_4K);
	dirty_track_mark(&t, 42 * 4096 + 17);
	dirty_track_mark(&t, RAM); /* outside: ignored */
	cr_assert_eq(harvest(), 1);
	cr_assert(bitmap_test(out, 42));
}

Test(dirty, disarm_leaves_everything_writable, .fini = teardown)
{
	struct pt_mapping m;

	setup_tables(&pt_format_npt, DIRTY_MODE_WP, DIRTY_GRAN_4K);
	cpu_write(4096);
	harvest();
	cr_assert_eq(dirty_track_disarm(&t), PT_OK);
	for (uint64_t gpa = 0; gpa < RAM; gpa += 4096) {
		cr_assert(pt_lookup(&pt, gpa, &m));
		cr_assert(m.prot & PT_W, "0x%lx still read-only", gpa);
	}
}
