/* Opening and closing a store (docs/datastore.md, "Opening"). */
#include "hv/store/store_internal.h"

#include "hv/lib/string.h"

static void keep_first_problem(void *ctx, const char *problem)
{
	struct store *s = ctx;

	if (!s->problem[0])
		str_copy(s->problem, problem, sizeof(s->problem));
}

static void destroy(struct store *s)
{
	const struct store_env *env = s->env;

	store_unload(s);
	if (s->sd.rmw)
		env->free(s->sd.rmw, STORE_PAGE);
	env->free(s, sizeof(*s));
}

/* A disk that was open for writing when the store went down may have lost
 * unflushed writes: its content is no longer what its content ID named. A
 * fragment keeps its (the source's): what it lost lies past its last
 * checkpoint, which the transfer resumes from. */
static void renew_content_ids(struct store *s, bool persist)
{
	for (unsigned slot = 0; slot < STORE_MAX_DISKS; slot++) {
		struct sdisk *d = s->disks[slot];
		if (!d || !(d->flags & STORE_DF_OPEN_WRITE))
			continue;
		if (!store_is_fragment(d))
			s->env->random(d->content_id.b, sizeof(d->content_id.b));
		if (persist) {
			d->flags &= ~STORE_DF_OPEN_WRITE;
			store_mark_dirty(s, d->rec);
		}
	}
}

static int start_writable(struct store *s, const struct store_journal *j)
{
	int rc = STORE_OK;

	if (j->committed && j->needs_replay) {
		rc = store_journal_checkpoint(s, j);
		s->replayed = 1;
	}
	if (rc == STORE_OK)
		rc = store_sb_write(s);
	renew_content_ids(s, true);
	if (rc == STORE_OK)
		rc = store_commit(s);
	return rc;
}

int store_open(struct store **out, struct blockdev *dev, uint64_t first_lba, uint64_t blocks,
	       const struct store_env *env, char *err, size_t errlen)
{
	struct store_load_ctx lc = { .report = keep_first_problem };
	struct store_journal j = { 0 };
	struct store *s;
	int rc;

	*out = NULL;
	if (!store_dev_geometry_ok(dev, first_lba, blocks)) {
		store_set_err(err, errlen, "region or device block size not usable");
		return STORE_EINVAL;
	}
	s = env->alloc(sizeof(*s));
	if (!s) {
		store_set_err(err, errlen, "out of memory");
		return STORE_EIO;
	}
	s->env = env;
	s->sd = (struct store_dev){ .dev = dev, .first_lba = first_lba,
				    .bytes = blocks * dev->block_size, .rmw = env->alloc(STORE_PAGE) };
	lc.ctx = s;
	rc = s->sd.rmw ? store_load(s, &lc, &j, err, errlen) : STORE_EIO;
	if (rc == STORE_OK) {
		s->read_only = dev->read_only || lc.problems;
		if (s->read_only)
			renew_content_ids(s, false);
		else
			rc = start_writable(s, &j);
		if (rc)
			store_set_err(err, errlen, "I/O error writing %s", dev->name);
	}
	store_journal_release(s, &j);
	if (rc) {
		destroy(s);
		return rc;
	}
	*out = s;
	return STORE_OK;
}

int store_close(struct store *s)
{
	int rc = STORE_OK;

	if (s->open_handles)
		return STORE_EBUSY;
	if (!s->read_only) {
		rc = store_commit(s);
		if (rc == STORE_OK)
			rc = store_dev_flush(&s->sd); /* the last in-place writes */
		if (rc == STORE_OK)
			rc = store_journal_mark_clean(s);
	}
	destroy(s);
	return rc;
}

void store_info(const struct store *s, struct store_info *out)
{
	const struct store_layout *l = &s->sb.lay;

	memset(out, 0, sizeof(*out));
	out->uuid = s->sb.uuid;
	str_copy(out->device, s->sd.dev->name, sizeof(out->device));
	out->first_lba = s->sd.first_lba;
	out->size = l->region_bytes;
	out->block_size = l->block_size;
	out->total_blocks = l->total_blocks - l->data_start;
	out->free_blocks = s->free_blocks;
	out->disks = store_disk_count(s);
	out->read_only = s->read_only;
	out->full = s->full;
	str_copy(out->problem, s->problem, sizeof(out->problem));
	out->commits = s->commits;
	out->replayed_transactions = s->replayed;
}
