/* Bit arrays over 64-bit words, with fast searches over set and clear bits.
 * Used by the page allocator (one bit per physical page) and dirty logs
 * (one bit per guest page). Bit i lives in word i/64, bit i%64. */
#ifndef HV_LIB_BITMAP_H
#define HV_LIB_BITMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BITMAP_WORDS(nbits) (((nbits) + 63) / 64)
#define BITMAP_NONE ((size_t)-1)

static inline void bitmap_set(uint64_t *map, size_t bit)
{
	map[bit / 64] |= 1ull << (bit % 64);
}

static inline void bitmap_clear(uint64_t *map, size_t bit)
{
	map[bit / 64] &= ~(1ull << (bit % 64));
}

static inline bool bitmap_test(const uint64_t *map, size_t bit)
{
	return (map[bit / 64] >> (bit % 64)) & 1;
}

void bitmap_set_range(uint64_t *map, size_t start, size_t count);
void bitmap_clear_range(uint64_t *map, size_t start, size_t count);

/* First set (or clear) bit at or after 'from' and below 'nbits', or
 * BITMAP_NONE. Whole zero (or all-ones) words are skipped at once. */
size_t bitmap_next_set(const uint64_t *map, size_t nbits, size_t from);
size_t bitmap_next_clear(const uint64_t *map, size_t nbits, size_t from);

size_t bitmap_count(const uint64_t *map, size_t nbits);

/* Start of the first run of 'count' clear bits whose start is a multiple of
 * 'align' (a power of two), searching [from, nbits); BITMAP_NONE if none. */
size_t bitmap_find_clear_run(const uint64_t *map, size_t nbits, size_t from,
			     size_t count, size_t align);

/* Visits set bits in ascending order. */
#define bitmap_for_each_set(bit, map, nbits)                                  \
	for (size_t bit = bitmap_next_set((map), (nbits), 0);                 \
	     bit != BITMAP_NONE; bit = bitmap_next_set((map), (nbits), bit + 1))

#endif
