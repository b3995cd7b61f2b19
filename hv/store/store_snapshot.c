/* store_disk_snapshot(): the disk's current content becomes a new base
 * disk and the disk continues as its child. The base takes over the disk's
 * table slot and block map unchanged (map pages name their slot as owner),
 * and the disk moves to a free slot with an empty map: the snapshot writes
 * two disk records, whatever the disk's size. */
#include "hv/store/store_internal.h"

#include "hv/lib/format.h"
#include "hv/lib/string.h"

static int pick_name(struct store *s, const char *name, const char *base_name, char *out,
		     char *err, size_t errlen)
{
	if (base_name) {
		str_copy(out, base_name, STORE_NAME_MAX);
		if (strlen(base_name) >= STORE_NAME_MAX || !store_name_valid(base_name)) {
			store_set_err(err, errlen, "bad name (1-31 of A-Z a-z 0-9 . _ -)");
			return STORE_EINVAL;
		}
		return store_check_name_free(s, base_name, err, errlen);
	}
	for (unsigned n = 1; n <= STORE_MAX_DISKS; n++) {
		if (fmt_snprintf(out, STORE_NAME_MAX, "%s@%u", name, n) >= (int)STORE_NAME_MAX) {
			store_set_err(err, errlen, "name too long to add @%u", n);
			return STORE_EINVAL;
		}
		if (!store_find(s, out) && !store_find_fragment(s, out))
			return STORE_OK;
	}
	store_set_err(err, errlen, "no free snapshot name");
	return STORE_EEXIST;
}

/* The base: d's slot, map, content and parent. */
static void take_over(struct store *s, struct sdisk *b, struct sdisk *d, const char *base_name)
{
	str_copy(b->name, base_name, sizeof(b->name));
	s->env->random(b->uuid.b, sizeof(b->uuid.b));
	b->content_id = d->content_id;
	b->parent = d->parent;
	b->size = d->size;
	b->created_s = s->env->now_s ? s->env->now_s() : 0;
	b->create_seq = s->seq;
	b->allocated = d->allocated;
	b->flags = STORE_DF_BASE;
	b->nblocks = d->nblocks;
	b->l2_pages = d->l2_pages;
	b->chunks = d->chunks;
	memcpy(b->l1, d->l1, sizeof(b->l1));
	b->l2 = d->l2;
	b->children = 1;
	b->cid_committed = true;
}

static void move_disk(struct store *s, struct sdisk *d, struct sdisk *b, unsigned slot,
		      struct mpage *l2)
{
	d->slot = slot;
	d->rec = &s->recs[slot];
	d->l2 = l2;
	memset(d->l1, 0, sizeof(d->l1));
	d->allocated = 0;
	d->parent = b;
	s->disks[b->slot] = b;
	s->disks[slot] = d;
	store_mark_dirty(s, b->rec);
	store_mark_dirty(s, d->rec);
}

int store_disk_snapshot(struct store *s, const char *name, const char *base_name, char *err,
			size_t errlen)
{
	struct sdisk *d = store_find(s, name), *b;
	char bname[STORE_NAME_MAX];
	struct mpage *l2;
	int rc, slot;

	if (s->read_only) {
		store_set_err(err, errlen, "datastore is read-only");
		return STORE_EROFS;
	}
	if (!d) {
		store_set_err(err, errlen, "no disk '%s'", name);
		return STORE_ENOENT;
	}
	if (d->flags & STORE_DF_BASE) {
		store_set_err(err, errlen, "'%s' is a base disk already", name);
		return STORE_EINVAL;
	}
	rc = pick_name(s, name, base_name, bname, err, errlen);
	if (rc)
		return rc;
	slot = store_free_slot(s);
	if (slot < 0) {
		store_set_err(err, errlen, "too many disks (%u)", STORE_MAX_DISKS);
		return STORE_ENOSPC;
	}
	/* What the disk wrote so far is committed with its own transaction. */
	rc = store_commit_op(s, err, errlen);
	if (rc)
		return rc;
	b = store_sdisk_new(s, d->slot);
	l2 = store_alloc(s, (size_t)d->l2_pages * sizeof(*l2));
	if (!b || !l2) {
		store_free(s, b, sizeof(*b));
		store_free(s, l2, (size_t)d->l2_pages * sizeof(*l2));
		store_set_err(err, errlen, "out of memory");
		return STORE_EIO;
	}
	take_over(s, b, d, bname);
	move_disk(s, d, b, (unsigned)slot, l2);
	return store_commit_op(s, err, errlen);
}
