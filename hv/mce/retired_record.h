/* The retired-page list as stored in UEFI NVRAM (variable HvRetiredPages):
 * versioned and checksummed, so a damaged or foreign record is reported
 * and ignored instead of trusted. Pure code: builds for the host (unit
 * tests, fuzzing). Little-endian:
 *
 *   0  "HVRP"   4  u16 version (1)   6  u16 entry size (16)
 *   8  u32 count                     12 u32 CRC-32C of bytes 0-11 and the entries
 *   16 count x { u64 page address (4 KiB aligned, ascending, no repeats),
 *                u32 when (Unix seconds, 0 unknown), u16 reason, u16 flags (0) } */
#ifndef HV_MCE_RETIRED_RECORD_H
#define HV_MCE_RETIRED_RECORD_H

#include <stddef.h>
#include <stdint.h>

#define RETIRED_RECORD_VERSION 1
#define RETIRED_RECORD_HDR 16
#define RETIRED_RECORD_ENTRY 16
#define RETIRED_ADDR_LIMIT (1ull << 52) /* x86-64's physical address width at most */
#define RETIRED_MAX 2048 /* fits the firmware's ~33 KB variable limit */
#define RETIRED_RECORD_MAX (RETIRED_RECORD_HDR + RETIRED_MAX * RETIRED_RECORD_ENTRY)

enum retire_reason {
	RETIRE_UNCORRECTED = 1, /* a machine check reported it */
	RETIRE_OPERATOR = 2,    /* `mce retire` */
	RETIRE_INJECTED = 3,    /* `mce inject`: the software test path */
	RETIRE_REASONS
};

struct retired_entry {
	uint64_t addr;
	uint32_t when;
	uint16_t reason;
};

/* Bytes written to out (at most RETIRED_RECORD_MAX), 0 if n is too big.
 * @pre entries sorted by address without repeats */
size_t retired_record_encode(const struct retired_entry *e, size_t n, uint8_t *out);
/* Fills out[0..*n): 0, or -1 with the reason in err (nothing is filled). */
int retired_record_decode(const uint8_t *buf, size_t len, struct retired_entry *out,
			  size_t *n, char *err, size_t errlen);
const char *retire_reason_name(unsigned reason);

#endif
