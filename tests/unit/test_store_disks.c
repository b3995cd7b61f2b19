/* Datastore: open/close round trips, disk create/delete/snapshot, reads
 * and writes, chains. */
#include <criterion/criterion.h>
#include <string.h>

#include "hv/lib/stream_sum.h"
#include "tests/unit/store_testlib.h"

static struct memdev m;

static void setup(void)
{
	memdev_env_seed(11);
	memdev_init(&m, "mem0", 32 * MIB, 512);
}

static void teardown(void)
{
	memdev_destroy(&m);
	cr_assert_eq(memdev_env_outstanding(), 0, "leaked %ld bytes", memdev_env_outstanding());
}

TestSuite(store_disks, .init = setup, .fini = teardown);

Test(store_disks, empty_store_info)
{
	struct store *s = tl_format_open(&m);
	struct store_info info;

	store_info(s, &info);
	cr_assert_str_eq(info.device, "mem0");
	cr_assert_eq(info.size, 32 * MIB);
	cr_assert_eq(info.block_size, 64 * KIB);
	cr_assert_eq(info.disks, 0);
	cr_assert_eq(info.free_blocks, info.total_blocks);
	cr_assert(info.total_blocks > 400 && info.total_blocks < 512, "%llu",
		  (unsigned long long)info.total_blocks);
	cr_assert(!info.read_only);
	cr_assert_str_eq(info.problem, "");
	cr_assert_eq(store_close(s), STORE_OK);
}

Test(store_disks, create_persists_across_reopen)
{
	struct store *s = tl_format_open(&m);
	struct store_disk_info a, b;

	tl_create(s, "vm1", 10 * MIB, NULL);
	cr_assert_eq(store_disk_info(s, "vm1", &a), STORE_OK);
	cr_assert_eq(a.size, 10 * MIB);
	cr_assert_eq(a.block_size, 64 * KIB);
	cr_assert_eq(a.allocated_blocks, 0);
	cr_assert_str_eq(a.parent, "");
	cr_assert(!a.base);
	cr_assert_eq(a.created_s, 1700000000);
	cr_assert_eq(store_close(s), STORE_OK);
	s = tl_open(&m);
	cr_assert_eq(store_disk_count(s), 1);
	cr_assert_eq(store_disk_info_at(s, 0, &b), STORE_OK);
	cr_assert_str_eq(b.name, "vm1");
	cr_assert_eq(memcmp(&a.uuid, &b.uuid, 16), 0);
	cr_assert_eq(memcmp(&a.content_id, &b.content_id, 16), 0);
	cr_assert_eq(b.size, a.size);
	cr_assert_eq(store_disk_info_at(s, 1, &b), STORE_ENOENT);
	cr_assert_eq(store_close(s), STORE_OK);
}

Test(store_disks, create_checks_names_sizes_and_bases)
{
	struct store *s = tl_format_open(&m);
	char err[160];

	tl_create(s, "a", 1 * MIB, NULL);
	cr_assert_eq(store_disk_create(s, "a", MIB, NULL, err, sizeof(err)), STORE_EEXIST);
	cr_assert_str_eq(err, "disk 'a' exists");
	cr_assert_eq(store_disk_create(s, "bad name", MIB, NULL, err, sizeof(err)), STORE_EINVAL);
	cr_assert_eq(store_disk_create(s, "x@1", MIB, NULL, err, sizeof(err)), STORE_EINVAL);
	cr_assert_eq(store_disk_create(s, "", MIB, NULL, err, sizeof(err)), STORE_EINVAL);
	cr_assert_eq(store_disk_create(s, "0123456789012345678901234567890123", MIB, NULL, err,
				       sizeof(err)), STORE_EINVAL);
	cr_assert_eq(store_disk_create(s, "b", 1000, NULL, err, sizeof(err)), STORE_EINVAL);
	cr_assert_eq(store_disk_create(s, "b", 0, NULL, err, sizeof(err)), STORE_EINVAL);
	cr_assert_eq(store_disk_create(s, "b", 1ull << 50, NULL, err, sizeof(err)), STORE_EINVAL);
	cr_assert(strstr(err, "largest disk"), "%s", err);
	cr_assert_eq(store_disk_create(s, "b", MIB, "nope", err, sizeof(err)), STORE_ENOENT);
	cr_assert_eq(store_disk_create(s, "b", MIB, "a", err, sizeof(err)), STORE_EINVAL);
	cr_assert_str_eq(err, "'a' is not a base disk (make one: disk snapshot a)");
	tl_create(s, "big", 300ull << 30, NULL); /* thin: a 300 GiB disk in 32 MiB */
	cr_assert_eq(store_disk_count(s), 2);
	cr_assert_eq(store_close(s), STORE_OK);
}

