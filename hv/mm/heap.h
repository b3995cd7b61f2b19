/* Object heap: power-of-two size classes carved from whole pages, and
 * page-granular blocks for anything larger. Every page starts with a small
 * header, so kfree() finds its class from the pointer alone. */
#ifndef HV_MM_HEAP_H
#define HV_MM_HEAP_H

#include <stddef.h>
#include <stdint.h>

#define HEAP_CLASSES 8 /* 16 .. 2048 bytes */

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
	size_t bytes_in_use;
	size_t pages_held;
	size_t allocations;
};

void heap_init(struct heap *h, const struct heap_page_source *src);
void *heap_alloc(struct heap *h, size_t size);
/* Returns false for a pointer the heap did not hand out (caller panics). */
int heap_free(struct heap *h, void *p);
size_t heap_usable_size(void *p);

#endif
