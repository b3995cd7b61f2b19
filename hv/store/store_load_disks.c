/* Loading and cross-checking the disk table and every disk's block map:
 * each mapped block inside the data area, allocated in the bitmap, used
 * once; parents present, base disks, no loops. */
#include "hv/store/store_internal.h"

#include "hv/lib/bitmap.h"
#include "hv/lib/byteorder.h"
#include "hv/lib/string.h"

/* Entry problems reported per map page before they are only counted. */
#define ENTRY_REPORTS 8

static int load_slot(struct store *s, struct store_load_ctx *lc, const struct store_journal *j,
		     unsigned slot)
{
	struct mpage *rec = &s->recs[slot];
	struct sdisk *d;
	char why[48];
	int rc = store_read_meta_page(s, j, rec->loc, rec->buf);

	if (rc)
		return rc;
	if (store_meta_verify(rec->buf, rec, s->store_tag, why, sizeof(why))) {
		store_problem(lc, "disk table slot %u: %s", slot, why);
		rec->bad = true;
		return STORE_OK;
	}
	d = store_sdisk_new(s, slot);
	if (!d)
		return STORE_EIO;
	rc = store_record_decode(s, rec->buf, d, why, sizeof(why));
	if (rc == STORE_OK)
		rc = store_map_alloc_array(s, d);
	if (rc == STORE_OK) {
		d->cid_committed = true;
		s->disks[slot] = d;
		return STORE_OK;
	}
	store_sdisk_free(s, d);
	if (rc == STORE_ENOENT)
		return STORE_OK;
	if (rc == STORE_EIO)
		return rc;
	store_problem(lc, "disk table slot %u: %s", slot, why);
	rec->bad = true;
	return STORE_OK;
}

int store_load_disks(struct store *s, struct store_load_ctx *lc, const struct store_journal *j)
{
	for (unsigned slot = 0; slot < STORE_MAX_DISKS; slot++) {
		int rc = load_slot(s, lc, j, slot);
		if (rc)
			return rc;
	}
	for (unsigned a = 0; a < STORE_MAX_DISKS; a++)
		for (unsigned b = a + 1; b < STORE_MAX_DISKS && s->disks[a]; b++)
			if (s->disks[b] && !strcmp(s->disks[a]->name, s->disks[b]->name))
				store_problem(lc, "disk '%s': name used twice", s->disks[a]->name);
	return STORE_OK;
}

/* A block some map references: in the data area, not seen before,
 * allocated. Returns false when it is outside the data area. */
static bool claim(struct store *s, struct store_load_ctx *lc, const struct sdisk *d,
		  uint64_t block, uint64_t *seen, bool quiet)
{
	if (!store_block_in_data(s, block)) {
		if (!quiet)
			store_problem(lc, "disk '%s': block %llu outside the data area", d->name,
				      (unsigned long long)block);
		return false;
	}
	if (bitmap_test(seen, block)) {
		if (!quiet)
			store_problem(lc, "disk '%s': block %llu is used twice", d->name,
				      (unsigned long long)block);
	} else if (!bitmap_test(s->alloc, block)) {
		if (!quiet)
			store_problem(lc, "disk '%s': block %llu is in use but free in the bitmap",
				      d->name, (unsigned long long)block);
		bitmap_set(s->alloc, block);
	}
	bitmap_set(seen, block);
	return true;
}

/* Entries of one verified L2 page; returns how many are mapped. */
static uint64_t check_entries(struct store *s, struct store_load_ctx *lc, struct sdisk *d,
			      struct mpage *mp, uint64_t *seen)
{
	unsigned bad = 0;
	uint64_t mapped = 0;

	for (uint32_t i = 0; i < STORE_L2_ENTRIES; i++) {
		uint64_t bi = (uint64_t)mp->index * STORE_L2_ENTRIES + i;
		uint32_t e = get_le32(mp->buf + MH_SIZE + 4 * i);
		if (!e)
			continue;
		if (bi >= d->nblocks) {
			if (bad++ < ENTRY_REPORTS)
				store_problem(lc, "disk '%s': L2 block %llu maps past the end of the disk",
					      d->name, (unsigned long long)mp->loc);
			continue;
		}
		mapped++;
		if (!claim(s, lc, d, e, seen, bad >= ENTRY_REPORTS))
			bad++;
	}
	if (bad > ENTRY_REPORTS)
		store_problem(lc, "disk '%s': L2 block %llu: %u more bad entries", d->name,
			      (unsigned long long)mp->loc, bad - ENTRY_REPORTS);
	return mapped;
}