Test(store_disks, write_read_round_trip_and_zeros_elsewhere)
{
	struct store *s = tl_format_open(&m);
	struct store_disk *d;

	tl_create(s, "vm1", 8 * MIB, NULL);
	d = tl_disk_open(s, "vm1", true);
	cr_assert_eq(store_disk_size(d), 8 * MIB);
	cr_assert(store_disk_writable(d));
	cr_assert(tl_check_pattern(d, 0, 8 * MIB, 0), "a new disk reads zeros");
	cr_assert_eq(tl_write_pattern(d, 512, 3 * 512, 1), STORE_OK);
	cr_assert_eq(tl_write_pattern(d, 200 * KIB, 300 * KIB, 2), STORE_OK);
	cr_assert(tl_check_pattern(d, 0, 512, 0));
	cr_assert(tl_check_pattern(d, 512, 3 * 512, 1));
	cr_assert(tl_check_pattern(d, 2048, 200 * KIB - 2048, 0));
	cr_assert(tl_check_pattern(d, 200 * KIB, 300 * KIB, 2));
	cr_assert(tl_check_pattern(d, 500 * KIB, 8 * MIB - 500 * KIB, 0));
	struct store_disk_info info;
	store_disk_info(s, "vm1", &info);
	cr_assert_eq(info.allocated_blocks, 1 + 5, "block 0 and blocks 3..7");
	cr_assert_eq(info.open_writers, 1);
	cr_assert_eq(store_disk_flush(d), STORE_OK);
	store_disk_close(d);
	cr_assert_eq(store_close(s), STORE_OK);
	s = tl_open(&m);
	d = tl_disk_open(s, "vm1", false);
	cr_assert(!store_disk_writable(d));
	cr_assert(tl_check_pattern(d, 512, 3 * 512, 1));
	cr_assert(tl_check_pattern(d, 200 * KIB, 300 * KIB, 2));
	cr_assert(tl_check_pattern(d, 0, 512, 0));
	cr_assert_eq(tl_write_pattern(d, 0, 512, 3), STORE_EROFS);
	store_disk_close(d);
	cr_assert_eq(store_close(s), STORE_OK);
}

Test(store_disks, requests_outside_or_misaligned_are_refused)
{
	struct store *s = tl_format_open(&m);
	struct store_disk *d;
	uint8_t buf[1024];

	tl_create(s, "vm1", MIB, NULL);
	d = tl_disk_open(s, "vm1", true);
	cr_assert_eq(tl_read(d, 100, buf, 512), STORE_EINVAL);
	cr_assert_eq(tl_read(d, 0, buf, 100), STORE_EINVAL);
	cr_assert_eq(tl_read(d, MIB - 512, buf, 1024), STORE_EINVAL);
	cr_assert_eq(tl_write(d, MIB, buf, 512), STORE_EINVAL);
	cr_assert_eq(tl_write(d, UINT64_MAX - 511, buf, 512), STORE_EINVAL);
	cr_assert_eq(tl_read(d, MIB - 512, buf, 512), STORE_OK);
	store_disk_close(d);
	cr_assert_eq(store_close(s), STORE_OK);
}

Test(store_disks, scattered_iovs_and_unaligned_buffers)
{
	struct store *s = tl_format_open(&m);
	struct store_disk *d;
	static uint8_t a[512 * 3 + 1], b[512 * 200];

	tl_create(s, "vm1", 4 * MIB, NULL);
	d = tl_disk_open(s, "vm1", true);
	for (unsigned i = 0; i < 512 * 3; i++)
		a[1 + i] = tl_pattern(5, 60 * KIB + i);
	for (unsigned i = 0; i < sizeof(b); i++)
		b[i] = tl_pattern(5, 60 * KIB + 512 * 3 + i);
	struct store_iov v[3] = { { a + 1, 512 * 3 }, { NULL, 0 }, { b, sizeof(b) } };
	cr_assert_eq(store_disk_write(d, 60 * KIB, v, 3), STORE_OK);
	cr_assert(tl_check_pattern(d, 60 * KIB, 512 * 203, 5));
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	cr_assert_eq(store_disk_read(d, 60 * KIB, v, 3), STORE_OK);
	for (unsigned i = 0; i < sizeof(b); i++)
		cr_assert_eq(b[i], tl_pattern(5, 60 * KIB + 512 * 3 + i));
	cr_assert_eq(a[1 + 100], tl_pattern(5, 60 * KIB + 100));
	store_disk_close(d);
	cr_assert_eq(store_close(s), STORE_OK);
}

