/* A position in a list of I/O vectors, consumed front to back. */
#ifndef HV_STORE_STORE_IOV_H
#define HV_STORE_STORE_IOV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/store/store.h"

struct iov_cur {
	const struct store_iov *iov;
	unsigned niov, i;
	size_t off; /* into iov[i] */
};

void iov_cur_init(struct iov_cur *c, const struct store_iov *iov, unsigned niov);
/* Copies n bytes out of the vectors (write data) or into them (read data). */
void iov_cur_read(struct iov_cur *c, void *dst, size_t n);
void iov_cur_write(struct iov_cur *c, const void *src, size_t n);
void iov_cur_zero(struct iov_cur *c, size_t n);
/* The next n bytes as one buffer aligned to 'align' if they are, else NULL
 * (and nothing consumed). */
void *iov_cur_take(struct iov_cur *c, size_t n, size_t align);
/* Bytes, a multiple of 'unit', from the cursor to the end of its current
 * vector when that position is 'unit'-aligned in memory; 0 otherwise. A
 * run cut to this length can be taken directly instead of bounced. */
size_t iov_cur_contig(struct iov_cur *c, size_t unit);
/* Sum of the lengths; false if one is not a multiple of 'unit' or the sum
 * overflows. */
bool iov_total(const struct store_iov *iov, unsigned niov, size_t unit, uint64_t *total);

#endif
