/* Datastore: fragments (disks still arriving: invisible to the disk calls,
 * their names reserved, progress checkpointed after the data, finished in
 * one transaction) and the chain helpers a sender of a disk uses. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "hv/lib/byteorder.h"
#include "hv/lib/crc32c.h"
#include "hv/store/store_format.h"
#include "tests/unit/store_testlib.h"

static struct memdev m;

static void setup(void)
{
	memdev_env_seed(71);
	memdev_init(&m, "mem0", 32 * MIB, 512);
}

static void teardown(void)
{
	memdev_destroy(&m);
	cr_assert_eq(memdev_env_outstanding(), 0, "leaked %ld bytes", memdev_env_outstanding());
}

TestSuite(store_fragment, .init = setup, .fini = teardown);

static struct store_uuid id16(uint8_t seed)
{
	struct store_uuid u;

	for (unsigned i = 0; i < 16; i++)
		u.b[i] = (uint8_t)(seed * 16 + i + 1);
	return u;
}

static bool same(struct store_uuid a, struct store_uuid b)
{
	return memcmp(&a, &b, sizeof(a)) == 0;
}

/* A fragment of 'size' bytes for source disk id16(seed), content id16(seed + 100). */
static unsigned frag(struct store *s, const char *name, uint8_t seed, uint64_t size,
		     const char *base)
{
	struct store_uuid uuid = id16(seed), cid = id16((uint8_t)(seed + 100));
	char err[160] = "";
	unsigned id = 0;
	int rc = store_fragment_create(s, name, &uuid, &cid, size, base, &id, err, sizeof(err));

	cr_assert_eq(rc, STORE_OK, "fragment %s: %s", name, err);
	cr_assert_neq(id, 0);
	return id;
}

static struct store_disk *frag_open(struct store *s, unsigned id)
{
	struct store_disk *d = NULL;
	char err[160] = "";
	int rc = store_fragment_open(s, id, &d, err, sizeof(err));

	cr_assert_eq(rc, STORE_OK, "open fragment %u: %s", id, err);
	return d;
}

static struct store_fragment_info finfo(struct store *s, unsigned id)
{
	struct store_fragment_info f;

	cr_assert_eq(store_fragment_info(s, id, &f), STORE_OK, "fragment %u", id);
	return f;
}

static struct store_uuid disk_cid(struct store *s, const char *name)
{
	struct store_disk_info info;

	cr_assert_eq(store_disk_info(s, name, &info), STORE_OK, "disk %s", name);
	return info.content_id;
}

static uint64_t free_blocks(struct store *s)
{
	struct store_info info;

	store_info(s, &info);
	return info.free_blocks;
}

static void expect_healthy(struct store *s)
{
	struct store_info info;

	store_info(s, &info);
	cr_assert_str_eq(info.problem, "");
	cr_assert(!info.read_only);
}

static uint64_t sb_field(unsigned off)
{
	uint8_t page[4096];

	memdev_peek(&m, 0, page, sizeof(page));
	return get_le64(page + off);
}

static uint64_t disk_page(unsigned slot)
{
	return sb_field(SB_DISKTAB_START) + slot;
}

static uint32_t record_u32(unsigned slot, unsigned off)
{
	uint8_t page[4096];

	memdev_peek(&m, disk_page(slot) * 4096, page, sizeof(page));
	return get_le32(page + off);
}

/* Changes a record field and re-seals the page: damage only the field
 * checks can find. */
static void set_record_sealed(unsigned slot, unsigned off, uint64_t v, unsigned width)
{
	uint8_t buf[4096];
	uint64_t loc = disk_page(slot) * 4096;

	memdev_peek(&m, loc, buf, sizeof(buf));
	if (width == 8)
		put_le64(buf + off, v);
	else
		put_le32(buf + off, (uint32_t)v);
	put_le32(buf + STORE_CRC_OFF, crc32c(0, buf, STORE_CRC_OFF));
	memdev_poke(&m, loc, buf, sizeof(buf));
}

static unsigned check_problems(struct tl_reports *r)
{
	memset(r, 0, sizeof(*r));
	return (unsigned)store_check(&m.bd, 0, m.bd.blocks, &memdev_env, tl_collect, r);
}

