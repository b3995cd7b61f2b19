/* Reading and writing a disk's logical content: blocks the disk maps are
 * read and overwritten in place; others read through the parent chain
 * (zeros at its end), and a write to one gets a new block, filled with the
 * old content around the written part and written before the transaction
 * that maps it (docs/datastore.md, "Data"). Runs of blocks contiguous on
 * the device move as one request. */
#include "hv/store/store_internal.h"

#include "hv/store/store_iov.h"
#include "hv/lib/string.h"

/* Guest buffers aligned this well go to the device directly. */
#define DIRECT_ALIGN 512

/* The block holding logical block bi of d, through the chain; 0: zeros. */
static int resolve(const struct store *s, const struct sdisk *d, uint64_t bi, uint64_t *out)
{
	unsigned depth = 0;

	*out = 0;
	for (const struct sdisk *c = d; c; c = c->parent) {
		uint64_t b = store_map_get(s, c, bi);
		if (++depth > STORE_MAX_CHAIN || b == STORE_MAP_BAD)
			return STORE_ECORRUPT;
		if (b) {
			*out = b;
			return STORE_OK;
		}
	}
	return STORE_OK;
}

/* Bytes from (bi, boff) on, up to len, that lie in blocks following b on
 * the device, as 'lookup' maps them; at most a bounce buffer. */
static uint64_t run_length(const struct store *s, const struct sdisk *d, uint64_t bi,
			   uint32_t boff, uint64_t len, uint64_t b, bool own_only)
{
	uint32_t bs = s->sb.lay.block_size;
	uint64_t max = (uint64_t)STORE_BOUNCE_BLOCKS * bs - boff;
	uint64_t run = bs - boff < len ? bs - boff : len;

	while (run < len && run + bs <= max) {
		uint64_t k = (boff + run) / bs, next;
		if (own_only)
			next = store_map_get(s, d, bi + k);
		else if (resolve(s, d, bi + k, &next))
			break;
		if (next != b + k)
			break;
		run += bs < len - run ? bs : len - run;
	}
	return run;
}

/* A run cut short where the caller's current vector ends (a guest buffer
 * crossing into another host chunk), so it goes to the device straight
 * from that memory; the rest follows as the next run. Copying through the
 * bounce buffer instead costs as much as the I/O under emulation. */
static uint64_t direct_run(struct iov_cur *cur, uint64_t run)
{
	size_t contig = iov_cur_contig(cur, DIRECT_ALIGN);

	return contig && contig < run ? contig : run;
}

int store_read_range(struct store *s, const struct sdisk *d, uint64_t off, uint64_t len,
		     struct iov_cur *cur)
{
	uint32_t bs = s->sb.lay.block_size;

	while (len) {
		uint64_t bi = off / bs, b;
		uint32_t boff = (uint32_t)(off % bs);
		uint64_t run = bs - boff < len ? bs - boff : len;
		int rc = resolve(s, d, bi, &b);
		if (rc)
			return rc;
		if (b) {
			run = direct_run(cur, run_length(s, d, bi, boff, len, b, false));
			void *direct = iov_cur_take(cur, run, DIRECT_ALIGN);
			rc = store_dev_read(&s->sd, b * bs + boff, direct ? direct : s->bounce, run);
			if (rc)
				return rc;
			if (!direct)
				iov_cur_write(cur, s->bounce, run);
		} else {
			iov_cur_zero(cur, run);
		}
		off += run;
		len -= run;
	}
	return STORE_OK;
}

/* The first write after the content ID was committed changes it. A
 * fragment's content ID is the source disk's, which the arriving writes
 * only catch up with: it stays. */
static void touch_content(struct store *s, struct sdisk *d)
{
	if (!d->cid_committed || store_is_fragment(d))
		return;
	s->env->random(d->content_id.b, sizeof(d->content_id.b));
	d->cid_committed = false;
	store_mark_dirty(s, d->rec);
}

static int fill_from_chain(struct store *s, const struct sdisk *from, uint64_t bi, uint8_t *buf)
{
	uint32_t bs = s->sb.lay.block_size;
	uint64_t b;
	int rc = resolve(s, from, bi, &b);

	if (rc)
		return rc;
	if (!b) {
		memset(buf, 0, bs);
		return STORE_OK;
	}
	return store_dev_read(&s->sd, b * bs, buf, bs);
}

static int write_new_block(struct store *s, struct sdisk *d, uint64_t bi, uint32_t boff,
			   uint32_t n, struct iov_cur *cur)
{
	uint32_t bs = s->sb.lay.block_size;
	const uint8_t *src = s->fill;
	int rc = store_reserve(s, s->sb.lay.pages_per_block + 4);

	if (rc)
		return rc;
	touch_content(s, d);
	if (n == bs && (src = iov_cur_take(cur, bs, DIRECT_ALIGN)) == NULL) {
		src = s->fill;
		iov_cur_read(cur, s->fill, bs);
	} else if (n != bs) {
		rc = fill_from_chain(s, d->parent, bi, s->fill);
		if (rc)
			return rc;
		iov_cur_read(cur, s->fill + boff, n);
	}
	uint64_t b = store_block_alloc(s);
	if (!b)
		return STORE_ENOSPC;
	rc = store_dev_write(&s->sd, b * bs, src, bs);
	if (rc == STORE_OK)
		rc = store_map_set(s, d, bi, b);
	if (rc) {
		store_block_free(s, b);
		return rc;
	}
	d->allocated++;
	store_mark_dirty(s, d->rec);
	return STORE_OK;
}

static int write_owned(struct store *s, uint64_t dev_off, uint64_t run, struct iov_cur *cur)
{
	void *direct = iov_cur_take(cur, run, DIRECT_ALIGN);

	if (!direct)
		iov_cur_read(cur, s->bounce, run);
	return store_dev_write(&s->sd, dev_off, direct ? direct : s->bounce, run);
}

int store_write_range(struct store *s, struct sdisk *d, uint64_t off, uint64_t len,
		      struct iov_cur *cur)
{
	uint32_t bs = s->sb.lay.block_size;
	int rc = store_reserve(s, 1);

	while (len && rc == STORE_OK) {
		uint64_t bi = off / bs, b = store_map_get(s, d, bi);
		uint32_t boff = (uint32_t)(off % bs);
		uint64_t run = bs - boff < len ? bs - boff : len;
		if (b == STORE_MAP_BAD)
			return STORE_ECORRUPT;
		if (b) {
			touch_content(s, d);
			run = direct_run(cur, run_length(s, d, bi, boff, len, b, true));
			rc = write_owned(s, b * bs + boff, run, cur);
		} else {
			rc = write_new_block(s, d, bi, boff, (uint32_t)run, cur);
		}
		off += run;
		len -= run;
	}
	return rc;
}

/* New blocks a write of [off, off + len) needs: data and map chunks. */
uint64_t store_write_need(const struct store *s, const struct sdisk *d, uint64_t off,
			  uint64_t len)
{
	uint32_t bs = s->sb.lay.block_size;
	uint64_t per_chunk = (uint64_t)STORE_L2_ENTRIES * s->sb.lay.pages_per_block;
	uint64_t need = 0, counted_chunk = UINT64_MAX;

	for (uint64_t bi = off / bs; len && bi <= (off + len - 1) / bs; bi++) {
		if (store_map_get(s, d, bi))
			continue;
		need++;
		if (store_map_need(s, d, bi) && bi / per_chunk != counted_chunk) {
			need++;
			counted_chunk = bi / per_chunk;
		}
	}
	return need;
}
