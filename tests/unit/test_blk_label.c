/* CRC-32 and blk_label against hand-built images: GPT (sound, and damaged
 * in each way the header checks catch), MBR, FAT12/16/32, ext, ISO 9660,
 * zeros and noise; and blk_label_read over a RAM disk. */
#include <criterion/criterion.h>
#include <string.h>

#include "drivers/block/blk_label.h"
#include "drivers/block/ramdisk.h"
#include "hv/lib/byteorder.h"
#include "hv/lib/crc32.h"

#define HEAD BLK_LABEL_HEAD_BYTES

static uint8_t img[HEAD];

/* The EFI system partition's type, c12a7328-f81f-11d2-ba4b-00a0c93ec93b. */
static const uint8_t esp_type[16] = { 0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11,
				      0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b };
static const uint8_t store_type[16] = { 0xd0, 0x1e, 0x29, 0x83, 0xad, 0xb9, 0x2f, 0x44,
					0xb9, 0x26, 0x14, 0xe3, 0x3e, 0x31, 0xad, 0xb1 };

Test(crc32, known_vectors_and_chaining)
{
	cr_assert_eq(crc32(0, "123456789", 9), 0xcbf43926u);
	cr_assert_eq(crc32(0, "", 0), 0);
	cr_assert_eq(crc32(0, "The quick brown fox jumps over the lazy dog", 43), 0x414fa339u);
	cr_assert_eq(crc32(crc32(0, "1234", 4), "56789", 5), 0xcbf43926u);
}

static void set_entry(uint8_t *e, const uint8_t type[16], uint64_t first, uint64_t last,
		      const char *name)
{
	memcpy(e, type, 16);
	e[16] = 0x42; /* a unique GUID, any non-zero */
	put_le64(e + 32, first);
	put_le64(e + 40, last);
	for (size_t i = 0; name[i]; i++)
		put_le16(e + 56 + 2 * i, (uint8_t)name[i]);
}

/* Recomputes the header CRC of the GPT at LBA 1. */
static void gpt_seal_header(uint32_t bs)
{
	uint8_t *h = img + bs;
	put_le32(h + 16, 0);
	put_le32(h + 16, crc32(0, h, get_le32(h + 12)));
}

/* Recomputes both CRCs of the GPT at LBA 1 (entries at LBA 2). */
static void gpt_seal(uint32_t bs)
{
	uint8_t *h = img + bs;
	put_le32(h + 88, crc32(0, img + 2 * bs, get_le32(h + 80) * get_le32(h + 84)));
	put_le32(h + 16, 0);
	put_le32(h + 16, crc32(0, h, get_le32(h + 12)));
}

/* A protective MBR and a GPT with 128 entries: ESP at 34-2081 and a
 * datastore partition after it, over a device of 'blocks' blocks. */
static void build_gpt(uint32_t bs, uint64_t blocks)
{
	memset(img, 0, sizeof(img));
	uint8_t *r = img + 446;
	r[4] = 0xee;
	put_le32(r + 8, 1);
	put_le32(r + 12, (uint32_t)(blocks - 1));
	img[510] = 0x55;
	img[511] = 0xaa;
	uint8_t *h = img + bs;
	uint64_t first = 2 + 128 * 128 / bs, last = blocks - first - 1;
	memcpy(h, "EFI PART", 8);
	put_le32(h + 8, 0x00010000);
	put_le32(h + 12, 92);
	put_le64(h + 24, 1);
	put_le64(h + 32, blocks - 1);
	put_le64(h + 40, first);
	put_le64(h + 48, last);
	put_le64(h + 72, 2);
	put_le32(h + 80, 128);
	put_le32(h + 84, 128);
	uint8_t *e = img + 2 * bs;
	set_entry(e, esp_type, first, first + 2047, "EFI system");
	set_entry(e + 3 * 128, store_type, first + 2048, last, "hv datastore X");
	put_le16(e + 3 * 128 + 56 + 2 * 13, 0xe9); /* e acute: not ASCII */
	gpt_seal(bs);
}

static struct blk_label l;

