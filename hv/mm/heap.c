#include "hv/mm/heap.h"

#include <stdbool.h>

#define PAGE 4096u
#define MIN_SHIFT 4
#define MAGIC_SMALL 0x48534d4cu /* "HSML" */
#define MAGIC_LARGE 0x484c5247u /* "HLRG" */
#define HEADER 64u              /* keeps objects 16-byte aligned */

struct page_header {
	uint32_t magic;
	uint32_t class_or_pages; /* size class, or page count of a large block */
	uint32_t live;           /* objects in use on this page (small) */
};

/* Free objects carry a marker so that freeing one twice is caught. */
#define FREE_MARK 0x6672656564216f6bull
struct heap_free_obj {
	struct heap_free_obj *next;
	uint64_t mark;
};

static size_t class_size(unsigned c)
{
	return (size_t)1 << (c + MIN_SHIFT);
}

void heap_init(struct heap *h, const struct heap_page_source *src)
{
	*h = (struct heap){ .src = *src };
}

/* Cached pages link through a word past the header's fields: the magic
 * stays 0, so a cached page is never taken for a live block. */
#define CACHE_LINK(page) (*(void **)((page) + 16))

static uint8_t *pop_cached(struct heap *h)
{
	uint8_t *page = h->page_cache;

	h->page_cache = CACHE_LINK(page);
	h->cached_pages--;
	return page;
}

/* Back to the source, no longer held. */
static void give_back(struct heap *h, uint8_t *page, size_t pages)
{
	((struct page_header *)page)->magic = 0;
	h->pages_held -= pages;
	h->src.free(h->src.ctx, h->src.v2p(h->src.ctx, page), pages);
}

/* A page from the cache, or from the source (counted as held). */
static uint8_t *take_page(struct heap *h)
{
	if (h->page_cache)
		return pop_cached(h);
	uint64_t pa = h->src.alloc(h->src.ctx, 1);
	if (!pa)
		return NULL;
	h->pages_held++;
	return h->src.p2v(h->src.ctx, pa);
}

/* Into the cache while it has room, else back to the source. */
static void put_page(struct heap *h, uint8_t *page)
{
	((struct page_header *)page)->magic = 0;
	if (h->cached_pages < HEAP_PAGE_CACHE) {
		CACHE_LINK(page) = h->page_cache;
		h->page_cache = page;
		h->cached_pages++;
		return;
	}
	give_back(h, page, 1);
}

static bool refill(struct heap *h, unsigned c)
{
	uint8_t *page = take_page(h);

	if (!page)
		return false;
	struct page_header *hdr = (struct page_header *)page;
	*hdr = (struct page_header){ MAGIC_SMALL, c, 0 };
	h->empty_pages[c]++;

	size_t sz = class_size(c);
	size_t first = HEADER > sz ? HEADER : sz;
	for (size_t off = first; off + sz <= PAGE; off += sz) {
		struct heap_free_obj *o = (struct heap_free_obj *)(page + off);
		o->mark = FREE_MARK;
		o->next = h->free_list[c];
		h->free_list[c] = o;
	}
	return true;
}

void *heap_alloc(struct heap *h, size_t size)
{
	if (size == 0)
		size = 1;
	if (size <= class_size(HEAP_CLASSES - 1)) {
		unsigned c = 0;
		while (class_size(c) < size)
			c++;
		if (!h->free_list[c] && !refill(h, c))
			return NULL;
		struct heap_free_obj *o = h->free_list[c];
		h->free_list[c] = o->next;
		o->mark = 0;
		struct page_header *hdr = (struct page_header *)((uintptr_t)o & ~(uintptr_t)(PAGE - 1));
		if (hdr->live++ == 0)
			h->empty_pages[c]--;
		h->bytes_in_use += class_size(c);
		h->allocations++;
		return o;
	}

	if (size > SIZE_MAX - HEADER - PAGE)
		return NULL;
	size_t pages = (size + HEADER + PAGE - 1) / PAGE;
	uint8_t *block;
	if (pages == 1) {
		block = take_page(h);
		if (!block)
			return NULL;
	} else {
		uint64_t pa = h->src.alloc(h->src.ctx, pages);
		if (!pa)
			return NULL;
		block = h->src.p2v(h->src.ctx, pa);
		h->pages_held += pages;
	}
	*(struct page_header *)block = (struct page_header){ MAGIC_LARGE, (uint32_t)pages, 1 };
	h->bytes_in_use += pages * PAGE;
	h->allocations++;
	return block + HEADER;
}

/* Takes an empty small-object page out of its class (its objects off the
 * free list), so that memory freed by a destroyed VM shows up as free pages
 * again. */
static void unlink_page(struct heap *h, uint8_t *page, unsigned c)
{
	struct heap_free_obj **link = &h->free_list[c];

	while (*link) {
		if ((uint8_t *)((uintptr_t)*link & ~(uintptr_t)(PAGE - 1)) == page)
			*link = (*link)->next;
		else
			link = &(*link)->next;
	}
	h->empty_pages[c]--;
}

int heap_free(struct heap *h, void *p)
{
	if (!p)
		return 1;

	uint8_t *page = (uint8_t *)((uintptr_t)p & ~(uintptr_t)(PAGE - 1));
	struct page_header *hdr = (struct page_header *)page;

	if (hdr->magic == MAGIC_LARGE && (uint8_t *)p == page + HEADER) {
		size_t pages = hdr->class_or_pages;
		h->bytes_in_use -= pages * PAGE;
		h->allocations--;
		if (pages == 1)
			put_page(h, page);
		else
			give_back(h, page, pages);
		return 1;
	}
	if (hdr->magic != MAGIC_SMALL || hdr->class_or_pages >= HEAP_CLASSES || !hdr->live)
		return 0;

	unsigned c = hdr->class_or_pages;
	size_t off = (size_t)((uint8_t *)p - page);
	size_t first = HEADER > class_size(c) ? HEADER : class_size(c);
	if (off < first || (off - first) % class_size(c))
		return 0;

	struct heap_free_obj *o = p;
	if (o->mark == FREE_MARK)
		return 0; /* already free */
	o->mark = FREE_MARK;
	o->next = h->free_list[c];
	h->free_list[c] = o;
	hdr->live--;
	h->bytes_in_use -= class_size(c);
	h->allocations--;
	if (hdr->live == 0 && ++h->empty_pages[c] > HEAP_KEEP_EMPTY) {
		unlink_page(h, page, c);
		put_page(h, page);
	}
	return 1;
}

size_t heap_trim(struct heap *h)
{
	size_t held = h->pages_held;

	for (unsigned c = 0; c < HEAP_CLASSES; c++) {
		/* Each empty page of the class, found through its free objects. */
		for (struct heap_free_obj *o = h->free_list[c]; o && h->empty_pages[c];) {
			uint8_t *page = (uint8_t *)((uintptr_t)o & ~(uintptr_t)(PAGE - 1));
			if (((struct page_header *)page)->live) {
				o = o->next;
				continue;
			}
			unlink_page(h, page, c);
			give_back(h, page, 1);
			o = h->free_list[c]; /* the list changed under the walk */
		}
	}
	while (h->page_cache)
		give_back(h, pop_cached(h), 1);
	return held - h->pages_held;
}

size_t heap_usable_size(void *p)
{
	uint8_t *page = (uint8_t *)((uintptr_t)p & ~(uintptr_t)(PAGE - 1));
	struct page_header *hdr = (struct page_header *)page;

	if (hdr->magic == MAGIC_LARGE)
		return hdr->class_or_pages * PAGE - HEADER;
	return class_size(hdr->class_or_pages);
}
