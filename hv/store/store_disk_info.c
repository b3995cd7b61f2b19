/* Listing disks and their properties. Fragments (disks still arriving)
 * are listed separately (store_fragment_info.c). */
#include "hv/store/store_internal.h"

#include "hv/lib/string.h"

static bool listed(const struct sdisk *d, bool fragments)
{
	return d && store_is_fragment(d) == fragments;
}

unsigned store_disk_count(const struct store *s)
{
	unsigned n = 0;

	for (unsigned slot = 0; slot < STORE_MAX_DISKS; slot++)
		n += listed(s->disks[slot], false);
	return n;
}

void store_disk_fill_info(const struct store *s, const struct sdisk *d,
			  struct store_disk_info *out)
{
	memset(out, 0, sizeof(*out));
	str_copy(out->name, d->name, sizeof(out->name));
	out->uuid = d->uuid;
	out->content_id = d->content_id;
	if (d->parent)
		str_copy(out->parent, d->parent->name, sizeof(out->parent));
	out->size = d->size;
	out->block_size = s->sb.lay.block_size;
	out->allocated_blocks = d->allocated;
	out->base = (d->flags & STORE_DF_BASE) != 0;
	out->children = d->children;
	out->open_writers = d->open_writers;
	out->open_readers = d->open_readers;
	out->created_s = d->created_s;
}

/* Creation order: by the creating transaction's sequence, then slot. */
static bool before(const struct sdisk *a, const struct sdisk *b)
{
	return a->create_seq < b->create_seq ||
	       (a->create_seq == b->create_seq && a->slot < b->slot);
}

const struct sdisk *store_nth_created(const struct store *s, unsigned index, bool fragments)
{
	for (unsigned slot = 0; slot < STORE_MAX_DISKS; slot++) {
		const struct sdisk *d = s->disks[slot];
		unsigned rank = 0;
		if (!listed(d, fragments))
			continue;
		for (unsigned o = 0; o < STORE_MAX_DISKS; o++)
			rank += listed(s->disks[o], fragments) && before(s->disks[o], d);
		if (rank == index)
			return d;
	}
	return NULL;
}

int store_disk_info_at(const struct store *s, unsigned index, struct store_disk_info *out)
{
	const struct sdisk *d = store_nth_created(s, index, false);

	if (!d)
		return STORE_ENOENT;
	store_disk_fill_info(s, d, out);
	return STORE_OK;
}

int store_disk_info(const struct store *s, const char *name, struct store_disk_info *out)
{
	const struct sdisk *d = store_find(s, name);

	if (!d)
		return STORE_ENOENT;
	store_disk_fill_info(s, d, out);
	return STORE_OK;
}
