/* The receiving side of one disk's transfer, shared by live migration
 * (recv.c) and `disk receive` (disk_recv.c): a fragment of the local
 * datastore that the stream's extents fill, checkpointed durably every
 * interval, so that a transfer cut short resumes where it stood; finished
 * into an ordinary disk only when the sender is done. */
#ifndef MIGRATE_DISK_RX_H
#define MIGRATE_DISK_RX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/store/store.h"
#include "migrate/disk_stream.h"

struct disk_rx {
	bool used;
	uint32_t index, flags;
	char name[STORE_NAME_MAX];
	unsigned frag_id;
	bool have_fragment;
	struct store_disk *frag;  /* open while receiving; NULL once a VM owns it */
	uint64_t size;
	uint64_t offset;          /* the bulk copy's progress */
	uint32_t crc;
	bool started, bulk_done, ended;
	struct store_uuid final_cid;
	uint64_t unsaved;         /* bytes since the last checkpoint */
	uint64_t interval;        /* checkpoint every this many bytes */
	bool full;                /* the datastore ran out of space */
	struct mig_disk_offer offer;
	/* figures */
	uint64_t resumed_at, bytes_written, extents;
	bool base_used;
	char base[STORE_NAME_MAX];
};

/* The checkpoint interval (setting disk_checkpoint) in bytes. */
uint64_t disk_rx_checkpoint_interval(void);

/* DISK_OFFER: finds a held base and a fragment to resume (or makes a new
 * one) and fills the answer; 0, or -1 with the reason. */
int disk_rx_offer(struct disk_rx *rx, const struct mig_disk_offer *o, struct mig_disk_accept *a,
		  char *err, size_t errlen);
int disk_rx_start(struct disk_rx *rx, const struct mig_disk_start *s, char *err, size_t errlen);
/* One DISK_BLOCKS body whose index is rx's. */
int disk_rx_blocks(struct disk_rx *rx, struct mig_disk_blocks_reader *r, char *err,
		   size_t errlen);
int disk_rx_bulk_end(struct disk_rx *rx, char *err, size_t errlen);
int disk_rx_end(struct disk_rx *rx, const struct mig_disk_end *e, char *err, size_t errlen);
/* The transfer stops: the fragment is closed and kept (resumable), or
 * dropped when 'drop' (the datastore was full, nothing to resume). */
void disk_rx_abandon(struct disk_rx *rx, bool drop);
/* The ended transfers rx[0..n) become disks, in one transaction; their
 * fragments must be closed. 0, or -1 with the reason. */
int disk_rx_finish(struct disk_rx *rx, unsigned n, char *err, size_t errlen);

#endif
