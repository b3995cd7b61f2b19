/* store_format(): writes an empty datastore. The superblocks go last, after
 * a flush, so an interrupted format leaves no store rather than a broken
 * one (docs/datastore.md, "Formatting"). */
#include "hv/store/store_internal.h"

#include "hv/lib/byteorder.h"
#include "hv/lib/string.h"

static void bitmap_page_init(uint8_t *page, const struct store_layout *l, uint64_t index)
{
	uint64_t first = index * STORE_BITMAP_BITS;

	memset(page, 0, STORE_PAGE);
	for (uint64_t b = first; b < l->data_start && b < first + STORE_BITMAP_BITS; b++) {
		uint64_t bit = b - first;
		uint8_t *word = page + MH_SIZE + 8 * (bit / 64);
		put_le64(word, get_le64(word) | 1ull << (bit % 64));
	}
}

static int write_page(struct store_dev *sd, uint64_t loc, const uint8_t *page)
{
	return store_dev_write(sd, loc * STORE_PAGE, page, STORE_PAGE);
}

static int write_metadata(struct store_dev *sd, const struct store_sb *sb, uint8_t *page)
{
	const struct store_layout *l = &sb->lay;
	uint64_t tag = store_tag_of(&sb->uuid);
	int rc;

	memset(page, 0, STORE_PAGE);
	rc = write_page(sd, l->journal_start, page); /* no transaction */
	for (uint64_t i = 0; i < l->bitmap_pages && rc == STORE_OK; i++) {
		struct mpage mp = { .loc = l->bitmap_start + i, .type = STORE_PT_BITMAP,
				    .index = (uint32_t)i };
		bitmap_page_init(page, l, i);
		store_meta_seal(page, &mp, 0, tag);
		rc = write_page(sd, mp.loc, page);
	}
	for (uint32_t slot = 0; slot < STORE_DISKTAB_PAGES && rc == STORE_OK; slot++) {
		struct mpage mp = { .loc = l->disktab_start + slot, .type = STORE_PT_DISK,
				    .owner = slot + 1, .index = slot };
		memset(page, 0, STORE_PAGE);
		store_meta_seal(page, &mp, 0, tag);
		rc = write_page(sd, mp.loc, page);
	}
	return rc;
}

static int format_region(struct store_dev *sd, struct store_sb *sb, uint8_t *page)
{
	int rc;

	/* Invalidate an older store's superblocks first: its other metadata is
	 * about to be overwritten. */
	memset(page, 0, STORE_PAGE);
	rc = write_page(sd, 0, page);
	if (rc == STORE_OK)
		rc = write_page(sd, 1, page);
	if (rc == STORE_OK)
		rc = store_dev_flush(sd);
	if (rc == STORE_OK)
		rc = write_metadata(sd, sb, page);
	if (rc == STORE_OK)
		rc = store_dev_flush(sd);
	for (unsigned copy = 0; copy < 2 && rc == STORE_OK; copy++) {
		store_sb_encode(sb, copy, page);
		rc = write_page(sd, copy, page);
	}
	if (rc == STORE_OK)
		rc = store_dev_flush(sd);
	return rc;
}

int store_format(struct blockdev *dev, uint64_t first_lba, uint64_t blocks,
		 const struct store_env *env, char *err, size_t errlen)
{
	struct store_sb sb = { .generation = 1 };
	struct store_dev sd = { .dev = dev, .first_lba = first_lba };
	uint8_t *page;
	int rc;

	if (!store_dev_geometry_ok(dev, first_lba, blocks)) {
		store_set_err(err, errlen, "region or device block size not usable");
		return STORE_EINVAL;
	}
	if (dev->read_only) {
		store_set_err(err, errlen, "%s is read-only", dev->name);
		return STORE_EROFS;
	}
	rc = store_layout_compute(blocks * dev->block_size, STORE_DEFAULT_BLOCK_SIZE, &sb.lay, err,
				  errlen);
	if (rc)
		return rc;
	sd.bytes = sb.lay.region_bytes;
	env->random(sb.uuid.b, sizeof(sb.uuid.b));
	sb.created_s = env->now_s ? env->now_s() : 0;
	page = env->alloc(STORE_PAGE);
	sd.rmw = env->alloc(STORE_PAGE);
	if (!page || !sd.rmw) {
		store_set_err(err, errlen, "out of memory");
		rc = STORE_EIO;
	} else {
		rc = format_region(&sd, &sb, page);
		if (rc)
			store_set_err(err, errlen, "I/O error writing %s", dev->name);
	}
	if (page)
		env->free(page, STORE_PAGE);
	if (sd.rmw)
		env->free(sd.rmw, STORE_PAGE);
	return rc;
}
