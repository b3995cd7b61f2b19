#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "hv/mm/heap.h"

static size_t pages_out;

static uint64_t src_alloc(void *ctx, size_t pages)
{
	(void)ctx;
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
	pages_out = 0;
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
	cr_assert_eq(pages_out, 0, "%zu pages kept after everything was freed", pages_out);
}

Test(heap, large_blocks)
{
	void *a = heap_alloc(&heap, 100000);

	cr_assert_not_null(a);
	cr_assert_geq(heap_usable_size(a), 100000);
	memset(a, 1, 100000);
	cr_assert(heap_free(&heap, a));
	cr_assert_eq(pages_out, 0);
	cr_assert_null(heap_alloc(&heap, SIZE_MAX - 10));
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
	cr_assert_eq(pages_out, 0);
}