Test(store_fragment, create_list_find_and_reopen)
{
	struct store *s = tl_format_open(&m);
	struct store_fragment_info f;
	struct store_uuid u1 = id16(1), c1 = id16(101), u9 = id16(9);
	unsigned a, b, id;
	char err[160];

	a = frag(s, "in-a", 1, 3 * MIB, NULL);
	b = frag(s, "in-b", 2, MIB, NULL);
	cr_assert_neq(a, b);
	cr_assert_eq(store_fragment_count(s), 2);
	f = finfo(s, a);
	cr_assert_eq(f.id, a);
	cr_assert_str_eq(f.name, "in-a");
	cr_assert(same(f.uuid, u1));
	cr_assert(same(f.content_id, c1));
	cr_assert_str_eq(f.parent, "");
	cr_assert_eq(f.size, 3 * MIB);
	cr_assert_eq(f.offset, 0);
	cr_assert_eq(f.crc, 0);
	cr_assert_eq(f.allocated_blocks, 0);
	cr_assert_eq(f.created_s, 1700000000);
	cr_assert(!f.open);
	cr_assert_eq(store_fragment_info_at(s, 0, &f), STORE_OK);
	cr_assert_eq(f.id, a, "creation order");
	cr_assert_eq(store_fragment_info_at(s, 1, &f), STORE_OK);
	cr_assert_eq(f.id, b);
	cr_assert_eq(store_fragment_info_at(s, 2, &f), STORE_ENOENT);
	cr_assert_eq(store_fragment_find(s, &u1, &f), STORE_OK);
	cr_assert_eq(f.id, a);
	cr_assert_eq(store_fragment_find(s, &u9, &f), STORE_ENOENT);
	cr_assert_eq(store_fragment_info(s, 0, &f), STORE_ENOENT);
	cr_assert_eq(store_fragment_info(s, 64, &f), STORE_ENOENT);

	cr_assert_eq(store_fragment_create(s, "other", &u1, &c1, MIB, NULL, &id, err, sizeof(err)),
		     STORE_EEXIST, "the same source disk twice");
	cr_assert_str_eq(err, "fragment 1 already receives that disk (as 'in-a')");
	cr_assert_eq(store_fragment_create(s, "in-a", &u9, &c1, MIB, NULL, &id, err, sizeof(err)),
		     STORE_EEXIST);
	cr_assert_eq(store_fragment_create(s, "bad name", &u9, &c1, MIB, NULL, &id, err,
					   sizeof(err)), STORE_EINVAL);
	cr_assert_eq(store_fragment_create(s, "c", &u9, &c1, 1000, NULL, &id, err, sizeof(err)),
		     STORE_EINVAL);
	cr_assert_eq(store_fragment_create(s, "c", &u9, &c1, MIB, "nobase", &id, err, sizeof(err)),
		     STORE_ENOENT);
	tl_create(s, "disk", MIB, NULL);
	cr_assert_eq(store_fragment_create(s, "disk", &u9, &c1, MIB, NULL, &id, err, sizeof(err)),
		     STORE_EEXIST);
	cr_assert_str_eq(err, "disk 'disk' exists");
	cr_assert_eq(store_fragment_create(s, "c", &u9, &c1, MIB, "disk", &id, err, sizeof(err)),
		     STORE_EINVAL, "a writable disk is no base");
	cr_assert_eq(store_fragment_count(s), 2);

	cr_assert_eq(store_close(s), STORE_OK);
	s = tl_open(&m);
	expect_healthy(s);
	cr_assert_eq(store_fragment_count(s), 2);
	cr_assert_eq(store_fragment_find(s, &u1, &f), STORE_OK);
	cr_assert_eq(f.id, a);
	cr_assert_str_eq(f.name, "in-a");
	cr_assert(same(f.content_id, c1));
	cr_assert_eq(f.size, 3 * MIB);
	cr_assert_eq(store_close(s), STORE_OK);
}

Test(store_fragment, invisible_to_the_disk_calls)
{
	struct store *s = tl_format_open(&m);
	struct store_disk_info info;
	struct store_info si;
	struct store_disk *d;
	uint64_t sum;
	char err[160];

	frag(s, "x", 1, MIB, NULL);
	cr_assert_eq(store_disk_count(s), 0);
	store_info(s, &si);
	cr_assert_eq(si.disks, 0);
	cr_assert_eq(store_disk_info_at(s, 0, &info), STORE_ENOENT);
	cr_assert_eq(store_disk_info(s, "x", &info), STORE_ENOENT);
	cr_assert_eq(store_disk_open(s, "x", false, &d, err, sizeof(err)), STORE_ENOENT);
	cr_assert_eq(store_disk_open(s, "x", true, &d, err, sizeof(err)), STORE_ENOENT);
	cr_assert_eq(store_disk_sum(s, "x", &sum, err, sizeof(err)), STORE_ENOENT);
	cr_assert_eq(store_disk_delete(s, "x", err, sizeof(err)), STORE_ENOENT);
	cr_assert_eq(store_disk_snapshot(s, "x", NULL, err, sizeof(err)), STORE_ENOENT);
	cr_assert_eq(store_disk_ancestors(s, "x", &info, 1), 0);
	tl_create(s, "y", MIB, NULL);
	cr_assert_eq(store_disk_count(s), 1);
	cr_assert_eq(store_disk_info_at(s, 0, &info), STORE_OK);
	cr_assert_str_eq(info.name, "y", "listing skips the fragment");
	cr_assert_eq(store_disk_info_at(s, 1, &info), STORE_ENOENT);
	cr_assert_eq(store_close(s), STORE_OK);
}

