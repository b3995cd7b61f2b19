/* One disk's incoming transfer; see disk_rx.h and docs/migration-stream.md
 * ("Disks"). Fragments are matched by the source disk's UUID and trusted
 * only with the same content ID, size, name and base: anything else could
 * mix two different disks' data. */
#include "migrate/disk_rx.h"
#include "migrate/disk_tx.h"

#include "hv/core/log.h"
#include "hv/core/settings.h"
#include "hv/lib/crc32c.h"
#include "hv/lib/format.h"
#include "hv/lib/parse.h"
#include "hv/lib/string.h"
#include "hv/store/datastore.h"

CONFIG_KEY(key_checkpoint, "disk_checkpoint", "8M",
	   "incoming disks are made durable every this many bytes; a cut transfer resends at "
	   "most this much");

static const uint8_t zeros[MIG_DISK_EXTENT_MAX];

uint64_t disk_rx_checkpoint_interval(void)
{
	uint64_t v = 0;

	if (!parse_size(setting("disk_checkpoint"), &v) || v < 64 * 1024)
		v = 8ull << 20;
	return v;
}

static void uuid_of(struct store_uuid *u, const uint8_t *b)
{
	memcpy(u->b, b, sizeof(u->b));
}

/* The nearest ancestor this datastore holds as a base, by content ID. */
static uint32_t held_base(struct store *s, const struct mig_disk_offer *o, char *name)
{
	for (uint32_t i = 0; i < o->nancestors; i++) {
		struct store_uuid cid;
		uuid_of(&cid, o->ancestors[i]);
		if (store_base_by_content(s, &cid, name) == STORE_OK)
			return i;
	}
	name[0] = 0;
	return MIG_DISK_NO_BASE;
}

/* A kept fragment this offer may continue, or why not. */
static const char *resume_refusal(const struct store_fragment_info *f,
				  const struct mig_disk_offer *o, const char *base)
{
	if (memcmp(f->content_id.b, o->content_id, MIG_DISK_ID_LEN))
		return "the source disk changed since (its content ID differs)";
	if (f->size != o->size)
		return "the size differs";
	if (strcmp(f->name, o->name))
		return "it was for another name";
	if (strcmp(f->parent, base))
		return "its base differs";
	return NULL;
}

static int new_fragment(struct disk_rx *rx, struct store *s, char *err, size_t errlen)
{
	struct store_uuid uuid, cid;
	char why[160];

	uuid_of(&uuid, rx->offer.uuid);
	uuid_of(&cid, rx->offer.content_id);
	int rc = store_fragment_create(s, rx->name, &uuid, &cid, rx->size,
				       rx->base[0] ? rx->base : NULL, &rx->frag_id, why, sizeof(why));
	if (rc) {
		fmt_snprintf(err, errlen, "disk '%s': %s", rx->name, why);
		rx->full = rc == STORE_ENOSPC;
		return -1;
	}
	rx->have_fragment = true;
	rx->offset = 0;
	rx->crc = 0;
	if (store_fragment_open(s, rx->frag_id, &rx->frag, why, sizeof(why))) {
		fmt_snprintf(err, errlen, "disk '%s': %s", rx->name, why);
		return -1;
	}
	return 0;
}

static int offer_shared(struct disk_rx *rx, struct store *s, char *err, size_t errlen)
{
	struct store_disk_info info;
	char why[160];

	if (store_disk_info(s, rx->name, &info) ||
	    memcmp(info.uuid.b, rx->offer.uuid, MIG_DISK_ID_LEN)) {
		fmt_snprintf(err, errlen, "disks=shared, but this datastore has no disk '%s' with "
			     "the source's UUID", rx->name);
		return -1;
	}
	if (store_disk_open(s, rx->name, !(rx->flags & MIG_DISK_READ_ONLY), &rx->frag, why,
			    sizeof(why))) {
		fmt_snprintf(err, errlen, "disk '%s': %s", rx->name, why);
		return -1;
	}
	rx->bulk_done = rx->started = true;
	return 0;
}

