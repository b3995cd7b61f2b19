/* One disk's outgoing transfer; see disk_tx.h. Extents never cross a
 * block of the source store and are at most MIG_DISK_EXTENT_MAX long, so
 * the same disk is always cut the same way: a resumed copy and the one
 * it continues agree on every extent, and so on the CRC. */
#include "migrate/disk_tx.h"

#include "hv/core/time.h"
#include "hv/lib/bitmap.h"
#include "hv/lib/crc32c.h"
#include "hv/lib/format.h"
#include "hv/lib/string.h"
#include "hv/lib/wire.h"
#include "hv/mm/mm.h"
#include "migrate/mig_conn.h"

uint32_t disk_extent_crc(uint32_t crc, uint64_t offset, uint32_t len, const uint8_t *data)
{
	uint8_t place[12];

	put_le64(place, offset);
	put_le32(place + 8, len);
	return crc32c(crc32c(crc, place, sizeof(place)), data, len);
}

static size_t words_of(const struct disk_tx *t)
{
	return (t->nblocks + 63) / 64;
}

int disk_tx_init(struct disk_tx *t, struct store_disk *disk, uint32_t index)
{
	memset(t, 0, sizeof(*t));
	t->disk = disk;
	t->index = index;
	t->block_size = store_disk_block_size(disk);
	t->size = store_disk_size(disk);
	t->nblocks = (t->size + t->block_size - 1) / t->block_size;
	t->levels = UINT32_MAX;
	t->to_send = kzalloc(words_of(t) * 8);
	t->buf = kmalloc(MIG_DISK_EXTENT_MAX);
	if (!t->to_send || !t->buf) {
		disk_tx_free(t);
		return -1;
	}
	return 0;
}

void disk_tx_free(struct disk_tx *t)
{
	kfree(t->to_send);
	kfree(t->buf);
	t->to_send = NULL;
	t->buf = NULL;
}

void disk_tx_offer(struct disk_tx *t, const struct store *s, const char *as_name,
		   uint32_t flags, struct mig_disk_offer *o)
{
	struct store_disk_info self, anc[MIG_DISK_MAX_ANCESTORS];

	store_disk_handle_info(t->disk, &self);
	memset(o, 0, sizeof(*o));
	o->index = t->index;
	o->flags = flags;
	str_copy(o->name, as_name && as_name[0] ? as_name : self.name, sizeof(o->name));
	memcpy(o->uuid, self.uuid.b, MIG_DISK_ID_LEN);
	memcpy(o->content_id, self.content_id.b, MIG_DISK_ID_LEN);
	o->size = t->size;
	unsigned n = store_disk_ancestors(s, self.name, anc, MIG_DISK_MAX_ANCESTORS);
	o->nancestors = n < MIG_DISK_MAX_ANCESTORS ? n : MIG_DISK_MAX_ANCESTORS;
	t->nancestors = o->nancestors;
	memcpy(t->content_id, self.content_id.b, MIG_DISK_ID_LEN);
	uint64_t blocks = self.allocated_blocks;
	for (uint32_t i = 0; i < o->nancestors; i++) {
		memcpy(o->ancestors[i], anc[i].content_id.b, MIG_DISK_ID_LEN);
		blocks += anc[i].allocated_blocks;
	}
	o->allocated_bytes = blocks * t->block_size;
}

void disk_tx_accepted(struct disk_tx *t, const struct mig_disk_accept *a)
{
	/* Ancestor k held there: the disk and ancestors 0..k-1 travel. */
	t->levels = a->base == MIG_DISK_NO_BASE ? UINT32_MAX : a->base + 1;
	t->base_skipped = a->base != MIG_DISK_NO_BASE;
}

/* The extent at t->cursor inside its block: its length. */
static uint32_t extent_len(const struct disk_tx *t, uint64_t at)
{
	uint64_t block_end = (at / t->block_size + 1) * t->block_size;
	uint64_t end = block_end < t->size ? block_end : t->size;
	uint64_t len = end - at;

	return len > MIG_DISK_EXTENT_MAX ? MIG_DISK_EXTENT_MAX : (uint32_t)len;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	const uint64_t *q = (const uint64_t *)p;

	for (size_t i = 0; i < len / 8; i++)
		if (q[i])
			return false;
	return true;
}

