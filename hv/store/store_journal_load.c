/* Reading the journal at open: a committed transaction is applied over the
 * in-place pages (in memory, and on the device by a writable open). */
#include "hv/store/store_internal.h"

#include "hv/lib/byteorder.h"
#include "hv/lib/crc32c.h"
#include "hv/lib/format.h"
#include "hv/lib/string.h"

static uint8_t *record(const struct store_journal *j, unsigned i)
{
	return j->records + (size_t)i * STORE_PAGE;
}

/* What a record at 'loc' must look like: a bitmap page, a disk record, or
 * a map page inside the data area. */
static bool expected_page(const struct store *s, uint64_t loc, struct mpage *mp)
{
	const struct store_layout *l = &s->sb.lay;

	*mp = (struct mpage){ .loc = loc };
	if (loc >= l->bitmap_start && loc < l->bitmap_start + l->bitmap_pages) {
		mp->type = STORE_PT_BITMAP;
		mp->index = (uint32_t)(loc - l->bitmap_start);
		return true;
	}
	if (loc >= l->disktab_start && loc < l->disktab_start + STORE_DISKTAB_PAGES) {
		mp->type = STORE_PT_DISK;
		mp->index = (uint32_t)(loc - l->disktab_start);
		mp->owner = mp->index + 1;
		return true;
	}
	return false;
}

static int check_record(const struct store *s, const struct store_journal *j, unsigned i,
			char *why, size_t whylen)
{
	const uint8_t *p = record(j, i);
	uint64_t loc = get_le64(p + MH_LOCATION);
	struct mpage mp;
	char what[48] = "";

	if (!expected_page(s, loc, &mp)) {
		/* A map page: owner and index are checked when the map is loaded. */
		uint64_t block = loc / s->sb.lay.pages_per_block;
		if (!store_block_in_data(s, block) || get_le16(p + MH_TYPE) != STORE_PT_L2) {
			fmt_snprintf(why, whylen, "record %u: bad location %llu", i,
				     (unsigned long long)loc);
			return -1;
		}
		mp = (struct mpage){ .loc = loc, .type = STORE_PT_L2,
				     .owner = get_le32(p + MH_OWNER), .index = get_le32(p + MH_INDEX) };
	}
	if (store_meta_verify(p, &mp, s->store_tag, what, sizeof(what)) ||
	    get_le64(p + MH_SEQ) != j->seq) {
		fmt_snprintf(why, whylen, "record %u: %s", i, what[0] ? what : "wrong sequence");
		return -1;
	}
	for (unsigned k = 0; k < i; k++)
		if (get_le64(record(j, k) + MH_LOCATION) == loc) {
			fmt_snprintf(why, whylen, "record %u: location %llu twice", i,
				     (unsigned long long)loc);
			return -1;
		}
	return 0;
}

static int read_header(struct store *s, struct store_journal *j, uint32_t *crc)
{
	struct mpage hdr = { .loc = s->sb.lay.journal_start, .type = STORE_PT_JOURNAL };
	char what[48];
	uint8_t *page = s->staging;
	int rc = store_dev_read(&s->sd, hdr.loc * STORE_PAGE, page, STORE_PAGE);

	if (rc)
		return rc;
	if (store_meta_verify(page, &hdr, s->store_tag, what, sizeof(what)))
		return STORE_OK; /* never written, or torn */
	j->header_ok = true;
	j->seq = get_le64(page + MH_SEQ);
	j->count = get_le32(page + MH_COUNT);
	*crc = get_le32(page + MH_AUX_CRC);
	if (j->count == 0 || j->count > s->sb.lay.journal_pages - 1)
		j->count = 0;
	return STORE_OK;
}

/* Whether any record differs from its page in place. */
static int compare_in_place(struct store *s, struct store_journal *j)
{
	for (unsigned i = 0; i < j->count && !j->needs_replay; i++) {
		const uint8_t *p = record(j, i);
		int rc = store_dev_read(&s->sd, get_le64(p + MH_LOCATION) * STORE_PAGE, s->staging,
					STORE_PAGE);
		if (rc)
			return rc;
		j->needs_replay = memcmp(p, s->staging, STORE_PAGE) != 0;
	}
	return STORE_OK;
}

int store_journal_load(struct store *s, struct store_journal *j, char *why, size_t whylen)
{
	uint32_t crc = 0;
	int rc;

	*j = (struct store_journal){ 0 };
	rc = read_header(s, j, &crc);
	if (rc || j->count == 0)
		return rc;
	j->records = store_alloc(s, (size_t)j->count * STORE_PAGE);
	if (!j->records)
		return STORE_EIO;
	rc = store_dev_read(&s->sd, (s->sb.lay.journal_start + 1) * STORE_PAGE, j->records,
			    (size_t)j->count * STORE_PAGE);
	if (rc)
		return rc;
	if (!store_crc_ok(store_journal_crc(j->records, j->count), crc))
		return STORE_OK; /* torn: the previous transaction is in place */
	for (unsigned i = 0; i < j->count; i++)
		if (check_record(s, j, i, why, whylen))
			return STORE_ECORRUPT;
	j->committed = true;
	return compare_in_place(s, j);
}

const uint8_t *store_journal_find(const struct store_journal *j, uint64_t loc)
{
	if (!j || !j->committed)
		return NULL;
	for (unsigned i = 0; i < j->count; i++)
		if (get_le64(record(j, i) + MH_LOCATION) == loc)
			return record(j, i);
	return NULL;
}

int store_journal_checkpoint(struct store *s, const struct store_journal *j)
{
	for (unsigned i = 0; i < j->count; i++) {
		const uint8_t *p = record(j, i);
		int rc = store_dev_write(&s->sd, get_le64(p + MH_LOCATION) * STORE_PAGE, p,
					 STORE_PAGE);
		if (rc)
			return rc;
	}
	return store_dev_flush(&s->sd);
}

void store_journal_release(struct store *s, struct store_journal *j)
{
	store_free(s, j->records, (size_t)j->count * STORE_PAGE);
	*j = (struct store_journal){ 0 };
}
