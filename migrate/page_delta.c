/* Page deltas; see page_delta.h. */
#include "migrate/page_delta.h"

#include <stdbool.h>

#include "hv/lib/string.h"

/* Appends v as ULEB128: false when it does not fit. */
static bool put_uleb(uint8_t *out, size_t cap, size_t *pos, uint32_t v)
{
	do {
		if (*pos == cap)
			return false;
		uint8_t b = v & 0x7f;
		v >>= 7;
		out[(*pos)++] = b | (v ? 0x80 : 0);
	} while (v);
	return true;
}

/* Reads a ULEB128 number of at most two bytes' worth (every run fits in
 * 4096): -1 when malformed or cut short. */
static long get_uleb(const uint8_t *in, size_t len, size_t *pos)
{
	uint32_t v = 0;

	for (unsigned shift = 0; shift < 14; shift += 7) {
		if (*pos == len)
			return -1;
		uint8_t b = in[(*pos)++];
		v |= (uint32_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v <= MIG_PAGE_SIZE ? (long)v : -1;
	}
	return -1;
}

size_t page_delta_encode(const uint8_t old[MIG_PAGE_SIZE], const uint8_t new_page[MIG_PAGE_SIZE],
			 uint8_t *out, size_t cap)
{
	size_t pos = 0, i = 0;

	while (i < MIG_PAGE_SIZE) {
		size_t same = i;
		while (same < MIG_PAGE_SIZE && old[same] == new_page[same])
			same++;
		if (!put_uleb(out, cap, &pos, (uint32_t)(same - i)))
			return 0;
		i = same;
		if (i == MIG_PAGE_SIZE)
			break;
		/* A changed run ends at two equal bytes in a row: one equal byte
		 * costs less inside the run than a new pair of numbers. */
		size_t end = i;
		while (end < MIG_PAGE_SIZE &&
		       (old[end] != new_page[end] ||
			(end + 1 < MIG_PAGE_SIZE && old[end + 1] != new_page[end + 1])))
			end++;
		if (!put_uleb(out, cap, &pos, (uint32_t)(end - i)) || cap - pos < end - i)
			return 0;
		memcpy(out + pos, new_page + i, end - i);
		pos += end - i;
		i = end;
	}
	return pos;
}

int page_delta_apply(uint8_t page[MIG_PAGE_SIZE], const uint8_t *delta, size_t len)
{
	size_t pos = 0, at = 0;

	while (pos < len) {
		long same = get_uleb(delta, len, &pos);
		if (same < 0 || (size_t)same > MIG_PAGE_SIZE - at)
			return -1;
		at += (size_t)same;
		if (pos == len)
			return 0;
		long changed = get_uleb(delta, len, &pos);
		if (changed <= 0 || (size_t)changed > MIG_PAGE_SIZE - at ||
		    (size_t)changed > len - pos)
			return -1;
		memcpy(page + at, delta + pos, (size_t)changed);
		at += (size_t)changed;
		pos += (size_t)changed;
	}
	return 0;
}