static int read_extent(struct disk_tx *t, uint64_t at, uint32_t len)
{
	struct store_iov iov = { t->buf, len };

	return store_disk_read(t->disk, at, &iov, 1);
}

/* The next byte offset at or after 'at' in a block to send, or t->size. */
static uint64_t next_to_send(const struct disk_tx *t, uint64_t at)
{
	uint64_t bi = at / t->block_size;

	if (bi < t->nblocks && bitmap_test(t->to_send, bi))
		return at;
	size_t next = bitmap_next_set(t->to_send, t->nblocks, bi);
	return next == BITMAP_NONE ? t->size : (uint64_t)next * t->block_size;
}

int disk_tx_verify_step(struct disk_tx *t, uint64_t offset, uint64_t max_bytes, uint32_t *crc)
{
	uint64_t done = 0;

	while (done < max_bytes) {
		uint64_t at = t->cursor;
		while (at < offset && !store_disk_block_owned(t->disk, at / t->block_size, t->levels))
			at = (at / t->block_size + 1) * t->block_size;
		if (at >= offset) {
			*crc = t->crc;
			t->cursor = 0;
			t->crc = 0;
			return 1;
		}
		uint32_t len = extent_len(t, at);
		if (read_extent(t, at, len))
			return -1;
		if (!all_zero(t->buf, len))
			t->crc = disk_extent_crc(t->crc, at, len, t->buf);
		t->cursor = at + len;
		done += len;
	}
	return 0;
}

bool disk_tx_keepalive(struct disk_tx *t, struct mig_conn *c)
{
	uint64_t now = time_ns();

	if (now - t->keepalive_ns < NS_PER_SEC)
		return false;
	t->keepalive_ns = now;
	uint8_t *body = mig_conn_body(c);
	put_le32(body, t->index);
	put_le64(body + 4, t->cursor);
	mig_conn_stage(c, MIG_REC_DISK_CHECKING, 12);
	return true;
}

void disk_tx_start(struct disk_tx *t, uint64_t offset, uint32_t crc)
{
	memset(t->to_send, 0, words_of(t) * 8);
	for (uint64_t bi = offset / t->block_size; bi < t->nblocks; bi++)
		if (store_disk_block_owned(t->disk, bi, t->levels)) {
			bitmap_set(t->to_send, bi);
			t->blocks_total++;
		}
	t->start_offset = offset;
	t->cursor = offset;
	t->crc = crc;
	t->bulk = true;
}

long disk_tx_stage(struct disk_tx *t, uint8_t *body, char *err, size_t errlen)
{
	struct mig_disk_blocks_writer w;

	mig_disk_blocks_begin(&w, body, t->index);
	while (w.count < MIG_DISK_MAX_EXTENTS) {
		uint64_t at = next_to_send(t, t->cursor);
		if (at >= t->size) {
			t->cursor = t->size;
			break;
		}
		uint32_t len = extent_len(t, at);
		int rc = read_extent(t, at, len);
		if (rc) {
			fmt_snprintf(err, errlen, "reading the disk at byte %lu: %s",
				     (unsigned long)at, store_status_name(rc));
			return -1;
		}
		if (all_zero(t->buf, len)) {
			mig_disk_blocks_add(&w, at, len, MIG_DISK_ZERO);
			t->zero_extents++;
		} else {
			memcpy(mig_disk_blocks_add(&w, at, len, MIG_DISK_DATA), t->buf, len);
			t->bytes_data += len;
			if (t->bulk)
				t->crc = disk_extent_crc(t->crc, at, len, t->buf);
		}
		t->cursor = at + len;
		uint64_t bi = at / t->block_size;
		if (t->cursor % t->block_size == 0 || t->cursor >= t->size) {
			bitmap_clear(t->to_send, bi);
			t->blocks_sent++;
		}
	}
	if (!w.count) {
		if (t->bulk) {
			t->bulk = false;
			t->bulk_end_due = true;
		}
		return 0;
	}
	return mig_disk_blocks_end(&w);
}

void disk_tx_next_round(struct disk_tx *t)
{
	t->cursor = 0;
}

uint64_t disk_tx_queued(const struct disk_tx *t)
{
	return bitmap_count(t->to_send, t->nblocks);
}
