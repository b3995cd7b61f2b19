/* Bounded, little-endian field access for saved state (migration record
 * bodies, device state blobs): a cursor that never reads or writes past its
 * buffer and says so once at the end. */
#ifndef HV_LIB_WIRE_H
#define HV_LIB_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/lib/byteorder.h"

/* A bounded cursor over a record body: reads past the end set 'short'
 * and return zeros, so a decoder checks once at the end. */
struct wire_cursor {
	uint8_t *wp;        /* writer */
	const uint8_t *rp;  /* reader */
	size_t len, pos;
	int overrun;
};

static inline void wput8(struct wire_cursor *c, uint8_t v)
{
	if (c->pos + 1 <= c->len)
		c->wp[c->pos] = v;
	else
		c->overrun = 1;
	c->pos += 1;
}

static inline void wput16(struct wire_cursor *c, uint16_t v)
{
	if (c->pos + 2 <= c->len)
		put_le16(c->wp + c->pos, v);
	else
		c->overrun = 1;
	c->pos += 2;
}

static inline void wput32(struct wire_cursor *c, uint32_t v)
{
	if (c->pos + 4 <= c->len)
		put_le32(c->wp + c->pos, v);
	else
		c->overrun = 1;
	c->pos += 4;
}

static inline void wput64(struct wire_cursor *c, uint64_t v)
{
	if (c->pos + 8 <= c->len)
		put_le64(c->wp + c->pos, v);
	else
		c->overrun = 1;
	c->pos += 8;
}

static inline uint8_t wget8(struct wire_cursor *c)
{
	uint8_t v = c->pos + 1 <= c->len ? c->rp[c->pos] : (c->overrun = 1, 0);
	c->pos += 1;
	return v;
}

static inline uint16_t wget16(struct wire_cursor *c)
{
	uint16_t v = c->pos + 2 <= c->len ? get_le16(c->rp + c->pos) : (c->overrun = 1, 0);
	c->pos += 2;
	return v;
}

static inline uint32_t wget32(struct wire_cursor *c)
{
	uint32_t v = c->pos + 4 <= c->len ? get_le32(c->rp + c->pos) : (c->overrun = 1, 0);
	c->pos += 4;
	return v;
}

static inline uint64_t wget64(struct wire_cursor *c)
{
	uint64_t v = c->pos + 8 <= c->len ? get_le64(c->rp + c->pos) : (c->overrun = 1, 0);
	c->pos += 8;
	return v;
}

static inline struct wire_cursor wire_writer(uint8_t *buf, size_t len)
{
	return (struct wire_cursor){ buf, NULL, len, 0, 0 };
}

static inline struct wire_cursor wire_reader(const uint8_t *buf, size_t len)
{
	return (struct wire_cursor){ NULL, buf, len, 0, 0 };
}

/* A reader consumed exactly its buffer. */
static inline bool wire_read_exactly(const struct wire_cursor *c)
{
	return !c->overrun && c->pos == c->len;
}

#endif
