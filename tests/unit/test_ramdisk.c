/* The RAM disk through the block layer: geometry, synchronous completion,
 * data round trips, the checks still applying. */
#include <criterion/criterion.h>
#include <string.h>

#include "drivers/block/ramdisk.h"

static uint8_t mem[64 * 1024 + 100]; /* not a whole number of blocks */
static struct ramdisk rd;

Test(ramdisk, geometry_rounds_down_to_whole_blocks)
{
	cr_assert(ramdisk_init(&rd, "ram0", mem, sizeof(mem)));
	cr_assert_str_eq(rd.dev.name, "ram0");
	cr_assert_eq(rd.dev.blocks, 128);
	cr_assert_eq(rd.dev.block_size, 512);
	cr_assert_not(rd.dev.volatile_cache);
	cr_assert_not(rd.dev.read_only);
	cr_assert_not(ramdisk_init(&rd, "ram1", mem, 511), "less than a block");
}

Test(ramdisk, a_request_completes_inside_submit)
{
	static uint8_t a[1024], b[512];
	cr_assert(ramdisk_init(&rd, "ram0", mem, sizeof(mem)));
	memset(a, 0xa5, sizeof(a));
	memset(b, 0x5a, sizeof(b));
	struct blk_request r = { .op = BLK_OP_WRITE, .lba = 126, .nsegs = 2 };
	r.segs[0] = (struct blk_seg){ a, 1024 };
	r.segs[1] = (struct blk_seg){ b, 512 };
	cr_assert_eq(blk_submit(&rd.dev, &r), BLK_EINVAL, "one block past the end");
	r.lba = 125;
	cr_assert_eq(blk_submit(&rd.dev, &r), BLK_OK);
	cr_assert(r.completed);
	cr_assert_eq(r.status, BLK_OK);
	cr_assert_eq(rd.dev.in_flight, 0);
	cr_assert_eq(mem[125 * 512], 0xa5);
	cr_assert_eq(mem[127 * 512 - 1], 0xa5);
	cr_assert_eq(mem[127 * 512], 0x5a);
	cr_assert_eq(mem[128 * 512 - 1], 0x5a);
	cr_assert_eq(mem[125 * 512 - 1], 0, "the block before is untouched");
	cr_assert_eq(rd.dev.stats.write_bytes, 1536);
}

Test(ramdisk, blk_io_round_trips_across_transfer_limits)
{
	static uint8_t big[2 * 1024 * 1024], back[sizeof(big)];
	static uint8_t disk[4 * 1024 * 1024];
	cr_assert(ramdisk_init(&rd, "ram0", disk, sizeof(disk)));
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i ^ (i >> 9));
	cr_assert_eq(blk_io(&rd.dev, BLK_OP_WRITE, 100, big, sizeof(big), false), BLK_OK);
	cr_assert_eq(memcmp(disk + 100 * 512, big, sizeof(big)), 0);
	cr_assert_eq(blk_io(&rd.dev, BLK_OP_READ, 100, back, sizeof(back), false), BLK_OK);
	cr_assert_eq(memcmp(back, big, sizeof(big)), 0);
	cr_assert_eq(rd.dev.stats.writes, 2, "two 1 MiB requests");
	cr_assert_eq(blk_flush(&rd.dev), BLK_OK);
	cr_assert_eq(rd.dev.stats.flushes, 1);
	rd.dev.read_only = true;
	cr_assert_eq(blk_io(&rd.dev, BLK_OP_WRITE, 0, big, 512, false), BLK_EROFS);
}
