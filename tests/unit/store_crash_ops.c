/* The crash simulation's operations; see store_crash.h. */
#include "tests/unit/store_crash.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECTOR 512u

uint64_t crash_rnd(struct crash_run *r, uint64_t n)
{
	return memdev_rand(&r->rng) % n;
}

bool crash_dead(const struct crash_run *r)
{
	return r->md.failed_requests > 0;
}

/* A random disk in the given state (bases too if allowed); -1 if none. */
static int pick(struct crash_run *r, bool bases, bool need_handle)
{
	int cand[MODEL_DISKS], n = 0;

	for (int i = 0; i < MODEL_DISKS; i++) {
		const struct model_disk *d = &r->m.disks[i];
		if (d->state == MODEL_PRESENT && (bases || !d->base) && (!need_handle || d->handle))
			cand[n++] = i;
	}
	return n ? cand[crash_rnd(r, (uint64_t)n)] : -1;
}

/* Returns true when the device died during the step. */
static bool ensure_open(struct crash_run *r, int i)
{
	struct model_disk *d = &r->m.disks[i];
	char err[160];

	if (d->handle)
		return false;
	int rc = store_disk_open(r->s, d->name, true, &d->handle, err, sizeof(err));
	if (crash_dead(r)) {
		if (rc == STORE_OK)
			store_disk_close(d->handle);
		d->handle = NULL;
		return true;
	}
	cr_assert_eq(rc, STORE_OK, "open %s: %s", d->name, err);
	model_durable(&r->m);
	return false;
}

bool crash_op_write(struct crash_run *r)
{
	int i = pick(r, false, false);
	static const uint64_t lens[] = { 1, 3, 8, 128, 129, 300 };

	if (i < 0 || ensure_open(r, i))
		return i >= 0;
	struct model_disk *d = &r->m.disks[i];
	uint64_t count = lens[crash_rnd(r, 6)], first = crash_rnd(r, d->sectors);
	if (count > d->sectors - first)
		count = d->sectors - first;
	uint64_t token = r->m.next_token++;
	uint8_t *buf = malloc(count * SECTOR);
	for (uint64_t k = 0; k < count; k++)
		store_model_fill(token, first + k, buf + k * SECTOR);
	int rc = tl_write(d->handle, first * SECTOR, buf, count * SECTOR);
	free(buf);
	if (rc == STORE_OK || crash_dead(r))
		model_write(&r->m, (unsigned)i, first, count, token);
	if (crash_dead(r))
		return true;
	cr_assert(rc == STORE_OK || rc == STORE_ENOSPC, "write: %s", store_status_name(rc));
	return false;
}

bool crash_op_flush(struct crash_run *r)
{
	int i = pick(r, false, true);

	if (i < 0)
		return false;
	int rc = store_disk_flush(r->m.disks[i].handle);
	if (crash_dead(r))
		return true;
	cr_assert_eq(rc, STORE_OK);
	model_durable(&r->m);
	return false;
}

bool crash_op_close(struct crash_run *r)
{
	int i = pick(r, false, true);

	if (i < 0)
		return false;
	store_disk_close(r->m.disks[i].handle);
	r->m.disks[i].handle = NULL;
	if (crash_dead(r))
		return true;
	model_durable(&r->m);
	return false;
}

bool crash_op_read(struct crash_run *r)
{
	int i = pick(r, true, false);

	if (i < 0)
		return false;
	struct model_disk *d = &r->m.disks[i];
	struct store_disk *h = d->handle;
	char err[160];
	if (!h)
		cr_assert_eq(store_disk_open(r->s, d->name, false, &h, err, sizeof(err)), STORE_OK);
	uint64_t first = crash_rnd(r, d->sectors), count = 1 + crash_rnd(r, 400);
	if (count > d->sectors - first)
		count = d->sectors - first;
	uint8_t *buf = malloc(count * SECTOR), expect[SECTOR];
	int rc = tl_read(h, first * SECTOR, buf, count * SECTOR);
	for (uint64_t k = 0; rc == STORE_OK && k < count; k++) {
		store_model_fill(model_current(&r->m, (unsigned)i, first + k), first + k, expect);
		cr_assert_eq(memcmp(expect, buf + k * SECTOR, SECTOR), 0, "disk %s sector %llu",
			     d->name, (unsigned long long)(first + k));
	}
	free(buf);
	if (h != d->handle)
		store_disk_close(h);
	if (crash_dead(r))
		return true;
	cr_assert_eq(rc, STORE_OK);
	return false;
}


