/* Datastore: a full store fails writes that need blocks with ENOSPC and
 * changes nothing; freeing blocks makes room again. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "tests/unit/store_testlib.h"

static struct memdev m;

static void setup(void)
{
	memdev_env_seed(21);
	memdev_init(&m, "mem0", 32 * MIB, 512);
}

static void teardown(void)
{
	memdev_destroy(&m);
	cr_assert_eq(memdev_env_outstanding(), 0);
}

TestSuite(store_full, .init = setup, .fini = teardown);

#define BS (64 * KIB)

Test(store_full, enospc_changes_nothing_and_delete_makes_room)
{
	struct store *s = tl_format_open(&m);
	struct store_disk *d, *o;
	struct store_info info;
	struct store_disk_info di;
	char err[160];
	uint64_t bi = 0;

	tl_create(s, "other", 10 * BS, NULL);
	o = tl_disk_open(s, "other", true);
	cr_assert_eq(tl_write_pattern(o, 0, 10 * BS, 9), STORE_OK);
	store_disk_close(o);
	tl_create(s, "big", 64 * MIB, NULL);
	d = tl_disk_open(s, "big", true);
	store_info(s, &info);
	uint64_t room = info.free_blocks - 1; /* one map chunk */
	for (bi = 0; bi < room; bi++)
		cr_assert_eq(tl_write_pattern(d, bi * BS, BS, 1), STORE_OK, "block %llu",
			     (unsigned long long)bi);
	store_info(s, &info);
	cr_assert_eq(info.free_blocks, 0);
	cr_assert(!info.full);
	store_disk_info(s, "big", &di);
	uint64_t allocated = di.allocated_blocks;

	cr_assert_eq(tl_write_pattern(d, bi * BS, BS, 2), STORE_ENOSPC);
	cr_assert_eq(tl_write_pattern(d, bi * BS + 512, 512, 2), STORE_ENOSPC);
	/* Straddling an owned block and a new one: refused as a whole. */
	cr_assert_eq(tl_write_pattern(d, bi * BS - 512, 1024, 2), STORE_ENOSPC);
	store_info(s, &info);
	cr_assert(info.full);
	cr_assert(tl_check_pattern(d, (bi - 1) * BS, BS, 1), "the owned half is unchanged");
	cr_assert(tl_check_pattern(d, bi * BS, BS, 0));
	store_disk_info(s, "big", &di);
	cr_assert_eq(di.allocated_blocks, allocated);
	/* Overwriting owned blocks needs no space. */
	cr_assert_eq(tl_write_pattern(d, 0, BS, 3), STORE_OK);
	cr_assert_eq(store_disk_flush(d), STORE_OK);
	store_info(s, &info);
	cr_assert(info.full, "full until blocks are freed");

	cr_assert_eq(store_disk_delete(s, "other", err, sizeof(err)), STORE_OK, "%s", err);
	store_info(s, &info);
	cr_assert(!info.full);
	cr_assert_eq(info.free_blocks, 11);
	cr_assert_eq(tl_write_pattern(d, bi * BS, BS, 2), STORE_OK);
	cr_assert(tl_check_pattern(d, bi * BS, BS, 2));
	cr_assert(tl_check_pattern(d, 0, BS, 3));
	store_disk_close(d);
	cr_assert_eq(store_close(s), STORE_OK);
	s = tl_open(&m);
	store_info(s, &info);
	cr_assert_eq(info.free_blocks, 10);
	cr_assert_str_eq(info.problem, "");
	cr_assert_eq(store_close(s), STORE_OK);
}

Test(store_full, freed_blocks_wait_for_the_commit)
{
	struct store *s = tl_format_open(&m);
	struct store_disk *d;
	struct store_info a, b;
	char err[160];

	tl_create(s, "x", 4 * BS, NULL);
	d = tl_disk_open(s, "x", true);
	cr_assert_eq(tl_write_pattern(d, 0, 4 * BS, 1), STORE_OK);
	store_disk_close(d);
	store_info(s, &a);
	cr_assert_eq(store_disk_delete(s, "x", err, sizeof(err)), STORE_OK);
	store_info(s, &b);
	cr_assert_eq(b.free_blocks, a.free_blocks + 5, "reusable once committed");
	cr_assert_eq(store_close(s), STORE_OK);
}

Test(store_full, too_many_disks)
{
	struct store *s = tl_format_open(&m);
	char name[16], err[160];

	for (unsigned i = 0; i < STORE_MAX_DISKS; i++) {
		snprintf(name, sizeof(name), "d%u", i);
		tl_create(s, name, MIB, NULL);
	}
	cr_assert_eq(store_disk_create(s, "one-more", MIB, NULL, err, sizeof(err)), STORE_ENOSPC);
	cr_assert_str_eq(err, "too many disks (64)");
	cr_assert_eq(store_close(s), STORE_OK);
	s = tl_open(&m);
	cr_assert_eq(store_disk_count(s), 64);
	cr_assert_eq(store_close(s), STORE_OK);
}
