/* Fragments: disk records flagged STORE_DF_FRAGMENT that a transfer from
 * another instance fills (docs/datastore.md, "Fragments"). Made, finished
 * into ordinary disks, or dropped here, each as one committed transaction;
 * their I/O and checkpoints are in store_fragment_io.c. */
#include "hv/store/store_internal.h"

#include "hv/lib/string.h"

static int check_uuid_free(const struct store *s, const struct store_uuid *uuid, char *err,
			   size_t errlen)
{
	struct store_fragment_info f;

	if (store_fragment_find(s, uuid, &f) == STORE_OK) {
		store_set_err(err, errlen, "fragment %u already receives that disk (as '%s')", f.id,
			      f.name);
		return STORE_EEXIST;
	}
	return STORE_OK;
}

/* The last 16 bytes of L1 hold the progress: fewer chunks fit. */
static int check_fragment_size(const struct store *s, uint64_t size, char *err, size_t errlen)
{
	const struct store_layout *l = &s->sb.lay;
	uint64_t max = (uint64_t)STORE_FRAGMENT_MAX_CHUNKS * l->pages_per_block * STORE_L2_ENTRIES *
		       l->block_size;
	int rc = store_check_size(s, size, err, errlen);

	if (rc == STORE_OK && size > max) {
		store_set_err(err, errlen, "size above the largest fragment (%llu GiB)",
			      (unsigned long long)(max >> 30));
		rc = STORE_EINVAL;
	}
	return rc;
}

static int check_create(struct store *s, const char *name, const struct store_uuid *uuid,
			uint64_t size, const char *base, struct sdisk **parent, char *err,
			size_t errlen)
{
	int rc = store_writable(s, err, errlen);

	if (rc == STORE_OK)
		rc = store_check_new_name(s, name, true, err, errlen);
	if (rc == STORE_OK)
		rc = check_uuid_free(s, uuid, err, errlen);
	if (rc == STORE_OK)
		rc = check_fragment_size(s, size, err, errlen);
	if (rc == STORE_OK && base)
		rc = store_find_base(s, base, parent, err, errlen);
	return rc;
}

int store_fragment_create(struct store *s, const char *name, const struct store_uuid *uuid,
			  const struct store_uuid *content_id, uint64_t size, const char *base,
			  unsigned *id, char *err, size_t errlen)
{
	struct sdisk *parent = NULL, *d;
	int rc = check_create(s, name, uuid, size, base, &parent, err, errlen);

	if (rc)
		return rc;
	d = store_sdisk_add(s, name, size, parent, err, errlen);
	if (!d)
		return STORE_EIO;
	d->uuid = *uuid;
	d->content_id = *content_id;
	d->flags = STORE_DF_FRAGMENT;
	d->frag_progress_s = (uint32_t)d->created_s;
	rc = store_commit_op(s, err, errlen);
	if (rc == STORE_OK)
		*id = store_fragment_id(d);
	return rc;
}

static int fragment_closed(const struct store *s, unsigned id, struct sdisk **out, char *err,
			   size_t errlen)
{
	struct sdisk *d = store_fragment_by_id(s, id);

	if (!d) {
		store_set_err(err, errlen, "no fragment %u", id);
		return STORE_ENOENT;
	}
	if (d->open_writers || d->open_readers) {
		store_set_err(err, errlen, "fragment %u ('%s') is open", id, d->name);
		return STORE_EBUSY;
	}
	*out = d;
	return STORE_OK;
}

/* Every fragment finishable: nothing is changed unless all are. */
static int check_finish(const struct store *s, const unsigned *ids, unsigned n, char *err,
			size_t errlen)
{
	struct sdisk *d;

	if (n > s->dirty_cap) {
		store_set_err(err, errlen, "%u fragments exceed one transaction", n);
		return STORE_EINVAL;
	}
	for (unsigned i = 0; i < n; i++) {
		int rc = fragment_closed(s, ids[i], &d, err, errlen);
		if (rc)
			return rc;
		/* Fragments reserve their names; a damaged store aside, this
		 * cannot happen, and finishing would make two disks of one name. */
		if (store_find(s, d->name)) {
			store_set_err(err, errlen, "disk '%s' exists", d->name);
			return STORE_EEXIST;
		}
		for (unsigned k = 0; k < i; k++)
			if (ids[k] == ids[i]) {
				store_set_err(err, errlen, "fragment %u named twice", ids[i]);
				return STORE_EINVAL;
			}
	}
	return STORE_OK;
}

int store_fragments_finish(struct store *s, const unsigned *ids,
			   const struct store_uuid *cids, const bool *bases, unsigned n, char *err,
			   size_t errlen)
{
	int rc = store_writable(s, err, errlen);

	if (rc == STORE_OK)
		rc = check_finish(s, ids, n, err, errlen);
	if (rc)
		return rc;
	/* One transaction: the journal must have room for all n records. */
	if (s->ndirty + n > s->dirty_cap) {
		rc = store_commit_op(s, err, errlen);
		if (rc)
			return rc;
	}
	for (unsigned i = 0; i < n; i++) {
		struct sdisk *d = store_fragment_by_id(s, ids[i]);
		d->content_id = cids[i];
		d->flags &= ~STORE_DF_FRAGMENT;
		if (bases && bases[i])
			d->flags |= STORE_DF_BASE;
		d->frag_offset = 0;
		d->frag_crc = 0;
		d->frag_progress_s = 0;
		store_mark_dirty(s, d->rec);
	}
	return store_commit_op(s, err, errlen);
}

int store_fragment_drop(struct store *s, unsigned id, char *err, size_t errlen)
{
	struct sdisk *d;
	int rc = store_writable(s, err, errlen);

	if (rc == STORE_OK)
		rc = fragment_closed(s, id, &d, err, errlen);
	if (rc)
		return rc;
	return store_disk_remove(s, d, err, errlen);
}
