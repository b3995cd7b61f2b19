/* Little-endian field access for the migration stream (x86 is little
 * endian, but the format says so explicitly and buffers are unaligned). */
#ifndef MIGRATE_WIRE_H
#define MIGRATE_WIRE_H

#include <stdint.h>

static inline void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

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

#endif
