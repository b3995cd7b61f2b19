/* The sending side of one disk's transfer, shared by live migration
 * (send.c, with the VM's dirty-block log) and `disk send` (disk_send.c):
 * which blocks go (those the disk or its ancestors below the base the
 * destination holds own), in what order, as DISK_BLOCKS records. */
#ifndef MIGRATE_DISK_TX_H
#define MIGRATE_DISK_TX_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/store/store.h"
#include "migrate/disk_stream.h"

struct disk_tx {
	struct store_disk *disk;  /* not owned */
	uint32_t index;
	uint32_t block_size;
	uint64_t size, nblocks;
	uint32_t levels;          /* chain levels that travel (store_disk_block_owned) */
	uint64_t *to_send;        /* blocks of the current round */
	uint64_t cursor;          /* next byte offset to look at */
	bool bulk;                /* round 0: ascending from the start offset */
	bool bulk_end_due;        /* the bulk copy is through: DISK_BULK_END next */
	uint32_t crc;             /* of the bulk copy's DATA extents so far */
	uint8_t *buf;             /* one extent */
	/* figures */
	uint64_t start_offset;    /* resumed from here (0: a fresh copy) */
	uint64_t blocks_total;    /* the bulk copy's blocks */
	uint64_t blocks_sent, zero_extents, bytes_data;
	bool base_skipped;        /* the destination held an ancestor */
	uint32_t nancestors;      /* offered */
	uint8_t content_id[MIG_DISK_ID_LEN]; /* offered */
	uint64_t keepalive_ns;
};

/* @pre disk open; 0, or -1 when memory is short. */
int disk_tx_init(struct disk_tx *t, struct store_disk *disk, uint32_t index);
void disk_tx_free(struct disk_tx *t);
/* What the offer says: identity, size, ancestors' content IDs (kept:
 * the answer is checked against them). */
void disk_tx_offer(struct disk_tx *t, const struct store *s, const char *as_name,
		   uint32_t flags, struct mig_disk_offer *o);
/* After DISK_ACCEPT: which levels travel, and the bulk copy's blocks. */
void disk_tx_accepted(struct disk_tx *t, const struct mig_disk_accept *a);
/* The resume CRC's step for one DATA extent of the bulk copy: its place
 * (u64 offset, u32 length, little-endian), then its bytes. Both sides use
 * it, so data moved to another place changes the CRC. */
uint32_t disk_extent_crc(uint32_t crc, uint64_t offset, uint32_t len, const uint8_t *data);
/* Reads the data below the accepted offset and returns its CRC as the
 * destination computed it, a budget of 'max_bytes' at a time: 1 when
 * done (*crc set), 0 to be called again, -1 on a read error. */
int disk_tx_verify_step(struct disk_tx *t, uint64_t offset, uint64_t max_bytes, uint32_t *crc);
/* While a resume check runs nothing else goes: this optional record says
 * so, once a second, so that the destination does not time out. Returns
 * whether it staged one. @pre mig_conn_idle(c) */
struct mig_conn;
bool disk_tx_keepalive(struct disk_tx *t, struct mig_conn *c);
/* Starts the bulk copy at 'offset' (0 or a verified resume point). */
void disk_tx_start(struct disk_tx *t, uint64_t offset, uint32_t crc);
/* Fills a DISK_BLOCKS body with the next extents of the round: its length,
 * 0 when the round has nothing more, -1 on a read error (err set). */
long disk_tx_stage(struct disk_tx *t, uint8_t *body, char *err, size_t errlen);
/* Starts the next round with the blocks in 'dirty' (nblocks bits), which
 * are merged and cleared by the caller's harvest. */
void disk_tx_next_round(struct disk_tx *t);
uint64_t disk_tx_queued(const struct disk_tx *t);

#endif
