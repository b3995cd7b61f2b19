/* The source's cache of sent page versions; see delta_cache.h. */
#include "migrate/delta_cache.h"

#include "hv/lib/string.h"
#include "hv/mm/mm.h"
#include "migrate/stream.h"

bool delta_cache_init(struct delta_cache *c, size_t bytes)
{
	memset(c, 0, sizeof(*c));
	c->slots = bytes / MIG_PAGE_SIZE ? bytes / MIG_PAGE_SIZE : 1;
	c->tags = kzalloc(c->slots * sizeof(*c->tags));
	c->pages = kmalloc(c->slots * MIG_PAGE_SIZE);
	if (!c->tags || !c->pages) {
		delta_cache_free(c);
		return false;
	}
	return true;
}

void delta_cache_free(struct delta_cache *c)
{
	kfree(c->tags);
	kfree(c->pages);
	c->tags = NULL;
	c->pages = NULL;
	c->slots = 0;
}

const uint8_t *delta_cache_find(struct delta_cache *c, uint64_t gfn)
{
	size_t slot = gfn % c->slots;

	if (c->tags[slot] != gfn + 1) {
		c->misses++;
		return NULL;
	}
	c->hits++;
	return c->pages + slot * MIG_PAGE_SIZE;
}

void delta_cache_store(struct delta_cache *c, uint64_t gfn, const uint8_t *page)
{
	size_t slot = gfn % c->slots;

	memcpy(c->pages + slot * MIG_PAGE_SIZE, page, MIG_PAGE_SIZE);
	c->tags[slot] = gfn + 1;
	c->stored++;
}

void delta_cache_forget(struct delta_cache *c, uint64_t gfn)
{
	size_t slot = gfn % c->slots;

	if (c->tags[slot] == gfn + 1)
		c->tags[slot] = 0;
}