Test(store_fragment, its_name_is_reserved)
{
	struct store *s = tl_format_open(&m);
	char err[160];
	unsigned id;

	frag(s, "a", 1, MIB, NULL);
	id = frag(s, "vm", 2, MIB, NULL);
	cr_assert_eq(store_disk_create(s, "vm", MIB, NULL, err, sizeof(err)), STORE_EEXIST);
	cr_assert_str_eq(err, "an incoming transfer (fragment 2) will create disk 'vm'");
	cr_assert_eq(id, 2);
	tl_create(s, "other", MIB, NULL);
	cr_assert_eq(store_disk_snapshot(s, "other", "vm", err, sizeof(err)), STORE_EEXIST,
		     "nor a snapshot's base");
	cr_assert_str_eq(err, "an incoming transfer (fragment 2) will create disk 'vm'");
	cr_assert_eq(store_disk_count(s), 1);
	cr_assert_eq(store_close(s), STORE_OK);
}

Test(store_fragment, checkpoint_and_content_id_survive_reopen)
{
	struct store *s = tl_format_open(&m);
	struct store_fragment_info f;
	struct store_disk *d, *d2;
	struct store_uuid cid = id16(101);
	char err[160];
	unsigned id;

	id = frag(s, "vm", 1, 2 * MIB, NULL);
	d = frag_open(s, id);
	cr_assert(finfo(s, id).open);
	cr_assert_eq(store_fragment_open(s, id, &d2, err, sizeof(err)), STORE_EBUSY);
	cr_assert_str_eq(err, "fragment 1 ('vm') is open already");
	cr_assert_eq(store_fragment_drop(s, id, err, sizeof(err)), STORE_EBUSY);
	cr_assert_eq(store_disk_size(d), 2 * MIB);
	cr_assert_eq(tl_write_pattern(d, 0, 640 * KIB, 3), STORE_OK);
	cr_assert(same(finfo(s, id).content_id, cid), "writes keep the source's content ID");
	cr_assert_eq(store_fragment_checkpoint(d, 640 * KIB, 0x12345678), STORE_OK);
	cr_assert_eq(store_fragment_checkpoint(d, 2 * MIB + 512, 1), STORE_EINVAL);
	f = finfo(s, id);
	cr_assert_eq(f.offset, 640 * KIB);
	cr_assert_eq(f.crc, 0x12345678);
	cr_assert_eq(f.progress_s, 1700000000);
	cr_assert_eq(f.allocated_blocks, 10);
	store_disk_close(d);
	cr_assert(!finfo(s, id).open);
	cr_assert_eq(store_close(s), STORE_OK);

	s = tl_open(&m);
	expect_healthy(s);
	f = finfo(s, id);
	cr_assert_eq(f.offset, 640 * KIB);
	cr_assert_eq(f.crc, 0x12345678);
	cr_assert_eq(f.progress_s, 1700000000);
	cr_assert_eq(f.allocated_blocks, 10);
	cr_assert(same(f.content_id, cid));
	d = frag_open(s, id);
	cr_assert(tl_check_pattern(d, 0, 640 * KIB, 3));
	cr_assert(tl_check_pattern(d, 640 * KIB, 2 * MIB - 640 * KIB, 0));
	store_disk_close(d);
	cr_assert_eq(record_u32(0, DR_FLAGS), STORE_DF_IN_USE | STORE_DF_FRAGMENT,
		     "closing cleared 'open for writing'");
	cr_assert_eq(store_close(s), STORE_OK);
}

/* Power cuts at every request of a checkpoint, and after writes that no
 * checkpoint covered: the store opens cleanly with the previous
 * checkpoint or the new one, never a checkpoint beyond the durable data,
 * and the content ID stays the source's. */
