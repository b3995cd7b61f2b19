/* CRC-32 (IEEE 802.3); see crc32.h. One 1 KiB table, built on first use:
 * the callers (partition tables) check kilobytes, not gigabytes. */
#include "hv/lib/crc32.h"

#include <stdbool.h>

#define POLY 0xedb88320u /* 0x04C11DB7 reflected */

static uint32_t table[256];
static bool table_ready;

static void build_table(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ POLY : c >> 1;
		table[i] = c;
	}
	table_ready = true;
}

uint32_t crc32(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

	if (!table_ready)
		build_table();
	crc = ~crc;
	while (len--)
		crc = (crc >> 8) ^ table[(crc ^ *p++) & 0xff];
	return ~crc;
}
