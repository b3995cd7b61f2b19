/* Disk records of the migration stream (version 3): a VM's disks travel
 * with it, and `disk send` moves one disk alone. docs/migration-stream.md
 * ("Disks") is the specification; this is its codec: no I/O, no
 * hypervisor state, host-built for unit tests and fuzzing.
 *
 * A disk is identified in the stream by its index (0 .. MIG_DISK_MAX-1),
 * given by its DISK_OFFER. Data travels as extents: a byte offset and a
 * length (multiples of 512, at most MIG_DISK_EXTENT_MAX), either with the
 * bytes or as "zero" (no bytes). All integers are little-endian. */
#ifndef MIGRATE_DISK_STREAM_H
#define MIGRATE_DISK_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "migrate/stream.h" /* MIG_HDR_DISK_ONLY, the record framing */

#define MIG_DISK_MAX 4                /* disks per stream (a VM's disks) */
#define MIG_DISK_NAME_LEN 32          /* NUL-terminated */
#define MIG_DISK_ID_LEN 16            /* UUIDs and content IDs */
#define MIG_DISK_MAX_ANCESTORS 8
#define MIG_DISK_SECTOR 512u
#define MIG_DISK_EXTENT_MAX 65536u
#define MIG_DISK_MAX_EXTENTS 2        /* per DISK_BLOCKS record */
#define MIG_DISK_NO_BASE 0xffffffffu  /* DISK_ACCEPT: no ancestor is held */

enum mig_disk_record_type {
	/* source -> destination */
	MIG_REC_DISK_OFFER = 0x0c,
	MIG_REC_DISK_START = 0x0d,
	MIG_REC_DISK_BLOCKS = 0x0e,
	MIG_REC_DISK_BULK_END = 0x0f,
	MIG_REC_DISK_END = 0x10,
	/* optional: the source is still checking a fragment's CRC before
	 * DISK_START (u32 index, u64 bytes checked); it keeps the link alive */
	MIG_REC_DISK_CHECKING = 0x80000011u,
	/* destination -> source */
	MIG_REC_DISK_ACCEPT = 0x23,
	MIG_REC_DISK_DONE = 0x24,
};

/* DISK_OFFER flags */
#define MIG_DISK_READ_ONLY 1u /* the VM has it attached read-only */
#define MIG_DISK_SHARED 2u    /* no data follows: the destination attaches its own */
#define MIG_DISK_BASE 4u      /* a read-only base: it arrives as a base */
#define MIG_DISK_FLAGS_KNOWN (MIG_DISK_READ_ONLY | MIG_DISK_SHARED | MIG_DISK_BASE)

struct mig_disk_offer {
	uint32_t index;
	uint32_t flags;
	char name[MIG_DISK_NAME_LEN];  /* the disk's name on the destination */
	uint8_t uuid[MIG_DISK_ID_LEN];
	uint8_t content_id[MIG_DISK_ID_LEN]; /* when the transfer began */
	uint64_t size;                 /* bytes: a positive multiple of 512 */
	uint64_t allocated_bytes;      /* informational: what a full copy sends */
	uint32_t nancestors;           /* 0 .. MIG_DISK_MAX_ANCESTORS */
	uint8_t ancestors[MIG_DISK_MAX_ANCESTORS][MIG_DISK_ID_LEN]; /* nearest base first */
};

struct mig_disk_accept {
	uint32_t index;
	uint32_t base;     /* which of the offer's ancestors[] is held, or MIG_DISK_NO_BASE */
	uint64_t offset;   /* a kept fragment reached this far (0: from the start) */
	uint32_t crc;      /* CRC-32C of the fragment's data up to offset */
};

/* Where the source starts its bulk copy: the accepted offset (resume) or 0. */
struct mig_disk_start {
	uint32_t index;
	uint64_t offset;
	uint32_t crc;      /* the CRC the data below offset has (0 when offset is 0) */
};

struct mig_disk_end {
	uint32_t index;
	uint8_t content_id[MIG_DISK_ID_LEN]; /* the disk's content ID at the end */
};

enum mig_disk_extent_type {
	MIG_DISK_DATA = 0, /* 'len' bytes follow */
	MIG_DISK_ZERO = 1, /* reads as zeros: no bytes */
	MIG_DISK_EXTENT_TYPES
};

