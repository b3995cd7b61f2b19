/* The datastore: where virtual disks live on a host block device (a whole
 * disk or a GPT partition). On-disk format: docs/datastore.md.
 *
 * Contents: a superblock (magic, version, UUID, checksum), a block
 * allocator, and per disk its metadata (UUID, name, size, block size,
 * allocated blocks, content ID, parent) and a thin-provisioned block map.
 * A child disk records its own writes; reads of blocks it never wrote fall
 * through to its parent (snapshots, base images).
 *
 * Crash safety: metadata changes reach the device only through committed
 * transactions (every metadata block checksummed), so a crash at any
 * instant leaves a store that opens cleanly, and everything written before
 * a completed store_disk_flush() is there after it.
 *
 * Damage (a checksum or a cross-check failing) is found at open and
 * reported in status.problem; the store then opens read-only, or not at
 * all, never half-broken.
 *
 * No hardware here: I/O goes through drivers/block's blk_io() on a struct
 * blockdev, memory and randomness through struct store_env, so the code
 * builds for the host (unit tests, tools/hvdisk). One caller at a time. */
#ifndef HV_STORE_STORE_H
#define HV_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/block/blockdev.h"

#define STORE_NAME_MAX 32        /* disk names, NUL included: [A-Za-z0-9._-], 1-31 chars */
#define STORE_MAX_DISKS 64
#define STORE_SECTOR 512         /* what guests address */
#define STORE_DEFAULT_BLOCK_SIZE (64u * 1024) /* allocation unit of a disk */

/* The GPT partition type of a datastore partition (the project's own,
 * random). _BYTES is the 16-byte on-disk form of a GPT entry's type field
 * (UEFI 2.10 section 5.3.3: the first three fields little-endian). */
#define STORE_GPT_TYPE_GUID "83291ed0-b9ad-442f-b926-14e33e31adb1"
#define STORE_GPT_TYPE_GUID_BYTES                                                          \
	{ 0xd0, 0x1e, 0x29, 0x83, 0xad, 0xb9, 0x2f, 0x44,                                   \
	  0xb9, 0x26, 0x14, 0xe3, 0x3e, 0x31, 0xad, 0xb1 }

/* Results; 0 is success. */
enum store_status_code {
	STORE_OK = 0,
	STORE_EIO = -1,    /* the device failed a request */
	STORE_ENOSPC = -2, /* the store is full */
	STORE_EINVAL = -3, /* outside the disk, misaligned, bad name or size */
	STORE_EROFS = -4,  /* the store is read-only (damaged) or the disk is a base */
	STORE_ENOENT = -5, /* no such disk */
	STORE_EEXIST = -6, /* the name is taken */
	STORE_EBUSY = -7,  /* open by a VM, or a child depends on it */
	STORE_ECORRUPT = -8, /* metadata failed its checks */
};

struct store_uuid {
	uint8_t b[16];
};

/* What the store needs from its host. */
struct store_env {
	/* Zeroed memory aligned to 4 KiB (DMA buffers), NULL when out. */
	void *(*alloc)(size_t bytes);
	void (*free)(void *p, size_t bytes);
	/* Random bytes for UUIDs and content IDs. */
	void (*random)(void *buf, size_t len);
	/* Wall-clock seconds (Unix) for creation times; may return 0. */
	uint64_t (*now_s)(void);
};

struct store;      /* an open datastore */
struct store_disk; /* a disk opened for I/O (attached to a VM) */

struct store_info {
	struct store_uuid uuid;
	char device[16];          /* the blockdev's name */
	uint64_t first_lba;       /* where on the device it starts */
	uint64_t size;            /* bytes of the store */
	uint64_t block_size;      /* allocation unit */
	uint64_t total_blocks, free_blocks;
	unsigned disks;
	bool read_only;           /* damaged, or opened so */
	bool full;                /* a write found no free block since the last free */
	char problem[160];        /* "" when healthy: the first problem found */
	uint64_t commits, replayed_transactions;
};

struct store_disk_info {
	char name[STORE_NAME_MAX];
	struct store_uuid uuid;
	struct store_uuid content_id; /* changes whenever the logical content does */
	char parent[STORE_NAME_MAX];  /* "" for none */
	uint64_t size;                /* bytes, a multiple of STORE_SECTOR */
	uint32_t block_size;
	uint64_t allocated_blocks;    /* blocks this disk owns (not its parent's) */
	bool base;                    /* read-only: a snapshot or base image */
	unsigned children;
	unsigned open_writers, open_readers;
	uint64_t created_s;
};

