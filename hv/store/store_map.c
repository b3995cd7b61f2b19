/* A disk's thin block map: an L1 table in the disk record naming map
 * chunks (one allocation block of consecutive L2 pages each), L2 pages of
 * u32 entries. Chunks are allocated on the first write into their range,
 * so a sparse disk costs map space only where it was written.
 * docs/datastore.md, "Block maps". */
#include "hv/store/store_internal.h"

#include "hv/lib/byteorder.h"
#include "hv/lib/string.h"

void store_map_geometry(const struct store *s, struct sdisk *d)
{
	uint32_t ppb = s->sb.lay.pages_per_block;

	d->nblocks = (d->size + s->sb.lay.block_size - 1) / s->sb.lay.block_size;
	d->l2_pages = (uint32_t)((d->nblocks + STORE_L2_ENTRIES - 1) / STORE_L2_ENTRIES);
	d->chunks = (d->l2_pages + ppb - 1) / ppb;
}

int store_map_alloc_array(struct store *s, struct sdisk *d)
{
	d->l2 = store_alloc(s, (size_t)d->l2_pages * sizeof(*d->l2));
	return d->l2 ? STORE_OK : STORE_EIO;
}

void store_map_release(struct store *s, struct sdisk *d)
{
	if (!d->l2)
		return;
	for (uint32_t k = 0; k < d->l2_pages; k++)
		store_free(s, d->l2[k].buf, STORE_PAGE);
	store_free(s, d->l2, (size_t)d->l2_pages * sizeof(*d->l2));
	d->l2 = NULL;
}

uint64_t store_map_get(const struct store *s, const struct sdisk *d, uint64_t bi)
{
	const struct mpage *mp;
	uint64_t e;

	if (bi >= d->nblocks)
		return 0;
	mp = &d->l2[bi / STORE_L2_ENTRIES];
	if (!mp->buf)
		return 0;
	if (mp->bad)
		return STORE_MAP_BAD;
	e = get_le32(mp->buf + MH_SIZE + 4 * (bi % STORE_L2_ENTRIES));
	if (e && !store_block_in_data(s, e))
		return STORE_MAP_BAD;
	return e;
}

unsigned store_map_need(const struct store *s, const struct sdisk *d, uint64_t bi)
{
	(void)s;
	return d->l2[bi / STORE_L2_ENTRIES].buf ? 0 : 1;
}

/* A fresh chunk: every L2 page in it is written (empty), so none holds
 * whatever the block held before. */
static void chunk_release_pages(struct store *s, struct sdisk *d, uint32_t first,
				uint32_t count)
{
	for (uint32_t i = 0; i < count; i++) {
		struct mpage *mp = &d->l2[first + i];
		if (mp->buf)
			store_free(s, mp->buf, STORE_PAGE);
		mp->buf = NULL;
	}
}

static int chunk_alloc(struct store *s, struct sdisk *d, uint32_t c)
{
	uint32_t ppb = s->sb.lay.pages_per_block, first = c * ppb;
	uint32_t count = d->l2_pages - first < ppb ? (uint32_t)(d->l2_pages - first) : ppb;

	/* Memory first: a chunk half set up (pages without the L1 entry that
	 * finds them) would take map entries no open ever reads back. */
	for (uint32_t i = 0; i < count; i++) {
		d->l2[first + i].buf = store_alloc(s, STORE_PAGE);
		if (!d->l2[first + i].buf) {
			chunk_release_pages(s, d, first, i);
			return STORE_EIO;
		}
	}
	uint64_t block = store_block_alloc(s);
	if (!block) {
		chunk_release_pages(s, d, first, count);
		return STORE_ENOSPC;
	}
	for (uint32_t i = 0; i < count; i++) {
		struct mpage *mp = &d->l2[first + i];
		mp->loc = block * ppb + i;
		mp->type = STORE_PT_L2;
		mp->owner = d->slot + 1;
		mp->index = first + i;
		store_mark_dirty(s, mp);
	}
	d->l1[c] = (uint32_t)block;
	store_mark_dirty(s, d->rec);
	return STORE_OK;
}

int store_map_set(struct store *s, struct sdisk *d, uint64_t bi, uint64_t block)
{
	struct mpage *mp = &d->l2[bi / STORE_L2_ENTRIES];
	int rc;

	if (!mp->buf) {
		rc = chunk_alloc(s, d, (uint32_t)(bi / STORE_L2_ENTRIES / s->sb.lay.pages_per_block));
		if (rc)
			return rc;
	}
	put_le32(mp->buf + MH_SIZE + 4 * (bi % STORE_L2_ENTRIES), (uint32_t)block);
	store_mark_dirty(s, mp);
	return STORE_OK;
}

/* Frees every block the disk maps and its map chunks (disk delete). */
void store_map_free_blocks(struct store *s, struct sdisk *d)
{
	for (uint64_t bi = 0; bi < d->nblocks; bi++) {
		uint64_t b = store_map_get(s, d, bi);
		if (b && b != STORE_MAP_BAD)
			store_block_free(s, b);
	}
	for (uint32_t c = 0; c < d->chunks; c++)
		if (d->l1[c])
			store_block_free(s, d->l1[c]);
}
