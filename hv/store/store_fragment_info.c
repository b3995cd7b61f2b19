/* Listing fragments (disks still arriving) and finding them by id, by
 * the name they will have, or by the source disk's UUID. */
#include "hv/store/store_internal.h"

#include "hv/lib/string.h"

unsigned store_fragment_id(const struct sdisk *d)
{
	return d->slot + 1;
}

struct sdisk *store_fragment_by_id(const struct store *s, unsigned id)
{
	struct sdisk *d = id && id <= STORE_MAX_DISKS ? s->disks[id - 1] : NULL;

	return d && store_is_fragment(d) ? d : NULL;
}

static void fill(const struct sdisk *d, struct store_fragment_info *out)
{
	memset(out, 0, sizeof(*out));
	out->id = store_fragment_id(d);
	str_copy(out->name, d->name, sizeof(out->name));
	out->uuid = d->uuid;
	out->content_id = d->content_id;
	if (d->parent)
		str_copy(out->parent, d->parent->name, sizeof(out->parent));
	out->size = d->size;
	out->offset = d->frag_offset;
	out->crc = d->frag_crc;
	out->allocated_blocks = d->allocated;
	out->created_s = d->created_s;
	out->progress_s = d->frag_progress_s;
	out->open = d->open_writers || d->open_readers;
}

unsigned store_fragment_count(const struct store *s)
{
	unsigned n = 0;

	for (unsigned slot = 0; slot < STORE_MAX_DISKS; slot++)
		n += s->disks[slot] && store_is_fragment(s->disks[slot]);
	return n;
}

int store_fragment_info_at(const struct store *s, unsigned index, struct store_fragment_info *out)
{
	const struct sdisk *d = store_nth_created(s, index, true);

	if (!d)
		return STORE_ENOENT;
	fill(d, out);
	return STORE_OK;
}

int store_fragment_info(const struct store *s, unsigned id, struct store_fragment_info *out)
{
	const struct sdisk *d = store_fragment_by_id(s, id);

	if (!d)
		return STORE_ENOENT;
	fill(d, out);
	return STORE_OK;
}

int store_fragment_find(const struct store *s, const struct store_uuid *uuid,
			struct store_fragment_info *out)
{
	for (unsigned slot = 0; slot < STORE_MAX_DISKS; slot++) {
		const struct sdisk *d = s->disks[slot];
		if (d && store_is_fragment(d) && !memcmp(d->uuid.b, uuid->b, sizeof(uuid->b))) {
			fill(d, out);
			return STORE_OK;
		}
	}
	return STORE_ENOENT;
}
