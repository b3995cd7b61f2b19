/* What the datastore code needs from the host when it runs in hvdisk:
 * memory, randomness and wall-clock time from the C library, and the
 * monotonic clock drivers/block/blockdev.c times requests with. */
#ifndef TOOLS_HVDISK_HOST_ENV_H
#define TOOLS_HVDISK_HOST_ENV_H

#include "hv/store/store.h"

extern const struct store_env host_store_env;

#endif
