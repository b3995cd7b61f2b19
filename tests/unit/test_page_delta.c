/* Page deltas (migrate/page_delta.c) and the source's cache of sent
 * versions (migrate/delta_cache.c): a delta applied to the old page gives
 * the new one exactly, for edits of every shape; it is small for small
 * edits, refused when it would not fit; malformed deltas are refused. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "migrate/delta_cache.h"
#include "migrate/page_delta.h"
#include "migrate/stream.h"

static uint8_t old_page[MIG_PAGE_SIZE], new_page[MIG_PAGE_SIZE], out[MIG_PAGE_SIZE];
static uint8_t delta[MIG_DELTA_MAX];

static void fill_random(uint8_t *p, size_t n, unsigned seed)
{
	srand(seed);
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rand();
}

/* Encodes new against old, applies it to a copy of old: it must be new. */
static size_t round_trip(void)
{
	size_t n = page_delta_encode(old_page, new_page, delta, sizeof(delta));
	if (!n)
		return 0;
	memcpy(out, old_page, sizeof(out));
	cr_assert_eq(page_delta_apply(out, delta, n), 0);
	cr_assert(!memcmp(out, new_page, sizeof(out)), "the delta rebuilt another page");
	return n;
}

Test(page_delta, edits_of_every_shape_round_trip)
{
	fill_random(old_page, sizeof(old_page), 1);
	memcpy(new_page, old_page, sizeof(new_page));
	cr_assert_eq(round_trip(), 2, "unchanged: one run of 4096");

	new_page[0] ^= 1; /* first byte */
	new_page[MIG_PAGE_SIZE - 1] ^= 1; /* last byte */
	size_t small = round_trip();
	cr_assert(small > 0 && small < 16, "%zu", small);
	new_page[100] ^= 0xff, new_page[102] ^= 0xff; /* one equal byte between */
	new_page[2000] ^= 0x80, new_page[2001] ^= 0x80, new_page[2002] ^= 0x80;
	small = round_trip();
	cr_assert(small > 0 && small < 40, "%zu", small);

	/* A counter in every 64th word (how memtouch and many guests write). */
	memcpy(new_page, old_page, sizeof(new_page));
	for (unsigned i = 0; i < MIG_PAGE_SIZE; i += 64)
		new_page[i]++;
	size_t n = round_trip();
	cr_assert(n > 0 && n < 4 * 64 + 8, "%zu", n);

	/* Many random edits. */
	for (unsigned seed = 2; seed < 200; seed++) {
		memcpy(new_page, old_page, sizeof(new_page));
		srand(seed);
		unsigned edits = (unsigned)rand() % 300;
		for (unsigned e = 0; e < edits; e++)
			new_page[rand() % MIG_PAGE_SIZE] = (uint8_t)rand();
		round_trip();
	}
}

Test(page_delta, a_rewritten_page_does_not_fit)
{
	fill_random(old_page, sizeof(old_page), 3);
	fill_random(new_page, sizeof(new_page), 4);
	cr_assert_eq(page_delta_encode(old_page, new_page, delta, sizeof(delta)), 0);
	/* Nor does a small edit in a too-small buffer. */
	memcpy(new_page, old_page, sizeof(new_page));
	memset(new_page + 10, 0x5a, 100);
	cr_assert_eq(page_delta_encode(old_page, new_page, delta, 50), 0);
	cr_assert(page_delta_encode(old_page, new_page, delta, 110) > 0);
}

