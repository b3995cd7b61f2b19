/* The checks before a disk or a fragment is made: the store writable, the
 * name valid and held by neither (a fragment reserves the name of the
 * disk it becomes), a slot free, the size possible, the base a base; and
 * the new record both then start from. */
#include "hv/store/store_internal.h"

#include "hv/lib/string.h"

#define MAX_DISK_BLOCKS(s) ((uint64_t)STORE_L1_MAX * (s)->sb.lay.pages_per_block * STORE_L2_ENTRIES)

int store_writable(const struct store *s, char *err, size_t errlen)
{
	if (!s->read_only)
		return STORE_OK;
	store_set_err(err, errlen, "datastore is read-only%s%s", s->problem[0] ? ": " : "",
		      s->problem);
	return STORE_EROFS;
}

int store_free_slot(const struct store *s)
{
	for (unsigned slot = 0; slot < STORE_MAX_DISKS; slot++)
		if (!s->disks[slot] && !s->recs[slot].bad)
			return (int)slot;
	return -1;
}

int store_check_name_free(const struct store *s, const char *name, char *err, size_t errlen)
{
	const struct sdisk *f = store_find_fragment(s, name);

	if (store_find(s, name)) {
		store_set_err(err, errlen, "disk '%s' exists", name);
		return STORE_EEXIST;
	}
	if (f) {
		store_set_err(err, errlen, "an incoming transfer (fragment %u) will create disk '%s'",
			      store_fragment_id(f), name);
		return STORE_EEXIST;
	}
	return STORE_OK;
}

int store_check_new_name(struct store *s, const char *name, bool allow_at, char *err,
			 size_t errlen)
{
	int rc;

	if (!store_name_valid_ext(name, allow_at)) {
		store_set_err(err, errlen, "bad name (1-31 of A-Z a-z 0-9 . _ -)");
		return STORE_EINVAL;
	}
	rc = store_check_name_free(s, name, err, errlen);
	if (rc)
		return rc;
	if (store_free_slot(s) < 0) {
		store_set_err(err, errlen, "too many disks (%u)", STORE_MAX_DISKS);
		return STORE_ENOSPC;
	}
	return STORE_OK;
}

int store_check_size(const struct store *s, uint64_t size, char *err, size_t errlen)
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

int store_find_base(struct store *s, const char *base, struct sdisk **out, char *err,
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

struct sdisk *store_sdisk_add(struct store *s, const char *name, uint64_t size,
			      struct sdisk *parent, char *err, size_t errlen)
{
	struct sdisk *d = store_sdisk_new(s, (unsigned)store_free_slot(s));

	if (!d || (d->size = size, store_map_geometry(s, d), store_map_alloc_array(s, d))) {
		if (d)
			store_sdisk_free(s, d);
		store_set_err(err, errlen, "out of memory");
		return NULL;
	}
	str_copy(d->name, name, sizeof(d->name));
	d->created_s = s->env->now_s ? s->env->now_s() : 0;
	d->create_seq = s->seq;
	d->parent = parent;
	if (parent)
		parent->children++;
	s->disks[d->slot] = d;
	store_mark_dirty(s, d->rec);
	return d;
}
