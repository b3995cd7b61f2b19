/* Datastore crash simulation: random operation sequences on a device whose
 * write cache keeps, drops or tears (per sector) each unflushed write at a
 * power cut, and the cut comes at a random device request, so also in the
 * middle of a commit. After each cut the store must open cleanly, pass
 * store_check, and every write acknowledged before the last completed
 * flush (or disk create/delete/snapshot/open/close, which commit) must read
 * back exactly; later ones may read old or new, per sector. Seeded, so a
 * failure repeats. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "tests/unit/store_crash.h"

#define ROUNDS_PER_FORMAT 3
#define OPS_PER_ROUND 40
#define FORMATS 700

static unsigned cuts, cuts_in_ops;

static bool step(struct crash_run *r)
{
	static const unsigned weights[] = { 50, 12, 10, 8, 5, 6, 4 };
	bool (*const ops[])(struct crash_run *) = { crash_op_write, crash_op_flush, crash_op_read, crash_op_create,
						    crash_op_delete, crash_op_snapshot, crash_op_close };
	uint64_t w = crash_rnd(r, 95);
	unsigned op = 0;

	while (w >= weights[op])
		w -= weights[op++];
	return ops[op](r);
}

static void cut_power(struct crash_run *r)
{
	struct store_disk *handles[MODEL_DISKS];
	unsigned n = 0;

	for (int i = 0; i < MODEL_DISKS; i++)
		if (r->m.disks[i].handle) {
			handles[n++] = r->m.disks[i].handle;
			r->m.disks[i].handle = NULL;
		}
	tl_crash(&r->md, r->s, handles, n, &r->rng);
	r->s = NULL;
}

static void check_disk(struct crash_run *r, int i)
{
	struct model_disk *d = &r->m.disks[i];
	struct store_disk_info info;
	struct store_disk *h;
	char why[200], err[160];

	if (store_disk_info(r->s, d->name, &info) == STORE_ENOENT) {
		cr_assert_eq(d->state, MODEL_MAYBE, "disk %s lost", d->name);
		model_remove(&r->m, i);
		return;
	}
	cr_assert_eq(info.size, d->sectors * 512, "disk %s size", d->name);
	cr_assert_eq(info.base, d->base, "disk %s base flag", d->name);
	cr_assert_eq(store_disk_open(r->s, d->name, false, &h, err, sizeof(err)), STORE_OK, "%s",
		     err);
	cr_assert(model_verify(&r->m, (unsigned)i, h, why, sizeof(why)), "%s", why);
	store_disk_close(h);
	d->state = MODEL_PRESENT;
}

static void reopen_and_verify(struct crash_run *r)
{
	struct store_info info;
	struct tl_reports reports = { .n = 0 };
	unsigned present = 0;

	int problems = store_check(&r->md.bd, 0, r->md.bd.blocks, &memdev_env, tl_collect,
				   &reports);
	cr_assert_eq(problems, 0, "store_check: %s", reports.lines[0]);
	r->s = tl_open(&r->md);
	store_info(r->s, &info);
	cr_assert(!info.read_only, "read-only after a crash: %s", info.problem);
	cr_assert_str_eq(info.problem, "");
	for (int i = 0; i < MODEL_DISKS; i++)
		if (r->m.disks[i].state != MODEL_ABSENT)
			check_disk(r, i);
	r->m.nwrites = 0;
	for (int i = 0; i < MODEL_DISKS; i++)
		present += r->m.disks[i].state == MODEL_PRESENT;
	cr_assert_eq(store_disk_count(r->s), present, "disks the model does not know");
	for (int i = 0; i < MODEL_DISKS; i++) {
		/* The model's parent links only serve child creation: bases never change. */
		r->m.disks[i].parent = -1;
	}
}

static void round_with_cut(struct crash_run *r)
{
	bool cut = false;

	/* Sometimes no failing request: the cut comes after the last operation. */
	r->md.fail_after = crash_rnd(r, 5) ? (long)crash_rnd(r, 400) : -1;
	for (unsigned k = 0; k < OPS_PER_ROUND && !cut; k++)
		cut = step(r);
	cuts++;
	cuts_in_ops += cut;
	cut_power(r);
	reopen_and_verify(r);
}

Test(store_crash, random_power_cuts_lose_nothing_acknowledged, .timeout = 120)
{
	static struct crash_run r;
	static struct memdev devs[2];

	/* Formatted over and over: old data in free blocks must never show. */
	memdev_init(&devs[0], "mem0", 8 * MIB, 512);
	memdev_init(&devs[1], "nvme0n1", 8 * MIB, 4096);
	for (unsigned f = 0; f < FORMATS; f++) {
		memdev_env_seed(1000 + f);
		r.rng = 0x1234567ull + f;
		r.md = devs[f % 4 == 3];
		r.md.bd.priv = &r.md;
		r.md.requests = r.md.failed_requests = 0;
		model_init(&r.m);
		r.s = tl_format_open(&r.md);
		for (unsigned k = 0; k < ROUNDS_PER_FORMAT; k++)
			round_with_cut(&r);
		for (int i = 0; i < MODEL_DISKS; i++)
			cr_assert_null(r.m.disks[i].handle);
		cr_assert_eq(store_close(r.s), STORE_OK);
		model_free(&r.m);
		devs[f % 4 == 3] = r.md;
	}
	memdev_destroy(&devs[0]);
	memdev_destroy(&devs[1]);
	cr_assert_eq(memdev_env_outstanding(), 0);
	cr_log_info("%u power cuts, %u of them inside an operation", cuts, cuts_in_ops);
	cr_assert_gt(cuts_in_ops, cuts / 2, "most cuts should hit an operation");
}
