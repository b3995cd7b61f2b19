/* CRC-32 as in IEEE 802.3, zlib and the UEFI GPT (reflected polynomial
 * 0xEDB88320, initial value and final XOR 0xFFFFFFFF): crc32("123456789")
 * is 0xCBF43926. Byte-wise table; builds for the host. */
#ifndef HV_LIB_CRC32_H
#define HV_LIB_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Continues a CRC: start with crc32(0, ...) and feed the previous value
 * back for the next piece. */
uint32_t crc32(uint32_t crc, const void *data, size_t len);

#endif
