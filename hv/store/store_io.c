/* Disks opened for I/O: the checks on every request, the open-for-write
 * mark, flush. */
#include "hv/store/store_internal.h"

#include "hv/store/store_iov.h"
#include "hv/lib/stream_sum.h"

int store_handle_open(struct store *s, struct sdisk *d, bool writable, struct store_disk **out,
		      char *err, size_t errlen)
{
	struct store_disk *h = store_alloc(s, sizeof(*h));

	*out = NULL;
	if (!h) {
		store_set_err(err, errlen, "out of memory");
		return STORE_EIO;
	}
	*h = (struct store_disk){ .s = s, .d = d, .writable = writable };
	if (writable) {
		/* Committed now: a crash from here on gives the disk a new content ID. */
		d->flags |= STORE_DF_OPEN_WRITE;
		store_mark_dirty(s, d->rec);
		int rc = store_commit_op(s, err, errlen);
		if (rc) {
			store_free(s, h, sizeof(*h));
			return rc;
		}
		d->open_writers++;
	} else {
		d->open_readers++;
	}
	s->open_handles++;
	*out = h;
	return STORE_OK;
}

int store_disk_open(struct store *s, const char *name, bool writable, struct store_disk **out,
		    char *err, size_t errlen)
{
	struct sdisk *d = store_find(s, name);

	*out = NULL;
	if (!d) {
		store_set_err(err, errlen, "no disk '%s'", name);
		return STORE_ENOENT;
	}
	if (writable && (d->flags & STORE_DF_BASE)) {
		store_set_err(err, errlen, "'%s' is a read-only base disk", name);
		return STORE_EROFS;
	}
	if (writable && s->read_only) {
		store_set_err(err, errlen, "datastore is read-only");
		return STORE_EROFS;
	}
	if (writable && d->open_writers) {
		store_set_err(err, errlen, "disk '%s' is open for writing already", name);
		return STORE_EBUSY;
	}
	return store_handle_open(s, d, writable, out, err, errlen);
}

void store_disk_close(struct store_disk *h)
{
	struct store *s = h->s;
	struct sdisk *d = h->d;

	if (h->writable) {
		d->open_writers--;
		if (!s->read_only) {
			d->flags &= ~STORE_DF_OPEN_WRITE;
			store_mark_dirty(s, d->rec);
			(void)store_commit_op(s, NULL, 0);
		}
	} else {
		d->open_readers--;
	}
	s->open_handles--;
	store_free(s, h, sizeof(*h));
}

uint64_t store_disk_size(const struct store_disk *h)
{
	return h->d->size;
}

bool store_disk_writable(const struct store_disk *h)
{
	return h->writable && !h->s->read_only;
}

static int check_request(const struct store_disk *h, uint64_t offset, const struct store_iov *iov,
			 unsigned niov, uint64_t *len)
{
	if (offset % STORE_SECTOR || !iov_total(iov, niov, STORE_SECTOR, len))
		return STORE_EINVAL;
	if (offset > h->d->size || *len > h->d->size - offset)
		return STORE_EINVAL;
	return STORE_OK;
}

int store_disk_read(struct store_disk *h, uint64_t offset, const struct store_iov *iov,
		    unsigned niov)
{
	struct iov_cur cur;
	uint64_t len;
	int rc = check_request(h, offset, iov, niov, &len);

	if (rc)
		return rc;
	iov_cur_init(&cur, iov, niov);
	return store_read_range(h->s, h->d, offset, len, &cur);
}

int store_disk_write(struct store_disk *h, uint64_t offset, const struct store_iov *iov,
		     unsigned niov)
{
	struct store *s = h->s;
	struct iov_cur cur;
	uint64_t len;
	int rc = check_request(h, offset, iov, niov, &len);

	if (rc)
		return rc;
	if (!store_disk_writable(h))
		return STORE_EROFS;
	if (store_write_need(s, h->d, offset, len) > s->free_blocks) {
		s->full = true;
		return STORE_ENOSPC;
	}
	iov_cur_init(&cur, iov, niov);
	return store_write_range(s, h->d, offset, len, &cur);
}

int store_disk_flush(struct store_disk *h)
{
	struct store *s = h->s;

	if (!store_disk_writable(h))
		return store_dev_flush(&s->sd);
	if (s->ndirty == 0)
		return store_dev_flush(&s->sd);
	return store_commit_op(s, NULL, 0);
}

int store_disk_sum(struct store *s, const char *name, uint64_t *sum, char *err, size_t errlen)
{
	const struct sdisk *d = store_find(s, name);
	uint32_t piece = STORE_BOUNCE_BLOCKS * s->sb.lay.block_size;
	struct stream_sum acc;

	if (!d) {
		store_set_err(err, errlen, "no disk '%s'", name);
		return STORE_ENOENT;
	}
	stream_sum_init(&acc);
	for (uint64_t off = 0; off < d->size; off += piece) {
		uint64_t n = d->size - off < piece ? d->size - off : piece;
		struct store_iov v = { s->staging, n };
		struct iov_cur cur;
		iov_cur_init(&cur, &v, 1);
		int rc = store_read_range(s, d, off, n, &cur);
		if (rc) {
			store_set_err(err, errlen, "%s reading disk '%s'", store_status_name(rc), name);
			return rc;
		}
		stream_sum_update(&acc, s->staging, n);
	}
	*sum = stream_sum_value(&acc);
	return STORE_OK;
}
