/* Datastore: damaged metadata is found at open (read-only, the first
 * problem named) and by store_check (every problem). */
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
	memdev_env_seed(41);
	memdev_init(&m, "mem0", 32 * MIB, 512);
}

static void teardown(void)
{
	memdev_destroy(&m);
	cr_assert_eq(memdev_env_outstanding(), 0);
}

TestSuite(store_damage, .init = setup, .fini = teardown);

static uint64_t sb_field(unsigned off)
{
	uint8_t page[4096];

	memdev_peek(&m, 0, page, sizeof(page));
	return get_le64(page + off);
}

/* Disk 'a' (slot 0, one chunk, blocks written) and 'b' (slot 1). */
static void make_two_disks(void)
{
	struct store *s = tl_format_open(&m);
	struct store_disk *d;

	tl_create(s, "a", 2 * MIB, NULL);
	tl_create(s, "b", 2 * MIB, NULL);
	d = tl_disk_open(s, "a", true);
	cr_assert_eq(tl_write_pattern(d, 0, 256 * KIB, 1), STORE_OK);
	store_disk_close(d);
	d = tl_disk_open(s, "b", true);
	cr_assert_eq(tl_write_pattern(d, 0, 128 * KIB, 2), STORE_OK);
	store_disk_close(d);
	cr_assert_eq(store_close(s), STORE_OK);
}

static uint64_t disk_page(unsigned slot)
{
	return sb_field(SB_DISKTAB_START) + slot;
}

static uint64_t l2_page(unsigned slot)
{
	uint8_t page[4096];

	memdev_peek(&m, disk_page(slot) * 4096, page, sizeof(page));
	return (uint64_t)get_le32(page + DR_L1) * 16;
}

static void flip(uint64_t page, unsigned off)
{
	uint8_t b;

	memdev_peek(&m, page * 4096 + off, &b, 1);
	b ^= 0x40;
	memdev_poke(&m, page * 4096 + off, &b, 1);
}

/* Changes a little-endian u32 in a page and re-seals its CRC: damage that
 * only the cross-checks can find. */
static void set_u32_sealed(uint64_t page, unsigned off, uint32_t v)
{
	uint8_t buf[4096];

	memdev_peek(&m, page * 4096, buf, sizeof(buf));
	put_le32(buf + off, v);
	put_le32(buf + STORE_CRC_OFF, crc32c(0, buf, STORE_CRC_OFF));
	memdev_poke(&m, page * 4096, buf, sizeof(buf));
}

static struct store *open_read_only(const char *problem)
{
	struct store *s = tl_open(&m);
	struct store_info info;

	store_info(s, &info);
	cr_assert(info.read_only);
	cr_assert_str_eq(info.problem, problem);
	return s;
}

Test(store_damage, bitmap_page)
{
	char expect[160], err[160];

	make_two_disks();
	uint64_t loc = sb_field(SB_BITMAP_START);
	flip(loc, 100);
	snprintf(expect, sizeof(expect), "bitmap block %llu: checksum mismatch",
		 (unsigned long long)loc);
	struct store *s = open_read_only(expect);
	struct store_disk *d = tl_disk_open(s, "a", false);
	cr_assert(tl_check_pattern(d, 0, 256 * KIB, 1), "data stays readable");
	store_disk_close(d);
	cr_assert_eq(store_disk_open(s, "a", true, &d, err, sizeof(err)), STORE_EROFS);
	cr_assert_eq(store_disk_create(s, "c", MIB, NULL, err, sizeof(err)), STORE_EROFS);
	cr_assert_str_eq(err, "datastore is read-only: " "bitmap block 130: checksum mismatch");
	cr_assert_eq(store_close(s), STORE_OK);
}

Test(store_damage, disk_record)
{
	make_two_disks();
	flip(disk_page(1), 150);
	struct store *s = open_read_only("disk table slot 1: checksum mismatch");
	cr_assert_eq(store_disk_count(s), 1, "'b' is unreadable");
	cr_assert_eq(store_close(s), STORE_OK);
}

