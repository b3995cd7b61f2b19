/* A checksum of a byte stream that does not depend on how the stream is
 * cut into chunks (sender and receiver see different segment sizes), fast
 * enough for bulk transfers: 8-byte little-endian words folded with a
 * multiply-xorshift, the partial word carried between chunks, the length
 * mixed in at the end. Not cryptographic: it catches loss, duplication,
 * reordering and corruption. */
#ifndef HV_LIB_STREAM_SUM_H
#define HV_LIB_STREAM_SUM_H

#include <stddef.h>
#include <stdint.h>

struct stream_sum {
	uint64_t state;
	uint64_t length;
	uint64_t partial; /* bytes of an unfinished word, low byte first */
};

void stream_sum_init(struct stream_sum *s);
void stream_sum_update(struct stream_sum *s, const void *data, size_t len);
/* The checksum of everything so far (the state is not changed). */
uint64_t stream_sum_value(const struct stream_sum *s);

#endif
