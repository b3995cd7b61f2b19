#include <criterion/criterion.h>
#include <string.h>

#include "hv/mm/palloc.h"
#include "hv/vm/guest_mem.h"
#include "sim_mem.h"

#define MiB (1ull << 20)

static struct sim_mem mem;
static struct palloc pa;
static struct guest_mem gm;
static const struct mem_region map[] = { { .base = 0, .pages = (64 * MiB) / 4096, .kind = MEM_FREE } };

static uint64_t g_alloc(void *ctx, size_t pages, size_t align)
{
	(void)ctx;
	uint64_t a = palloc_alloc_contig(&pa, pages, align);
	if (a)
		memset(sim_global_p2v(a), 0, pages * 4096);
	return a;
}

static void g_free(void *ctx, uint64_t a, size_t pages)
{
	(void)ctx;
	cr_assert(palloc_free_contig(&pa, a, pages), "bad free of 0x%lx", a);
}

static void *g_p2v(void *ctx, uint64_t a)
{
	(void)ctx;
	return sim_global_p2v(a);
}

static const struct gmem_host host = { g_alloc, g_free, g_p2v, NULL };

static void setup(void)
{
	sim_init(&mem, 64 * MiB);
	cr_assert(palloc_init(&pa, map, 1, NULL, 0, sim_global_p2v));
}

static void teardown(void)
{
	sim_destroy(&mem);
}

TestSuite(guest_mem, .init = setup, .fini = teardown);

Test(guest_mem, allocation_is_zeroed_and_fully_returned)
{
	uint64_t free0 = pa.stats.free;

	cr_assert(gmem_alloc(&gm, 8 * MiB + 12 * 4096, &host));
	cr_assert_eq(pa.stats.free, free0 - gm.host_pages);
	uint8_t buf[64];
	cr_assert(gmem_read(&gm, 8 * MiB + 12 * 4096 - 64, buf, 64));
	for (int i = 0; i < 64; i++)
		cr_assert_eq(buf[i], 0);
	cr_assert_not(gmem_read(&gm, 8 * MiB + 12 * 4096 - 63, buf, 64), "read past the end");
	gmem_free(&gm);
	cr_assert_eq(pa.stats.free, free0, "pages lost: %lu", free0 - pa.stats.free);
}

Test(guest_mem, reads_and_writes_across_chunk_boundaries)
{
	cr_assert(gmem_alloc(&gm, 6 * MiB, &host));
	char msg[10000];
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (char)(i * 7);
	uint64_t gpa = 2 * MiB - 5000;
	cr_assert(gmem_write(&gm, gpa, msg, sizeof(msg)));
	char back[10000];
	cr_assert(gmem_read(&gm, gpa, back, sizeof(back)));
	cr_assert_eq(memcmp(msg, back, sizeof(msg)), 0);
	/* The host address of each byte is consistent with gmem_ptr. */
	cr_assert_eq(*(char *)gmem_ptr(&gm, gpa + 6000), msg[6000]);
	cr_assert_eq(gmem_hpa(&gm, 6 * MiB), 0);
	gmem_free(&gm);
}

/* A page retired out of every 2 MiB block (below 1 MiB the allocator keeps
 * pages for itself) leaves no aligned 2 MiB run: every chunk must take the
 * per-page form, built from pages around the holes, never a hole. */
Test(guest_mem, fragmented_memory_falls_back_to_pages)
{
	enum { BLOCKS = 64 / 2, GUEST_PAGES = (4 * MiB) / 4096 };
	uint64_t holes[BLOCKS];
	int n = 0;
	for (uint64_t a = 2 * MiB; a < 64 * MiB; a += 2 * MiB) {
		cr_assert(palloc_is_free(&pa, a + 4096), "0x%lx", a + 4096);
		cr_assert_eq(palloc_retire(&pa, a + 4096), PALLOC_RETIRED_FREE);
		holes[n++] = a + 4096;
	}
	cr_assert_eq(n, BLOCKS - 1, "blocks 1..31 punched; block 0 holds the low reserve");
	cr_assert_eq(palloc_alloc_contig(&pa, 512, 512), 0, "an aligned 2 MiB run is left");
	uint64_t free0 = pa.stats.free;

	cr_assert(gmem_alloc(&gm, 4 * MiB, &host));
	/* chunk array + per chunk: its page array and 512 pages */
	cr_assert_eq(gm.host_pages, 1 + 2 * (1 + 512), "%zu", gm.host_pages);
	cr_assert_eq(pa.stats.free, free0 - gm.host_pages);
	for (size_t c = 0; c < gm.nchunks; c++) {
		cr_assert_not_null(gm.chunks[c].pages, "chunk %zu is not in per-page form", c);
		for (size_t i = 0; i < 512; i++) {
			uint64_t hpa = gm.chunks[c].pages[i];
			uint64_t gpa = c * 2 * MiB + i * 4096;
			cr_assert_neq(hpa, 0);
			cr_assert_not(palloc_is_retired(&pa, hpa), "hole 0x%lx handed to the guest", hpa);
			cr_assert_eq(gmem_hpa(&gm, gpa + 123), hpa + 123, "GPA 0x%lx", gpa);
			cr_assert_eq(gmem_gpa_of(&gm, hpa + 5), gpa);
		}
	}
	for (int i = 0; i < n; i++)
		cr_assert_eq(gmem_gpa_of(&gm, holes[i]), GMEM_NO_GPA, "hole 0x%lx mapped", holes[i]);

	/* A write across a page boundary lands in the two separate host pages. */
	uint32_t v = 0x12345678;
	cr_assert(gmem_write(&gm, 3 * MiB - 2, &v, 4));
	uint8_t *lo = sim_global_p2v(gm.chunks[1].pages[255]);
	uint8_t *hi = sim_global_p2v(gm.chunks[1].pages[256]);
	cr_assert_eq(lo[4094], 0x78);
	cr_assert_eq(lo[4095], 0x56);
	cr_assert_eq(hi[0], 0x34);
	cr_assert_eq(hi[1], 0x12);
	uint32_t r = 0;
	cr_assert(gmem_read(&gm, 3 * MiB - 2, &r, 4));
	cr_assert_eq(r, v);

	gmem_free(&gm);
	cr_assert_eq(gm.host_pages, 0);
	cr_assert_eq(pa.stats.free, free0, "pages lost: %ld", (long)(free0 - pa.stats.free));
	for (int i = 0; i < n; i++)
		cr_assert_not(palloc_is_free(&pa, holes[i]), "a retired hole came back");
}