Test(store_damage, block_map_page)
{
	char expect[160];
	uint8_t buf[512];

	make_two_disks();
	uint64_t loc = l2_page(0);
	flip(loc, 70);
	snprintf(expect, sizeof(expect), "disk 'a': block map L2 block %llu checksum mismatch",
		 (unsigned long long)loc);
	struct store *s = open_read_only(expect);
	struct store_disk *d = tl_disk_open(s, "a", false);
	cr_assert_eq(tl_read(d, 0, buf, sizeof(buf)), STORE_ECORRUPT, "never the wrong data");
	store_disk_close(d);
	d = tl_disk_open(s, "b", false);
	cr_assert(tl_check_pattern(d, 0, 128 * KIB, 2), "other disks read on");
	store_disk_close(d);
	cr_assert_eq(store_close(s), STORE_OK);
}

Test(store_damage, both_superblocks_fail_the_open_one_does_not)
{
	char err[160] = "";

	make_two_disks();
	flip(0, 20);
	struct store *s = tl_open(&m);
	struct store_info info;
	store_info(s, &info);
	cr_assert(!info.read_only, "the other copy serves; the bad one is rewritten");
	cr_assert_eq(store_close(s), STORE_OK);
	struct tl_reports r = { .n = 0 };
	cr_assert_eq(store_check(&m.bd, 0, m.bd.blocks, &memdev_env, tl_collect, &r), 0, "%s",
		     r.lines[0]);
	flip(0, 20);
	flip(1, 20);
	cr_assert_eq(tl_open_fails(&m, err, sizeof(err)), STORE_ECORRUPT);
	cr_assert_str_eq(err, "no valid superblock (A: checksum mismatch; B: checksum mismatch)");
	flip(0, 0);
	cr_assert_eq(tl_open_fails(&m, err, sizeof(err)), STORE_ECORRUPT);
	cr_assert_str_eq(err, "no valid superblock (A: no datastore magic; B: checksum mismatch)");
}

Test(store_damage, mapped_block_free_in_bitmap)
{
	char expect[160];

	make_two_disks();
	uint64_t bm = sb_field(SB_BITMAP_START), data_start = sb_field(SB_DATA_START);
	uint8_t page[4096];
	memdev_peek(&m, l2_page(0) * 4096, page, sizeof(page));
	uint32_t block = get_le32(page + MH_SIZE);
	cr_assert_geq(block, data_start);
	uint8_t bmp[4096];
	memdev_peek(&m, bm * 4096, bmp, sizeof(bmp));
	uint32_t word = get_le32(bmp + MH_SIZE + 4 * (block / 32));
	set_u32_sealed(bm, MH_SIZE + 4 * (block / 32), word & ~(1u << (block % 32)));
	snprintf(expect, sizeof(expect), "disk 'a': block %u is in use but free in the bitmap",
		 block);
	struct store *s = open_read_only(expect);
	cr_assert_eq(store_close(s), STORE_OK);
}

Test(store_damage, block_mapped_twice_and_counts)
{
	struct tl_reports r = { .n = 0 };
	uint8_t page[4096];

	make_two_disks();
	memdev_peek(&m, l2_page(0) * 4096, page, sizeof(page));
	uint32_t a_block = get_le32(page + MH_SIZE);
	set_u32_sealed(l2_page(1), MH_SIZE + 4 * 5, a_block); /* b's block 5 = a's block 0 */
	int n = store_check(&m.bd, 0, m.bd.blocks, &memdev_env, tl_collect, &r);
	cr_assert_eq(n, 2, "%u: %s / %s", r.n, r.lines[0], r.lines[1]);
	char expect[160];
	snprintf(expect, sizeof(expect), "disk 'b': block %u is used twice", a_block);
	cr_assert(tl_has(&r, expect), "%s", r.lines[0]);
	cr_assert(tl_has(&r, "disk 'b': 3 blocks mapped but 2 recorded"), "%s", r.lines[1]);
}

