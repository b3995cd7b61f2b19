/* The source's cache of page versions it sent, for deltas in later rounds
 * (migrate/page_delta.h): direct-mapped by frame number, so a page's slot
 * is found without a search and a busy VM larger than the cache keeps
 * the most recent of the pages that share a slot. What is cached must be
 * exactly what the destination holds for that page: a page sent in another
 * form (zero, signature, poisoned) is forgotten. Host-built. */
#ifndef MIGRATE_DELTA_CACHE_H
#define MIGRATE_DELTA_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct delta_cache {
	uint64_t *tags;     /* frame number + 1 per slot; 0: empty */
	uint8_t *pages;     /* slots × 4096 bytes */
	size_t slots;
	uint64_t hits, misses, stored;
};

/* Room for 'bytes' of pages (rounded down to whole pages; at least one):
 * false when memory is short (nothing then stays allocated). */
bool delta_cache_init(struct delta_cache *c, size_t bytes);
void delta_cache_free(struct delta_cache *c);
/* The version of page gfn sent last, or NULL (counted as hit or miss). */
const uint8_t *delta_cache_find(struct delta_cache *c, uint64_t gfn);
/* page is now what the destination holds for gfn. */
void delta_cache_store(struct delta_cache *c, uint64_t gfn, const uint8_t *page);
/* gfn went in another form: whatever is cached for it is stale. */
void delta_cache_forget(struct delta_cache *c, uint64_t gfn);

#endif