int disk_rx_offer(struct disk_rx *rx, const struct mig_disk_offer *o, struct mig_disk_accept *a,
		  char *err, size_t errlen)
{
	struct store *s = datastore();
	struct store_fragment_info f;
	struct store_disk_info existing;
	struct store_uuid uuid;

	memset(rx, 0, sizeof(*rx));
	rx->used = true;
	rx->offer = *o;
	rx->index = o->index;
	rx->flags = o->flags;
	rx->size = o->size;
	rx->interval = disk_rx_checkpoint_interval();
	str_copy(rx->name, o->name, sizeof(rx->name));
	memset(a, 0, sizeof(*a));
	a->index = o->index;
	a->base = MIG_DISK_NO_BASE;
	if (!s) {
		fmt_snprintf(err, errlen, "no datastore here for disk '%s'", o->name);
		return -1;
	}
	if (o->flags & MIG_DISK_SHARED)
		return offer_shared(rx, s, err, errlen);
	if (store_disk_info(s, o->name, &existing) == STORE_OK) {
		fmt_snprintf(err, errlen, "a disk named '%s' exists here already", o->name);
		return -1;
	}
	a->base = held_base(s, o, rx->base);
	uuid_of(&uuid, o->uuid);
	if (store_fragment_find(s, &uuid, &f) == STORE_OK) {
		const char *why = f.open ? "it is in use by another transfer"
					 : resume_refusal(&f, o, rx->base);
		if (f.open) {
			fmt_snprintf(err, errlen, "disk '%s': fragment %u %s", o->name, f.id, why);
			return -1;
		}
		if (!why) {
			char e[160];
			rx->frag_id = f.id;
			rx->have_fragment = true;
			if (store_fragment_open(s, f.id, &rx->frag, e, sizeof(e))) {
				fmt_snprintf(err, errlen, "disk '%s': %s", o->name, e);
				return -1;
			}
			rx->offset = a->offset = f.offset;
			rx->crc = a->crc = f.crc;
			log_info("disk %s: resuming fragment %u at byte %lu", o->name, f.id,
				 (unsigned long)f.offset);
			return 0;
		}
		char e[160];
		log_warn("disk %s: fragment %u dropped, not resumed: %s", o->name, f.id, why);
		if (store_fragment_drop(s, f.id, e, sizeof(e))) {
			fmt_snprintf(err, errlen, "disk '%s': dropping fragment %u: %s", o->name, f.id,
				     e);
			return -1;
		}
	}
	return new_fragment(rx, s, err, errlen);
}

int disk_rx_start(struct disk_rx *rx, const struct mig_disk_start *st, char *err, size_t errlen)
{
	if (rx->started) {
		fmt_snprintf(err, errlen, "a second DISK_START for disk %u", rx->index);
		return -1;
	}
	if (st->offset && (st->offset != rx->offset || st->crc != rx->crc)) {
		fmt_snprintf(err, errlen, "DISK_START for disk %u at byte %lu, but it was accepted "
			     "at %lu", rx->index, (unsigned long)st->offset,
			     (unsigned long)rx->offset);
		return -1;
	}
	if (!st->offset && rx->offset) {
		/* The source found our data differs from its own: start over
		 * in a clean fragment (old blocks must not show through). */
		char why[160];
		log_warn("disk %s: the source does not match fragment %u's data: starting over",
			 rx->name, rx->frag_id);
		store_disk_close(rx->frag);
		rx->frag = NULL;
		rx->have_fragment = false;
		if (store_fragment_drop(datastore(), rx->frag_id, why, sizeof(why))) {
			fmt_snprintf(err, errlen, "disk '%s': %s", rx->name, why);
			return -1;
		}
		if (new_fragment(rx, datastore(), err, errlen))
			return -1;
	}
	rx->resumed_at = rx->offset;
	rx->started = true;
	return 0;
}

static int checkpoint(struct disk_rx *rx, char *err, size_t errlen)
{
	int rc = store_fragment_checkpoint(rx->frag, rx->offset, rx->crc);

	rx->unsaved = 0;
	if (rc) {
		fmt_snprintf(err, errlen, "disk '%s': making it durable: %s", rx->name,
			     store_status_name(rc));
		rx->full = rc == STORE_ENOSPC;
		return -1;
	}
	return 0;
}

/* A ZERO extent needs writing only where something below would show. */
static bool shows_data(const struct disk_rx *rx, uint64_t off, uint32_t len)
{
	uint32_t bs = store_disk_block_size(rx->frag);

	for (uint64_t bi = off / bs; bi <= (off + len - 1) / bs; bi++)
		if (store_disk_block_owned(rx->frag, bi, UINT32_MAX))
			return true;
	return false;
}

static int write_extent(struct disk_rx *rx, uint64_t off, uint32_t len,
			enum mig_disk_extent_type type, const uint8_t *data, char *err,
			size_t errlen)
{
	if (type == MIG_DISK_ZERO && !shows_data(rx, off, len))
		return 0;
	struct store_iov iov = { (void *)(type == MIG_DISK_DATA ? data : zeros), len };
	int rc = store_disk_write(rx->frag, off, &iov, 1);
	if (rc) {
		rx->full = rc == STORE_ENOSPC;
		fmt_snprintf(err, errlen, "disk '%s': writing byte %lu: %s", rx->name,
			     (unsigned long)off,
			     rc == STORE_ENOSPC ? "the datastore is full" : store_status_name(rc));
		return -1;
	}
	return 0;
}