Test(guest_mem, failure_leaves_nothing_allocated)
{
	uint64_t free0 = pa.stats.free;

	cr_assert_not(gmem_alloc(&gm, 100 * MiB, &host));
	cr_assert_eq(pa.stats.free, free0);
	cr_assert_not(gmem_alloc(&gm, 4095, &host), "unaligned size accepted");
}

Test(guest_mem, split_keeps_contents)
{
	uint64_t free0 = pa.stats.free;

	cr_assert(gmem_alloc(&gm, 4 * MiB, &host));
	cr_assert_null(gm.chunks[1].pages);
	uint64_t v = 0xfeedfacecafebeefull;
	cr_assert(gmem_write(&gm, 2 * MiB + 4096 * 7 + 8, &v, 8));
	cr_assert(gmem_split_chunk(&gm, 1));
	cr_assert_not_null(gm.chunks[1].pages);
	uint64_t r;
	cr_assert(gmem_read(&gm, 2 * MiB + 4096 * 7 + 8, &r, 8));
	cr_assert_eq(r, v);
	cr_assert_eq(gm.host_pages, 1 + 2 * 512 + 1, "chunk array, two blocks, one page array");
	cr_assert_eq(pa.stats.free, free0 - gm.host_pages);
	gmem_free(&gm);
	cr_assert_eq(pa.stats.free, free0, "pages lost: %ld", (long)(free0 - pa.stats.free));
}

/* Device DMA maps as much as is host-contiguous: a whole chunk's rest, or
 * runs of consecutive pages once the chunk is split. */
Test(guest_mem, contiguous_ranges_end_at_chunks_and_page_gaps)
{
	cr_assert(gmem_alloc(&gm, 4 * MiB, &host));
	cr_assert_eq(gmem_contig(&gm, 4096, 64 * 1024), 64 * 1024);
	cr_assert_eq(gmem_contig(&gm, 2 * MiB - 8192, 1 * MiB), 8192, "to the chunk's end");
	cr_assert_eq(gmem_contig(&gm, 4 * MiB - 512, 4096), 512, "to the end of memory");
	cr_assert_eq(gmem_contig(&gm, 4 * MiB, 4096), 0, "outside");
	cr_assert(gmem_split_chunk(&gm, 1));
	uint64_t *pages = gm.chunks[1].pages;
	uint64_t at = 2 * MiB + 3 * 4096 + 100;
	uint64_t want = 4096 - 100;
	for (size_t k = 4; k < 512 && pages[k] == pages[k - 1] + 4096; k++)
		want += 4096; /* however the split pages happen to lie */
	uint64_t got = gmem_contig(&gm, at, 2 * MiB);
	cr_assert_eq(got, want < 2 * MiB - (at - 2 * MiB) ? want : 2 * MiB - (at - 2 * MiB));
	cr_assert_eq(gmem_hpa(&gm, at + got - 1), gmem_hpa(&gm, at) + got - 1);
	gmem_free(&gm);
}

Test(guest_mem, poisoned_pages_are_never_read_or_written)
{
	uint64_t poisoned[(4 * MiB / 4096) / 64] = { 0 };
	uint8_t buf[16];

	cr_assert(gmem_alloc(&gm, 4 * MiB, &host));
	gm.poisoned = poisoned;
	poisoned[0] |= 1ull << 5; /* page 5 */
	cr_assert(gmem_read(&gm, 4 * 4096, buf, 16));
	cr_assert_not(gmem_read(&gm, 5 * 4096 + 8, buf, 16));
	cr_assert_not(gmem_read(&gm, 5 * 4096 - 8, buf, 16), "a span reaching into it");
	cr_assert_not(gmem_write(&gm, 5 * 4096, buf, 1));
	cr_assert_not(gmem_fill(&gm, 4 * 4096, 0, 2 * 4096));
	cr_assert(gmem_write(&gm, 6 * 4096, buf, 16));
	gm.poisoned = NULL;
	gmem_free(&gm);
}
