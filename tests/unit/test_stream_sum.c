/* The stream checksum must not depend on chunking, and must notice every
 * kind of damage a transfer can do. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "hv/lib/stream_sum.h"

#define LEN 5000

static uint8_t data[LEN];

static void fill(void)
{
	srand(7);
	for (size_t i = 0; i < LEN; i++)
		data[i] = (uint8_t)rand();
}

static uint64_t sum_whole(const uint8_t *p, size_t n)
{
	struct stream_sum s;

	stream_sum_init(&s);
	stream_sum_update(&s, p, n);
	return stream_sum_value(&s);
}

Test(stream_sum, any_chunking_gives_the_same_value, .init = fill)
{
	uint64_t whole = sum_whole(data, LEN);

	for (int trial = 0; trial < 200; trial++) {
		struct stream_sum s;
		stream_sum_init(&s);
		size_t pos = 0;
		while (pos < LEN) {
			size_t n = (size_t)rand() % 23;
			if (n > LEN - pos)
				n = LEN - pos;
			stream_sum_update(&s, data + pos, n);
			pos += n;
		}
		cr_assert_eq(stream_sum_value(&s), whole, "trial %d", trial);
	}
}

Test(stream_sum, value_can_be_read_midway, .init = fill)
{
	struct stream_sum s;

	stream_sum_init(&s);
	stream_sum_update(&s, data, 13);
	cr_assert_eq(stream_sum_value(&s), sum_whole(data, 13));
	stream_sum_update(&s, data + 13, LEN - 13);
	cr_assert_eq(stream_sum_value(&s), sum_whole(data, LEN));
}

Test(stream_sum, damage_changes_the_value, .init = fill)
{
	uint64_t whole = sum_whole(data, LEN);
	uint8_t copy[LEN];

	/* A flipped bit anywhere. */
	for (size_t i = 0; i < LEN; i += 97) {
		memcpy(copy, data, LEN);
		copy[i] ^= 0x10;
		cr_assert_neq(sum_whole(copy, LEN), whole, "bit flip at %zu", i);
	}
	/* Lost tail, lost middle chunk, duplicated chunk, swapped chunks. */
	cr_assert_neq(sum_whole(data, LEN - 1), whole);
	memcpy(copy, data, 1000);
	memcpy(copy + 1000, data + 1460, LEN - 1460);
	cr_assert_neq(sum_whole(copy, LEN - 460), whole);
	memcpy(copy, data, 2920);
	memcpy(copy + 2920, data + 1460, LEN - 2920);
	cr_assert_neq(sum_whole(copy, LEN), whole);
	memcpy(copy, data + 1460, 1460);
	memcpy(copy + 1460, data, 1460);
	memcpy(copy + 2920, data + 2920, LEN - 2920);
	cr_assert_neq(sum_whole(copy, LEN), whole);
	/* Zeros of different lengths differ. */
	uint8_t zeros[16] = { 0 };
	cr_assert_neq(sum_whole(zeros, 8), sum_whole(zeros, 16));
	cr_assert_neq(sum_whole(zeros, 0), sum_whole(zeros, 1));
}
