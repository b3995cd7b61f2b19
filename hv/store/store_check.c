/* store_check(): the consistency check (fsck). It loads the store exactly
 * as store_open does, replaying a committed journal transaction in memory
 * only, and reports every problem instead of the first; nothing is
 * written. */
#include "hv/store/store_internal.h"

int store_check(struct blockdev *dev, uint64_t first_lba, uint64_t blocks,
		const struct store_env *env, store_report_fn report, void *ctx)
{
	struct store_load_ctx lc = { .report = report, .ctx = ctx, .check = true };
	struct store_journal j = { 0 };
	struct store *s;
	char err[160];
	int rc;

	if (!store_dev_geometry_ok(dev, first_lba, blocks)) {
		report(ctx, "region or device block size not usable");
		return 1;
	}
	s = env->alloc(sizeof(*s));
	if (!s) {
		report(ctx, "out of memory");
		return 1;
	}
	s->env = env;
	s->read_only = true;
	s->sd = (struct store_dev){ .dev = dev, .first_lba = first_lba,
				    .bytes = blocks * dev->block_size, .rmw = env->alloc(STORE_PAGE) };
	rc = s->sd.rmw ? store_load(s, &lc, &j, err, sizeof(err)) : STORE_EIO;
	if (rc) {
		store_problem(&lc, "%s", s->sd.rmw ? err : "out of memory");
	}
	store_journal_release(s, &j);
	store_unload(s);
	if (s->sd.rmw)
		env->free(s->sd.rmw, STORE_PAGE);
	env->free(s, sizeof(*s));
	return (int)(lc.problems + lc.warnings);
}