Test(store_fragment, crash_leaves_the_last_checkpoint)
{
	struct store_uuid cid = id16(101);

	for (long cut = 0; cut < 24; cut++) {
		struct store *s = tl_format_open(&m);
		struct store_fragment_info f;
		uint64_t rng = 0x9e3779b9ull * (uint64_t)(cut + 1);
		unsigned id = frag(s, "vm", 1, 2 * MIB, NULL);
		struct store_disk *d = frag_open(s, id);
		bool done;

		cr_assert_eq(tl_write_pattern(d, 0, 256 * KIB, 1), STORE_OK);
		cr_assert_eq(store_fragment_checkpoint(d, 256 * KIB, 11), STORE_OK);
		cr_assert_eq(tl_write_pattern(d, 256 * KIB, 512 * KIB, 1), STORE_OK);
		m.fail_after = cut;
		done = store_fragment_checkpoint(d, 768 * KIB, 22) == STORE_OK;
		(void)tl_write_pattern(d, 768 * KIB, 256 * KIB, 1); /* never checkpointed */
		tl_crash(&m, s, &d, 1, &rng);

		s = tl_open(&m);
		expect_healthy(s);
		f = finfo(s, id);
		cr_assert(same(f.content_id, cid), "cut %ld", cut);
		if (done)
			cr_assert_eq(f.offset, 768 * KIB, "cut %ld: acknowledged", cut);
		cr_assert(f.offset == 256 * KIB || f.offset == 768 * KIB, "cut %ld: %llu", cut,
			  (unsigned long long)f.offset);
		cr_assert_eq(f.crc, f.offset == 256 * KIB ? 11u : 22u);
		d = frag_open(s, id);
		cr_assert(tl_check_pattern(d, 0, f.offset, 1), "cut %ld: data below the offset",
			  cut);
		store_disk_close(d);
		cr_assert_eq(store_close(s), STORE_OK);
		memdev_destroy(&m);
		memdev_init(&m, "mem0", 32 * MIB, 512);
	}
}

Test(store_fragment, finish_makes_disks_in_one_transaction)
{
	struct store *s = tl_format_open(&m);
	struct store_uuid cids[2] = { id16(50), id16(51) }, u1 = id16(1);
	struct store_disk_info info;
	struct store_info before, after;
	struct store_disk *d;
	uint64_t sum_ref, sum;
	unsigned ids[2];
	char err[160];

	ids[0] = frag(s, "vm", 1, 2 * MIB, NULL);
	ids[1] = frag(s, "data", 2, MIB, NULL);
	tl_create(s, "ref", 2 * MIB, NULL);
	d = tl_disk_open(s, "ref", true);
	cr_assert_eq(tl_write_pattern(d, 64 * KIB, 300 * KIB, 5), STORE_OK);
	store_disk_close(d);
	cr_assert_eq(store_disk_sum(s, "ref", &sum_ref, err, sizeof(err)), STORE_OK);
	d = frag_open(s, ids[0]);
	cr_assert_eq(tl_write_pattern(d, 64 * KIB, 300 * KIB, 5), STORE_OK);
	cr_assert_eq(store_fragment_checkpoint(d, 2 * MIB, 7), STORE_OK);
	cr_assert_eq(store_fragments_finish(s, ids, cids, NULL, 2, err, sizeof(err)), STORE_EBUSY,
		     "one is open");
	cr_assert_str_eq(err, "fragment 1 ('vm') is open");
	store_disk_close(d);
	unsigned unknown[2] = { ids[1], 9 };
	cr_assert_eq(store_fragments_finish(s, unknown, cids, NULL, 2, err, sizeof(err)), STORE_ENOENT);
	cr_assert_str_eq(err, "no fragment 9");
	unsigned twice[2] = { ids[1], ids[1] };
	cr_assert_eq(store_fragments_finish(s, twice, cids, NULL, 2, err, sizeof(err)), STORE_EINVAL);
	cr_assert_eq(store_fragment_count(s), 2, "refused: nothing changed");
	cr_assert_eq(store_disk_count(s), 1);
	cr_assert_eq(store_disk_create(s, "vm", MIB, NULL, err, sizeof(err)), STORE_EEXIST,
		     "nobody can take the name meanwhile");

	store_info(s, &before);
	cr_assert_eq(store_fragments_finish(s, ids, cids, NULL, 2, err, sizeof(err)), STORE_OK, "%s", err);
	store_info(s, &after);
	cr_assert_eq(after.commits, before.commits + 1, "one transaction");
	cr_assert_eq(after.disks, 3);
	cr_assert_eq(store_fragment_count(s), 0);
	cr_assert_eq(store_disk_info(s, "vm", &info), STORE_OK);
	cr_assert(same(info.uuid, u1), "the source disk's UUID");
	cr_assert(same(info.content_id, cids[0]));
	cr_assert(same(disk_cid(s, "data"), cids[1]));
	cr_assert_eq(info.allocated_blocks, 5);
	cr_assert_eq(store_disk_sum(s, "vm", &sum, err, sizeof(err)), STORE_OK);
	cr_assert_eq(sum, sum_ref);
	cr_assert_eq(store_close(s), STORE_OK);

	s = tl_open(&m);
	expect_healthy(s);
	cr_assert(same(disk_cid(s, "vm"), cids[0]));
	cr_assert_eq(record_u32(0, DR_FLAGS), STORE_DF_IN_USE);
	for (unsigned off = DR_FRAG_OFFSET; off < STORE_CRC_OFF; off += 4)
		cr_assert_eq(record_u32(0, off), 0, "progress cleared at %u", off);
	d = tl_disk_open(s, "vm", true);
	cr_assert_eq(tl_write_pattern(d, 0, 512, 9), STORE_OK);
	cr_assert(!same(disk_cid(s, "vm"), cids[0]), "an ordinary disk now: writes change it");
	store_disk_close(d);
	cr_assert_eq(store_close(s), STORE_OK);
	struct tl_reports r;
	cr_assert_eq(check_problems(&r), 0, "%s", r.lines[0]);
}

