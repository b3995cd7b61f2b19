/* A fragment opened for the transfer that fills it: one writer, ordinary
 * store_disk_read/write, and checkpoints that commit how far it came only
 * together with (after) the data below that point. */
#include "hv/store/store_internal.h"

int store_fragment_open(struct store *s, unsigned id, struct store_disk **out, char *err,
			size_t errlen)
{
	struct sdisk *d = store_fragment_by_id(s, id);
	int rc;

	*out = NULL;
	if (!d) {
		store_set_err(err, errlen, "no fragment %u", id);
		return STORE_ENOENT;
	}
	rc = store_writable(s, err, errlen);
	if (rc)
		return rc;
	if (d->open_writers || d->open_readers) {
		store_set_err(err, errlen, "fragment %u ('%s') is open already", id, d->name);
		return STORE_EBUSY;
	}
	return store_handle_open(s, d, true, out, err, errlen);
}

int store_fragment_checkpoint(struct store_disk *h, uint64_t offset, uint32_t crc)
{
	struct store *s = h->s;
	struct sdisk *d = h->d;
	int rc;

	if (!store_is_fragment(d) || offset > d->size)
		return STORE_EINVAL;
	if (!store_disk_writable(h))
		return STORE_EROFS;
	rc = store_reserve(s, 1);
	if (rc)
		return rc;
	d->frag_offset = offset;
	d->frag_crc = crc;
	d->frag_progress_s = (uint32_t)(s->env->now_s ? s->env->now_s() : 0);
	store_mark_dirty(s, d->rec);
	/* The commit flushes the device before it writes the journal: the
	 * data below 'offset' is durable before the record saying so is. */
	return store_disk_flush(h);
}