/* The L2 pages of chunk c; a damaged chunk makes its pages bad (reads in
 * their range fail rather than fall through to the parent). */
static int load_chunk(struct store *s, struct store_load_ctx *lc, const struct store_journal *j,
		      struct sdisk *d, uint32_t c, uint64_t *seen, uint64_t *mapped)
{
	uint32_t ppb = s->sb.lay.pages_per_block;
	uint64_t block = d->l1[c];
	bool usable = claim(s, lc, d, block, seen, false);
	char why[48];

	if (usable) {
		int rc = store_dev_read(&s->sd, block * s->sb.lay.block_size, s->bounce,
					s->sb.lay.block_size);
		if (rc)
			return rc;
	}

	for (uint32_t i = 0; i < ppb && c * ppb + i < d->l2_pages; i++) {
		struct mpage *mp = &d->l2[c * ppb + i];
		*mp = (struct mpage){ .loc = block * ppb + i, .type = STORE_PT_L2,
				      .owner = d->slot + 1, .index = c * ppb + i,
				      .buf = store_alloc(s, STORE_PAGE) };
		if (!mp->buf)
			return STORE_EIO;
		if (!usable) {
			mp->bad = true;
			continue;
		}
		const uint8_t *rec = store_journal_find(j, mp->loc);
		memcpy(mp->buf, rec ? rec : s->bounce + (size_t)i * STORE_PAGE, STORE_PAGE);
		if (store_meta_verify(mp->buf, mp, s->store_tag, why, sizeof(why))) {
			store_problem(lc, "disk '%s': block map L2 block %llu %s", d->name,
				      (unsigned long long)mp->loc, why);
			mp->bad = true;
			continue;
		}
		*mapped += check_entries(s, lc, d, mp, seen);
	}
	return STORE_OK;
}

int store_load_maps(struct store *s, struct store_load_ctx *lc, const struct store_journal *j,
		    uint64_t *seen)
{
	for (unsigned slot = 0; slot < STORE_MAX_DISKS; slot++) {
		struct sdisk *d = s->disks[slot];
		uint64_t mapped = 0;
		bool damaged = false;
		if (!d)
			continue;
		for (uint32_t c = 0; c < d->chunks; c++) {
			if (!d->l1[c])
				continue;
			int rc = load_chunk(s, lc, j, d, c, seen, &mapped);
			if (rc)
				return rc;
		}
		for (uint32_t k = 0; k < d->l2_pages; k++)
			damaged |= d->l2[k].bad;
		/* After a damaged map page the count says nothing new. */
		if (mapped != d->allocated && !damaged)
			store_problem(lc, "disk '%s': %llu blocks mapped but %llu recorded", d->name,
				      (unsigned long long)mapped, (unsigned long long)d->allocated);
	}
	/* A journal record for a map page no disk has would be written over
	 * data by the replay. */
	for (unsigned i = 0; j->committed && i < j->count; i++) {
		const uint8_t *p = j->records + (size_t)i * STORE_PAGE;
		if (get_le16(p + MH_TYPE) != STORE_PT_L2)
			continue;
		uint32_t owner = get_le32(p + MH_OWNER), index = get_le32(p + MH_INDEX);
		struct sdisk *d = owner && owner <= STORE_MAX_DISKS ? s->disks[owner - 1] : NULL;
		if (!d || index >= d->l2_pages || d->l2[index].loc != get_le64(p + MH_LOCATION)) {
			store_problem(lc, "journal: record %u is not a page of any block map", i);
			break;
		}
	}
	return STORE_OK;
}

void store_check_links(struct store *s, struct store_load_ctx *lc)
{
	for (unsigned slot = 0; slot < STORE_MAX_DISKS; slot++) {
		struct sdisk *d = s->disks[slot], *p;
		if (!d || !d->parent_slot)
			continue;
		p = s->disks[d->parent_slot - 1];
		if (!p || memcmp(p->uuid.b, d->parent_uuid.b, 16)) {
			store_problem(lc, "disk '%s': parent missing", d->name);
			continue;
		}
		if (!(p->flags & STORE_DF_BASE))
			store_problem(lc, "disk '%s': parent '%s' is not a base disk", d->name,
				      p->name);
		d->parent = p;
		p->children++;
	}
	for (unsigned slot = 0; slot < STORE_MAX_DISKS; slot++) {
		const struct sdisk *d = s->disks[slot];
		unsigned depth = 0;
		for (const struct sdisk *p = d; p && depth <= STORE_MAX_CHAIN; p = p->parent)
			depth++;
		if (d && depth > STORE_MAX_CHAIN)
			store_problem(lc, "disk '%s': parent chain loops", d->name);
	}
}
