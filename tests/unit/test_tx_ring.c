/* The console's output queue: whole writes or none, per-writer limits,
 * line ends, and taking bytes out across the wrap-around. */
#include <criterion/criterion.h>
#include <string.h>

#include "hv/lib/tx_ring.h"

/* Takes everything queued, in order, into out (NUL-terminated). */
static size_t drain_all(struct tx_ring *r, char *out, size_t max)
{
	size_t got = 0;
	const char *p;
	size_t n;

	while ((n = tx_ring_peek(r, &p)) > 0) {
		cr_assert_leq(got + n, max);
		memcpy(out + got, p, n);
		got += n;
		tx_ring_consume(r, n);
	}
	out[got] = '\0';
	return got;
}

Test(tx_ring, line_ends_go_out_as_crlf)
{
	char buf[64], out[65];
	struct tx_ring r;

	tx_ring_init(&r, buf, sizeof(buf));
	cr_assert_eq(tx_ring_crlf_size("a\nb\n", 4), 6);
	cr_assert(tx_ring_put_within(&r, "a\nb\n", 4, sizeof(buf)));
	cr_assert_eq(tx_ring_used(&r), 6);
	cr_assert_eq(drain_all(&r, out, 64), 6);
	cr_assert_str_eq(out, "a\r\nb\r\n");
	cr_assert_eq(tx_ring_used(&r), 0);
}

Test(tx_ring, a_write_that_does_not_fit_is_dropped_whole_and_counted)
{
	char buf[16], out[17];
	struct tx_ring r;

	tx_ring_init(&r, buf, sizeof(buf));
	cr_assert(tx_ring_put_within(&r, "0123456789", 10, 16));
	/* 10 + 7 > 16: nothing of it goes in, not even the part that fits. */
	cr_assert_not(tx_ring_put_within(&r, "abcdefg", 7, 16));
	cr_assert_eq(r.dropped_bytes, 7);
	cr_assert_eq(r.dropped_writes, 1);
	/* The '\n' costs two bytes: "abcde\n" needs 7 as well. */
	cr_assert_not(tx_ring_put_within(&r, "abcde\n", 6, 16));
	cr_assert(tx_ring_put_within(&r, "abcdef", 6, 16));
	cr_assert_eq(tx_ring_room(&r), 0);
	drain_all(&r, out, 16);
	cr_assert_str_eq(out, "0123456789abcdef");
}

Test(tx_ring, a_limit_keeps_room_for_other_writers)
{
	char buf[100];
	struct tx_ring r;

	tx_ring_init(&r, buf, sizeof(buf));
	for (int i = 0; i < 5; i++)
		cr_assert(tx_ring_put_within(&r, "12345", 5, 25), "write %d", i);
	cr_assert_not(tx_ring_put_within(&r, "x", 1, 25), "25 bytes is this writer's share");
	cr_assert(tx_ring_put_within(&r, "x", 1, 100), "another writer still has room");
	cr_assert(tx_ring_fits_within(&r, 74, 100));
	cr_assert_not(tx_ring_fits_within(&r, 75, 100));
	/* A limit above the size is the size; a write above the limit never fits. */
	cr_assert(tx_ring_fits_within(&r, 74, 1000));
	cr_assert_not(tx_ring_fits_within(&r, 75, 1000));
	tx_ring_init(&r, buf, sizeof(buf));
	cr_assert_not(tx_ring_fits_within(&r, 30, 25));
	cr_assert_not(tx_ring_fits_within(&r, 101, 1000));
}

Test(tx_ring, bytes_come_out_in_order_across_the_wrap)
{
	char buf[10], out[64];
	struct tx_ring r;
	const char *p;

	tx_ring_init(&r, buf, sizeof(buf));
	cr_assert(tx_ring_put_within(&r, "abcdefg", 7, 10));
	tx_ring_consume(&r, 5);
	cr_assert(tx_ring_put_within(&r, "hijklm", 6, 10)); /* wraps after 'j' */
	cr_assert_eq(tx_ring_used(&r), 8);
	cr_assert_eq(tx_ring_peek(&r, &p), 5, "the contiguous run ends at the buffer's end");
	cr_assert_eq(memcmp(p, "fghij", 5), 0);
	drain_all(&r, out, sizeof(out) - 1);
	cr_assert_str_eq(out, "fghijklm");
}

Test(tx_ring, many_rounds_keep_every_byte_in_order)
{
	char buf[37], out[64], want[64];
	struct tx_ring r;
	unsigned seq = 0, check = 0;

	tx_ring_init(&r, buf, sizeof(buf));
	for (int round = 0; round < 1000; round++) {
		size_t n = (size_t)(round % 11) + 1;
		char line[16];
		for (size_t i = 0; i < n; i++)
			line[i] = (char)('a' + (seq + i) % 26);
		if (tx_ring_put_within(&r, line, n, sizeof(buf)))
			seq += (unsigned)n;
		if (round % 3 == 0) {
			const char *p;
			size_t got = tx_ring_peek(&r, &p);
			got = got > 4 ? 4 : got;
			for (size_t i = 0; i < got; i++)
				cr_assert_eq(p[i], (char)('a' + (check + i) % 26), "round %d", round);
			check += (unsigned)got;
			tx_ring_consume(&r, got);
		}
	}
	size_t rest = drain_all(&r, out, sizeof(out) - 1);
	for (size_t i = 0; i < rest; i++)
		want[i] = (char)('a' + (check + i) % 26);
	cr_assert_eq(memcmp(out, want, rest), 0);
	cr_assert_eq(check + rest, seq, "nothing lost or repeated");
	cr_assert_gt(r.dropped_writes, 0, "the producer outran the consumer");
}