Test(page_delta, malformed_deltas_are_refused)
{
	static const struct { uint8_t bytes[8]; size_t len; const char *what; } bad[] = {
		{ { 0x80, 0x21 }, 2, "a run of 4224, past the page" },
		{ { 0x10, 0x00 }, 2, "a changed run of length 0" },
		{ { 0x10, 0x05, 1, 2 }, 4, "changed bytes cut short" },
		{ { 0x10, 0x80 }, 2, "a number cut short" },
		{ { 0xff, 0xff, 0x01 }, 3, "a number of three bytes" },
		{ { 0x80, 0x20, 0x01, 0x01, 0x07 }, 5, "a changed byte past the page's end" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(page_delta_apply(out, bad[i].bytes, bad[i].len), -1, "%s", bad[i].what);
	static const uint8_t ok[] = { 0x80, 0x20 }; /* 4096 unchanged */
	cr_assert_eq(page_delta_apply(out, ok, sizeof(ok)), 0);
	static const uint8_t tail[] = { 0xff, 0x1f, 0x01, 0xaa }; /* the last byte */
	cr_assert_eq(page_delta_apply(out, tail, sizeof(tail)), 0);
	cr_assert_eq(out[MIG_PAGE_SIZE - 1], 0xaa);
}

Test(page_delta, delta_entries_in_a_pages_record)
{
	static uint8_t body[MIG_MAX_BODY];
	struct mig_pages_writer w;
	struct mig_pages_reader rd;
	uint64_t gfn;
	enum mig_page_type t;
	const uint8_t *data;
	char err[120];

	fill_random(old_page, sizeof(old_page), 5);
	memcpy(new_page, old_page, sizeof(new_page));
	new_page[77] ^= 0x33;
	mig_pages_begin(&w, body);
	size_t n = page_delta_encode(old_page, new_page, mig_pages_delta_room(&w), MIG_DELTA_MAX);
	mig_pages_add_delta(&w, 42, (uint32_t)n);
	mig_pages_add(&w, 43, MIG_PAGE_ZERO, NULL);
	uint32_t len = mig_pages_end(&w);
	cr_assert_eq(len, 8 + 12 + n + 8);
	cr_assert_eq(mig_pages_open(&rd, body, len, err, sizeof(err)), 0);
	cr_assert_eq(mig_pages_next(&rd, &gfn, &t, &data, err, sizeof(err)), 1);
	cr_assert(gfn == 42 && t == MIG_PAGE_DELTA && rd.data_len == n);
	memcpy(out, old_page, sizeof(out));
	cr_assert_eq(page_delta_apply(out, data, rd.data_len), 0);
	cr_assert(!memcmp(out, new_page, sizeof(out)));
	cr_assert_eq(mig_pages_next(&rd, &gfn, &t, &data, err, sizeof(err)), 1);
	cr_assert(gfn == 43 && t == MIG_PAGE_ZERO);

	body[8 + 8] = 0; /* a length of 0 */
	body[8 + 9] = 0;
	cr_assert_eq(mig_pages_open(&rd, body, len, err, sizeof(err)), 0);
	cr_assert_eq(mig_pages_next(&rd, &gfn, &t, &data, err, sizeof(err)), -1);
	cr_assert(strstr(err, "out of range"), "%s", err);
	body[8 + 8] = 0xfd; /* 4093: over the limit */
	body[8 + 9] = 0x0f;
	cr_assert_eq(mig_pages_open(&rd, body, len, err, sizeof(err)), 0);
	cr_assert_eq(mig_pages_next(&rd, &gfn, &t, &data, err, sizeof(err)), -1);
	cr_assert(strstr(err, "out of range"), "%s", err);
	body[8 + 8] = 0xfc; /* 4092, longer than the record */
	cr_assert_eq(mig_pages_open(&rd, body, len, err, sizeof(err)), 0);
	cr_assert_eq(mig_pages_next(&rd, &gfn, &t, &data, err, sizeof(err)), -1);
	cr_assert(strstr(err, "truncated"), "%s", err);
}

void *kmalloc(size_t size);
void *kzalloc(size_t size);
void kfree(void *p);

Test(delta_cache, a_slot_holds_the_last_version_sent_of_one_page)
{
	struct delta_cache c;

	cr_assert(delta_cache_init(&c, 4 * MIG_PAGE_SIZE + 100));
	cr_assert_eq(c.slots, 4);
	fill_random(old_page, sizeof(old_page), 6);
	cr_assert_null(delta_cache_find(&c, 9));
	delta_cache_store(&c, 9, old_page);
	const uint8_t *got = delta_cache_find(&c, 9);
	cr_assert(got && !memcmp(got, old_page, MIG_PAGE_SIZE));
	cr_assert_null(delta_cache_find(&c, 5), "same slot, another page");
	fill_random(new_page, sizeof(new_page), 7);
	delta_cache_store(&c, 5, new_page); /* takes the slot */
	cr_assert_null(delta_cache_find(&c, 9));
	cr_assert(!memcmp(delta_cache_find(&c, 5), new_page, MIG_PAGE_SIZE));
	delta_cache_forget(&c, 9); /* not there: nothing happens */
	cr_assert_not_null(delta_cache_find(&c, 5));
	delta_cache_forget(&c, 5);
	cr_assert_null(delta_cache_find(&c, 5));
	cr_assert(c.hits == 3 && c.misses == 4 && c.stored == 2, "%lu %lu %lu", c.hits, c.misses,
		  c.stored);
	delta_cache_free(&c);
	cr_assert(delta_cache_init(&c, 10), "less than a page: one slot");
	cr_assert_eq(c.slots, 1);
	delta_cache_free(&c);
}
