#include "hv/lib/bitmap.h"

void bitmap_set_range(uint64_t *map, size_t start, size_t count)
{
	size_t bit = start, end = start + count;

	while (bit < end && bit % 64)
		bitmap_set(map, bit++);
	while (bit + 64 <= end) {
		map[bit / 64] = ~0ull;
		bit += 64;
	}
	while (bit < end)
		bitmap_set(map, bit++);
}

void bitmap_clear_range(uint64_t *map, size_t start, size_t count)
{
	size_t bit = start, end = start + count;

	while (bit < end && bit % 64)
		bitmap_clear(map, bit++);
	while (bit + 64 <= end) {
		map[bit / 64] = 0;
		bit += 64;
	}
	while (bit < end)
		bitmap_clear(map, bit++);
}

/* invert: search for clear bits by searching set bits of ~word. */
static size_t next_bit(const uint64_t *map, size_t nbits, size_t from, uint64_t invert)
{
	if (from >= nbits)
		return BITMAP_NONE;

	size_t w = from / 64;
	uint64_t word = (map[w] ^ invert) & (~0ull << (from % 64));

	for (;;) {
		if (word) {
			size_t bit = w * 64 + (size_t)__builtin_ctzll(word);
			return bit < nbits ? bit : BITMAP_NONE;
		}
		if (++w >= BITMAP_WORDS(nbits))
			return BITMAP_NONE;
		word = map[w] ^ invert;
	}
}

size_t bitmap_next_set(const uint64_t *map, size_t nbits, size_t from)
{
	return next_bit(map, nbits, from, 0);
}

size_t bitmap_next_clear(const uint64_t *map, size_t nbits, size_t from)
{
	return next_bit(map, nbits, from, ~0ull);
}

/* Portable popcount: __builtin_popcountll becomes a libgcc call without
 * -mpopcnt, and hv.efi links no libgcc. */
static size_t popcount64(uint64_t x)
{
	x = x - ((x >> 1) & 0x5555555555555555ull);
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (size_t)((x * 0x0101010101010101ull) >> 56);
}

size_t bitmap_count(const uint64_t *map, size_t nbits)
{
	size_t n = 0, full = nbits / 64;

	for (size_t w = 0; w < full; w++)
		n += popcount64(map[w]);
	if (nbits % 64)
		n += popcount64(map[full] & ((1ull << (nbits % 64)) - 1));
	return n;
}

size_t bitmap_find_clear_run(const uint64_t *map, size_t nbits, size_t from,
			     size_t count, size_t align)
{
	if (count == 0 || align == 0)
		return BITMAP_NONE;

	size_t start = (from + align - 1) & ~(align - 1);

	while (start < nbits && count <= nbits - start) {
		size_t busy = bitmap_next_set(map, start + count, start);
		if (busy == BITMAP_NONE)
			return start;
		/* Resume after the blocking bit, at the next aligned spot that is
		 * also clear: skipping whole set words keeps this fast. */
		size_t clear = bitmap_next_clear(map, nbits, busy + 1);
		if (clear == BITMAP_NONE)
			return BITMAP_NONE;
		start = (clear + align - 1) & ~(align - 1);
	}
	return BITMAP_NONE;
}