int disk_rx_blocks(struct disk_rx *rx, struct mig_disk_blocks_reader *r, char *err,
		   size_t errlen)
{
	uint64_t off;
	uint32_t len;
	enum mig_disk_extent_type type;
	const uint8_t *data;
	int rc;

	if (!rx->started || rx->ended || (rx->flags & MIG_DISK_SHARED)) {
		fmt_snprintf(err, errlen, "DISK_BLOCKS for disk %u %s", rx->index,
			     rx->ended ? "after its DISK_END" : !rx->started ? "before DISK_START"
										: "(shared)");
		return -1;
	}
	bool bulk = !rx->bulk_done;
	while ((rc = mig_disk_blocks_next(r, &off, &len, &type, &data, err, errlen)) == 1) {
		if (off > rx->size || len > rx->size - off) {
			fmt_snprintf(err, errlen, "disk %u: extent at byte %lu (+%u) is outside its "
				     "%lu bytes", rx->index, (unsigned long)off, len,
				     (unsigned long)rx->size);
			return -1;
		}
		if (bulk && off < rx->offset) {
			fmt_snprintf(err, errlen, "disk %u: bulk extent at byte %lu goes back (reached "
				     "%lu)", rx->index, (unsigned long)off, (unsigned long)rx->offset);
			return -1;
		}
		if (write_extent(rx, off, len, type, data, err, errlen))
			return -1;
		rx->bytes_written += len;
		rx->extents++;
		rx->unsaved += len;
		if (bulk) {
			if (type == MIG_DISK_DATA)
				rx->crc = disk_extent_crc(rx->crc, off, len, data);
			rx->offset = off + len;
			if (rx->unsaved >= rx->interval && checkpoint(rx, err, errlen))
				return -1;
		}
	}
	return rc < 0 ? -1 : 0;
}

int disk_rx_bulk_end(struct disk_rx *rx, char *err, size_t errlen)
{
	if (!rx->started || rx->bulk_done) {
		fmt_snprintf(err, errlen, "DISK_BULK_END for disk %u %s", rx->index,
			     rx->bulk_done ? "twice" : "before DISK_START");
		return -1;
	}
	rx->bulk_done = true;
	rx->offset = rx->size;
	return checkpoint(rx, err, errlen);
}

int disk_rx_end(struct disk_rx *rx, const struct mig_disk_end *e, char *err, size_t errlen)
{
	if (!rx->bulk_done || rx->ended) {
		fmt_snprintf(err, errlen, "DISK_END for disk %u %s", rx->index,
			     rx->ended ? "twice" : "before its DISK_BULK_END");
		return -1;
	}
	rx->ended = true;
	uuid_of(&rx->final_cid, e->content_id);
	if (rx->flags & MIG_DISK_SHARED) {
		struct store_disk_info info;
		store_disk_handle_info(rx->frag, &info);
		if (memcmp(info.content_id.b, e->content_id, MIG_DISK_ID_LEN)) {
			fmt_snprintf(err, errlen, "disks=shared, but disk '%s' here is not what the "
				     "source wrote last (content IDs differ): not the same datastore?",
				     rx->name);
			return -1;
		}
		return 0;
	}
	return checkpoint(rx, err, errlen);
}

void disk_rx_abandon(struct disk_rx *rx, bool drop)
{
	char why[160];

	if (!rx->used)
		return;
	if (rx->frag) {
		if (!drop && rx->have_fragment && rx->started && !rx->full)
			store_fragment_checkpoint(rx->frag, rx->offset, rx->crc);
		store_disk_close(rx->frag);
		rx->frag = NULL;
	}
	if (drop && rx->have_fragment) {
		if (store_fragment_drop(datastore(), rx->frag_id, why, sizeof(why)))
			log_warn("disk %s: fragment %u not dropped: %s", rx->name, rx->frag_id, why);
		rx->have_fragment = false;
	}
	rx->used = false;
}

int disk_rx_finish(struct disk_rx *rx, unsigned n, char *err, size_t errlen)
{
	unsigned ids[MIG_DISK_MAX];
	struct store_uuid cids[MIG_DISK_MAX];
	bool bases[MIG_DISK_MAX];
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++) {
		if (!rx[i].have_fragment)
			continue; /* shared: nothing arrived */
		ids[k] = rx[i].frag_id;
		bases[k] = rx[i].flags & MIG_DISK_BASE;
		cids[k++] = rx[i].final_cid;
	}
	if (k && store_fragments_finish(datastore(), ids, cids, bases, k, err, errlen))
		return -1;
	for (unsigned i = 0; i < n; i++)
		rx[i].have_fragment = false;
	return 0;
}