Test(store_disks, snapshot_keeps_content_and_continues_as_child)
{
	struct store *s = tl_format_open(&m);
	struct store_disk *d, *bd;
	struct store_disk_info vi, bi;
	char err[160];

	tl_create(s, "vm1", 4 * MIB, NULL);
	d = tl_disk_open(s, "vm1", true);
	cr_assert_eq(tl_write_pattern(d, 0, 4 * MIB, 1), STORE_OK);
	cr_assert_eq(store_disk_snapshot(s, "vm1", NULL, err, sizeof(err)), STORE_OK, "%s", err);
	cr_assert_eq(store_disk_info(s, "vm1@1", &bi), STORE_OK);
	cr_assert_eq(store_disk_info(s, "vm1", &vi), STORE_OK);
	cr_assert(bi.base);
	cr_assert_str_eq(vi.parent, "vm1@1");
	cr_assert_eq(bi.children, 1);
	cr_assert_eq(bi.allocated_blocks, 64);
	cr_assert_eq(vi.allocated_blocks, 0);
	cr_assert_eq(memcmp(&bi.content_id, &vi.content_id, 16), 0, "same content, same ID");
	cr_assert(tl_check_pattern(d, 0, 4 * MIB, 1), "the open disk reads on");
	/* A partial-block write over the parent keeps the rest of the block. */
	cr_assert_eq(tl_write_pattern(d, 64 * KIB + 1024, 512, 2), STORE_OK);
	cr_assert(tl_check_pattern(d, 64 * KIB, 1024, 1));
	cr_assert(tl_check_pattern(d, 64 * KIB + 1024, 512, 2));
	cr_assert(tl_check_pattern(d, 64 * KIB + 1536, 4 * MIB - 64 * KIB - 1536, 1));
	bd = tl_disk_open(s, "vm1@1", false);
	cr_assert(tl_check_pattern(bd, 0, 4 * MIB, 1), "the base did not change");
	store_disk_close(bd);
	cr_assert_eq(store_disk_open(s, "vm1@1", true, &bd, err, sizeof(err)), STORE_EROFS);
	cr_assert_eq(store_disk_snapshot(s, "vm1", NULL, err, sizeof(err)), STORE_OK, "%s", err);
	cr_assert_eq(store_disk_info(s, "vm1@2", &bi), STORE_OK);
	cr_assert_str_eq(bi.parent, "vm1@1");
	cr_assert_eq(store_disk_snapshot(s, "vm1@1", NULL, err, sizeof(err)), STORE_EINVAL);
	cr_assert_eq(store_disk_snapshot(s, "vm1", "vm1@1", err, sizeof(err)), STORE_EINVAL,
		     "'@' is the store's");
	cr_assert_eq(store_disk_snapshot(s, "vm1", "gold", err, sizeof(err)), STORE_OK);
	cr_assert_eq(store_disk_info(s, "vm1", &vi), STORE_OK);
	cr_assert_str_eq(vi.parent, "gold");
	store_disk_close(d);
	cr_assert_eq(store_close(s), STORE_OK);
	s = tl_open(&m);
	d = tl_disk_open(s, "vm1", false);
	cr_assert(tl_check_pattern(d, 64 * KIB + 1024, 512, 2));
	cr_assert(tl_check_pattern(d, 64 * KIB + 1536, 4 * MIB - 64 * KIB - 1536, 1));
	store_disk_close(d);
	cr_assert_eq(store_disk_count(s), 4);
	cr_assert_eq(store_close(s), STORE_OK);
}

Test(store_disks, child_of_base_reads_through_and_may_be_larger)
{
	struct store *s = tl_format_open(&m);
	struct store_disk *d;
	struct store_disk_info info;
	char err[160];

	tl_create(s, "img", 2 * MIB, NULL);
	d = tl_disk_open(s, "img", true);
	cr_assert_eq(tl_write_pattern(d, 0, 2 * MIB, 7), STORE_OK);
	store_disk_close(d);
	cr_assert_eq(store_disk_snapshot(s, "img", "base", err, sizeof(err)), STORE_OK);
	tl_create(s, "c1", 0, "base");
	tl_create(s, "c2", 3 * MIB, "base");
	store_disk_info(s, "c1", &info);
	cr_assert_eq(info.size, 2 * MIB, "a child has its base's size");
	d = tl_disk_open(s, "c2", true);
	cr_assert(tl_check_pattern(d, 0, 2 * MIB, 7));
	cr_assert(tl_check_pattern(d, 2 * MIB, MIB, 0), "past the base: zeros");
	cr_assert_eq(tl_write_pattern(d, 2 * MIB - 512, 1024, 8), STORE_OK);
	cr_assert(tl_check_pattern(d, 2 * MIB - 1024, 512, 7));
	cr_assert(tl_check_pattern(d, 2 * MIB - 512, 1024, 8));
	cr_assert(tl_check_pattern(d, 2 * MIB + 512, MIB - 512, 0));
	store_disk_close(d);
	cr_assert_eq(store_disk_delete(s, "base", err, sizeof(err)), STORE_EBUSY);
	cr_assert_str_eq(err, "disk 'base' has 3 dependent disks");
	cr_assert_eq(store_close(s), STORE_OK);
}

