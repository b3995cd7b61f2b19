#include "hv/emul/strio.h"

/* An element's bytes that lie in one page. */
struct piece {
	uint64_t la;
	size_t len;
	struct gwalk_xlat x;
};

static uint64_t mask_of(unsigned bytes)
{
	return bytes == 8 ? ~0ull : (1ull << (8 * bytes)) - 1;
}

/* A count or index register after an update at the address size: 16-bit
 * updates keep the rest, 32-bit ones zero-extend like any 32-bit register
 * write (SDM vol. 1 §3.4.1.1). */
static void set_reg(uint64_t *reg, uint64_t value, unsigned addr_size)
{
	if (addr_size == 2)
		*reg = (*reg & ~0xffffull) | (value & 0xffff);
	else
		*reg = value & mask_of(addr_size);
}

/* The CPU checks each page an access touches; an element that crosses a
 * page is two accesses, and its second part starts the next page (the
 * linear address wraps at 4 GiB outside 64-bit mode). */
static unsigned split(const struct strio *s, uint64_t la, struct piece p[2])
{
	size_t first = 4096 - (size_t)(la & 0xfff);

	if (first >= s->size) {
		p[0] = (struct piece){ .la = la, .len = s->size };
		return 1;
	}
	uint64_t next = la + first;
	p[0] = (struct piece){ .la = la, .len = first };
	p[1] = (struct piece){ .la = s->mode == EMUL_LONG64 ? next : next & 0xffffffffull,
			       .len = s->size - first };
	return 2;
}

/* Translates every part, then checks what lies behind each; nothing is
 * changed, so a fault leaves the element undone. */
static enum strio_result locate(struct strio *s, struct piece *p, unsigned n, unsigned access)
{
	for (unsigned i = 0; i < n; i++) {
		enum gwalk_status st;
		st = gwalk_translate(s->walk, p[i].la, access, &p[i].x, &s->fault);
		if (st == GWALK_FAULT)
			return STRIO_FAULT;
		if (st == GWALK_BAD_TABLE) {
			s->bad_la = p[i].la;
			s->bad_gpa = 0;
			return STRIO_UNMAPPED;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		enum strio_mem kind = s->ops->mem_kind(s->ctx, p[i].x.gpa, p[i].len);
		if (kind != STRIO_MEM_RAM) {
			s->bad_la = p[i].la;
			s->bad_gpa = p[i].x.gpa;
			return kind == STRIO_MEM_POISONED ? STRIO_POISONED : STRIO_UNMAPPED;
		}
	}
	return STRIO_DONE;
}

/* The port's data moves between the element's parts in order, low byte
 * first. */
static enum strio_result transfer(struct strio *s, const struct piece *p, unsigned n)
{
	uint8_t bytes[4];
	size_t off = 0;

	if (s->in) {
		uint32_t v = s->ops->port_in(s->ctx, s->port, s->size);
		for (unsigned i = 0; i < 4; i++)
			bytes[i] = (uint8_t)(v >> (8 * i));
		for (unsigned i = 0; i < n; off += p[i].len, i++)
			s->ops->mem_write(s->ctx, p[i].x.gpa, bytes + off, p[i].len);
		return STRIO_DONE;
	}
	for (unsigned i = 0; i < n; off += p[i].len, i++)
		s->ops->mem_read(s->ctx, p[i].x.gpa, bytes + off, p[i].len);
	uint32_t v = 0;
	for (unsigned i = 0; i < s->size; i++)
		v |= (uint32_t)bytes[i] << (8 * i);
	return s->ops->port_out(s->ctx, s->port, s->size, v) ? STRIO_DONE : STRIO_STOPPED;
}

static enum strio_result one_element(struct strio *s)
{
	uint64_t *index = s->in ? &s->rdi : &s->rsi;
	unsigned access = s->in ? GWALK_WRITE : 0; /* INS stores, OUTS loads */
	struct piece p[2];
	uint64_t la;

	if (!emul_segment_linear(&s->seg, s->mode, *index & mask_of(s->addr_size), s->size,
				 s->in, &la, &s->fault))
		return STRIO_FAULT;
	unsigned n = split(s, la, p);
	enum strio_result r = locate(s, p, n, access);
	if (r != STRIO_DONE)
		return r;
	for (unsigned i = 0; i < n; i++)
		gwalk_set_ad(s->walk, &p[i].x, access);
	r = transfer(s, p, n);
	if (r != STRIO_DONE)
		return r;
	set_reg(index, s->df ? *index - s->size : *index + s->size, s->addr_size);
	return STRIO_DONE;
}

enum strio_result strio_run(struct strio *s)
{
	uint64_t amask = mask_of(s->addr_size);

	if (s->rep && !(s->rcx & amask))
		return STRIO_DONE;
	for (unsigned done = 1;; done++) {
		enum strio_result r = one_element(s);
		if (r != STRIO_DONE || !s->rep)
			return r;
		set_reg(&s->rcx, s->rcx - 1, s->addr_size);
		if (!(s->rcx & amask))
			return STRIO_DONE;
		if (done >= s->budget)
			return STRIO_MORE;
	}
}