/* Power cuts at every request of a finish: after it, both fragments are
 * disks with their new content IDs, or both are still fragments. */
Test(store_fragment, crash_during_finish_is_all_or_nothing)
{
	struct store_uuid cids[2] = { id16(50), id16(51) };
	unsigned before = 0, after = 0;

	for (long cut = 0; cut < 16; cut++) {
		struct store *s = tl_format_open(&m);
		uint64_t rng = 0x5bd1e995ull * (uint64_t)(cut + 1);
		unsigned ids[2] = { frag(s, "vm", 1, MIB, NULL), frag(s, "data", 2, MIB, NULL) };
		bool done;

		m.fail_after = cut;
		done = store_fragments_finish(s, ids, cids, NULL, 2, NULL, 0) == STORE_OK;
		tl_crash(&m, s, NULL, 0, &rng);
		s = tl_open(&m);
		expect_healthy(s);
		if (store_fragment_count(s) == 2) {
			cr_assert(!done, "cut %ld: acknowledged, yet still fragments", cut);
			cr_assert_eq(store_disk_count(s), 0);
			before++;
		} else {
			cr_assert_eq(store_fragment_count(s), 0, "cut %ld: half finished", cut);
			cr_assert_eq(store_disk_count(s), 2);
			cr_assert(same(disk_cid(s, "vm"), cids[0]));
			cr_assert(same(disk_cid(s, "data"), cids[1]));
			after++;
		}
		cr_assert_eq(store_close(s), STORE_OK);
		memdev_destroy(&m);
		memdev_init(&m, "mem0", 32 * MIB, 512);
	}
	cr_assert(before && after, "cuts on both sides of the commit: %u %u", before, after);
}

Test(store_fragment, drop_frees_its_blocks_and_name)
{
	struct store *s = tl_format_open(&m);
	struct store_disk *d;
	uint64_t before = free_blocks(s);
	char err[160];
	unsigned id;

	id = frag(s, "vm", 1, 4 * MIB, NULL);
	d = frag_open(s, id);
	cr_assert_eq(tl_write_pattern(d, 0, MIB, 1), STORE_OK);
	cr_assert_eq(store_fragment_drop(s, id, err, sizeof(err)), STORE_EBUSY);
	cr_assert_str_eq(err, "fragment 1 ('vm') is open");
	store_disk_close(d);
	cr_assert_eq(free_blocks(s), before - 16 - 1, "16 data blocks, one map chunk");
	cr_assert_eq(store_fragment_drop(s, id, err, sizeof(err)), STORE_OK, "%s", err);
	cr_assert_eq(free_blocks(s), before);
	cr_assert_eq(store_fragment_count(s), 0);
	cr_assert_eq(store_fragment_drop(s, id, err, sizeof(err)), STORE_ENOENT);
	cr_assert_str_eq(err, "no fragment 1");
	tl_create(s, "vm", MIB, NULL);
	cr_assert_eq(store_close(s), STORE_OK);
	s = tl_open(&m);
	expect_healthy(s);
	cr_assert_eq(free_blocks(s), before);
	cr_assert_eq(store_close(s), STORE_OK);
	struct tl_reports r;
	cr_assert_eq(check_problems(&r), 0, "%s", r.lines[0]);
}