Test(store_disks, delete_refused_while_open_and_frees_blocks)
{
	struct store *s = tl_format_open(&m);
	struct store_disk *d;
	struct store_info before, after;
	char err[160];

	store_info(s, &before);
	tl_create(s, "vm1", 4 * MIB, NULL);
	d = tl_disk_open(s, "vm1", true);
	cr_assert_eq(tl_write_pattern(d, 0, 4 * MIB, 1), STORE_OK);
	cr_assert_eq(store_disk_delete(s, "vm1", err, sizeof(err)), STORE_EBUSY);
	cr_assert_str_eq(err, "disk 'vm1' is in use");
	store_disk_close(d);
	store_info(s, &after);
	cr_assert_eq(after.free_blocks, before.free_blocks - 64 - 1, "64 data blocks, one map chunk");
	cr_assert_eq(store_disk_delete(s, "vm1", err, sizeof(err)), STORE_OK, "%s", err);
	cr_assert_eq(store_disk_delete(s, "vm1", err, sizeof(err)), STORE_ENOENT);
	store_info(s, &after);
	cr_assert_eq(after.free_blocks, before.free_blocks);
	cr_assert_eq(after.disks, 0);
	cr_assert_eq(store_close(s), STORE_OK);
	s = tl_open(&m);
	store_info(s, &after);
	cr_assert_eq(after.free_blocks, before.free_blocks);
	cr_assert_eq(store_close(s), STORE_OK);
}

Test(store_disks, sum_is_the_stream_sum_of_the_logical_content)
{
	struct store *s = tl_format_open(&m);
	struct store_disk *d;
	struct stream_sum expect;
	static uint8_t content[MIB + 512];
	uint64_t sum = 0, sum2 = 0;
	char err[160];

	tl_create(s, "a", sizeof(content), NULL);
	d = tl_disk_open(s, "a", true);
	cr_assert_eq(tl_write_pattern(d, 300 * KIB, 512, 4), STORE_OK);
	store_disk_close(d);
	for (unsigned i = 0; i < 512; i++)
		content[300 * KIB + i] = tl_pattern(4, 300 * KIB + i);
	stream_sum_init(&expect);
	stream_sum_update(&expect, content, sizeof(content));
	cr_assert_eq(store_disk_sum(s, "a", &sum, err, sizeof(err)), STORE_OK);
	cr_assert_eq(sum, stream_sum_value(&expect));
	cr_assert_eq(store_disk_snapshot(s, "a", NULL, err, sizeof(err)), STORE_OK);
	cr_assert_eq(store_disk_sum(s, "a@1", &sum2, err, sizeof(err)), STORE_OK);
	cr_assert_eq(sum2, sum);
	cr_assert_eq(store_disk_sum(s, "zz", &sum2, err, sizeof(err)), STORE_ENOENT);
	cr_assert_eq(store_close(s), STORE_OK);
}

Test(store_disks, four_k_sector_device_with_sector_writes)
{
	struct store *s;
	struct store_disk *d;

	memdev_destroy(&m);
	memdev_init(&m, "nvme0n1", 32 * MIB, 4096);
	s = tl_format_open(&m);
	tl_create(s, "vm1", 4 * MIB, NULL);
	d = tl_disk_open(s, "vm1", true);
	cr_assert_eq(tl_write_pattern(d, 0, 64 * KIB, 1), STORE_OK);
	cr_assert_eq(tl_write_pattern(d, 1536, 512, 2), STORE_OK);
	cr_assert(tl_check_pattern(d, 0, 1536, 1));
	cr_assert(tl_check_pattern(d, 1536, 512, 2));
	cr_assert(tl_check_pattern(d, 2048, 62 * KIB, 1));
	store_disk_close(d);
	cr_assert_eq(store_close(s), STORE_OK);
	s = tl_open(&m);
	d = tl_disk_open(s, "vm1", false);
	cr_assert(tl_check_pattern(d, 1536, 512, 2));
	store_disk_close(d);
	cr_assert_eq(store_close(s), STORE_OK);
}

Test(store_disks, close_refused_while_a_disk_is_open)
{
	struct store *s = tl_format_open(&m);
	struct store_disk *d;

	tl_create(s, "vm1", MIB, NULL);
	d = tl_disk_open(s, "vm1", false);
	cr_assert_eq(store_close(s), STORE_EBUSY);
	store_disk_close(d);
	cr_assert_eq(store_close(s), STORE_OK);
}
