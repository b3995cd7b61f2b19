/* Reading a store into memory and checking it: superblocks, journal,
 * bitmap (this file), disks and maps (store_load_disks.c). Everything read
 * is untrusted; each problem is reported, and the caller decides what it
 * means (store_open: read-only; store_check: list them). */
#include "hv/store/store_internal.h"

#include "hv/lib/bitmap.h"
#include "hv/lib/byteorder.h"
#include "hv/lib/format.h"
#include "hv/lib/string.h"

static void report(struct store_load_ctx *lc, const char *fmt, va_list ap)
{
	char msg[160];

	fmt_vsnprintf(msg, sizeof(msg), fmt, ap);
	if (lc->report)
		lc->report(lc->ctx, msg);
}

void store_problem(struct store_load_ctx *lc, const char *fmt, ...)
{
	va_list ap;

	lc->problems++;
	va_start(ap, fmt);
	report(lc, fmt, ap);
	va_end(ap);
}

void store_warning(struct store_load_ctx *lc, const char *fmt, ...)
{
	va_list ap;

	lc->warnings++;
	if (!lc->check)
		return;
	va_start(ap, fmt);
	report(lc, fmt, ap);
	va_end(ap);
}

int store_read_meta_page(struct store *s, const struct store_journal *j, uint64_t loc,
			 uint8_t *buf)
{
	const uint8_t *rec = store_journal_find(j, loc);

	if (rec) {
		memcpy(buf, rec, STORE_PAGE);
		return STORE_OK;
	}
	return store_dev_read(&s->sd, loc * STORE_PAGE, buf, STORE_PAGE);
}

/* Both copies are read; the valid one with the larger generation wins. */
static int load_super(struct store *s, struct store_load_ctx *lc, uint8_t *page, char *err,
		      size_t errlen)
{
	struct store_sb sb[2];
	char why[2][48];
	bool ok[2];

	for (unsigned c = 0; c < 2; c++) {
		if (store_dev_read(&s->sd, (uint64_t)c * STORE_PAGE, page, STORE_PAGE)) {
			store_set_err(err, errlen, "I/O error reading superblock %c", 'A' + c);
			return STORE_EIO;
		}
		ok[c] = store_sb_decode(page, c, s->sd.bytes, &sb[c], why[c], sizeof(why[c])) == 0;
	}
	if (ok[0] && ok[1] && memcmp(sb[0].uuid.b, sb[1].uuid.b, 16)) {
		unsigned older = sb[1].generation > sb[0].generation ? 0 : 1;
		ok[older] = false;
		fmt_snprintf(why[older], sizeof(why[older]), "belongs to another store");
	}
	if (!ok[0] && !ok[1]) {
		store_set_err(err, errlen, "no valid superblock (A: %s; B: %s)", why[0], why[1]);
		return STORE_ECORRUPT;
	}
	unsigned use = ok[0] && ok[1] ? sb[1].generation > sb[0].generation : ok[1];
	if (!ok[use ^ 1])
		/* Also what a crash while updating it leaves: not damage. */
		store_warning(lc, "superblock %c: %s (copy %c is used)", 'A' + (use ^ 1),
			      why[use ^ 1], 'A' + use);
	s->sb = sb[use];
	s->sb_copy_written = use ^ 1;
	s->sd.bytes = s->sb.lay.region_bytes;
	s->store_tag = store_tag_of(&s->sb.uuid);
	return STORE_OK;
}