/* A random base disk for a child; -1 if none. */
static int pick_base(struct crash_run *r)
{
	int cand[MODEL_DISKS], n = 0;

	for (int i = 0; i < MODEL_DISKS; i++)
		if (r->m.disks[i].state == MODEL_PRESENT && r->m.disks[i].base)
			cand[n++] = i;
	return n ? cand[crash_rnd(r, (uint64_t)n)] : -1;
}

bool crash_op_create(struct crash_run *r)
{
	int i = model_new_slot(&r->m), base = crash_rnd(r, 3) == 0 ? pick_base(r) : -1;
	char name[STORE_NAME_MAX], err[160];

	if (i < 0)
		return false;
	snprintf(name, sizeof(name), "d%u", r->names++);
	uint64_t size = (1 + crash_rnd(r, 2048)) * SECTOR;
	if (base >= 0 && crash_rnd(r, 2))
		size = 0;
	if (base >= 0 && size < r->m.disks[base].sectors * SECTOR)
		size = r->m.disks[base].sectors * SECTOR;
	int rc = store_disk_create(r->s, name, size,
				   base >= 0 ? r->m.disks[base].name : NULL, err, sizeof(err));
	if (rc == STORE_ENOSPC && !crash_dead(r))
		return false;
	if (crash_dead(r)) {
		model_add(&r->m, i, name, size, base, false);
		r->m.disks[i].state = MODEL_MAYBE;
		return true;
	}
	cr_assert_eq(rc, STORE_OK, "create: %s", err);
	model_durable(&r->m);
	model_add(&r->m, i, name, size, base, false);
	return false;
}

bool crash_op_delete(struct crash_run *r)
{
	int i = pick(r, true, false);
	struct store_disk_info info;
	char err[160];

	if (i < 0)
		return false;
	struct model_disk *d = &r->m.disks[i];
	cr_assert_eq(store_disk_info(r->s, d->name, &info), STORE_OK);
	if (info.children)
		return false;
	if (d->handle) {
		store_disk_close(d->handle);
		d->handle = NULL;
		if (crash_dead(r))
			return true;
		model_durable(&r->m);
	}
	int rc = store_disk_delete(r->s, d->name, err, sizeof(err));
	if (crash_dead(r)) {
		d->state = MODEL_MAYBE;
		return true;
	}
	cr_assert_eq(rc, STORE_OK, "delete: %s", err);
	model_durable(&r->m);
	model_remove(&r->m, i);
	return false;
}

/* The name store_disk_snapshot(NULL) will choose. */
static void auto_name(struct crash_run *r, const char *name, char *out)
{
	struct store_disk_info info;

	for (unsigned n = 1;; n++) {
		snprintf(out, STORE_NAME_MAX, "%s@%u", name, n);
		if (store_disk_info(r->s, out, &info) == STORE_ENOENT)
			return;
	}
}

bool crash_op_snapshot(struct crash_run *r)
{
	int a = pick(r, false, false), b = model_new_slot(&r->m);
	char name[STORE_NAME_MAX], err[160];
	bool automatic = crash_rnd(r, 2);

	if (a < 0 || b < 0)
		return false;
	if (automatic)
		auto_name(r, r->m.disks[a].name, name);
	else
		snprintf(name, sizeof(name), "b%u", r->names++);
	int rc = store_disk_snapshot(r->s, r->m.disks[a].name, automatic ? NULL : name, err,
				     sizeof(err));
	if (rc == STORE_ENOSPC && !crash_dead(r))
		return false;
	if (crash_dead(r)) {
		model_snapshot(&r->m, a, b, name);
		r->m.disks[b].state = MODEL_MAYBE;
		return true;
	}
	cr_assert_eq(rc, STORE_OK, "snapshot: %s", err);
	model_durable(&r->m);
	model_snapshot(&r->m, a, b, name);
	return false;
}
