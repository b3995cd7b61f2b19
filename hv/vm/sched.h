/* Time-slicing guests on the one CPU: round robin over runnable VMs, each
 * for up to a slice, returning to the main loop at every host tick so the
 * console stays responsive. */
#ifndef HV_VM_SCHED_H
#define HV_VM_SCHED_H

#include <stdbool.h>

#include "hv/vm/sched_policy.h" /* SCHED_SLICE_MS */

/* Registers the scheduler as the main loop's last poller. */
void sched_init(void);
/* Runs guests for about one host tick; false when none is runnable. */
bool sched_run(void);

#endif
