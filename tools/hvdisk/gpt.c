/* Writing a one-partition GPT; see gpt.h (UEFI 2.10 sections 5.2.3, 5.3). */
#include "tools/hvdisk/gpt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/lib/byteorder.h"
#include "hv/lib/crc32.h"

uint32_t gpt_crc32(const void *data, size_t len)
{
	return crc32(0, data, len);
}

/* A random (version 4, RFC 4122 variant) GUID in the on-disk byte order:
 * the version nibble is the high nibble of little-endian Data3's byte 7. */
static void gpt_random_guid(const struct gpt_partition_spec *spec, uint8_t *guid)
{
	spec->random(guid, 16);
	guid[7] = (uint8_t)((guid[7] & 0x0f) | 0x40);
	guid[8] = (uint8_t)((guid[8] & 0x3f) | 0x80);
}

/* 5.2.3: one record of type 0xEE covering the disk (capped at 2^32-1). */
static void gpt_protective_mbr(uint8_t *mbr, uint64_t sectors)
{
	uint8_t *rec = mbr + 446;
	uint64_t size = sectors - 1;

	memset(mbr, 0, GPT_SECTOR);
	rec[2] = 0x02;                 /* starting CHS 0/0/2 */
	rec[4] = 0xee;                 /* GPT protective */
	rec[5] = rec[6] = rec[7] = 0xff; /* ending CHS not representable */
	put_le32(rec + 8, 1);
	put_le32(rec + 12, size > 0xffffffffu ? 0xffffffffu : (uint32_t)size);
	mbr[510] = 0x55;
	mbr[511] = 0xaa;
}

static void gpt_entry(uint8_t *ent, const struct gpt_partition_spec *spec, uint64_t first,
		      uint64_t last)
{
	memcpy(ent + GPT_ENT_TYPE, spec->type_guid, 16);
	gpt_random_guid(spec, ent + GPT_ENT_UNIQUE);
	put_le64(ent + GPT_ENT_FIRST_LBA, first);
	put_le64(ent + GPT_ENT_LAST_LBA, last);
	/* The name is UTF-16LE; ASCII maps one to one. */
	for (unsigned i = 0; i < GPT_ENT_NAME_CHARS && spec->name[i]; i++)
		put_le16(ent + GPT_ENT_NAME + 2 * i, (uint8_t)spec->name[i]);
}

struct gpt_geometry {
	uint64_t sectors, first_usable, last_usable;
	uint32_t array_crc;
	const uint8_t *disk_guid;
};

static void gpt_header(uint8_t *hdr, const struct gpt_geometry *g, bool primary)
{
	uint64_t last = g->sectors - 1;

	memset(hdr, 0, GPT_SECTOR);
	memcpy(hdr, GPT_SIGNATURE, 8);
	put_le32(hdr + 8, GPT_REVISION);
	put_le32(hdr + 12, GPT_HEADER_SIZE);
	put_le64(hdr + GPT_HDR_MY_LBA, primary ? 1 : last);
	put_le64(hdr + GPT_HDR_ALTERNATE_LBA, primary ? last : 1);
	put_le64(hdr + GPT_HDR_FIRST_USABLE, g->first_usable);
	put_le64(hdr + GPT_HDR_LAST_USABLE, g->last_usable);
	memcpy(hdr + GPT_HDR_DISK_GUID, g->disk_guid, 16);
	/* The backup array sits right before the backup header (5.3.1). */
	put_le64(hdr + GPT_HDR_ENTRY_LBA, primary ? 2 : last - GPT_ARRAY_SECTORS);
	put_le32(hdr + GPT_HDR_ENTRY_COUNT, GPT_ENTRY_COUNT);
	put_le32(hdr + GPT_HDR_ENTRY_SIZE, GPT_ENTRY_SIZE);
	put_le32(hdr + GPT_HDR_ENTRY_CRC, g->array_crc);
	/* Computed with its own field zero (5.3.2). */
	put_le32(hdr + GPT_HDR_CRC, gpt_crc32(hdr, GPT_HEADER_SIZE));
}

/* The writes, backup first: a crash in between leaves no primary header
 * pointing at a missing backup. */
static int gpt_store(struct blockdev *dev, uint8_t *mbr, uint8_t *array,
		     const struct gpt_geometry *g, char *err, size_t errlen)
{
	uint8_t hdr[2][GPT_SECTOR];
	uint64_t last = g->sectors - 1;
	int st;

	gpt_header(hdr[0], g, true);
	gpt_header(hdr[1], g, false);
	st = blk_io(dev, BLK_OP_WRITE, last - GPT_ARRAY_SECTORS, array,
		    GPT_ARRAY_SECTORS * GPT_SECTOR, false);
	if (st == BLK_OK)
		st = blk_io(dev, BLK_OP_WRITE, last, hdr[1], GPT_SECTOR, false);
	if (st == BLK_OK)
		st = blk_io(dev, BLK_OP_WRITE, 2, array, GPT_ARRAY_SECTORS * GPT_SECTOR, false);
	if (st == BLK_OK)
		st = blk_io(dev, BLK_OP_WRITE, 1, hdr[0], GPT_SECTOR, false);
	if (st == BLK_OK)
		st = blk_io(dev, BLK_OP_WRITE, 0, mbr, GPT_SECTOR, false);
	if (st == BLK_OK)
		st = blk_flush(dev);
	if (st != BLK_OK)
		snprintf(err, errlen, "writing the partition table: %s", blk_status_name(st));
	return st == BLK_OK ? 0 : -1;
}

int gpt_write_single(struct blockdev *dev, const struct gpt_partition_spec *spec,
		     uint64_t *first_lba, uint64_t *blocks, char *err, size_t errlen)
{
	uint64_t sectors = dev->blocks;
	/* MBR, header and array at each end. */
	uint64_t reserved = 1 + 1 + GPT_ARRAY_SECTORS;
	uint8_t mbr[GPT_SECTOR], disk_guid[16];
	struct gpt_geometry g = { .sectors = sectors, .first_usable = 2 + GPT_ARRAY_SECTORS,
				  .disk_guid = disk_guid };
	uint8_t *array;
	int rc;

	if (sectors < GPT_PART_ALIGN + 2 * GPT_PART_ALIGN + reserved) {
		snprintf(err, errlen, "too small for a GPT image (at least 4 MiB)");
		return -1;
	}
	g.last_usable = sectors - reserved;
	*first_lba = GPT_PART_ALIGN;
	*blocks = (g.last_usable + 1 - GPT_PART_ALIGN) / GPT_PART_ALIGN * GPT_PART_ALIGN;
	array = calloc(GPT_ENTRY_COUNT, GPT_ENTRY_SIZE);
	if (!array) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	gpt_random_guid(spec, disk_guid);
	gpt_entry(array, spec, *first_lba, *first_lba + *blocks - 1);
	g.array_crc = gpt_crc32(array, GPT_ENTRY_COUNT * GPT_ENTRY_SIZE);
	gpt_protective_mbr(mbr, sectors);
	rc = gpt_store(dev, mbr, array, &g, err, errlen);
	free(array);
	return rc;
}