Test(blk_label, a_sound_gpt_lists_its_partitions)
{
	build_gpt(512, 1 << 20);
	blk_label_analyze(img, HEAD, 512, 1 << 20, &l);
	cr_assert_eq(l.content, BLK_CONTENT_GPT);
	cr_assert_str_eq(l.problem, "");
	cr_assert_eq(l.nparts, 2);
	cr_assert_eq(l.parts[0].number, 1);
	cr_assert_eq(l.parts[0].first_lba, 34);
	cr_assert_eq(l.parts[0].last_lba, 34 + 2047);
	cr_assert_str_eq(l.parts[0].name, "EFI system");
	cr_assert_eq(l.parts[1].number, 4);
	cr_assert_eq(l.parts[1].last_lba, (1 << 20) - 35);
	cr_assert_str_eq(l.parts[1].name, "hv datastore ?", "non-ASCII shown as '?'");
	cr_assert_eq(blk_label_find_type(&l, store_type, 0), 1);
	cr_assert_eq(blk_label_find_type(&l, store_type, 2), -1);
	cr_assert_eq(blk_label_find_type(&l, esp_type, 0), 0);
	char g[37];
	blk_guid_format(l.parts[0].type_guid, g);
	cr_assert_str_eq(g, "c12a7328-f81f-11d2-ba4b-00a0c93ec93b");
	blk_guid_format(store_type, g);
	cr_assert_str_eq(g, "83291ed0-b9ad-442f-b926-14e33e31adb1");
	cr_assert_str_eq(blk_content_name(l.content), "gpt");
}

Test(blk_label, a_gpt_on_4k_blocks)
{
	build_gpt(4096, 1 << 16);
	blk_label_analyze(img, HEAD, 4096, 1 << 16, &l);
	cr_assert_eq(l.content, BLK_CONTENT_GPT);
	cr_assert_str_eq(l.problem, "");
	cr_assert_eq(l.nparts, 2);
	cr_assert_eq(l.parts[0].first_lba, 6);
	blk_label_analyze(img, HEAD, 512, 1 << 19, &l);
	cr_assert_eq(l.content, BLK_CONTENT_GPT, "protective MBR, but no header at LBA 1");
	cr_assert_eq(l.nparts, 0);
	cr_assert_str_eq(l.problem, "GPT: header size out of range");
}

Test(blk_label, a_corrupted_header_crc_lists_nothing)
{
	build_gpt(512, 1 << 20);
	img[512 + 40]++; /* first usable LBA changed behind the CRC's back */
	blk_label_analyze(img, HEAD, 512, 1 << 20, &l);
	cr_assert_eq(l.content, BLK_CONTENT_GPT);
	cr_assert_eq(l.nparts, 0);
	cr_assert_str_eq(l.problem, "GPT: header CRC mismatch");
}

Test(blk_label, a_corrupted_entry_array_lists_nothing)
{
	build_gpt(512, 1 << 20);
	img[2 * 512 + 3 * 128 + 33] ^= 1;
	blk_label_analyze(img, HEAD, 512, 1 << 20, &l);
	cr_assert_eq(l.nparts, 0);
	cr_assert_str_eq(l.problem, "GPT: entry array CRC mismatch");
}

Test(blk_label, header_fields_are_checked_even_with_a_good_crc)
{
	build_gpt(512, 1 << 20);
	put_le64(img + 512 + 24, 2);
	gpt_seal(512);
	blk_label_analyze(img, HEAD, 512, 1 << 20, &l);
	cr_assert_str_eq(l.problem, "GPT: header MyLBA is not 1");

	build_gpt(512, 1 << 20);
	blk_label_analyze(img, HEAD, 512, 1000, &l);
	cr_assert_str_eq(l.problem, "GPT: usable LBA range outside the device");

	build_gpt(512, 1 << 20);
	put_le32(img + 512 + 84, 192);
	gpt_seal(512);
	blk_label_analyze(img, HEAD, 512, 1 << 20, &l);
	cr_assert_str_eq(l.problem, "GPT: entry size is not 128 x 2^n");

	build_gpt(512, 1 << 20);
	put_le32(img + 512 + 80, 1024); /* 128 KiB of entries: past what was read */
	gpt_seal_header(512);
	blk_label_analyze(img, HEAD, 512, 1 << 20, &l);
	cr_assert_str_eq(l.problem, "GPT: entry array beyond the examined blocks");

	build_gpt(512, 1 << 20);
	put_le32(img + 512 + 12, 600);
	blk_label_analyze(img, HEAD, 512, 1 << 20, &l);
	cr_assert_str_eq(l.problem, "GPT: header size out of range");
	cr_assert_eq(l.nparts, 0);
}

