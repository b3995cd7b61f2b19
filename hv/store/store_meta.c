/* Metadata page headers and checksums, and the set of pages the open
 * transaction will write (docs/datastore.md, "Metadata pages"). */
#include "hv/store/store_internal.h"

#include "hv/lib/byteorder.h"
#include "hv/lib/crc32c.h"
#include "hv/lib/format.h"
#include "hv/lib/string.h"

uint32_t store_page_crc(const uint8_t *page)
{
	return crc32c(0, page, STORE_CRC_OFF);
}

bool store_page_crc_ok(const uint8_t *page)
{
	return store_crc_ok(get_le32(page + STORE_CRC_OFF), store_page_crc(page));
}

void store_page_set_crc(uint8_t *page)
{
	put_le32(page + STORE_CRC_OFF, store_page_crc(page));
}

void store_meta_seal(uint8_t *page, const struct mpage *mp, uint64_t seq, uint64_t tag)
{
	put_le32(page + MH_MAGIC, STORE_META_MAGIC);
	put_le16(page + MH_TYPE, mp->type);
	put_le16(page + MH_VERSION, STORE_VERSION);
	put_le64(page + MH_LOCATION, mp->loc);
	put_le64(page + MH_SEQ, seq);
	put_le64(page + MH_STORE_TAG, tag);
	put_le32(page + MH_OWNER, mp->owner);
	put_le32(page + MH_INDEX, mp->index);
	store_page_set_crc(page);
}

int store_meta_verify(const uint8_t *page, const struct mpage *expect, uint64_t tag, char *why,
		      size_t whylen)
{
	const char *what = NULL;

	if (get_le32(page + MH_MAGIC) != STORE_META_MAGIC)
		what = "bad magic";
	else if (!store_page_crc_ok(page))
		what = "checksum mismatch";
	else if (get_le16(page + MH_TYPE) != expect->type)
		what = "wrong page type";
	else if (get_le16(page + MH_VERSION) != STORE_VERSION)
		what = "unknown version";
	else if (get_le64(page + MH_LOCATION) != expect->loc)
		what = "written at the wrong place";
	else if (get_le64(page + MH_STORE_TAG) != tag)
		what = "belongs to another store";
	else if (get_le32(page + MH_OWNER) != expect->owner || get_le32(page + MH_INDEX) != expect->index)
		what = "wrong owner";
	if (!what)
		return 0;
	fmt_snprintf(why, whylen, "%s", what);
	return -1;
}

void store_mark_dirty(struct store *s, struct mpage *mp)
{
	if (mp->dirty)
		return;
	/* store_reserve() made room before the step began; a step that still
	 * overflows is a bug, and the store stops writing rather than lose it. */
	if (s->ndirty >= s->dirty_cap) {
		s->read_only = true;
		str_copy(s->problem, "internal: transaction larger than the journal",
			 sizeof(s->problem));
		return;
	}
	mp->dirty = true;
	s->dirty[s->ndirty++] = mp;
}

int store_reserve(struct store *s, unsigned pages)
{
	if (s->ndirty + pages <= s->dirty_cap)
		return STORE_OK;
	return store_commit(s);
}