static int alloc_buffers(struct store *s)
{
	const struct store_layout *l = &s->sb.lay;
	size_t run = (size_t)STORE_BOUNCE_BLOCKS * l->block_size;

	s->staging = store_alloc(s, run);
	s->bounce = store_alloc(s, run);
	s->fill = store_alloc(s, l->block_size);
	s->dirty_cap = (unsigned)l->journal_pages - 1;
	s->dirty = store_alloc(s, s->dirty_cap * sizeof(*s->dirty));
	s->bitmap = store_alloc(s, l->bitmap_pages * sizeof(*s->bitmap));
	if (!s->staging || !s->bounce || !s->fill || !s->dirty || !s->bitmap)
		return STORE_EIO;
	for (uint64_t i = 0; i < l->bitmap_pages; i++) {
		struct mpage *mp = &s->bitmap[i];
		*mp = (struct mpage){ .loc = l->bitmap_start + i, .type = STORE_PT_BITMAP,
				      .index = (uint32_t)i, .buf = store_alloc(s, STORE_PAGE) };
		if (!mp->buf)
			return STORE_EIO;
	}
	for (unsigned slot = 0; slot < STORE_MAX_DISKS; slot++) {
		struct mpage *mp = &s->recs[slot];
		*mp = (struct mpage){ .loc = l->disktab_start + slot, .type = STORE_PT_DISK,
				      .owner = slot + 1, .index = slot,
				      .buf = store_alloc(s, STORE_PAGE) };
		if (!mp->buf)
			return STORE_EIO;
	}
	return store_alloc_init(s);
}

/* Copies page i's bits into the in-memory map; bits past the store must
 * be clear. */
static void bitmap_take(struct store *s, struct store_load_ctx *lc, uint64_t i)
{
	const struct store_layout *l = &s->sb.lay;
	const uint8_t *p = s->bitmap[i].buf;
	uint64_t first = i * STORE_BITMAP_BITS;
	bool past = false;

	for (uint64_t w = 0; w < STORE_BITMAP_WORDS; w++) {
		uint64_t v = get_le64(p + MH_SIZE + 8 * w), b = first + 64 * w;
		if (!v)
			continue;
		if (b + 64 > l->total_blocks) {
			uint64_t keep = b >= l->total_blocks ? 0 : l->total_blocks - b;
			uint64_t mask = keep ? ~0ull >> (64 - keep) : 0;
			past |= (v & ~mask) != 0;
			v &= mask;
		}
		/* The in-memory map's words line up: STORE_BITMAP_BITS is a multiple of 64. */
		if (v)
			s->alloc[b / 64] |= v;
	}
	if (past)
		store_problem(lc, "bitmap block %llu: blocks past the end of the store are marked",
			      (unsigned long long)s->bitmap[i].loc);
}

static int load_bitmap(struct store *s, struct store_load_ctx *lc, const struct store_journal *j)
{
	const struct store_layout *l = &s->sb.lay;
	char why[48];

	for (uint64_t i = 0; i < l->bitmap_pages; i++) {
		struct mpage *mp = &s->bitmap[i];
		int rc = store_read_meta_page(s, j, mp->loc, mp->buf);
		if (rc)
			return rc;
		if (store_meta_verify(mp->buf, mp, s->store_tag, why, sizeof(why)) == 0) {
			bitmap_take(s, lc, i);
			continue;
		}
		store_problem(lc, "bitmap block %llu: %s", (unsigned long long)mp->loc, why);
		mp->bad = true;
		uint64_t end = (i + 1) * STORE_BITMAP_BITS;
		bitmap_set_range(s->alloc, i * STORE_BITMAP_BITS,
				 (end < l->total_blocks ? end : l->total_blocks) - i * STORE_BITMAP_BITS);
	}
	for (uint64_t b = 0; b < l->data_start; b++)
		if (!bitmap_test(s->alloc, b)) {
			store_problem(lc, "bitmap: metadata block %llu marked free",
				      (unsigned long long)b);
			bitmap_set_range(s->alloc, 0, l->data_start);
			break;
		}
	return STORE_OK;
}

static void count_leaks(struct store *s, struct store_load_ctx *lc, const uint64_t *seen)
{
	const struct store_layout *l = &s->sb.lay;
	uint64_t leaked = 0;

	bool bitmap_damaged = false;

	for (uint64_t i = 0; i < l->bitmap_pages; i++)
		bitmap_damaged |= s->bitmap[i].bad;
	for (uint64_t b = l->data_start; b < l->total_blocks; b++)
		if (bitmap_test(s->alloc, b) && !bitmap_test(seen, b))
			leaked++;
	/* A damaged bitmap page counts as all allocated: no news. */
	if (leaked && !bitmap_damaged)
		store_warning(lc, "bitmap: %llu blocks allocated but not used (leaked)",
			      (unsigned long long)leaked);
	s->free_blocks = l->total_blocks - bitmap_count(s->alloc, l->total_blocks);
}

