/* Disk management: create, delete, snapshot. Each is one committed
 * transaction; an I/O error while committing stops all writing (the store
 * turns read-only) since memory and device would disagree. */
#include "hv/store/store_internal.h"

#include "hv/lib/format.h"
#include "hv/lib/string.h"

int store_commit_op(struct store *s, char *err, size_t errlen)
{
	int rc = store_commit(s);

	if (rc && !s->read_only) {
		s->read_only = true;
		str_copy(s->problem, "I/O error committing metadata", sizeof(s->problem));
	}
	if (rc)
		store_set_err(err, errlen, "I/O error committing metadata");
	return rc;
}

int store_disk_create(struct store *s, const char *name, uint64_t size, const char *base,
		      char *err, size_t errlen)
{
	struct sdisk *parent = NULL, *d;
	int rc = store_writable(s, err, errlen);

	if (rc == STORE_OK)
		rc = store_check_new_name(s, name, false, err, errlen);
	if (rc == STORE_OK && base)
		rc = store_find_base(s, base, &parent, err, errlen);
	if (rc)
		return rc;
	if (parent && size < parent->size)
		size = parent->size;
	rc = store_check_size(s, size, err, errlen);
	if (rc)
		return rc;
	d = store_sdisk_add(s, name, size, parent, err, errlen);
	if (!d)
		return STORE_EIO;
	s->env->random(d->uuid.b, sizeof(d->uuid.b));
	s->env->random(d->content_id.b, sizeof(d->content_id.b));
	return store_commit_op(s, err, errlen);
}

int store_disk_delete(struct store *s, const char *name, char *err, size_t errlen)
{
	struct sdisk *d = store_find(s, name);
	int rc = store_writable(s, err, errlen);

	if (rc)
		return rc;
	if (!d) {
		store_set_err(err, errlen, "no disk '%s'", name);
		return STORE_ENOENT;
	}
	if (d->open_writers || d->open_readers) {
		store_set_err(err, errlen, "disk '%s' is in use", name);
		return STORE_EBUSY;
	}
	if (d->children) {
		store_set_err(err, errlen, "disk '%s' has %u dependent disk%s", name, d->children,
			      d->children == 1 ? "" : "s");
		return STORE_EBUSY;
	}
	return store_disk_remove(s, d, err, errlen);
}

int store_disk_remove(struct store *s, struct sdisk *d, char *err, size_t errlen)
{
	/* Room in the journal for every bitmap page this may touch. */
	int rc = store_commit_op(s, err, errlen);

	if (rc)
		return rc;
	store_map_free_blocks(s, d);
	if (d->parent)
		d->parent->children--;
	memset(d->rec->buf + MH_SIZE, 0, STORE_CRC_OFF - MH_SIZE);
	store_mark_dirty(s, d->rec);
	s->disks[d->slot] = NULL;
	store_sdisk_free(s, d);
	return store_commit_op(s, err, errlen);
}