struct store_iov {
	void *data;
	size_t len;
};

/* Whether the device region holds a datastore (a valid superblock): 1 yes,
 * 0 no (*uuid untouched), a negative blk_status on an I/O error. */
int store_probe(struct blockdev *dev, uint64_t first_lba, struct store_uuid *uuid);

/* Writes an empty datastore over [first_lba, first_lba + blocks) of dev.
 * Returns STORE_OK or an error with the reason in err. */
int store_format(struct blockdev *dev, uint64_t first_lba, uint64_t blocks,
		 const struct store_env *env, char *err, size_t errlen);

/* Opens (replaying committed transactions, checking every metadata block).
 * Damage that leaves the data readable opens read-only with
 * info.problem set; a store that cannot be read at all fails with the
 * reason in err. @pre env outlives the store */
int store_open(struct store **out, struct blockdev *dev, uint64_t first_lba, uint64_t blocks,
	       const struct store_env *env, char *err, size_t errlen);
/* Commits what is pending and frees the memory. @pre no disk is open */
int store_close(struct store *s);
void store_info(const struct store *s, struct store_info *out);

/* Disks. Names follow STORE_NAME_MAX's rule; sizes are multiples of
 * STORE_SECTOR and above 0. A child (base != NULL) has its base's size
 * unless 'size' is larger. Metadata changes are committed before these
 * return. */
int store_disk_create(struct store *s, const char *name, uint64_t size, const char *base,
		      char *err, size_t errlen);
/* Refused (STORE_EBUSY) while open or while a child depends on it. */
int store_disk_delete(struct store *s, const char *name, char *err, size_t errlen);
/* The current content of 'name' becomes a new read-only base disk named
 * 'base_name' (NULL: "<name>@<n>", the first free n); 'name' continues as
 * its child, with the same content and content ID. Allowed while open. */
int store_disk_snapshot(struct store *s, const char *name, const char *base_name, char *err,
			size_t errlen);
unsigned store_disk_count(const struct store *s);
/* By index (0..count-1, in creation order) or by name. */
int store_disk_info_at(const struct store *s, unsigned index, struct store_disk_info *out);
int store_disk_info(const struct store *s, const char *name, struct store_disk_info *out);
/* A checksum (hv/lib/stream_sum) of the disk's logical content, all
 * 'size' bytes in order, unallocated blocks reading as zeros. */
int store_disk_sum(struct store *s, const char *name, uint64_t *sum, char *err, size_t errlen);

/* Opens a disk for I/O. Writable opens are refused for a base disk, a
 * read-only store, or a disk already open writable. */
int store_disk_open(struct store *s, const char *name, bool writable, struct store_disk **out,
		    char *err, size_t errlen);
void store_disk_close(struct store_disk *d);
uint64_t store_disk_size(const struct store_disk *d);
bool store_disk_writable(const struct store_disk *d);
/* Sector-granular I/O: offset and the iov lengths are multiples of
 * STORE_SECTOR, the range lies inside the disk. Reads of never-written
 * blocks return zeros (or the parent's content). A write to a block the
 * disk does not own allocates one (copying the parent's content around a
 * partial write); with no free block it fails with STORE_ENOSPC, nothing
 * changed. */
int store_disk_read(struct store_disk *d, uint64_t offset, const struct store_iov *iov,
		    unsigned niov);
int store_disk_write(struct store_disk *d, uint64_t offset, const struct store_iov *iov,
		     unsigned niov);
/* Makes every completed write durable: device flush, then the metadata
 * commit, then another flush. */
int store_disk_flush(struct store_disk *d);

/* ---- Chains, as a sender of a disk sees them ---- */

/* The disk's block size (the store's). */
uint32_t store_disk_block_size(const struct store_disk *d);
/* The open disk's record (name, UUID, content ID, parent...). */
void store_disk_handle_info(const struct store_disk *d, struct store_disk_info *out);
/* Whether the disk or one of its first 'levels' - 1 ancestors owns block
 * bi (levels 1: the disk alone; UINT32_MAX: the whole chain). A block
 * nobody in those levels owns reads from further up, or as zeros. */
bool store_disk_block_owned(const struct store_disk *d, uint64_t bi, uint32_t levels);
/* The disk's ancestors, nearest first: up to max records; returns how
 * many there are (may exceed max). */
