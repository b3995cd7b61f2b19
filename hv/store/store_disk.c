/* Disk management: create, delete, snapshot. Each is one committed
 * transaction; an I/O error while committing stops all writing (the store
 * turns read-only) since memory and device would disagree. */
#include "hv/store/store_internal.h"

#include "hv/lib/format.h"
#include "hv/lib/string.h"

#define MAX_DISK_BLOCKS(s) ((uint64_t)STORE_L1_MAX * (s)->sb.lay.pages_per_block * STORE_L2_ENTRIES)

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

static int writable(struct store *s, char *err, size_t errlen)
{
	if (!s->read_only)
		return STORE_OK;
	store_set_err(err, errlen, "datastore is read-only%s%s", s->problem[0] ? ": " : "",
		      s->problem);
	return STORE_EROFS;
}

static int free_slot(const struct store *s)
{
	for (unsigned slot = 0; slot < STORE_MAX_DISKS; slot++)
		if (!s->disks[slot] && !s->recs[slot].bad)
			return (int)slot;
	return -1;
}

static int check_new_name(struct store *s, const char *name, bool allow_at, char *err,
			  size_t errlen)
{
	if (!store_name_valid_ext(name, allow_at)) {
		store_set_err(err, errlen, "bad name (1-31 of A-Z a-z 0-9 . _ -)");
		return STORE_EINVAL;
	}
	if (store_find(s, name)) {
		store_set_err(err, errlen, "disk '%s' exists", name);
		return STORE_EEXIST;
	}
	if (free_slot(s) < 0) {
		store_set_err(err, errlen, "too many disks (%u)", STORE_MAX_DISKS);
		return STORE_ENOSPC;
	}
	return STORE_OK;
}

static int check_size(struct store *s, uint64_t size, char *err, size_t errlen)
{
	if (size == 0 || size % STORE_SECTOR) {
		store_set_err(err, errlen, "size must be a positive multiple of %u", STORE_SECTOR);
		return STORE_EINVAL;
	}
	if (size / s->sb.lay.block_size >= MAX_DISK_BLOCKS(s)) {
		store_set_err(err, errlen, "size above the largest disk (%llu GiB)",
			      (unsigned long long)(MAX_DISK_BLOCKS(s) * s->sb.lay.block_size >> 30));
		return STORE_EINVAL;
	}
	return STORE_OK;
}

static int find_base(struct store *s, const char *base, struct sdisk **out, char *err,
		     size_t errlen)
{
	struct sdisk *b = store_find(s, base);

	if (!b) {
		store_set_err(err, errlen, "no disk '%s'", base);
		return STORE_ENOENT;
	}
	if (!(b->flags & STORE_DF_BASE)) {
		store_set_err(err, errlen, "'%s' is not a base disk (make one: disk snapshot %s)",
			      base, base);
		return STORE_EINVAL;
	}
	*out = b;
	return STORE_OK;
}

int store_disk_create(struct store *s, const char *name, uint64_t size, const char *base,
		      char *err, size_t errlen)
{
	struct sdisk *parent = NULL, *d;
	int rc = writable(s, err, errlen);

	if (rc == STORE_OK)
		rc = check_new_name(s, name, false, err, errlen);
	if (rc == STORE_OK && base)
		rc = find_base(s, base, &parent, err, errlen);
	if (rc)
		return rc;
	if (parent && size < parent->size)
		size = parent->size;
	rc = check_size(s, size, err, errlen);
	if (rc)
		return rc;
	d = store_sdisk_new(s, (unsigned)free_slot(s));
	if (!d || (d->size = size, store_map_geometry(s, d), store_map_alloc_array(s, d))) {
		if (d)
			store_sdisk_free(s, d);
		store_set_err(err, errlen, "out of memory");
		return STORE_EIO;
	}
	str_copy(d->name, name, sizeof(d->name));
	s->env->random(d->uuid.b, sizeof(d->uuid.b));
	s->env->random(d->content_id.b, sizeof(d->content_id.b));
	d->created_s = s->env->now_s ? s->env->now_s() : 0;
	d->create_seq = s->seq;
	d->parent = parent;
	if (parent)
		parent->children++;
	s->disks[d->slot] = d;
	store_mark_dirty(s, d->rec);
	return store_commit_op(s, err, errlen);
}

int store_disk_delete(struct store *s, const char *name, char *err, size_t errlen)
{
	struct sdisk *d = store_find(s, name);
	int rc = writable(s, err, errlen);

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
	/* Room in the journal for every bitmap page this may touch. */
	rc = store_commit_op(s, err, errlen);
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
