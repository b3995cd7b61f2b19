#include "migrate/rx_window.h"

#include "hv/lib/string.h"

static void compact(struct rx_window *w)
{
	if (w->pos && w->pos < w->len)
		memmove(w->buf, w->buf + w->pos, w->len - w->pos);
	w->len -= w->pos;
	w->pos = 0;
}

uint8_t *rx_window_space(struct rx_window *w, size_t n)
{
	if (n > w->cap - rx_window_unread(w))
		return NULL;
	if (n > w->cap - w->len)
		compact(w);
	return w->buf + w->len;
}

void rx_window_fill(struct rx_window *w, size_t n)
{
	w->len += n;
}

size_t rx_window_read(struct rx_window *w, void *dst, size_t n)
{
	if (n > rx_window_unread(w))
		n = rx_window_unread(w);
	memcpy(dst, w->buf + w->pos, n);
	w->pos += n;
	if (w->pos == w->len)
		w->pos = w->len = 0; /* free, and the next arrival needs no move */
	return n;
}
