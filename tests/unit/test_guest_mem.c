#include <criterion/criterion.h>
#include <string.h>

#include "hv/vm/guest_mem.h"
#include "hv/mm/palloc.h"
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

Test(guest_mem, fragmented_memory_falls_back_to_pages)
{
	/* Punch a page out of every 2 MiB block so no aligned run exists. */
	uint64_t holes[40];
	int n = 0;
	for (uint64_t a = 2 * MiB; a < 64 * MiB && n < 40; a += 2 * MiB) {
		if (palloc_is_free(&pa, a + 4096) && palloc_retire(&pa, a + 4096) == PALLOC_RETIRED_FREE)
			holes[n++] = a + 4096;
	}
	uint64_t free0 = pa.stats.free;
	cr_assert(gmem_alloc(&gm, 4 * MiB, &host));
	cr_assert_not_null(gm.chunks[0].pages, "expected per-page chunks");
	uint32_t v = 0x12345678;
	cr_assert(gmem_write(&gm, 3 * MiB - 2, &v, 4));
	uint32_t r = 0;
	cr_assert(gmem_read(&gm, 3 * MiB - 2, &r, 4));
	cr_assert_eq(r, v);
	gmem_free(&gm);
	cr_assert_eq(pa.stats.free, free0);
	(void)holes;
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
	cr_assert(gmem_alloc(&gm, 4 * MiB, &host));
	cr_assert_null(gm.chunks[1].pages);
	uint64_t v = 0xfeedfacecafebeefull;
	cr_assert(gmem_write(&gm, 2 * MiB + 4096 * 7 + 8, &v, 8));
	cr_assert(gmem_split_chunk(&gm, 1));
	cr_assert_not_null(gm.chunks[1].pages);
	uint64_t r;
	cr_assert(gmem_read(&gm, 2 * MiB + 4096 * 7 + 8, &r, 8));
	cr_assert_eq(r, v);
	uint64_t free_before_free = pa.stats.free;
	gmem_free(&gm);
	cr_assert_gt(pa.stats.free, free_before_free);
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
