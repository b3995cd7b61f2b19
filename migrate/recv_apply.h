/* The destination's record application: each record of an incoming
 * migration goes into the VM being built, in stream order, and the VM is
 * complete only when every mandatory record arrived. recv.c drives it from
 * the connection; it needs none itself (a record's own answer, DISK_ACCEPT,
 * is staged on the connection it is given), so it can be driven, and
 * fuzzed, without lwIP (tests/fuzz/fuzz_mig_recv.c). */
#ifndef MIGRATE_RECV_APPLY_H
#define MIGRATE_RECV_APPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "migrate/mig_conn.h"
#include "migrate/migrate.h"
#include "migrate/recv_disks.h"
#include "migrate/vm_state.h"

struct vm;

/* The state records END waits for (beside DEVICE and the disks'). */
enum {
	RECV_HAVE_VCPU = 1, RECV_HAVE_LAPIC = 2, RECV_HAVE_UART = 4, RECV_HAVE_PLATFORM = 8,
	RECV_HAVE_MODULES = 16,
};
#define RECV_HAVE_ALL (RECV_HAVE_VCPU | RECV_HAVE_LAPIC | RECV_HAVE_UART | RECV_HAVE_PLATFORM | \
		       RECV_HAVE_MODULES)

struct recv_apply {
	struct mig_status *st;    /* the caller's: figures and the VM's name go there */
	uint64_t vm_uid;          /* from the stream header: the VM keeps it */
	struct vm *vm;            /* NULL before VM_CONFIG, and once arrived or discarded */
	uint64_t *written;        /* pages the stream wrote: others are still zero */
	struct mig_seed *seed;    /* the VM's earlier image here (SEED said so), or NULL */
	uint64_t *owed;           /* signed for, lacking here: the source owes the data */
	uint64_t owed_pages;
	uint64_t seed_sent_ns;    /* SEED went out: the source waits for it */
	uint64_t rtt_ns;          /* from there to the source's first record after it */
	struct mig_vm_state state;
	unsigned have;            /* RECV_HAVE_* */
	uint32_t aps_have;        /* bit i: the AP_STATE record of vCPU i arrived */
	uint32_t msrs_have;       /* bit i: the VCPU_MSRS record of vCPU i arrived */
	bool ended;               /* END accepted: only GO or ABORT may follow */
	struct recv_disks disks;
};

/* What a record means for the connection around it. */
enum recv_event {
	RECV_APPLIED,  /* nothing for the connection to do */
	RECV_REFUSED,  /* the reason is in err: the migration fails (recv_apply_discard) */
	RECV_VM_BUILT, /* VM_CONFIG: the VM exists, paused; the transfer begins */
	RECV_COMPLETE, /* END: every device took its state; answer READY, wait for GO */
	RECV_ARRIVED,  /* GO: the VM is handed over and runs here; answer RUNNING */
};

/* A new stream, nothing of an earlier one kept. */
void recv_apply_init(struct recv_apply *a, struct mig_status *st);
/* One record in stream order. c takes a record's immediate answer.
 * @pre mig_conn_idle(c) */
enum recv_event recv_apply_record(struct recv_apply *a, const struct mig_record *r,
				  struct mig_conn *c, char *err, size_t errlen);
/* The migration failed, for whatever reason: the partial VM goes, the
 * disks' fragments are kept for a resume. */
void recv_apply_discard(struct recv_apply *a);

#endif
