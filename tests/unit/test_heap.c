#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "hv/mm/heap.h"

static size_t pages_out, source_calls;

static uint64_t src_alloc(void *ctx, size_t pages)
{
	(void)ctx;
	source_calls++;
	void *p = aligned_alloc(4096, pages * 4096);
	memset(p, 0xcc, pages * 4096);
	pages_out += pages;
	return (uint64_t)(uintptr_t)p;
}

static void src_free(void *ctx, uint64_t pa, size_t pages)
{
	(void)ctx;
	cr_assert_geq(pages_out, pages);
	pages_out -= pages;
	free((void *)(uintptr_t)pa);
}

static void *src_p2v(void *ctx, uint64_t pa)
{
	(void)ctx;
	return (void *)(uintptr_t)pa;
}

static uint64_t src_v2p(void *ctx, const void *va)
{
	(void)ctx;
	return (uint64_t)(uintptr_t)va;
}

static struct heap heap;

static void setup(void)
{
	struct heap_page_source src = { src_alloc, src_free, src_p2v, src_v2p, NULL };
	pages_out = source_calls = 0;
	heap_init(&heap, &src);
}

TestSuite(heap, .init = setup);

Test(heap, small_objects_are_aligned_distinct_and_returned)
{
	void *p[500];

	for (int i = 0; i < 500; i++) {
		size_t size = (size_t)(i % 2000) + 1;
		p[i] = heap_alloc(&heap, size);
		cr_assert_not_null(p[i]);
		cr_assert_eq((uintptr_t)p[i] % 16, 0);
		cr_assert_geq(heap_usable_size(p[i]), size);
		memset(p[i], i & 0xff, size);
	}
	for (int i = 0; i < 500; i++) {
		size_t size = (size_t)(i % 2000) + 1;
		for (size_t b = 0; b < size; b++)
			cr_assert_eq(((uint8_t *)p[i])[b], i & 0xff, "object %d overwritten", i);
	}
	for (int i = 0; i < 500; i++)
		cr_assert(heap_free(&heap, p[i]));
	cr_assert_eq(heap.allocations, 0);
	cr_assert_eq(heap.bytes_in_use, 0);
	cr_assert_leq(pages_out, HEAP_CLASSES * HEAP_KEEP_EMPTY + HEAP_PAGE_CACHE);
	cr_assert_eq(pages_out, heap.pages_held);
	size_t held = pages_out;
	cr_assert_eq(heap_trim(&heap), held, "trim returns what it gave");
	cr_assert_eq(pages_out, 0, "%zu pages kept after a trim", pages_out);
	cr_assert_eq(heap.pages_held, 0);
}

Test(heap, large_blocks)
{
	void *a = heap_alloc(&heap, 100000);

	cr_assert_not_null(a);
	cr_assert_geq(heap_usable_size(a), 100000);
	memset(a, 1, 100000);
	cr_assert(heap_free(&heap, a));
	cr_assert_eq(pages_out, 0, "a multi-page block goes straight back");
	cr_assert_null(heap_alloc(&heap, SIZE_MAX - 10));
}

/* A receive buffer's life, over and over: one page, taken and given back
 * to the source once at most, not per buffer. */
Test(heap, a_page_sized_block_churning_reuses_one_page)
{
	for (int i = 0; i < 1000; i++) {
		void *p = heap_alloc(&heap, 2100);
		cr_assert_not_null(p);
		memset(p, 0x5a, 2100);
		cr_assert(heap_free(&heap, p));
	}
	cr_assert_eq(source_calls, 1);
	cr_assert_eq(heap.allocations, 0);
	cr_assert_eq(heap_trim(&heap), 1);
	cr_assert_eq(pages_out, 0);
}

/* A class whose last object comes and goes keeps its page. */
Test(heap, a_small_object_churning_reuses_its_page)
{
	void *keep = heap_alloc(&heap, 20); /* another class: not in the way */

	for (int i = 0; i < 1000; i++)
		cr_assert(heap_free(&heap, heap_alloc(&heap, 128)));
	cr_assert_eq(source_calls, 2);
	cr_assert(heap_free(&heap, keep));
	heap_trim(&heap);
	cr_assert_eq(pages_out, 0);
}

/* Past what a class keeps, empty pages leave it (into the page cache, and
 * past the cache, back to the source); objects still live survive that. */
Test(heap, empty_pages_beyond_the_kept_ones_leave_the_class)
{
	enum { PER_PAGE = (4096 - 64) / 64, PAGES = HEAP_KEEP_EMPTY + HEAP_PAGE_CACHE + 10 };
	static void *p[PAGES * PER_PAGE];

	for (size_t i = 0; i < PAGES * PER_PAGE; i++) {
		p[i] = heap_alloc(&heap, 64);
		cr_assert_not_null(p[i]);
		*(size_t *)p[i] = i;
	}
	cr_assert_eq(pages_out, PAGES);
	/* Free all but one object per page: nothing empties. */
	for (size_t i = 0; i < PAGES * PER_PAGE; i++)
		if (i % PER_PAGE)
			cr_assert(heap_free(&heap, p[i]));
	cr_assert_eq(pages_out, PAGES);
	for (size_t i = 0; i < PAGES * PER_PAGE; i += PER_PAGE) {
		cr_assert_eq(*(size_t *)p[i], i, "a live object was overwritten");
		cr_assert(heap_free(&heap, p[i]));
	}
	cr_assert_eq(pages_out, HEAP_KEEP_EMPTY + HEAP_PAGE_CACHE);
	cr_assert_eq(heap.cached_pages, HEAP_PAGE_CACHE);
	/* The kept pages serve again without the source. */
	size_t calls = source_calls;
	for (int i = 0; i < HEAP_KEEP_EMPTY * PER_PAGE; i++)
		cr_assert_not_null(p[i] = heap_alloc(&heap, 64));
	cr_assert_eq(source_calls, calls);
	for (int i = 0; i < HEAP_KEEP_EMPTY * PER_PAGE; i++)
		cr_assert(heap_free(&heap, p[i]));
	heap_trim(&heap);
	cr_assert_eq(pages_out, 0);
}

Test(heap, rejects_foreign_and_double_frees)
{
	void *a = heap_alloc(&heap, 64);
	void *b = heap_alloc(&heap, 64);

	cr_assert_not(heap_free(&heap, (uint8_t *)a + 8), "interior pointer accepted");
	cr_assert(heap_free(&heap, a));
	cr_assert_not(heap_free(&heap, a), "double free accepted");
	cr_assert_eq(heap.allocations, 1);
	cr_assert(heap_free(&heap, b));
	cr_assert(heap_free(&heap, NULL));
	heap_trim(&heap);
	cr_assert_eq(pages_out, 0);
}