/* Fixed-size bodies: encode returns the body length; decode returns 0 or
 * -1 with the reason in err, naming the record, the field and its value:
 * a length other than the record's; an index >= MIG_DISK_MAX; OFFER:
 * unknown flags, a name empty, unterminated, not of [A-Za-z0-9._-] or not
 * zero-padded, a size 0 or not a multiple of 512, nancestors over
 * MIG_DISK_MAX_ANCESTORS or an unused ancestor slot not zero; ACCEPT: a
 * base neither MIG_DISK_NO_BASE nor below MIG_DISK_MAX_ANCESTORS; ACCEPT
 * and START: an offset not a multiple of 512, or offset 0 with a crc other
 * than 0 (the CRC-32C of no data). On -1 the struct (index) is zeroed.
 * @pre body holds the record's length (encoders); an offer's name is
 * 1-31 bytes of [A-Za-z0-9._-] and nancestors <= MIG_DISK_MAX_ANCESTORS
 * (the encoder writes no more than that, zero-padded) */
#define MIG_DISK_OFFER_LEN (4 + 4 + MIG_DISK_NAME_LEN + 2 * MIG_DISK_ID_LEN + 8 + 8 + 4 + \
			    MIG_DISK_MAX_ANCESTORS * MIG_DISK_ID_LEN)
#define MIG_DISK_ACCEPT_LEN 20
#define MIG_DISK_START_LEN 16
#define MIG_DISK_END_LEN (4 + MIG_DISK_ID_LEN)
#define MIG_DISK_INDEX_LEN 4 /* DISK_BULK_END, DISK_DONE: the index alone */

uint32_t mig_disk_offer_encode(const struct mig_disk_offer *o, uint8_t *body);
int mig_disk_offer_decode(const uint8_t *body, size_t len, struct mig_disk_offer *o, char *err,
			  size_t errlen);
uint32_t mig_disk_accept_encode(const struct mig_disk_accept *a, uint8_t *body);
int mig_disk_accept_decode(const uint8_t *body, size_t len, struct mig_disk_accept *a,
			   char *err, size_t errlen);
uint32_t mig_disk_start_encode(const struct mig_disk_start *s, uint8_t *body);
int mig_disk_start_decode(const uint8_t *body, size_t len, struct mig_disk_start *s, char *err,
			  size_t errlen);
uint32_t mig_disk_end_encode(const struct mig_disk_end *e, uint8_t *body);
int mig_disk_end_decode(const uint8_t *body, size_t len, struct mig_disk_end *e, char *err,
			size_t errlen);
uint32_t mig_disk_index_encode(uint32_t index, uint8_t *body);
int mig_disk_index_decode(const uint8_t *body, size_t len, uint32_t *index, char *err,
			  size_t errlen);

/* DISK_BLOCKS body: u32 index, u32 count (1 .. MIG_DISK_MAX_EXTENTS), then
 * count extents: u64 offset, u32 length, u32 type, and the bytes for
 * MIG_DISK_DATA. */
#define MIG_DISK_EXTENT_HDR 16
#define MIG_DISK_BLOCKS_MAX_BODY (8 + MIG_DISK_MAX_EXTENTS * (MIG_DISK_EXTENT_HDR + MIG_DISK_EXTENT_MAX))

struct mig_disk_blocks_writer {
	uint8_t *body; /* at least MIG_DISK_BLOCKS_MAX_BODY bytes */
	uint32_t count;
	size_t len;
};
void mig_disk_blocks_begin(struct mig_disk_blocks_writer *w, uint8_t *body, uint32_t index);
/* Reserves an extent and returns where its data goes (NULL for ZERO): the
 * caller fills 'len' bytes there.
 * @pre w->count < MIG_DISK_MAX_EXTENTS, len a multiple of 512 in 512..MIG_DISK_EXTENT_MAX */
uint8_t *mig_disk_blocks_add(struct mig_disk_blocks_writer *w, uint64_t offset, uint32_t len,
			     enum mig_disk_extent_type type);
uint32_t mig_disk_blocks_end(struct mig_disk_blocks_writer *w);

struct mig_disk_blocks_reader {
	const uint8_t *body;
	size_t len, pos;
	uint32_t index, count, seen;
};
/* Checks the header: 0, or -1 with the reason. */
int mig_disk_blocks_open(struct mig_disk_blocks_reader *r, const uint8_t *body, size_t len,
			 char *err, size_t errlen);
/* The next extent: 1 with its fields (*data NULL for ZERO), 0 at the end,
 * -1 with the reason (truncated, trailing bytes, unknown type, a length or
 * offset not a multiple of 512, a zero or too long length, offset + len
 * overflowing). Whether the extent fits the disk is the caller's check. */
int mig_disk_blocks_next(struct mig_disk_blocks_reader *r, uint64_t *offset, uint32_t *len,
			 enum mig_disk_extent_type *type, const uint8_t **data, char *err,
			 size_t errlen);

#endif
