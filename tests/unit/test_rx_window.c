/* The TLS channel's ciphertext buffer (migrate/rx_window.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "migrate/rx_window.h"

#define CAP 288
#define WND 256

static uint8_t store[CAP];

static void put(struct rx_window *w, size_t n, uint8_t first)
{
	uint8_t *at = rx_window_space(w, n);

	cr_assert_not_null(at, "%zu bytes with %zu unread of %d", n, rx_window_unread(w), CAP);
	for (size_t i = 0; i < n; i++)
		at[i] = (uint8_t)(first + i);
	rx_window_fill(w, n);
}

/* CI failed a migration with "the peer sent more than the receive window":
 * the buffer counted bytes already read against its room. */
Test(rx_window, a_full_window_fits_after_a_partial_read)
{
	struct rx_window w = { .buf = store, .cap = CAP };
	uint8_t out[WND];

	put(&w, WND, 0);
	cr_assert_eq(rx_window_read(&w, out, CAP / 2), CAP / 2);
	/* The peer may send what was read: unread stays within the window. */
	put(&w, CAP / 2, (uint8_t)WND);
	cr_assert_eq(rx_window_unread(&w), WND);
	cr_assert_eq(rx_window_read(&w, out, sizeof(out)), WND);
	for (size_t i = 0; i < WND; i++)
		cr_assert_eq(out[i], (uint8_t)(CAP / 2 + i), "byte %zu", i);
}

Test(rx_window, refuses_more_than_cap_unread)
{
	struct rx_window w = { .buf = store, .cap = CAP };
	uint8_t out[8];

	put(&w, CAP - 4, 0);
	cr_assert_null(rx_window_space(&w, 5));
	cr_assert_not_null(rx_window_space(&w, 4));
	cr_assert_eq(rx_window_read(&w, out, 8), 8);
	cr_assert_null(rx_window_space(&w, 13));
	put(&w, 12, 1);
	cr_assert_eq(rx_window_unread(&w), CAP);
}

Test(rx_window, reads_in_order_across_many_small_arrivals)
{
	struct rx_window w = { .buf = store, .cap = CAP };
	uint8_t next_in = 0, next_out = 0, out[37];

	for (int round = 0; round < 500; round++) {
		size_t n = (size_t)(round * 7 % 61) + 1;

		if (rx_window_space(&w, n)) {
			put(&w, n, next_in);
			next_in = (uint8_t)(next_in + n);
		}
		size_t got = rx_window_read(&w, out, (size_t)(round % 37) + 1);
		for (size_t i = 0; i < got; i++, next_out++)
			cr_assert_eq(out[i], next_out, "round %d byte %zu", round, i);
	}
}
