/* Shared by the blk console commands (cmd_blk.c, cmd_blk_bench.c). */
#ifndef HV_SHELL_CMD_BLK_H
#define HV_SHELL_CMD_BLK_H

#include <stdbool.h>

#include "hv/shell/shell.h"

struct blockdev;

/* The named device, or NULL after printing the error. */
struct blockdev *blk_cmd_device(struct shell *sh, const char *name);
/* Whether the device or one of its GPT partitions holds a datastore. */
bool blk_holds_datastore(struct blockdev *dev);
/* blk bench DEV read|write|randread|randwrite [size=MB] [bs=KiB] [qd=N] [force] */
int blk_bench(struct shell *sh, int argc, char **argv);

#endif
