/* Machine checks: the host's MCA banks, read by the #MC handler and polled
 * (the main loop's CPU's from the loop, each other CPU's by itself; under QEMU TCG
 * a #MC raised while a guest runs goes to the guest, so polling is how
 * those are found), and what is done
 * about an uncorrected memory error: the page is retired (and saved to
 * NVRAM), and a guest that owns it gets that page poisoned. */
#ifndef HV_MCE_MCA_H
#define HV_MCE_MCA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/mce/mce_rendezvous.h"
#include "hv/mce/retired_record.h"

struct mce_stats {
	unsigned banks;
	bool available;
	uint64_t exceptions;      /* #MC taken by the hypervisor */
	uint64_t guest_exits;     /* #MC intercepted while a guest ran */
	uint64_t copies_interrupted; /* of which inside copy_mc_safe */
	uint64_t polled;          /* errors found by polling the banks */
	uint64_t dropped;         /* read while the queue was full (acted on if fatal) */
	uint64_t corrected, uncorrected;
	uint64_t pages_retired;   /* by this boot's errors and commands */
	uint64_t guest_pages_poisoned;
	uint64_t last_ns;         /* error to action, the last time */
	char last[160];           /* the last action, for `mce` */
	bool broadcast;           /* #MC reaches every CPU (Intel): they meet */
	const struct mce_rendezvous *rendezvous;
};

void mce_init(void);
/* Reads and clears the banks; acts on what they report. Main loop only. */
void mce_poll(void);
const struct mce_stats *mce_stats(void);
/* A #MC intercepted as a VM exit (the CPU does not run the host's handler
 * then): reads and clears the banks like the handler, queues the errors
 * for the main loop. Returns false if the guest's context cannot resume.
 * @pre called in the exit path, before anything re-enters the guest. */
bool mce_guest_exit(void);

enum mce_owner { MCE_OWNER_FREE, MCE_OWNER_GUEST, MCE_OWNER_HV, MCE_OWNER_NOT_RAM };
/* Handles an uncorrected error at host page 'pa' (retire, poison the guest
 * page that maps it, save): the same path for real errors, `mce inject`
 * and tests. Describes what was done in 'what'. */
enum mce_owner mce_handle_page(uint64_t pa, enum retire_reason why, char *what, size_t len);

#endif
