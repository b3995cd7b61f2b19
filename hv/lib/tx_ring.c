#include "hv/lib/tx_ring.h"

void tx_ring_init(struct tx_ring *r, char *buf, size_t size)
{
	*r = (struct tx_ring){ .buf = buf, .size = size };
}

size_t tx_ring_used(const struct tx_ring *r)
{
	return (size_t)(r->head - r->tail);
}

size_t tx_ring_room(const struct tx_ring *r)
{
	return r->size - tx_ring_used(r);
}

size_t tx_ring_crlf_size(const char *s, size_t n)
{
	size_t size = n;

	for (size_t i = 0; i < n; i++)
		size += s[i] == '\n';
	return size;
}

bool tx_ring_fits_within(const struct tx_ring *r, size_t n, size_t limit)
{
	if (limit > r->size)
		limit = r->size;
	return n <= limit && tx_ring_used(r) <= limit - n;
}

static void put_byte(struct tx_ring *r, char c)
{
	r->buf[r->head % r->size] = c;
	r->head++;
}

bool tx_ring_put_within(struct tx_ring *r, const char *s, size_t n, size_t limit)
{
	if (!tx_ring_fits_within(r, tx_ring_crlf_size(s, n), limit)) {
		r->dropped_bytes += n;
		r->dropped_writes++;
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			put_byte(r, '\r');
		put_byte(r, s[i]);
	}
	return true;
}

size_t tx_ring_peek(const struct tx_ring *r, const char **out)
{
	size_t used = tx_ring_used(r);
	size_t at = (size_t)(r->tail % r->size);
	size_t run = r->size - at;

	*out = r->buf + at;
	return used < run ? used : run;
}

void tx_ring_consume(struct tx_ring *r, size_t n)
{
	r->tail += n;
}
