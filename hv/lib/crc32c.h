/* CRC-32C (Castagnoli, reflected, as in iSCSI and ext4): the integrity
 * check of migration stream records and datastore blocks. The SSE4.2 CRC32
 * instruction where CPUID offers it and it is the faster (timed once, on
 * first use: emulators may run it slowly), else software (slice-by-8);
 * both give the same values and build for the host, where the unit tests
 * hold them against each other. */
#ifndef HV_LIB_CRC32C_H
#define HV_LIB_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Continues a CRC: start with crc32c(0, ...) and feed the previous value
 * back for the next piece. Picks the implementation on first use. */
uint32_t crc32c(uint32_t crc, const void *data, size_t len);
/* Which one crc32c uses: "sse4.2" or "software". */
const char *crc32c_impl(void);

/* Each path on its own (tests, benchmarks).
 * @pre crc32c_hw only where crc32c_hw_available() */
uint32_t crc32c_sw(uint32_t crc, const void *data, size_t len);
uint32_t crc32c_hw(uint32_t crc, const void *data, size_t len);
bool crc32c_hw_available(void);

#endif
