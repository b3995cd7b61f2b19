/* Finding the datastore partition in a GPT; see gpt.h. Every field read
 * from the image is checked before use (UEFI 2.10 5.3.2, "GPT header
 * validation"): a damaged table is reported, never followed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/lib/byteorder.h"
#include "tools/hvdisk/gpt.h"

/* More entries than any real table has; bounds the array we read. */
#define GPT_MAX_ARRAY_BYTES (1u << 20)

struct gpt_table {
	uint64_t first_usable, last_usable, entry_lba;
	uint32_t count, entry_size;
};

static const char *gpt_check_header(const uint8_t *hdr, uint64_t lba, uint64_t sectors,
				    struct gpt_table *t)
{
	uint8_t copy[GPT_SECTOR];
	uint32_t size = get_le32(hdr + 12);

	if (memcmp(hdr, GPT_SIGNATURE, 8) != 0)
		return GPT_NO_SIGNATURE;
	if (size < GPT_HEADER_SIZE || size > GPT_SECTOR)
		return "header size out of range";
	memcpy(copy, hdr, GPT_SECTOR);
	put_le32(copy + GPT_HDR_CRC, 0);
	if (gpt_crc32(copy, size) != get_le32(hdr + GPT_HDR_CRC))
		return "header CRC mismatch";
	if (get_le64(hdr + GPT_HDR_MY_LBA) != lba)
		return "header MyLBA is not where it was read";
	t->first_usable = get_le64(hdr + GPT_HDR_FIRST_USABLE);
	t->last_usable = get_le64(hdr + GPT_HDR_LAST_USABLE);
	t->entry_lba = get_le64(hdr + GPT_HDR_ENTRY_LBA);
	t->count = get_le32(hdr + GPT_HDR_ENTRY_COUNT);
	t->entry_size = get_le32(hdr + GPT_HDR_ENTRY_SIZE);
	if (t->first_usable > t->last_usable || t->last_usable >= sectors)
		return "usable range outside the device";
	/* 5.3.2: the entry size is 128 times a power of two. */
	if (t->entry_size < GPT_ENTRY_SIZE || t->entry_size % GPT_ENTRY_SIZE ||
	    (t->entry_size & (t->entry_size - 1)))
		return "bad partition entry size";
	if (t->count == 0 || (uint64_t)t->count * t->entry_size > GPT_MAX_ARRAY_BYTES)
		return "bad partition entry count";
	if (t->entry_lba >= sectors ||
	    sectors - t->entry_lba < ((uint64_t)t->count * t->entry_size + GPT_SECTOR - 1) / GPT_SECTOR)
		return "partition entries outside the device";
	return NULL;
}

static void gpt_scan(const uint8_t *array, const struct gpt_table *t, const uint8_t *type_guid,
		     struct gpt_lookup *out)
{
	for (uint32_t i = 0; i < t->count; i++) {
		const uint8_t *ent = array + (size_t)i * t->entry_size;
		uint64_t first = get_le64(ent + GPT_ENT_FIRST_LBA);
		uint64_t last = get_le64(ent + GPT_ENT_LAST_LBA);

		if (memcmp(ent + GPT_ENT_TYPE, type_guid, 16) != 0)
			continue;
		if (first < t->first_usable || last > t->last_usable || first > last)
			continue; /* outside the usable space: not followed */
		if (out->matches++ == 0) {
			out->found = true;
			out->first_lba = first;
			out->blocks = last - first + 1;
		}
	}
}

/* Reads and checks one header and its array; 0 valid, 1 invalid (why in
 * 'problem'), a negative blk_status on I/O errors. */
static int gpt_read_one(struct blockdev *dev, uint64_t lba, const uint8_t *type_guid,
			struct gpt_lookup *out, char *problem, size_t len)
{
	uint8_t hdr[GPT_SECTOR];
	struct gpt_table t;
	const char *why;
	uint8_t *array;
	size_t bytes;
	int st = blk_io(dev, BLK_OP_READ, lba, hdr, GPT_SECTOR, false);

	if (st != BLK_OK)
		return st;
	why = gpt_check_header(hdr, lba, dev->blocks, &t);
	if (why) {
		snprintf(problem, len, "%s", why);
		return 1;
	}
	bytes = ((size_t)t.count * t.entry_size + GPT_SECTOR - 1) / GPT_SECTOR * GPT_SECTOR;
	array = calloc(1, bytes);
	if (!array)
		return BLK_EIO;
	st = blk_io(dev, BLK_OP_READ, t.entry_lba, array, bytes, false);
	if (st == BLK_OK && gpt_crc32(array, (size_t)t.count * t.entry_size) !=
				    get_le32(hdr + GPT_HDR_ENTRY_CRC)) {
		snprintf(problem, len, "partition entry array CRC mismatch");
		st = 1;
	}
	if (st == BLK_OK && !out->found)
		gpt_scan(array, &t, type_guid, out);
	free(array);
	return st;
}

int gpt_find(struct blockdev *dev, const uint8_t *type_guid, struct gpt_lookup *out)
{
	int st;

	memset(out, 0, sizeof(*out));
	if (dev->block_size != GPT_SECTOR || dev->blocks < 3)
		return 0;
	st = gpt_read_one(dev, 1, type_guid, out, out->primary_problem, sizeof(out->primary_problem));
	if (st < 0)
		return st;
	out->primary_valid = st == 0;
	/* 5.3.2: the backup is at the last block; checked even when the
	 * primary is good, so damage to it is reported. */
	st = gpt_read_one(dev, dev->blocks - 1, type_guid, out, out->backup_problem,
			  sizeof(out->backup_problem));
	if (st < 0)
		return st;
	out->backup_valid = st == 0;
	return 0;
}