Test(blk_label, an_entry_outside_the_usable_range_is_left_out)
{
	build_gpt(512, 1 << 20);
	put_le64(img + 2 * 512 + 40, (1 << 20) - 1); /* ESP runs into the backup GPT */
	gpt_seal(512);
	blk_label_analyze(img, HEAD, 512, 1 << 20, &l);
	cr_assert_eq(l.nparts, 1);
	cr_assert_eq(l.parts[0].number, 4);
	cr_assert_str_eq(l.problem, "GPT: entry 1 outside the usable LBAs");
}

static void build_mbr(void)
{
	memset(img, 0, sizeof(img));
	img[0] = 0xfa; /* cli: boot code, not a jump over a BPB */
	uint8_t *r = img + 446;
	r[0] = 0x80;
	r[4] = 0x83;
	put_le32(r + 8, 2048);
	put_le32(r + 12, 4096);
	r += 32;
	r[4] = 0x07;
	put_le32(r + 8, 8192);
	put_le32(r + 12, 100);
	img[510] = 0x55;
	img[511] = 0xaa;
}

Test(blk_label, an_mbr_lists_its_used_records)
{
	build_mbr();
	blk_label_analyze(img, HEAD, 512, 1 << 20, &l);
	cr_assert_eq(l.content, BLK_CONTENT_MBR);
	cr_assert_eq(l.nparts, 2);
	cr_assert_eq(l.parts[0].number, 1);
	cr_assert_eq(l.parts[0].mbr_type, 0x83);
	cr_assert_eq(l.parts[0].first_lba, 2048);
	cr_assert_eq(l.parts[0].last_lba, 6143);
	cr_assert_eq(l.parts[1].number, 3);
	cr_assert_eq(l.parts[1].last_lba, 8291);
	cr_assert_eq(blk_label_find_type(&l, esp_type, 0), -1, "types are GPT only");

	img[446 + 16] = 0x12; /* a boot flag that no MBR has */
	blk_label_analyze(img, HEAD, 512, 1 << 20, &l);
	cr_assert_eq(l.content, BLK_CONTENT_UNKNOWN);
	build_mbr();
	img[511] = 0;
	blk_label_analyze(img, HEAD, 512, 1 << 20, &l);
	cr_assert_eq(l.content, BLK_CONTENT_UNKNOWN, "no 0x55AA");
}

/* A FAT boot sector with the given BPB fields. */
static void build_fat(uint16_t spc, uint16_t reserved, uint16_t root, uint32_t total,
		      uint32_t fatsz, uint8_t media)
{
	memset(img, 0, sizeof(img));
	img[0] = 0xeb;
	img[1] = 0x3c;
	img[2] = 0x90;
	put_le16(img + 11, 512);
	img[13] = (uint8_t)spc;
	put_le16(img + 14, reserved);
	img[16] = 2;
	put_le16(img + 17, root);
	if (total < 65536)
		put_le16(img + 19, (uint16_t)total);
	else
		put_le32(img + 32, total);
	img[21] = media;
	if (root)
		put_le16(img + 22, (uint16_t)fatsz);
	else
		put_le32(img + 36, fatsz);
	img[510] = 0x55;
	img[511] = 0xaa;
}

Test(blk_label, fat_types_follow_the_cluster_count)
{
	build_fat(1, 1, 224, 2880, 9, 0xf0); /* a 1.44 MB floppy: 2847 clusters */
	blk_label_analyze(img, HEAD, 512, 2880, &l);
	cr_assert_eq(l.content, BLK_CONTENT_FAT);
	cr_assert_str_eq(l.fs, "fat12");
	build_fat(4, 4, 512, 131072, 128, 0xf8); /* 32695 clusters */
	blk_label_analyze(img, HEAD, 512, 131072, &l);
	cr_assert_str_eq(l.fs, "fat16");
	build_fat(8, 32, 0, 1048576, 1024, 0xf8); /* 130812 clusters */
	blk_label_analyze(img, HEAD, 512, 1048576, &l);
	cr_assert_str_eq(l.fs, "fat32");
	cr_assert_str_eq(blk_content_name(l.content), "fat");
	img[13] = 3; /* sectors per cluster must be a power of two */
	blk_label_analyze(img, HEAD, 512, 1048576, &l);
	cr_assert_eq(l.content, BLK_CONTENT_UNKNOWN);
}

