/* An image as hvdisk opens it: the file, where the datastore lies in it
 * (at offset 0, or in the GPT partition of the datastore type), and the
 * open store. */
#ifndef TOOLS_HVDISK_IMAGE_H
#define TOOLS_HVDISK_IMAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "hv/store/store.h"
#include "tools/hvdisk/file_blockdev.h"
#include "tools/hvdisk/gpt.h"

struct image {
	const char *path;
	struct file_blockdev file;
	struct gpt_lookup gpt;
	bool gpt_present;            /* a GPT signature at LBA 1 or the last LBA */
	bool in_partition;           /* the region is a GPT partition */
	uint64_t first_lba, blocks;  /* the datastore's region, in 512-byte sectors */
	struct store *store;         /* NULL until image_open_store */
};

/* The datastore partition type, in GPT on-disk byte order. */
const uint8_t *image_datastore_type(void);

/* Opens the file and finds the region: a store at offset 0, else the
 * datastore partition of a GPT (even one whose store is damaged, so check
 * can look at it). With 'whole_if_none', finding neither is not an error:
 * the region is then the whole file (in_partition false, gpt_present
 * saying whether a GPT was there). Returns 0, or -1 after printing the
 * error. */
int image_open_region(struct image *img, const char *path, bool writable, bool whole_if_none);

/* image_open_region, then store_open. Commands that change the store
 * open the file writable, with the exclusive lock that keeps a running
 * QEMU (and other hvdisk runs) out; readers open it read-only with a
 * shared lock, change nothing (the journal is replayed in memory) and
 * see the last committed state. A damaged store opens read-only, with a
 * warning on stderr. Returns 0, or -1 after printing the error. */
int image_open_store(struct image *img, const char *path, bool writable);

/* store_close (which commits) and closes the file. Returns 0, or -1 after
 * printing the error. */
int image_close(struct image *img);

#endif
