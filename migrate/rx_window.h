/* Bytes received ahead of their reader, in one buffer that is reused from
 * its front: the TLS channel's ciphertext waits here until TLS reads it.
 *
 * The TCP window counts only unread bytes, so a buffer of `cap` must take
 * any arrival that keeps the unread part within `cap`, whatever was read
 * before it; rx_window_space compacts to make that true. */
#ifndef MIGRATE_RX_WINDOW_H
#define MIGRATE_RX_WINDOW_H

#include <stddef.h>
#include <stdint.h>

struct rx_window {
	uint8_t *buf;
	size_t cap;
	size_t pos, len; /* [pos, len) is unread */
};

static inline size_t rx_window_unread(const struct rx_window *w)
{
	return w->len - w->pos;
}

/* Where `n` more bytes go, or NULL when unread plus `n` exceeds cap.
 * @pre w->buf holds w->cap bytes. Follow with rx_window_fill(w, n). */
uint8_t *rx_window_space(struct rx_window *w, size_t n);
void rx_window_fill(struct rx_window *w, size_t n);

/* Copies up to `n` unread bytes to `dst`; returns how many. */
size_t rx_window_read(struct rx_window *w, void *dst, size_t n);

#endif
