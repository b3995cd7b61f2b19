/* The hypervisor's open datastore: found at boot on the host's block
 * devices (a whole device, or a GPT partition of the datastore type) and
 * opened by itself, or made with `ds format`. The `datastore=` setting
 * chooses: "auto" (the first found), "off", or a region name (vblk0,
 * nvme0n1p2). */
#ifndef HV_STORE_DATASTORE_H
#define HV_STORE_DATASTORE_H

#include <stdbool.h>
#include <stddef.h>

#include "hv/store/store.h"

/* The open datastore, or NULL. */
struct store *datastore(void);
/* Where it is ("vblk0", "nvme0n1p2"); "" when none is open. */
const char *datastore_region(void);
/* Why none is open (or "" when one is): off, none found, the open error. */
const char *datastore_absence(void);

/* Probes every block device and opens one as the setting says. */
void datastore_init(void);
/* What a region holds, for `blk`: "datastore", or NULL. */
bool datastore_region_holds_store(const char *region);

/* Makes a new datastore on 'region' (a device or a partition of one) and
 * opens it. Refused while the open datastore has disks in use; refused on
 * a region that holds a partition table, a file system or a datastore
 * unless 'force'. */
int datastore_format(const char *region, bool force, char *err, size_t errlen);

/* The environment store_* calls need here (pages, RDRAND, the RTC). */
const struct store_env *datastore_env(void);

#endif
