/* A disk's chain as the sender of a disk sees it: which blocks a part of
 * the chain owns (what to send when the receiver holds the rest), the
 * ancestors, and which base carries a given content. */
#include "hv/store/store_internal.h"

#include "hv/lib/string.h"

uint32_t store_disk_block_size(const struct store_disk *h)
{
	return h->s->sb.lay.block_size;
}

void store_disk_handle_info(const struct store_disk *h, struct store_disk_info *out)
{
	store_disk_fill_info(h->s, h->d, out);
}

bool store_disk_block_owned(const struct store_disk *h, uint64_t bi, uint32_t levels)
{
	unsigned depth = 0;

	for (const struct sdisk *c = h->d; c && depth < levels && depth < STORE_MAX_CHAIN;
	     c = c->parent, depth++)
		/* A damaged map entry counts as owned: reading the block then
		 * reports the damage instead of the sender skipping it. */
		if (store_map_get(h->s, c, bi))
			return true;
	return false;
}

unsigned store_disk_ancestors(const struct store *s, const char *name,
			      struct store_disk_info *out, unsigned max)
{
	const struct sdisk *d = store_find(s, name);
	unsigned n = 0;

	if (!d)
		return 0;
	for (const struct sdisk *p = d->parent; p && n < STORE_MAX_CHAIN; p = p->parent, n++)
		if (n < max)
			store_disk_fill_info(s, p, &out[n]);
	return n;
}

int store_base_by_content(const struct store *s, const struct store_uuid *content_id,
			  char name[STORE_NAME_MAX])
{
	for (unsigned slot = 0; slot < STORE_MAX_DISKS; slot++) {
		const struct sdisk *d = s->disks[slot];
		if (d && (d->flags & STORE_DF_BASE) && !store_is_fragment(d) &&
		    !memcmp(d->content_id.b, content_id->b, sizeof(content_id->b))) {
			str_copy(name, d->name, STORE_NAME_MAX);
			return STORE_OK;
		}
	}
	return STORE_ENOENT;
}
