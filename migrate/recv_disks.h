/* The disks of an incoming live migration (recv.c drives the protocol):
 * each DISK record goes to its disk's transfer; at END the VM takes the
 * fragments over as its disks; at GO they become ordinary disks. */
#ifndef MIGRATE_RECV_DISKS_H
#define MIGRATE_RECV_DISKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "migrate/disk_rx.h"
#include "migrate/mig_conn.h"
#include "migrate/migrate.h"

struct vm;

struct recv_disks {
	unsigned n;
	struct disk_rx rx[MIG_DISK_MAX];
};

/* Whether the record type is one of the disk records this handles. */
bool recv_disks_handles(uint32_t type);
/* One disk record; a DISK_OFFER's answer is staged on c (@pre idle). 0, or
 * -1 with the reason. */
int recv_disks_record(struct recv_disks *rd, uint32_t type, const uint8_t *body, size_t len,
		      struct mig_conn *c, char *err, size_t errlen);
/* At END: every offered disk complete; the VM takes their handles. */
int recv_disks_adopt(struct recv_disks *rd, struct vm *vm, char *err, size_t errlen);
/* At GO: the fragments become disks, reopened under the VM's devices. */
int recv_disks_commit(struct recv_disks *rd, struct vm *vm, char *err, size_t errlen);
/* The migration failed: fragments are kept for a resume (dropped if the
 * datastore was full). @pre the VM that adopted them is gone */
void recv_disks_abandon(struct recv_disks *rd);
void recv_disks_status(const struct recv_disks *rd, struct mig_disk_status *out);

#endif
