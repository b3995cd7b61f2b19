/* What is on a block device, judged from its first blocks: a GPT (header
 * and entry array checked as UEFI 2.x section 5.3 requires), an MBR
 * partition table, a file system by its magic (FAT12/16/32, ext2/3/4,
 * ISO 9660), all zeros, or something unknown. Everything read is disk
 * content, so every field is checked before use. Host-buildable. */
#ifndef DRIVERS_BLOCK_BLK_LABEL_H
#define DRIVERS_BLOCK_BLK_LABEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/block/blockdev.h"

/* Bytes from LBA 0 that blk_label_read examines: the GPT entry array at
 * LBA 2 (16 KiB for 128 entries, at 4 KiB blocks too) and the ISO 9660
 * volume descriptor at byte 32768. */
#define BLK_LABEL_HEAD_BYTES (64u * 1024)
#define BLK_LABEL_MAX_PARTS 16

enum blk_content {
	BLK_CONTENT_EMPTY,   /* the examined blocks are all zeros */
	BLK_CONTENT_UNKNOWN,
	BLK_CONTENT_GPT,
	BLK_CONTENT_MBR,
	BLK_CONTENT_FAT,
	BLK_CONTENT_EXT,
	BLK_CONTENT_ISO9660,
};

struct blk_partition {
	unsigned number;     /* 1-based: GPT entry index + 1, MBR slot + 1 */
	uint8_t type_guid[16]; /* GPT: the type GUID as stored (mixed endian) */
	uint8_t mbr_type;    /* MBR: the system ID byte */
	uint64_t first_lba, last_lba;
	char name[37];       /* GPT: the UTF-16 name, non-ASCII as '?' */
};

struct blk_label {
	enum blk_content content;
	const char *fs;      /* "fat12", "fat16", "fat32", "ext2/3/4", "iso9660" or "" */
	unsigned nparts;     /* listed (at most BLK_LABEL_MAX_PARTS) */
	unsigned parts_total; /* used entries, listed or not */
	struct blk_partition parts[BLK_LABEL_MAX_PARTS];
	char problem[96];    /* "" when the structure is sound */
};

/* Judges 'head' (the first head_len bytes of a device of 'blocks' blocks
 * of block_size bytes). Never fails: damage is described in problem
 * (a GPT whose header or entry CRC fails is still content GPT, with no
 * partitions listed). @pre block_size is 512..4096, a power of two */
void blk_label_analyze(const uint8_t *head, size_t head_len, uint32_t block_size,
		       uint64_t blocks, struct blk_label *out);

/* Reads the first BLK_LABEL_HEAD_BYTES (or the whole device if smaller)
 * into 'scratch' and judges them. Returns a blk_status.
 * @pre scratch holds BLK_LABEL_HEAD_BYTES */
int blk_label_read(struct blockdev *dev, uint8_t *scratch, struct blk_label *out);

/* Conveniences over blk_label_read with a buffer of their own (one
 * caller at a time; the hypervisor is single-threaded):
 * blk_label_partition: GPT partition 'number' (1-based entry number, as
 * in "nvme0n1p2") if the device has a sound GPT listing it: 0, else -1.
 * blk_label_describe: the content's name (blk_content_name) into out;
 * false on an I/O error. */
int blk_label_partition(struct blockdev *dev, unsigned number, struct blk_partition *out);
bool blk_label_describe(struct blockdev *dev, char *out, size_t len);

/* The index in out->parts of the first listed partition at or after
 * 'from' with this GPT type (16 bytes as stored), or -1. */
int blk_label_find_type(const struct blk_label *l, const uint8_t type[16], unsigned from);

/* "fat", "ext", "gpt", ... for key=value output. */
const char *blk_content_name(enum blk_content c);

/* Formats a GUID stored in GPT byte order as 36 characters + NUL. */
void blk_guid_format(const uint8_t guid[16], char out[37]);

#endif