Test(store_fragment, child_of_a_base_reads_through_and_holds_the_base)
{
	struct store *s = tl_format_open(&m);
	struct store_fragment_info f;
	struct store_disk_info info;
	struct store_disk *d;
	char err[160];
	unsigned id;

	tl_create(s, "gold", MIB, NULL);
	d = tl_disk_open(s, "gold", true);
	cr_assert_eq(tl_write_pattern(d, 0, MIB, 1), STORE_OK);
	store_disk_close(d);
	cr_assert_eq(store_disk_snapshot(s, "gold", "gold-base", err, sizeof(err)), STORE_OK);
	cr_assert_eq(store_disk_delete(s, "gold", err, sizeof(err)), STORE_OK, "%s", err);
	id = frag(s, "vm", 1, 2 * MIB, "gold-base");
	f = finfo(s, id);
	cr_assert_str_eq(f.parent, "gold-base");
	cr_assert_eq(f.size, 2 * MIB, "its own size");
	cr_assert_eq(store_disk_info(s, "gold-base", &info), STORE_OK);
	cr_assert_eq(info.children, 1);
	cr_assert_eq(store_disk_delete(s, "gold-base", err, sizeof(err)), STORE_EBUSY);
	cr_assert_str_eq(err, "disk 'gold-base' has 1 dependent disk");

	d = frag_open(s, id);
	cr_assert_eq(tl_write_pattern(d, 128 * KIB, 512, 2), STORE_OK);
	cr_assert(tl_check_pattern(d, 0, 128 * KIB, 1), "the base's blocks");
	cr_assert(tl_check_pattern(d, 128 * KIB, 512, 2));
	cr_assert(tl_check_pattern(d, 128 * KIB + 512, MIB - 128 * KIB - 512, 1),
		  "the base's content around the partial write");
	cr_assert(tl_check_pattern(d, MIB, MIB, 0), "past the base: zeros");
	store_disk_close(d);
	cr_assert_eq(store_close(s), STORE_OK);

	s = tl_open(&m);
	expect_healthy(s);
	cr_assert_eq(store_disk_delete(s, "gold-base", err, sizeof(err)), STORE_EBUSY,
		     "counted after reopen too");
	cr_assert_eq(store_fragments_finish(s, &id, &f.content_id, NULL, 1, err, sizeof(err)), STORE_OK);
	cr_assert_eq(store_disk_info(s, "vm", &info), STORE_OK);
	cr_assert_str_eq(info.parent, "gold-base");
	cr_assert_eq(store_disk_delete(s, "vm", err, sizeof(err)), STORE_OK);
	cr_assert_eq(store_disk_delete(s, "gold-base", err, sizeof(err)), STORE_OK, "%s", err);
	cr_assert_eq(store_close(s), STORE_OK);
}

/* a@1 owns block 0, a@2 block 1, a block 2 (a -> a@2 -> a@1). */
static struct store *make_chain(void)
{
	struct store *s = tl_format_open(&m);
	struct store_disk *d;
	char err[160];

	tl_create(s, "a", MIB, NULL);
	for (unsigned level = 0; level < 3; level++) {
		d = tl_disk_open(s, "a", true);
		cr_assert_eq(tl_write_pattern(d, level * 64 * KIB, 512, level + 1), STORE_OK);
		store_disk_close(d);
		if (level < 2)
			cr_assert_eq(store_disk_snapshot(s, "a", NULL, err, sizeof(err)), STORE_OK);
	}
	return s;
}

Test(store_fragment, chain_block_owned_by_levels)
{
	struct store *s = make_chain();
	struct store_disk *d = tl_disk_open(s, "a", false);

	cr_assert_eq(store_disk_block_size(d), 64 * KIB);
	cr_assert(store_disk_block_owned(d, 2, 1));
	cr_assert(!store_disk_block_owned(d, 1, 1));
	cr_assert(!store_disk_block_owned(d, 0, 1));
	cr_assert(store_disk_block_owned(d, 1, 2));
	cr_assert(!store_disk_block_owned(d, 0, 2));
	cr_assert(store_disk_block_owned(d, 0, 3));
	cr_assert(store_disk_block_owned(d, 0, UINT32_MAX));
	cr_assert(!store_disk_block_owned(d, 3, UINT32_MAX), "nobody: zeros");
	cr_assert(!store_disk_block_owned(d, 1u << 30, UINT32_MAX), "past the end");
	cr_assert(!store_disk_block_owned(d, 2, 0), "no levels");
	store_disk_close(d);
	cr_assert_eq(store_close(s), STORE_OK);
}