Test(blk_label, ext_iso_zeros_and_noise)
{
	memset(img, 0, sizeof(img));
	blk_label_analyze(img, HEAD, 512, 1 << 20, &l);
	cr_assert_eq(l.content, BLK_CONTENT_EMPTY);
	cr_assert_str_eq(blk_content_name(l.content), "empty");
	put_le16(img + 1080, 0xef53);
	blk_label_analyze(img, HEAD, 512, 1 << 20, &l);
	cr_assert_eq(l.content, BLK_CONTENT_EXT);
	cr_assert_str_eq(l.fs, "ext2/3/4");
	memset(img, 0, sizeof(img));
	img[32768] = 1;
	memcpy(img + 32769, "CD001", 5);
	blk_label_analyze(img, HEAD, 2048, 1 << 18, &l);
	cr_assert_eq(l.content, BLK_CONTENT_ISO9660);
	blk_label_analyze(img, 32768, 2048, 16, &l);
	cr_assert_eq(l.content, BLK_CONTENT_EMPTY, "the descriptor lies past what was read");
	for (size_t i = 0; i < sizeof(img); i++)
		img[i] = (uint8_t)(i * 131 + (i >> 8));
	blk_label_analyze(img, HEAD, 512, 1 << 20, &l);
	cr_assert_eq(l.content, BLK_CONTENT_UNKNOWN);
	cr_assert_str_eq(blk_content_name(l.content), "unknown");
}

Test(blk_label, read_from_a_device_including_a_tiny_one)
{
	static uint8_t disk[4 << 20], scratch[HEAD];
	static struct ramdisk rd;
	build_gpt(512, sizeof(disk) / 512);
	memcpy(disk, img, HEAD);
	cr_assert(ramdisk_init(&rd, "ram0", disk, sizeof(disk)));
	cr_assert_eq(blk_label_read(&rd.dev, scratch, &l), BLK_OK);
	cr_assert_eq(l.content, BLK_CONTENT_GPT);
	cr_assert_eq(l.nparts, 2);
	cr_assert_str_eq(l.problem, "");

	cr_assert(ramdisk_init(&rd, "ram1", disk, 4096)); /* 8 blocks: no room for a GPT */
	cr_assert_eq(blk_label_read(&rd.dev, scratch, &l), BLK_OK);
	cr_assert_eq(l.content, BLK_CONTENT_GPT);
	cr_assert_str_eq(l.problem, "GPT: usable LBA range outside the device");
}

Test(blk_label, partition_by_number_and_description)
{
	static uint8_t disk[4 << 20];
	static struct ramdisk rd;
	struct blk_partition p;
	char what[16];
	build_gpt(512, sizeof(disk) / 512);
	memcpy(disk, img, HEAD);
	cr_assert(ramdisk_init(&rd, "ram0", disk, sizeof(disk)));
	cr_assert_eq(blk_label_partition(&rd.dev, 4, &p), 0);
	cr_assert_eq(p.first_lba, 34 + 2048);
	cr_assert_eq(memcmp(p.type_guid, store_type, 16), 0);
	cr_assert_eq(blk_label_partition(&rd.dev, 2, &p), -1, "entry 2 is unused");
	cr_assert(blk_label_describe(&rd.dev, what, sizeof(what)));
	cr_assert_str_eq(what, "gpt");
	disk[512 + 40]++;
	cr_assert_eq(blk_label_partition(&rd.dev, 4, &p), -1, "a damaged GPT lists nothing");
	memset(disk, 0, HEAD);
	cr_assert(blk_label_describe(&rd.dev, what, sizeof(what)));
	cr_assert_str_eq(what, "empty");
}
