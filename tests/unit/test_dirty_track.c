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
static void cpu_write_by(uint64_t gpa, bool installer)
{
	struct pt_mapping m;

	cr_assert(pt_lookup(&pt, gpa, &m));
	if (!(m.prot & PT_W)) {
		bool handled = installer ? dirty_track_write_fault(&t, gpa)
					 : dirty_track_write_fault_region(&t, gpa);
		cr_assert(handled, "fault at 0x%lx not handled", gpa);
		cr_assert(pt_lookup(&pt, gpa, &m));
		cr_assert(m.prot & PT_W, "still read-only after the fault");
	}
	if (!(*m.entry & pt.fmt->dirty) && t.mode == DIRTY_MODE_PML)
		pml_buf[pml_n++] = gpa | 0x5a5; /* the CPU may leave low bits set */
	*m.entry |= pt.fmt->dirty | pt.fmt->accessed;
}

static void cpu_write(uint64_t gpa)
{
	cpu_write_by(gpa, true);
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

/* installers=K: a vCPU that installs no 4 KiB traces opens a whole 2 MiB
 * region with one fault; installers go on faulting per page elsewhere. */
Test(dirty, a_writer_that_installs_no_traces_opens_its_whole_region, .fini = teardown)
{
	setup_tables(&pt_format_npt, DIRTY_MODE_WP, DIRTY_GRAN_4K);
	cpu_write_by(3 * 4096, true);
	cpu_write_by(700 * 4096, false); /* region 1: pages 512..1023 */
	cpu_write_by(800 * 4096, true);  /* open already: no fault */
	cpu_write_by(900 * 4096, false);
	cpu_write_by(5 * 4096, true);
	cr_assert_eq(t.faults, 3, "got %lu faults", t.faults);
	cr_assert_eq(t.region_faults, 1);
	cr_assert_eq(harvest(), 514, "pages 3 and 5, and region 1 whole");
	cr_assert(bitmap_test(out, 3) && bitmap_test(out, 5) && !bitmap_test(out, 4));
	cr_assert(bitmap_test(out, 512) && bitmap_test(out, 1023) && !bitmap_test(out, 1024));

	/* Re-armed page by page: the next round starts with 4 KiB traces. */
	cpu_write_by(600 * 4096, true);
	cr_assert_eq(harvest(), 1);
	cr_assert(bitmap_test(out, 600));
	cpu_write_by(2047 * 4096, false); /* the last region, clipped to RAM */
	cr_assert_eq(harvest(), 512);
	cr_assert(bitmap_test(out, 1536) && bitmap_test(out, 2047));
	cr_assert_eq(t.region_faults, 2);
}

ParameterizedTestParameters(dirty, mixed_writers_never_miss_a_page)
{
	static bool ept[] = { true, false };

	return cr_make_param_array(bool, ept, 2);
}

/* Whatever the mix, every page written is reported, and nothing outside
 * the installers' pages and the regions the others wrote in. */
ParameterizedTest(bool *ept, dirty, mixed_writers_never_miss_a_page, .fini = teardown)
{
	static uint64_t written[BITMAP_WORDS(NPAGES)], allowed[BITMAP_WORDS(NPAGES)];

	setup_tables(*ept ? &pt_format_ept : &pt_format_npt, DIRTY_MODE_WP, DIRTY_GRAN_4K);
	srand(4321);
	for (int round = 0; round < 50; round++) {
		memset(written, 0, sizeof(written));
		memset(allowed, 0, sizeof(allowed));
		int writes = rand() % 300;
		for (int i = 0; i < writes; i++) {
			size_t page = (size_t)rand() % NPAGES;
			bool installer = rand() % 4 == 0;
			bitmap_set(written, page);
			if (installer)
				bitmap_set(allowed, page);
			else
				bitmap_set_range(allowed, page - page % 512, 512);
			cpu_write_by(page * 4096 + (uint64_t)(rand() % 4096), installer);
		}
		harvest();
		for (size_t p = 0; p < NPAGES; p++) {
			cr_assert(!bitmap_test(written, p) || bitmap_test(out, p),
				  "round %d: page %zu written but not reported", round, p);
			cr_assert(!bitmap_test(out, p) || bitmap_test(allowed, p),
				  "round %d: page %zu reported but neither written nor in a "
				  "region a non-installer wrote", round, p);
		}
	}
	cr_assert(t.region_faults > 0 && t.region_faults < t.faults);
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

/* Every mode must re-arm what a harvest handed out: pages written in two
 * rounds, the same pages each time, at odd and even unit indexes, are
 * reported in full by both harvests (a re-arm that skipped some units
 * would lose the second round's writes to them). */
struct rearm_case {
	bool ept;
	enum dirty_mode mode;
	enum dirty_gran gran;
};

static struct rearm_case rearm_cases[] = {
	{ true, DIRTY_MODE_WP, DIRTY_GRAN_4K },   { true, DIRTY_MODE_AD, DIRTY_GRAN_4K },
	{ true, DIRTY_MODE_PML, DIRTY_GRAN_4K },  { false, DIRTY_MODE_WP, DIRTY_GRAN_4K },
	{ false, DIRTY_MODE_AD, DIRTY_GRAN_4K },  { true, DIRTY_MODE_WP, DIRTY_GRAN_2M },
	{ true, DIRTY_MODE_AD, DIRTY_GRAN_2M },   { true, DIRTY_MODE_PML, DIRTY_GRAN_2M },
	{ false, DIRTY_MODE_WP, DIRTY_GRAN_2M },  { false, DIRTY_MODE_AD, DIRTY_GRAN_2M },
};

ParameterizedTestParameters(dirty, every_mode_rearms_odd_and_even_units)
{
	return cr_make_param_array(struct rearm_case, rearm_cases,
				   sizeof(rearm_cases) / sizeof(rearm_cases[0]));
}

ParameterizedTest(struct rearm_case *c, dirty, every_mode_rearms_odd_and_even_units,
		  .fini = teardown)
{
	/* 4 KiB: pages 2, 3, 10, 11, 1001, 2046. 2 MiB: regions 0, 1 and 3,
	 * written at one page each, reported as 512 pages each. */
	static const size_t pages_4k[] = { 2, 3, 10, 11, 1001, 2046 };
	static const size_t written_2m[] = { 7, 512 + 300, 1536 + 1 };
	static size_t expect_2m[3 * 512];
	bool large = c->gran == DIRTY_GRAN_2M;
	const size_t *written = large ? written_2m : pages_4k;
	size_t nwritten = large ? 3 : 6;
	const size_t *expect = large ? expect_2m : pages_4k;
	size_t nexpect = large ? 3 * 512 : 6;

	for (size_t r = 0, k = 0; r < 3; r++)
		for (size_t p = 0; p < 512; p++)
			expect_2m[k++] = (written_2m[r] / 512) * 512 + p;
	setup_tables(c->ept ? &pt_format_ept : &pt_format_npt, c->mode, c->gran);
	for (int round = 1; round <= 2; round++) {
		for (size_t i = 0; i < nwritten; i++)
			cpu_write(written[i] * 4096 + 64);
		cr_assert_eq(harvest(), nexpect, "round %d: %zu pages", round,
			     bitmap_count(out, NPAGES));
		assert_exactly(expect, nexpect);
		if (c->mode == DIRTY_MODE_WP)
			cr_assert_eq(t.faults, (uint64_t)(round * nwritten),
				     "round %d: every unit faulted again, %lu faults", round,
				     (unsigned long)t.faults);
	}
	cr_assert_eq(harvest(), 0, "nothing written in a third round");
	cr_assert_eq(t.rearm_failures, 0);
}

/* Page-table pages for the re-arm failure test: refused while 'refuse' is
 * set, as a hypervisor out of memory would. */
static bool refuse_tables;

static uint64_t gated_alloc(void *ctx)
{
	return refuse_tables ? 0 : sim_pool_alloc_zeroed(ctx);
}

/* A re-arm can fail when write-protecting a unit means splitting a larger
 * leaf and no table page is left. Here: 2 MiB units over one 1 GiB leaf,
 * armed whole (no split needed), and a unit the hypervisor wrote on the
 * guest's behalf (marked, no fault, so no split happened either). The
 * unit stays in the log, is reported by every harvest and counted, until
 * a harvest can split the leaf and protect it. */
Test(dirty, a_unit_that_cannot_be_rearmed_is_reported_until_it_can, .fini = teardown)
{
	enum { GIB_PAGES = (1u << 30) / 4096 };
	static uint64_t got[BITMAP_WORDS(GIB_PAGES)];
	struct pt_mapping m;

	sim_init(&mem, 8 * MiB);
	sim_pool_init(&mem, 4096);
	refuse_tables = false;
	struct pt_mem_ops ops = { gated_alloc, sim_pool_free, sim_pool_p2v, &mem };
	cr_assert_eq(pt_init(&pt, &pt_format_ept, &ops), PT_OK);
	cr_assert_eq(pt_map(&pt, 0, 0x40000000ull, 1ull << 30, PT_RWX, PT_MT_WB, PT_MAP_ANY), PT_OK);
	t = (struct dirty_track){ .pt = &pt, .size = 1ull << 30, .mode = DIRTY_MODE_WP,
				  .gran = DIRTY_GRAN_2M };
	t.log = calloc(BITMAP_WORDS(GIB_PAGES), sizeof(uint64_t));
	cr_assert_eq(dirty_track_arm(&t), PT_OK);
	cr_assert(pt_lookup(&pt, 5 * MiB, &m));
	cr_assert_eq(m.page_size, 1ull << 30, "armed without splitting");
	size_t tables = pt.table_pages;

	dirty_track_mark(&t, 5 * MiB + 8); /* region 2: pages 1024..1535 */
	refuse_tables = true;
	for (int h = 1; h <= 2; h++) {
		memset(got, 0, sizeof(got));
		cr_assert_eq(dirty_track_harvest(&t, got), 512, "harvest %d", h);
		cr_assert_eq(bitmap_count(got, GIB_PAGES), 512);
		cr_assert(bitmap_test(got, 1024) && bitmap_test(got, 1535));
		cr_assert_eq(t.rearm_failures, (uint64_t)h, "harvest %d: %lu failures", h,
			     (unsigned long)t.rearm_failures);
		cr_assert_eq(pt.table_pages, tables, "nothing was split");
	}

	refuse_tables = false;
	memset(got, 0, sizeof(got));
	cr_assert_eq(dirty_track_harvest(&t, got), 512, "still in the log until re-armed");
	cr_assert(bitmap_test(got, 1024) && bitmap_test(got, 1535));
	cr_assert_eq(t.rearm_failures, 2, "this re-arm worked");
	cr_assert(pt_lookup(&pt, 5 * MiB, &m));
	cr_assert_eq(m.page_size, 2 * MiB, "the 1 GiB leaf was split");
	cr_assert_eq(m.prot & PT_W, 0, "and the unit write-protected");

	memset(got, 0, sizeof(got));
	cr_assert_eq(dirty_track_harvest(&t, got), 0, "re-armed: no longer reported");
	cr_assert_eq(bitmap_count(got, GIB_PAGES), 0);
	cr_assert_eq(t.rearm_failures, 2);
	cr_assert(dirty_track_write_fault(&t, 5 * MiB), "a guest write faults again");
	cr_assert_eq(t.faults, 1);
}