Test(store_fragment, chain_ancestors_and_handle_info)
{
	struct store *s = make_chain();
	struct store_disk_info anc[4], info;
	struct store_disk *d;

	cr_assert_eq(store_disk_ancestors(s, "a", anc, 4), 2);
	cr_assert_str_eq(anc[0].name, "a@2", "nearest first");
	cr_assert_str_eq(anc[1].name, "a@1");
	cr_assert(anc[0].base && anc[1].base);
	memset(anc, 0, sizeof(anc));
	cr_assert_eq(store_disk_ancestors(s, "a", anc, 1), 2, "the count, beyond max");
	cr_assert_str_eq(anc[0].name, "a@2");
	cr_assert_str_eq(anc[1].name, "", "only max filled");
	cr_assert_eq(store_disk_ancestors(s, "a@1", anc, 4), 0);
	cr_assert_eq(store_disk_ancestors(s, "nope", anc, 4), 0);
	d = tl_disk_open(s, "a", true);
	store_disk_handle_info(d, &info);
	cr_assert_str_eq(info.name, "a");
	cr_assert_str_eq(info.parent, "a@2");
	cr_assert_eq(info.open_writers, 1);
	cr_assert(same(info.content_id, disk_cid(s, "a")));
	store_disk_close(d);
	cr_assert_eq(store_close(s), STORE_OK);
}

/* A damaged map page: the sender must read the block (and get the error),
 * never skip it as if the chain did not have it. */
Test(store_fragment, damaged_map_counts_as_owned)
{
	struct store *s = tl_format_open(&m);
	struct store_disk *d;
	uint8_t b;

	tl_create(s, "a", MIB, NULL);
	d = tl_disk_open(s, "a", true);
	cr_assert_eq(tl_write_pattern(d, 0, 512, 1), STORE_OK);
	store_disk_close(d);
	cr_assert_eq(store_close(s), STORE_OK);
	uint64_t l2 = (uint64_t)record_u32(0, DR_L1) * 16;
	memdev_peek(&m, l2 * 4096 + 70, &b, 1);
	b ^= 0x40;
	memdev_poke(&m, l2 * 4096 + 70, &b, 1);
	s = tl_open(&m);
	d = tl_disk_open(s, "a", false);
	cr_assert(store_disk_block_owned(d, 5, 1), "never written, but its map page is damaged");
	store_disk_close(d);
	cr_assert_eq(store_close(s), STORE_OK);
}

Test(store_fragment, base_by_content_only_matches_bases)
{
	struct store *s = tl_format_open(&m);
	struct store_uuid cid, fcid = id16(101), none = id16(77);
	char name[STORE_NAME_MAX] = "";
	char err[160];

	tl_create(s, "a", MIB, NULL);
	cid = disk_cid(s, "a");
	cr_assert_eq(store_base_by_content(s, &cid, name), STORE_ENOENT, "a writable disk");
	cr_assert_eq(store_disk_snapshot(s, "a", NULL, err, sizeof(err)), STORE_OK);
	cr_assert_eq(store_base_by_content(s, &cid, name), STORE_OK);
	cr_assert_str_eq(name, "a@1");
	frag(s, "f", 1, MIB, NULL);
	cr_assert_eq(store_base_by_content(s, &fcid, name), STORE_ENOENT, "a fragment");
	cr_assert_eq(store_base_by_content(s, &none, name), STORE_ENOENT);
	cr_assert_eq(store_close(s), STORE_OK);
}

/* 971 chunks of 16 L2 pages of 1007 blocks of 64 KiB: the largest
 * fragment. A thin fragment costs one record, so this is cheap. */
Test(store_fragment, size_limit_and_the_last_chunk)
{
	struct store *s = tl_format_open(&m);
	uint64_t max = 971ull * 16 * 1007 * 64 * KIB;
	struct store_uuid u = id16(9), c = id16(10);
	struct store_disk *d;
	char err[160];
	unsigned id;

	cr_assert_eq(store_fragment_create(s, "big", &u, &c, max + 512, NULL, &id, err, sizeof(err)),
		     STORE_EINVAL);
	cr_assert_str_eq(err, "size above the largest fragment (954 GiB)");
	tl_create(s, "bigdisk", max + 512, NULL);
	id = frag(s, "big", 9, max, NULL);
	d = frag_open(s, id);
	cr_assert_eq(tl_write_pattern(d, max - 512, 512, 4), STORE_OK, "maps chunk 970");
	cr_assert_eq(store_fragment_checkpoint(d, max, 0xabcdef01), STORE_OK);
	store_disk_close(d);
	cr_assert_eq(store_close(s), STORE_OK);
	cr_assert_neq(record_u32(1, DR_L1 + 4 * 970), 0);
	cr_assert_eq(record_u32(1, DR_FRAG_CRC), 0xabcdef01);
	s = tl_open(&m);
	expect_healthy(s);
	cr_assert_eq(finfo(s, id).offset, max);
	d = frag_open(s, id);
	cr_assert(tl_check_pattern(d, max - 512, 512, 4));
	store_disk_close(d);
	cr_assert_eq(store_fragment_drop(s, id, err, sizeof(err)), STORE_OK);
	cr_assert_eq(store_close(s), STORE_OK);
}

