/* The superblock (two copies, the newer valid one wins), the layout it
 * describes, and store_probe(). docs/datastore.md, "Superblock". */
#include "hv/store/store_internal.h"

#include "hv/lib/byteorder.h"
#include "hv/lib/format.h"
#include "hv/lib/string.h"

int store_layout_compute(uint64_t region_bytes, uint32_t block_size, struct store_layout *out,
			 char *err, size_t errlen)
{
	struct store_layout l = { .block_size = block_size };

	if (block_size < STORE_PAGE || block_size > (1u << 20) || (block_size & (block_size - 1))) {
		store_set_err(err, errlen, "block size %u is not a power of two in 4 KiB..1 MiB",
			      block_size);
		return STORE_EINVAL;
	}
	l.pages_per_block = block_size / STORE_PAGE;
	l.total_blocks = region_bytes / block_size;
	l.region_bytes = l.total_blocks * block_size;
	if (l.total_blocks > STORE_MAX_TOTAL_BLOCKS) {
		store_set_err(err, errlen, "too large: %llu blocks, at most %llu",
			      (unsigned long long)l.total_blocks, STORE_MAX_TOTAL_BLOCKS);
		return STORE_EINVAL;
	}
	l.bitmap_pages = (l.total_blocks + STORE_BITMAP_BITS - 1) / STORE_BITMAP_BITS;
	if (l.bitmap_pages + 64 > STORE_MAX_JOURNAL_PAGES) {
		/* A disk delete may dirty every bitmap page in one transaction. */
		store_set_err(err, errlen, "too large for one journal: at most %llu blocks of "
			      "%u bytes", (unsigned long long)(STORE_MAX_JOURNAL_PAGES - 64) *
			      STORE_BITMAP_BITS, block_size);
		return STORE_EINVAL;
	}
	/* The journal holds the largest single step (freeing a disk dirties
	 * every bitmap page) and about 1/64 of the store besides. */
	l.journal_pages = l.total_blocks * l.pages_per_block / 64;
	if (l.journal_pages < l.bitmap_pages + 64)
		l.journal_pages = l.bitmap_pages + 64;
	if (l.journal_pages < STORE_MIN_JOURNAL_PAGES)
		l.journal_pages = STORE_MIN_JOURNAL_PAGES;
	if (l.journal_pages > STORE_MAX_JOURNAL_PAGES)
		l.journal_pages = STORE_MAX_JOURNAL_PAGES;
	l.journal_start = 2;
	l.bitmap_start = l.journal_start + l.journal_pages;
	l.disktab_start = l.bitmap_start + l.bitmap_pages;
	l.data_start = (l.disktab_start + STORE_DISKTAB_PAGES + l.pages_per_block - 1) /
		       l.pages_per_block;
	if (l.total_blocks < l.data_start + 2) {
		store_set_err(err, errlen, "too small: %llu bytes, metadata alone needs %llu",
			      (unsigned long long)region_bytes,
			      (unsigned long long)(l.data_start * block_size));
		return STORE_EINVAL;
	}
	*out = l;
	return STORE_OK;
}

void store_sb_encode(const struct store_sb *sb, unsigned copy, uint8_t *page)
{
	const struct store_layout *l = &sb->lay;

	memset(page, 0, STORE_PAGE);
	memcpy(page + SB_MAGIC, STORE_SB_MAGIC, 8);
	put_le32(page + SB_VERSION, STORE_VERSION);
	memcpy(page + SB_UUID, sb->uuid.b, 16);
	put_le64(page + SB_GENERATION, sb->generation);
	put_le64(page + SB_REGION_BYTES, l->region_bytes);
	put_le32(page + SB_BLOCK_SIZE, l->block_size);
	put_le32(page + SB_PAGE_SIZE, STORE_PAGE);
	put_le64(page + SB_TOTAL_BLOCKS, l->total_blocks);
	put_le64(page + SB_JOURNAL_START, l->journal_start);
	put_le64(page + SB_JOURNAL_PAGES, l->journal_pages);
	put_le64(page + SB_BITMAP_START, l->bitmap_start);
	put_le64(page + SB_BITMAP_PAGES, l->bitmap_pages);
	put_le64(page + SB_DISKTAB_START, l->disktab_start);
	put_le32(page + SB_DISKTAB_PAGES, STORE_DISKTAB_PAGES);
	put_le64(page + SB_DATA_START, l->data_start);
	put_le64(page + SB_CREATED, sb->created_s);
	put_le64(page + SB_SEQ_FLOOR, sb->seq_floor);
	put_le32(page + SB_COPY, copy);
	store_page_set_crc(page);
}

