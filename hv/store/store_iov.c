/* I/O vector cursors; see store_iov.h. */
#include "hv/store/store_iov.h"

#include "hv/lib/string.h"

void iov_cur_init(struct iov_cur *c, const struct store_iov *iov, unsigned niov)
{
	*c = (struct iov_cur){ .iov = iov, .niov = niov };
}

/* Calls fn (if any) on each contiguous piece of the next n bytes. */
static void walk(struct iov_cur *c, size_t n, void (*fn)(uint8_t *piece, size_t len, void *ctx),
		 void *ctx)
{
	while (n && c->i < c->niov) {
		size_t room = c->iov[c->i].len - c->off;
		size_t k = room < n ? room : n;
		if (fn && k)
			fn((uint8_t *)c->iov[c->i].data + c->off, k, ctx);
		c->off += k;
		n -= k;
		if (c->off == c->iov[c->i].len) {
			c->i++;
			c->off = 0;
		}
	}
}

static void piece_out(uint8_t *piece, size_t len, void *ctx)
{
	uint8_t **dst = ctx;

	memcpy(*dst, piece, len);
	*dst += len;
}

static void piece_in(uint8_t *piece, size_t len, void *ctx)
{
	const uint8_t **src = ctx;

	memcpy(piece, *src, len);
	*src += len;
}

static void piece_zero(uint8_t *piece, size_t len, void *ctx)
{
	(void)ctx;
	memset(piece, 0, len);
}

void iov_cur_read(struct iov_cur *c, void *dst, size_t n)
{
	uint8_t *p = dst;

	walk(c, n, piece_out, &p);
}

void iov_cur_write(struct iov_cur *c, const void *src, size_t n)
{
	const uint8_t *p = src;

	walk(c, n, piece_in, &p);
}

void iov_cur_zero(struct iov_cur *c, size_t n)
{
	walk(c, n, piece_zero, NULL);
}

void *iov_cur_take(struct iov_cur *c, size_t n, size_t align)
{
	/* Skip vectors of length 0 first. */
	while (c->i < c->niov && c->iov[c->i].len == c->off) {
		c->i++;
		c->off = 0;
	}
	if (c->i >= c->niov || c->iov[c->i].len - c->off < n)
		return NULL;
	uint8_t *p = (uint8_t *)c->iov[c->i].data + c->off;
	if ((uintptr_t)p % align)
		return NULL;
	walk(c, n, NULL, NULL);
	return p;
}

size_t iov_cur_contig(struct iov_cur *c, size_t unit)
{
	while (c->i < c->niov && c->iov[c->i].len == c->off) {
		c->i++;
		c->off = 0;
	}
	if (c->i >= c->niov)
		return 0;
	uint8_t *p = (uint8_t *)c->iov[c->i].data + c->off;
	if ((uintptr_t)p % unit)
		return 0;
	size_t left = c->iov[c->i].len - c->off;
	return left - left % unit;
}

bool iov_total(const struct store_iov *iov, unsigned niov, size_t unit, uint64_t *total)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < niov; i++) {
		if (iov[i].len % unit || iov[i].len > UINT64_MAX - sum)
			return false;
		sum += iov[i].len;
	}
	*total = sum;
	return true;
}
