/* Datastore: content IDs change with the content, and only then. */
#include <criterion/criterion.h>
#include <string.h>

#include "tests/unit/store_testlib.h"

static struct memdev m;

static void setup(void)
{
	memdev_env_seed(31);
	memdev_init(&m, "mem0", 32 * MIB, 512);
}

static void teardown(void)
{
	memdev_destroy(&m);
	cr_assert_eq(memdev_env_outstanding(), 0);
}

TestSuite(store_content_id, .init = setup, .fini = teardown);

static struct store_uuid cid(struct store *s, const char *name)
{
	struct store_disk_info info;

	cr_assert_eq(store_disk_info(s, name, &info), STORE_OK);
	return info.content_id;
}

static bool same(struct store_uuid a, struct store_uuid b)
{
	return memcmp(&a, &b, sizeof(a)) == 0;
}

Test(store_content_id, new_disks_differ)
{
	struct store *s = tl_format_open(&m);
	struct store_uuid zero = { { 0 } };

	tl_create(s, "a", MIB, NULL);
	tl_create(s, "b", MIB, NULL);
	cr_assert(!same(cid(s, "a"), cid(s, "b")));
	cr_assert(!same(cid(s, "a"), zero));
	cr_assert_eq(store_close(s), STORE_OK);
}

Test(store_content_id, first_write_after_commit_changes_it_once)
{
	struct store *s = tl_format_open(&m);
	struct store_disk *d;
	struct store_uuid c0, c1, c2;

	tl_create(s, "a", MIB, NULL);
	c0 = cid(s, "a");
	d = tl_disk_open(s, "a", true);
	cr_assert(same(cid(s, "a"), c0), "opening is no change");
	cr_assert_eq(tl_write_pattern(d, 0, 512, 1), STORE_OK);
	c1 = cid(s, "a");
	cr_assert(!same(c1, c0));
	cr_assert_eq(tl_write_pattern(d, 512, 512, 1), STORE_OK);
	cr_assert_eq(tl_write_pattern(d, 0, 512, 2), STORE_OK, "an overwrite in place");
	cr_assert(same(cid(s, "a"), c1), "not committed yet: the same new ID");
	cr_assert_eq(store_disk_flush(d), STORE_OK);
	cr_assert(same(cid(s, "a"), c1));
	cr_assert_eq(tl_write_pattern(d, 0, 512, 3), STORE_OK, "in place");
	c2 = cid(s, "a");
	cr_assert(!same(c2, c1), "committed, then written: new ID");
	store_disk_close(d);
	cr_assert_eq(store_close(s), STORE_OK);
	s = tl_open(&m);
	cr_assert(same(cid(s, "a"), c2), "closing committed it");
	d = tl_disk_open(s, "a", false);
	store_disk_close(d);
	cr_assert(same(cid(s, "a"), c2), "reading is no change");
	cr_assert_eq(store_close(s), STORE_OK);
}

Test(store_content_id, crash_while_open_for_writing_changes_it)
{
	struct store *s = tl_format_open(&m);
	struct store_disk *d;
	struct store_uuid c0, c1;
	uint64_t rng = 5;

	tl_create(s, "a", MIB, NULL);
	tl_create(s, "b", MIB, NULL);
	c0 = cid(s, "a");
	c1 = cid(s, "b");
	d = tl_disk_open(s, "a", true);
	tl_crash(&m, s, &d, 1, &rng);
	s = tl_open(&m);
	cr_assert(!same(cid(s, "a"), c0), "it may have lost writes");
	cr_assert(same(cid(s, "b"), c1), "closed disks keep theirs");
	c0 = cid(s, "a");
	cr_assert_eq(store_close(s), STORE_OK);
	s = tl_open(&m);
	cr_assert(same(cid(s, "a"), c0), "the new one was committed once");
	cr_assert_eq(store_close(s), STORE_OK);
}

Test(store_content_id, base_keeps_it_and_the_disk_until_written)
{
	struct store *s = tl_format_open(&m);
	struct store_disk *d;
	struct store_uuid c0;
	char err[160];

	tl_create(s, "a", MIB, NULL);
	d = tl_disk_open(s, "a", true);
	cr_assert_eq(tl_write_pattern(d, 0, 4096, 1), STORE_OK);
	c0 = cid(s, "a");
	cr_assert_eq(store_disk_snapshot(s, "a", "gold", err, sizeof(err)), STORE_OK);
	cr_assert(same(cid(s, "gold"), c0));
	cr_assert(same(cid(s, "a"), c0));
	cr_assert_eq(tl_write_pattern(d, 0, 512, 2), STORE_OK);
	cr_assert(!same(cid(s, "a"), c0));
	cr_assert(same(cid(s, "gold"), c0));
	store_disk_close(d);
	cr_assert_eq(store_close(s), STORE_OK);
	s = tl_open(&m);
	cr_assert(same(cid(s, "gold"), c0));
	cr_assert_eq(store_close(s), STORE_OK);
}
