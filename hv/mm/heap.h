/* Object heap: power-of-two size classes carved from whole pages, and
 * page-granular blocks for anything larger. Every page starts with a small
 * header, so kfree() finds its class from the pointer alone.
 *
 * Buffers that come and go per network frame would otherwise take a page
 * from the page allocator and give it back each time: a class keeps up to
 * HEAP_KEEP_EMPTY of its pages when they empty, and single pages (a class
 * page released, a one-page block freed) wait in a cache of up to
 * HEAP_PAGE_CACHE for the next one. heap_trim gives all of that back. */
#ifndef HV_MM_HEAP_H
#define HV_MM_HEAP_H

#include <stddef.h>
#include <stdint.h>

#define HEAP_CLASSES 8    /* 16 .. 2048 bytes */
#define HEAP_KEEP_EMPTY 2 /* empty pages a class keeps */
#define HEAP_PAGE_CACHE 64

struct heap_page_source {
	uint64_t (*alloc)(void *ctx, size_t pages); /* contiguous, 0 on failure */
	void (*free)(void *ctx, uint64_t pa, size_t pages);
	void *(*p2v)(void *ctx, uint64_t pa);
	uint64_t (*v2p)(void *ctx, const void *va);
	void *ctx;
};

struct heap_free_obj;

struct heap {
	struct heap_page_source src;
	struct heap_free_obj *free_list[HEAP_CLASSES];
	size_t empty_pages[HEAP_CLASSES];
	void *page_cache; /* single pages, linked through their first word */
	size_t cached_pages;
	size_t bytes_in_use;
	size_t pages_held;
	size_t allocations;
};

void heap_init(struct heap *h, const struct heap_page_source *src);
void *heap_alloc(struct heap *h, size_t size);
/* Returns false for a pointer the heap did not hand out (caller panics). */
int heap_free(struct heap *h, void *p);
size_t heap_usable_size(void *p);
/* Gives every empty and cached page back; returns how many. */
size_t heap_trim(struct heap *h);

#endif