static bool layout_matches(const uint8_t *page, const struct store_layout *l)
{
	return get_le64(page + SB_TOTAL_BLOCKS) == l->total_blocks &&
	       get_le64(page + SB_JOURNAL_START) == l->journal_start &&
	       get_le64(page + SB_JOURNAL_PAGES) == l->journal_pages &&
	       get_le64(page + SB_BITMAP_START) == l->bitmap_start &&
	       get_le64(page + SB_BITMAP_PAGES) == l->bitmap_pages &&
	       get_le64(page + SB_DISKTAB_START) == l->disktab_start &&
	       get_le32(page + SB_DISKTAB_PAGES) == STORE_DISKTAB_PAGES &&
	       get_le64(page + SB_DATA_START) == l->data_start &&
	       get_le64(page + SB_REGION_BYTES) == l->region_bytes;
}

int store_sb_decode(const uint8_t *page, unsigned copy, uint64_t region_max, struct store_sb *sb,
		    char *why, size_t whylen)
{
	uint64_t region = get_le64(page + SB_REGION_BYTES);
	const char *what = NULL;

	if (memcmp(page + SB_MAGIC, STORE_SB_MAGIC, 8) != 0)
		what = "no datastore magic";
	else if (!store_page_crc_ok(page))
		what = "checksum mismatch";
	else if (get_le32(page + SB_VERSION) != STORE_VERSION)
		what = "unknown version";
	else if (get_le32(page + SB_COPY) != copy || get_le32(page + SB_PAGE_SIZE) != STORE_PAGE)
		what = "bad header";
	else if (region > region_max)
		what = "larger than its device region";
	else if (store_layout_compute(region, get_le32(page + SB_BLOCK_SIZE), &sb->lay, NULL, 0) ||
		 !layout_matches(page, &sb->lay))
		what = "inconsistent layout";
	if (what) {
		fmt_snprintf(why, whylen, "%s", what);
		return STORE_ECORRUPT;
	}
	memcpy(sb->uuid.b, page + SB_UUID, 16);
	sb->generation = get_le64(page + SB_GENERATION);
	sb->created_s = get_le64(page + SB_CREATED);
	sb->seq_floor = get_le64(page + SB_SEQ_FLOOR);
	return STORE_OK;
}

/* Writes the next generation into the copy not holding the current one,
 * so a torn write leaves the other intact. */
int store_sb_write(struct store *s)
{
	unsigned copy = s->sb_copy_written;
	uint8_t *page = s->staging;
	int rc;

	s->sb.generation++;
	s->sb.seq_floor = s->seq - 1;
	store_sb_encode(&s->sb, copy, page);
	rc = store_dev_write(&s->sd, (uint64_t)copy * STORE_PAGE, page, STORE_PAGE);
	if (rc == STORE_OK)
		rc = store_dev_flush(&s->sd);
	s->sb_copy_written = copy ^ 1;
	return rc;
}

static uint8_t probe_page[STORE_PAGE] __attribute__((aligned(STORE_PAGE)));
static uint8_t probe_rmw[STORE_PAGE] __attribute__((aligned(STORE_PAGE)));

int store_probe(struct blockdev *dev, uint64_t first_lba, struct store_uuid *uuid)
{
	struct store_dev sd = { .dev = dev, .first_lba = first_lba, .rmw = probe_rmw };
	struct store_sb sb;
	char why[48];

	if (!store_dev_geometry_ok(dev, first_lba, 0))
		return 0;
	sd.bytes = (dev->blocks - first_lba) * dev->block_size;
	if (sd.bytes < 2 * STORE_PAGE)
		return 0;
	for (unsigned copy = 0; copy < 2; copy++) {
		int rc = blk_io(dev, BLK_OP_READ, first_lba + copy * STORE_PAGE / dev->block_size,
				probe_page, STORE_PAGE, false);
		if (rc != BLK_OK)
			return rc;
		if (store_sb_decode(probe_page, copy, sd.bytes, &sb, why, sizeof(why)) == STORE_OK) {
			*uuid = sb.uuid;
			return 1;
		}
	}
	return 0;
}
