/* The GUID Partition Table as hvdisk writes and reads it (UEFI 2.10,
 * section 5.2.3 protective MBR, 5.3 GPT): one partition holding the
 * datastore, and lookup of the datastore partition in any GPT.
 * Sectors are the device's 512-byte blocks. */
#ifndef TOOLS_HVDISK_GPT_H
#define TOOLS_HVDISK_GPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/block/blockdev.h"

#define GPT_SECTOR 512u
#define GPT_PART_ALIGN 2048u /* partitions start on 1 MiB */

/* On-disk layout, UEFI 5.3.2 table 5-5 (header) and 5.3.3 table 5-6
 * (partition entry); offsets in bytes. */
#define GPT_SIGNATURE "EFI PART"
#define GPT_NO_SIGNATURE "no GPT signature" /* gpt_lookup's problem without one */
#define GPT_REVISION 0x00010000u
#define GPT_HEADER_SIZE 92u
#define GPT_HDR_CRC 16
#define GPT_HDR_MY_LBA 24
#define GPT_HDR_ALTERNATE_LBA 32
#define GPT_HDR_FIRST_USABLE 40
#define GPT_HDR_LAST_USABLE 48
#define GPT_HDR_DISK_GUID 56
#define GPT_HDR_ENTRY_LBA 72
#define GPT_HDR_ENTRY_COUNT 80
#define GPT_HDR_ENTRY_SIZE 84
#define GPT_HDR_ENTRY_CRC 88
#define GPT_ENT_TYPE 0
#define GPT_ENT_UNIQUE 16
#define GPT_ENT_FIRST_LBA 32
#define GPT_ENT_LAST_LBA 40
#define GPT_ENT_NAME 56
#define GPT_ENT_NAME_CHARS 36
#define GPT_ENTRY_SIZE 128u
#define GPT_ENTRY_COUNT 128u /* the minimum array, 16 KiB (5.3.2) */
#define GPT_ARRAY_SECTORS (GPT_ENTRY_SIZE * GPT_ENTRY_COUNT / GPT_SECTOR)

/* GUIDs as stored on disk (the first three fields little-endian). */
struct gpt_partition_spec {
	const uint8_t *type_guid;  /* 16 bytes */
	const char *name;          /* ASCII, at most 36 characters */
	void (*random)(void *buf, size_t len); /* for the disk and partition GUIDs */
};

/* Writes a protective MBR, the primary and backup GPT headers and entry
 * arrays with one partition from LBA GPT_PART_ALIGN to the last whole MiB
 * of usable space. Returns 0 and the partition's place, or -1 with the
 * reason in err. @pre dev->block_size == GPT_SECTOR */
int gpt_write_single(struct blockdev *dev, const struct gpt_partition_spec *spec,
		     uint64_t *first_lba, uint64_t *blocks, char *err, size_t errlen);

struct gpt_lookup {
	bool primary_valid, backup_valid;
	char primary_problem[96];  /* why the primary header or array is unusable */
	char backup_problem[96];
	bool found;                /* a partition of the type, inside the usable range */
	uint64_t first_lba, blocks;
	unsigned matches;          /* partitions of the type (the first is used) */
};

/* Reads both GPTs (the backup at the device's last block) and finds the
 * first partition of 'type_guid' in the first valid one. Returns 0 (see
 * out->found; "no GPT" leaves both *_valid false), or a negative
 * blk_status on an I/O error. */
int gpt_find(struct blockdev *dev, const uint8_t *type_guid, struct gpt_lookup *out);

/* The GPT's CRC-32 (hv/lib/crc32: IEEE 802.3, as zlib) of one buffer. */
uint32_t gpt_crc32(const void *data, size_t len);

#endif
