/* drivers/block/blockdev.c for the fuzz targets, compiled from here to
 * reach its registry: hv.efi registers block devices for its whole life,
 * a fuzz case probes a fresh one every time and must be able to forget it. */
#include "drivers/block/blockdev.c"

#include "tests/fuzz/fuzz_env.h"

void fuzz_blk_forget_all(void)
{
	ndevices = 0;
}
