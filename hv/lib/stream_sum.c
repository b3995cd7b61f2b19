/* Chunking-independent stream checksum; see stream_sum.h. */
#include "hv/lib/stream_sum.h"

#define SUM_SEED 0x9e3779b97f4a7c15ull
#define SUM_MUL 0xff51afd7ed558ccdull

static uint64_t fold(uint64_t state, uint64_t word)
{
	state ^= word;
	state *= SUM_MUL;
	return state ^ (state >> 29);
}

void stream_sum_init(struct stream_sum *s)
{
	*s = (struct stream_sum){ .state = SUM_SEED };
}

void stream_sum_update(struct stream_sum *s, const void *data, size_t len)
{
	const uint8_t *p = data;
	unsigned have = s->length & 7;

	s->length += len;
	/* Finish the word left open by the previous chunk. */
	while (have && len) {
		s->partial |= (uint64_t)*p++ << (8 * have);
		len--;
		if (++have == 8) {
			s->state = fold(s->state, s->partial);
			s->partial = 0;
			have = 0;
		}
	}
	for (; len >= 8; p += 8, len -= 8) {
		uint64_t w;
		__builtin_memcpy(&w, p, 8);
		s->state = fold(s->state, w);
	}
	for (unsigned i = 0; i < len; i++)
		s->partial |= (uint64_t)p[i] << (8 * i);
}

uint64_t stream_sum_value(const struct stream_sum *s)
{
	uint64_t v = s->state;

	if (s->length & 7)
		v = fold(v, s->partial);
	return fold(v, s->length);
}