static void expect_damage(const char *problem)
{
	struct store *s = tl_open(&m);
	struct store_info info;
	struct tl_reports r;
	struct store_disk *d;
	char err[160];

	store_info(s, &info);
	cr_assert(info.read_only);
	cr_assert_str_eq(info.problem, problem);
	cr_assert_eq(store_fragment_count(s), 0, "the record is unreadable");
	cr_assert_eq(store_fragment_open(s, 1, &d, err, sizeof(err)), STORE_ENOENT);
	cr_assert_eq(store_close(s), STORE_OK);
	cr_assert_geq(check_problems(&r), 1);
	cr_assert(tl_has(&r, problem));
}

static void make_fragment(void)
{
	struct store *s = tl_format_open(&m);

	frag(s, "vm", 1, MIB, NULL);
	cr_assert_eq(store_close(s), STORE_OK);
}

Test(store_fragment, damaged_record_is_found_at_open)
{
	uint8_t b;

	make_fragment();
	set_record_sealed(0, DR_FRAG_OFFSET, MIB + 512, 8);
	expect_damage("disk table slot 0: fragment offset past the end");

	make_fragment();
	set_record_sealed(0, DR_FLAGS, STORE_DF_IN_USE | STORE_DF_BASE | STORE_DF_FRAGMENT, 4);
	expect_damage("disk table slot 0: a base disk marked as a fragment");

	make_fragment();
	set_record_sealed(0, DR_FLAGS, STORE_DF_IN_USE | 16, 4);
	expect_damage("disk table slot 0: unknown flags");

	make_fragment();
	memdev_peek(&m, disk_page(0) * 4096 + DR_FRAG_CRC, &b, 1);
	b ^= 1;
	memdev_poke(&m, disk_page(0) * 4096 + DR_FRAG_CRC, &b, 1);
	expect_damage("disk table slot 0: checksum mismatch");

	/* An ordinary disk has no progress fields: its L1 there must be 0. */
	make_fragment();
	set_record_sealed(0, DR_FLAGS, STORE_DF_IN_USE, 4);
	set_record_sealed(0, DR_FRAG_OFFSET, 512, 8);
	expect_damage("disk table slot 0: map entry past the end");
}

Test(store_fragment, read_only_store_refuses_fragment_changes)
{
	struct store *s = tl_format_open(&m);
	struct store_uuid u = id16(5), c = id16(6);
	struct store_disk *d;
	char err[160];
	unsigned id = frag(s, "vm", 1, MIB, NULL), id2;
	uint8_t b;

	tl_create(s, "plain", MIB, NULL);
	d = tl_disk_open(s, "plain", true);
	cr_assert_eq(store_fragment_checkpoint(d, 0, 0), STORE_EINVAL, "not a fragment");
	store_disk_close(d);
	cr_assert_eq(store_close(s), STORE_OK);
	uint64_t loc = sb_field(SB_BITMAP_START) * 4096 + 100;
	memdev_peek(&m, loc, &b, 1);
	b ^= 0x40;
	memdev_poke(&m, loc, &b, 1);
	s = tl_open(&m);
	cr_assert_eq(store_fragment_count(s), 1, "still listed");
	cr_assert_eq(store_fragment_open(s, id, &d, err, sizeof(err)), STORE_EROFS);
	cr_assert_eq(store_fragment_create(s, "x", &u, &c, MIB, NULL, &id2, err, sizeof(err)),
		     STORE_EROFS);
	cr_assert_eq(store_fragments_finish(s, &id, &c, NULL, 1, err, sizeof(err)), STORE_EROFS);
	cr_assert_eq(store_fragment_drop(s, id, err, sizeof(err)), STORE_EROFS);
	cr_assert_eq(store_fragment_count(s), 1);
	cr_assert_eq(store_close(s), STORE_OK);
}
