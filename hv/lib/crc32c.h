/* CRC-32C (Castagnoli, reflected, as in iSCSI and ext4): the integrity
 * check of migration stream records. Software, slice-by-8, so it needs no
 * SSE4.2 and builds for the host. */
#ifndef HV_LIB_CRC32C_H
#define HV_LIB_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues a CRC: start with crc32c(0, ...) and feed the previous value
 * back for the next piece. */
uint32_t crc32c(uint32_t crc, const void *data, size_t len);

#endif
