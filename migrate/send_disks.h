/* The disks of an outgoing live migration (send.c drives the protocol):
 * offers, the answers, resume checks, each round's blocks from the
 * VM's dirty-block log, and the disks' last word (DISK_END). */
#ifndef MIGRATE_SEND_DISKS_H
#define MIGRATE_SEND_DISKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/vm/vm_disk.h"
#include "migrate/disk_tx.h"
#include "migrate/mig_conn.h"
#include "migrate/migrate.h"

struct vm;

#define MIRROR_QUEUE 32 /* writes waiting to be forwarded, per disk */

struct mirror_queue {
	uint64_t offset[MIRROR_QUEUE];
	uint64_t len[MIRROR_QUEUE];
	unsigned n;
};

struct send_disks {
	unsigned n;               /* the VM's disks */
	bool shared;              /* disks=shared: no data travels */
	struct disk_tx tx[MIG_DISK_MAX];
	struct mig_disk_accept acc[MIG_DISK_MAX];
	bool accepted[MIG_DISK_MAX];
	unsigned offered, naccepted, started, ended;
	uint32_t verify_crc;
	uint64_t round_dirty;     /* blocks the last harvest found */
	char names[MIG_DISK_MAX][STORE_NAME_MAX];
	bool read_only[MIG_DISK_MAX];
	/* disk_mode=mirror: after the bulk copy each write is forwarded, and
	 * the guest's next request waits until the destination has it. */
	bool mirroring;
	struct vm_disk_mirror mirror;
	struct vm *vm;
	struct mig_conn *conn;
	uint64_t mirror_mark;      /* stream offset just past the last forwarded write */
	struct mirror_queue q[MIG_DISK_MAX];
	uint64_t mirrored_writes, mirrored_bytes;
};

/* Sets up every disk of vm and starts their dirty-block logs; 0, or -1
 * with the reason (nothing left allocated). */
int send_disks_prepare(struct send_disks *sd, struct vm *vm, bool shared, char *err,
		       size_t errlen);
/* Stops the logs and frees (the migration ended, either way). */
void send_disks_release(struct send_disks *sd, struct vm *vm);

/* Each stages one record when there is one to send (true), else false. */
bool send_disks_stage_offer(struct send_disks *sd, struct mig_conn *c);
/* Whether every offer that needs an answer has one. */
bool send_disks_answered(const struct send_disks *sd);
/* A DISK_ACCEPT: 0, or -1 with the reason. */
int send_disks_accept(struct send_disks *sd, const uint8_t *body, size_t len, char *err,
		      size_t errlen);
/* The resume checks and DISK_START records, within the time budget: 1
 * when all were staged, 0 to come back (a record staged or out of
 * time), -1 on a read error. */
int send_disks_stage_start(struct send_disks *sd, struct mig_conn *c, uint64_t deadline,
			   char *err, size_t errlen);
/* The round's next blocks or DISK_BULK_END: 1 staged, 0 the round has no
 * more, -1 on a read error. */
int send_disks_stage_blocks(struct send_disks *sd, struct mig_conn *c, char *err,
			    size_t errlen);
/* Merges the blocks the guest wrote since the last call into the next
 * round; returns their bytes. */
uint64_t send_disks_harvest(struct send_disks *sd, struct vm *vm);
/* From now on writes are forwarded as they complete (the dirty-block log
 * stops: call after the harvest that ends the bulk round). */
void send_disks_start_mirror(struct send_disks *sd, struct vm *vm, struct mig_conn *c);
/* After the pause: what the guest wrote is made durable, so each disk's
 * content ID is final. 0, or -1 with the reason. */
int send_disks_flush(struct send_disks *sd, struct vm *vm, char *err, size_t errlen);
/* The next DISK_END. */
bool send_disks_stage_end(struct send_disks *sd, struct mig_conn *c);
/* keep=no, after the hand-over: the source's copies go. */
void send_disks_delete(struct send_disks *sd);
void send_disks_status(const struct send_disks *sd, struct mig_disk_status *out);

#endif
