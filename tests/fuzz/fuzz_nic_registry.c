/* drivers/net/nic.c for the fuzz targets, compiled from here to reach its
 * registry: hv.efi registers at most NIC_MAX NICs for its whole life, a
 * fuzz case probes a fresh one every time and must be able to forget it. */
#include "drivers/net/nic.c"

#include "tests/fuzz/fuzz_env.h"

void fuzz_nic_forget_all(void)
{
	registered.count = 0;
}
