/* Transactions: every metadata change reaches the device as one journal
 * transaction, then in place (docs/datastore.md, "Journal"):
 *   1. flush: data written for the transaction, and the previous
 *      transaction's in-place writes, are durable before the journal is
 *      overwritten;
 *   2. the header and the record pages are written to the journal;
 *   3. flush: the transaction is committed (the header's CRC over the
 *      records makes a torn one invalid as a whole);
 *   4. the pages are written in place (made durable by step 1 of the next
 *      transaction, or replayed from the journal after a crash).
 * The journal holds one transaction; replaying it twice is harmless. */
#include "hv/store/store_internal.h"

#include "hv/lib/byteorder.h"
#include "hv/lib/crc32c.h"
#include "hv/lib/string.h"

/* Shell sort of the dirty pages by location (in-place writes coalesce). */
static void sort_dirty(struct mpage **v, unsigned n)
{
	for (unsigned gap = n / 2; gap; gap /= 2)
		for (unsigned i = gap; i < n; i++)
			for (unsigned k = i; k >= gap && v[k - gap]->loc > v[k]->loc; k -= gap) {
				struct mpage *t = v[k];
				v[k] = v[k - gap];
				v[k - gap] = t;
			}
}

/* Over each page without its own CRC field: a CRC run over data followed
 * by its CRC gives a constant, whatever the data. */
uint32_t store_journal_crc(const uint8_t *pages, unsigned count)
{
	uint32_t crc = 0;

	for (unsigned i = 0; i < count; i++)
		crc = crc32c(crc, pages + (size_t)i * STORE_PAGE, STORE_CRC_OFF);
	return crc;
}

static unsigned staging_pages(const struct store *s)
{
	return STORE_BOUNCE_BLOCKS * s->sb.lay.pages_per_block;
}

static void seal_all(struct store *s)
{
	for (unsigned slot = 0; slot < STORE_MAX_DISKS; slot++)
		if (s->disks[slot] && s->disks[slot]->rec->dirty)
			store_record_encode(s, s->disks[slot]);
	for (unsigned i = 0; i < s->ndirty; i++)
		store_meta_seal(s->dirty[i]->buf, s->dirty[i], s->seq, s->store_tag);
}

/* Writes header + records to the journal through the staging buffer. */
static int write_journal(struct store *s)
{
	uint64_t loc = s->sb.lay.journal_start;
	unsigned per = staging_pages(s), fill = 1;
	uint32_t crc = 0;
	int rc = STORE_OK;

	for (unsigned i = 0; i < s->ndirty; i++)
		crc = crc32c(crc, s->dirty[i]->buf, STORE_CRC_OFF);
	struct mpage hdr = { .loc = loc, .type = STORE_PT_JOURNAL };
	uint8_t aux[8];
	s->env->random(aux, sizeof(aux));
	memset(s->staging, 0, STORE_PAGE);
	put_le64(s->staging + MH_AUX, get_le64(aux));
	put_le32(s->staging + MH_COUNT, s->ndirty);
	put_le32(s->staging + MH_AUX_CRC, crc);
	store_meta_seal(s->staging, &hdr, s->seq, s->store_tag);
	for (unsigned i = 0; i <= s->ndirty && rc == STORE_OK; i++) {
		if (i < s->ndirty)
			memcpy(s->staging + (size_t)fill++ * STORE_PAGE, s->dirty[i]->buf, STORE_PAGE);
		if (fill == per || i == s->ndirty) {
			rc = store_dev_write(&s->sd, loc * STORE_PAGE, s->staging,
					     (size_t)fill * STORE_PAGE);
			loc += fill;
			fill = 0;
		}
	}
	return rc;
}

/* In place, runs of adjacent pages as one write. @pre dirty sorted */
static int write_in_place(struct store *s)
{
	unsigned per = staging_pages(s);
	unsigned i = 0;

	while (i < s->ndirty) {
		unsigned n = 0;
		uint64_t loc = s->dirty[i]->loc;
		while (i + n < s->ndirty && n < per && s->dirty[i + n]->loc == loc + n) {
			memcpy(s->staging + (size_t)n * STORE_PAGE, s->dirty[i + n]->buf, STORE_PAGE);
			n++;
		}
		int rc = store_dev_write(&s->sd, loc * STORE_PAGE, s->staging, (size_t)n * STORE_PAGE);
		if (rc)
			return rc;
		i += n;
	}
	return STORE_OK;
}

static void committed(struct store *s)
{
	s->seq++;
	s->commits++;
	store_alloc_commit_done(s);
	for (unsigned slot = 0; slot < STORE_MAX_DISKS; slot++)
		if (s->disks[slot])
			s->disks[slot]->cid_committed = true;
}

int store_commit(struct store *s)
{
	int rc;

	if (s->ndirty == 0)
		return STORE_OK;
	if (s->read_only)
		return STORE_EROFS;
	seal_all(s);
	rc = store_dev_flush(&s->sd);
	if (rc == STORE_OK)
		rc = write_journal(s);
	if (rc == STORE_OK)
		rc = store_dev_flush(&s->sd);
	if (rc)
		return rc; /* not committed; the pages stay dirty for a retry */
	committed(s);
	sort_dirty(s->dirty, s->ndirty);
	rc = write_in_place(s);
	for (unsigned i = 0; i < s->ndirty; i++)
		s->dirty[i]->dirty = false;
	s->ndirty = 0;
	if (rc) {
		/* The journal has it, but the next transaction would overwrite the
		 * journal: stop writing; the next open replays it. */
		s->read_only = true;
		str_copy(s->problem, "I/O error writing metadata in place (reopen to replay)",
			 sizeof(s->problem));
	}
	return rc;
}

/* After a clean close: a header with no records (keeping the sequence), so
 * the next open has nothing to replay and damage to a page the last
 * transaction wrote is not silently covered by the journal's copy. */
int store_journal_mark_clean(struct store *s)
{
	struct mpage hdr = { .loc = s->sb.lay.journal_start, .type = STORE_PT_JOURNAL };
	int rc;

	memset(s->staging, 0, STORE_PAGE);
	store_meta_seal(s->staging, &hdr, s->seq - 1, s->store_tag);
	rc = store_dev_write(&s->sd, hdr.loc * STORE_PAGE, s->staging, STORE_PAGE);
	if (rc == STORE_OK)
		rc = store_dev_flush(&s->sd);
	return rc;
}