unsigned store_disk_ancestors(const struct store *s, const char *name,
			      struct store_disk_info *out, unsigned max);
/* A base disk (read-only) whose content ID is content_id: its name, or
 * STORE_ENOENT. Only bases qualify: a writable disk's content may change. */
int store_base_by_content(const struct store *s, const struct store_uuid *content_id,
			  char name[STORE_NAME_MAX]);

/* ---- Fragments: disks still arriving (docs/datastore.md, "Fragments") ----
 *
 * A transfer from another instance writes into a fragment: a disk record
 * flagged incomplete, which the ordinary disk calls above never show
 * (count, info, open, sum, delete, snapshot), whose name is reserved (a
 * create of that name fails with STORE_EEXIST), and whose record also
 * holds how far the transfer came. Finishing it is one transaction: it
 * becomes an ordinary disk at once, or stays a fragment. */

#define STORE_FRAGMENT_MAX_CHUNKS 971 /* a fragment's record keeps 16 bytes of L1 */

struct store_fragment_info {
	unsigned id;                  /* stable while it exists; never 0 */
	char name[STORE_NAME_MAX];    /* the disk it becomes */
	struct store_uuid uuid;       /* the source disk's (the finished disk keeps it) */
	struct store_uuid content_id; /* the source disk's when the transfer began */
	char parent[STORE_NAME_MAX];  /* the local base it is a child of, "" none */
	uint64_t size;
	uint64_t offset;              /* arrived and durable below this byte offset */
	uint32_t crc;                 /* the receiver's checksum of that data */
	uint64_t allocated_blocks;
	uint64_t created_s;
	uint64_t progress_s;          /* last checkpoint (Unix seconds, low 32 bits;
				       * the creation time before the first) */
	bool open;
};

/* A new fragment for a disk 'name' of 'size' bytes, a child of the base
 * disk 'base' (NULL: none), with offset 0. Fails with STORE_EEXIST when
 * a disk or fragment has the name, or a fragment has the UUID. */
int store_fragment_create(struct store *s, const char *name, const struct store_uuid *uuid,
			  const struct store_uuid *content_id, uint64_t size, const char *base,
			  unsigned *id, char *err, size_t errlen);
unsigned store_fragment_count(const struct store *s);
/* By index (0..count-1) or by id. */
int store_fragment_info_at(const struct store *s, unsigned index, struct store_fragment_info *out);
int store_fragment_info(const struct store *s, unsigned id, struct store_fragment_info *out);
/* The fragment of source disk 'uuid', or STORE_ENOENT. */
int store_fragment_find(const struct store *s, const struct store_uuid *uuid,
			struct store_fragment_info *out);
/* Opens it for writing (one writer); I/O through store_disk_read/write.
 * Refused while it is open (STORE_EBUSY) or the store is read-only. */
int store_fragment_open(struct store *s, unsigned id, struct store_disk **out, char *err,
			size_t errlen);
/* Durable progress: every completed write is flushed and offset, crc and
 * the time are committed with it, in one transaction (as store_disk_flush):
 * the offset is never durable before the data below it. STORE_EINVAL for
 * an offset past the end. @pre d was opened by store_fragment_open */
int store_fragment_checkpoint(struct store_disk *d, uint64_t offset, uint32_t crc);
/* Fragments ids[0..n) become ordinary disks, each with its content ID
 * cids[i] (name, UUID, data and parent kept), read-only bases where
 * bases[i] (NULL: none; a base sent from elsewhere stays a base), all in
 * one transaction.
 * Refused (nothing changed) when one is missing, open or listed twice, or
 * a disk took its name meanwhile. */
int store_fragments_finish(struct store *s, const unsigned *ids,
			   const struct store_uuid *cids, const bool *bases, unsigned n, char *err,
			   size_t errlen);
/* Deletes a fragment and frees its blocks. Refused (STORE_EBUSY) while
 * it is open. */
int store_fragment_drop(struct store *s, unsigned id, char *err, size_t errlen);

/* The consistency check (fsck): every problem found, one call each, and
 * the count. Read-only; works on a damaged store too. */
typedef void (*store_report_fn)(void *ctx, const char *problem);
int store_check(struct blockdev *dev, uint64_t first_lba, uint64_t blocks,
		const struct store_env *env, store_report_fn report, void *ctx);

const char *store_status_name(int status);
/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" into buf (37 bytes). */
void store_uuid_format(const struct store_uuid *u, char *buf);

#endif
