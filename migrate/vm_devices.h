/* A VM's platform devices in the stream: one DEVICE record per device,
 * saved and checked by the device model itself. */
#ifndef MIGRATE_VM_DEVICES_H
#define MIGRATE_VM_DEVICES_H

#include <stddef.h>

#include "migrate/state_codec.h"

struct vm;

#define MIG_DEVICES (MIG_DEV_COUNT - 1)          /* every VM's */
#define MIG_DEVICES_MAX (MIG_DEVICES + MIG_DEV_DISKS) /* with its disks' */

/* Fills out[] with every device's state; returns how many (at most
 * MIG_DEVICES_MAX). */
size_t mig_devices_capture(const struct vm *vm, struct mig_device *out);
/* Loads every device from in[0..n) (one record each, in any order); 0, or
 * -1 with the reason when one is missing, is for a disk the VM does not
 * have, or its device refuses it.
 * @pre the VM is not running */
int mig_devices_apply(struct vm *vm, const struct mig_device *in, size_t n, char *err,
		      size_t errlen);

#endif
