#include <criterion/criterion.h>
#include <stdlib.h>

#include "hv/lib/bitmap.h"

#define N 1000

static uint64_t map[BITMAP_WORDS(N)];

/* A plain bool array as the reference model. */
static bool model[N];

static void check_against_model(void)
{
	size_t count = 0;

	for (size_t i = 0; i < N; i++) {
		cr_assert_eq(bitmap_test(map, i), model[i], "bit %zu", i);
		count += model[i];
	}
	cr_assert_eq(bitmap_count(map, N), count);
	size_t expect = BITMAP_NONE;
	for (size_t from = N; from-- > 0;) {
		if (model[from])
			expect = from;
		cr_assert_eq(bitmap_next_set(map, N, from), expect, "next_set from %zu", from);
	}
	expect = BITMAP_NONE;
	for (size_t from = N; from-- > 0;) {
		if (!model[from])
			expect = from;
		cr_assert_eq(bitmap_next_clear(map, N, from), expect, "next_clear from %zu", from);
	}
}

Test(bitmap, random_operations_match_a_model)
{
	srand(1234);
	for (int round = 0; round < 200; round++) {
		size_t a = (size_t)rand() % N, len = (size_t)rand() % 150;
		if (a + len > N)
			len = N - a;
		bool set = rand() & 1;
		if (set)
			bitmap_set_range(map, a, len);
		else
			bitmap_clear_range(map, a, len);
		for (size_t i = a; i < a + len; i++)
			model[i] = set;
		if (round % 20 == 0)
			check_against_model();
	}
	check_against_model();
}

Test(bitmap, for_each_visits_exactly_the_set_bits)
{
	uint64_t m[BITMAP_WORDS(300)] = { 0 };
	size_t want[] = { 0, 1, 63, 64, 127, 200, 299 };
	for (size_t i = 0; i < 7; i++)
		bitmap_set(m, want[i]);
	size_t n = 0;
	bitmap_for_each_set(bit, m, 300) {
		cr_assert_lt(n, 7);
		cr_assert_eq(bit, want[n]);
		n++;
	}
	cr_assert_eq(n, 7);
}

Test(bitmap, clear_runs_respect_alignment)
{
	uint64_t m[BITMAP_WORDS(4096)] = { 0 };

	bitmap_set(m, 5);
	cr_assert_eq(bitmap_find_clear_run(m, 4096, 0, 512, 512), 0 + 512);
	bitmap_set(m, 600);
	cr_assert_eq(bitmap_find_clear_run(m, 4096, 0, 512, 512), 1024);
	cr_assert_eq(bitmap_find_clear_run(m, 4096, 0, 4, 1), 0);
	cr_assert_eq(bitmap_find_clear_run(m, 4096, 0, 6, 1), 6);
	bitmap_set_range(m, 0, 4096);
	cr_assert_eq(bitmap_find_clear_run(m, 4096, 0, 1, 1), BITMAP_NONE);
	bitmap_clear(m, 4095);
	cr_assert_eq(bitmap_find_clear_run(m, 4096, 0, 1, 1), 4095);
	cr_assert_eq(bitmap_find_clear_run(m, 4096, 0, 2, 1), BITMAP_NONE);
	cr_assert_eq(bitmap_find_clear_run(m, 4096, 0, 0, 1), BITMAP_NONE);
}

Test(bitmap, partial_last_word_is_ignored)
{
	uint64_t m[2] = { 0, ~0ull };

	cr_assert_eq(bitmap_count(m, 70), 6);
	cr_assert_eq(bitmap_next_set(m, 64, 0), BITMAP_NONE);
	cr_assert_eq(bitmap_next_clear(m, 70, 64), BITMAP_NONE);
}