Test(store_damage, parent_missing_and_leak)
{
	struct tl_reports r = { .n = 0 };
	char err[160];

	make_two_disks();
	struct store *s = tl_open(&m);
	cr_assert_eq(store_disk_snapshot(s, "a", "gold", err, sizeof(err)), STORE_OK);
	cr_assert_eq(store_close(s), STORE_OK);
	/* 'a' moved to slot 2 when 'gold' took its slot; point it at slot 2 (itself). */
	set_u32_sealed(disk_page(2), DR_PARENT_SLOT, 2);
	uint64_t bm = sb_field(SB_BITMAP_START), total = sb_field(SB_TOTAL_BLOCKS);
	set_u32_sealed(bm, MH_SIZE + 4 * ((total - 1) / 32), 1u << ((total - 1) % 32));
	int n = store_check(&m.bd, 0, m.bd.blocks, &memdev_env, tl_collect, &r);
	cr_assert_eq(n, 2, "%u: %s / %s / %s", r.n, r.lines[0], r.lines[1], r.lines[2]);
	cr_assert(tl_has(&r, "disk 'a': parent missing"));
	cr_assert(tl_has(&r, "bitmap: 1 blocks allocated but not used (leaked)"));
	s = open_read_only("disk 'a': parent missing");
	cr_assert_eq(store_close(s), STORE_OK);
}

Test(store_damage, a_leak_alone_is_no_damage)
{
	make_two_disks();
	uint64_t bm = sb_field(SB_BITMAP_START), total = sb_field(SB_TOTAL_BLOCKS);
	set_u32_sealed(bm, MH_SIZE + 4 * ((total - 1) / 32), 1u << ((total - 1) % 32));
	struct store *s = tl_open(&m);
	struct store_info info;
	store_info(s, &info);
	cr_assert(!info.read_only);
	cr_assert_str_eq(info.problem, "");
	cr_assert_eq(store_close(s), STORE_OK);
}

Test(store_damage, check_reports_every_problem)
{
	struct tl_reports r = { .n = 0 };
	char line[160];

	make_two_disks();
	uint64_t bm = sb_field(SB_BITMAP_START), l2 = l2_page(1);
	flip(bm, 90);
	flip(disk_page(0), 200);
	flip(l2, 300);
	int n = store_check(&m.bd, 0, m.bd.blocks, &memdev_env, tl_collect, &r);
	cr_assert_eq(n, 3, "%u problems: %s | %s | %s | %s", r.n, r.lines[0], r.lines[1],
		     r.lines[2], r.lines[3]);
	snprintf(line, sizeof(line), "bitmap block %llu: checksum mismatch", (unsigned long long)bm);
	cr_assert(tl_has(&r, line));
	cr_assert(tl_has(&r, "disk table slot 0: checksum mismatch"));
	snprintf(line, sizeof(line), "disk 'b': block map L2 block %llu checksum mismatch",
		 (unsigned long long)l2);
	cr_assert(tl_has(&r, line));
}

Test(store_damage, committed_journal_is_information_and_replayed)
{
	struct tl_reports r = { .n = 0 };
	struct store_info info;
	char err[160];
	uint64_t rng = 3;

	make_two_disks();
	struct store *s = tl_open(&m);
	/* create commits: flush, journal write, flush, then in place: fail there. */
	m.fail_after = 3;
	cr_assert_eq(store_disk_create(s, "c", MIB, NULL, err, sizeof(err)), STORE_EIO);
	tl_crash(&m, s, NULL, 0, &rng);
	int n = store_check(&m.bd, 0, m.bd.blocks, &memdev_env, tl_collect, &r);
	cr_assert_eq(n, 0);
	cr_assert_eq(r.n, 1);
	cr_assert_str_eq(r.lines[0], "info: journal: 1 committed transaction to replay at the next open");
	s = tl_open(&m);
	store_info(s, &info);
	cr_assert_eq(info.replayed_transactions, 1);
	cr_assert_eq(store_disk_count(s), 3, "'c' was committed");
	cr_assert_eq(store_close(s), STORE_OK);
	r.n = 0;
	cr_assert_eq(store_check(&m.bd, 0, m.bd.blocks, &memdev_env, tl_collect, &r), 0);
	cr_assert_eq(r.n, 0);
}