static int load_journal(struct store *s, struct store_load_ctx *lc, struct store_journal *j)
{
	char why[80] = "";
	int rc = store_journal_load(s, j, why, sizeof(why));

	if (rc == STORE_ECORRUPT) {
		store_problem(lc, "journal: %s (not replayed)", why);
		j->committed = false;
		rc = STORE_OK;
	}
	if (j->committed && j->needs_replay && lc->check && lc->report)
		lc->report(lc->ctx, "info: journal: 1 committed transaction to replay at the next open");
	uint64_t top = j->header_ok && j->seq > s->sb.seq_floor ? j->seq : s->sb.seq_floor;
	s->seq = top + 1;
	return rc;
}

static int load_all(struct store *s, struct store_load_ctx *lc, struct store_journal *j)
{
	uint64_t *seen;
	int rc = alloc_buffers(s);

	if (rc == STORE_OK)
		rc = load_journal(s, lc, j);
	if (rc == STORE_OK)
		rc = load_bitmap(s, lc, j);
	if (rc == STORE_OK)
		rc = store_load_disks(s, lc, j);
	if (rc)
		return rc;
	size_t seen_bytes = BITMAP_WORDS(s->sb.lay.total_blocks) * 8;
	seen = store_alloc(s, seen_bytes);
	if (!seen)
		return STORE_EIO;
	rc = store_load_maps(s, lc, j, seen);
	if (rc == STORE_OK) {
		store_check_links(s, lc);
		count_leaks(s, lc, seen);
	}
	store_free(s, seen, seen_bytes);
	return rc;
}

int store_load(struct store *s, struct store_load_ctx *lc, struct store_journal *j, char *err,
	       size_t errlen)
{
	uint8_t *page = store_alloc(s, STORE_PAGE);
	int rc;

	*j = (struct store_journal){ 0 };
	if (!page) {
		store_set_err(err, errlen, "out of memory");
		return STORE_EIO;
	}
	rc = load_super(s, lc, page, err, errlen);
	store_free(s, page, STORE_PAGE);
	if (rc)
		return rc;
	rc = load_all(s, lc, j);
	if (rc == STORE_EIO)
		store_set_err(err, errlen, "I/O error or out of memory reading the metadata");
	return rc;
}

void store_unload(struct store *s)
{
	const struct store_layout *l = &s->sb.lay;
	size_t run = (size_t)STORE_BOUNCE_BLOCKS * l->block_size;
	size_t words = BITMAP_WORDS(l->total_blocks) * 8;

	for (unsigned slot = 0; slot < STORE_MAX_DISKS; slot++) {
		if (s->disks[slot])
			store_sdisk_free(s, s->disks[slot]);
		s->disks[slot] = NULL;
		store_free(s, s->recs[slot].buf, STORE_PAGE);
		s->recs[slot].buf = NULL;
	}
	if (s->bitmap)
		for (uint64_t i = 0; i < l->bitmap_pages; i++)
			store_free(s, s->bitmap[i].buf, STORE_PAGE);
	store_free(s, s->bitmap, l->bitmap_pages * sizeof(*s->bitmap));
	store_free(s, s->dirty, s->dirty_cap * sizeof(*s->dirty));
	store_free(s, s->staging, run);
	store_free(s, s->bounce, run);
	store_free(s, s->fill, l->block_size);
	store_free(s, s->alloc, words);
	store_free(s, s->freeing, words);
	s->bitmap = NULL;
	s->dirty = NULL;
	s->staging = s->bounce = s->fill = NULL;
	s->alloc = s->freeing = NULL;
}
