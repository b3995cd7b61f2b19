/* Helpers for the device state blob tests (test_*_state.c): patching
 * fields of a blob, checking refusals, a transcript of what a device
 * answers, and a small deterministic random source. */
#ifndef TESTS_UNIT_STATE_TEST_H
#define TESTS_UNIT_STATE_TEST_H

#include <criterion/criterion.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* One field of a crafted blob: 'width' bytes (1, 2, 4, 8) little endian. */
struct st_patch {
	unsigned off, width;
	uint64_t value;
};

/* A refusal case: up to three patches applied to a valid blob, and the
 * error text the load must give (a substring). */
struct st_case {
	struct st_patch p[3];
	const char *want;
};

static inline void st_apply(uint8_t *blob, const struct st_patch *p)
{
	for (unsigned i = 0; i < p->width; i++)
		blob[p->off + i] = (uint8_t)(p->value >> (8 * i));
}

static inline void st_apply_case(uint8_t *blob, const struct st_case *c)
{
	for (unsigned i = 0; i < 3; i++)
		if (c->p[i].width)
			st_apply(blob, &c->p[i]);
}

static inline void st_assert_error(int rc, const char *err, const char *want)
{
	cr_assert_eq(rc, -1, "refused (want \"%s\")", want);
	cr_assert(strstr(err, want), "error \"%s\" does not contain \"%s\"", err, want);
}

/* What a device answered, in order: two runs must give the same. */
struct st_transcript {
	uint64_t v[512];
	unsigned n;
};

static inline void st_note(struct st_transcript *t, uint64_t v)
{
	cr_assert_lt(t->n, 512u);
	t->v[t->n++] = v;
}

static inline void st_assert_same(const struct st_transcript *a, const struct st_transcript *b)
{
	cr_assert_eq(a->n, b->n, "%u answers versus %u", a->n, b->n);
	for (unsigned i = 0; i < a->n; i++)
		cr_assert_eq(a->v[i], b->v[i], "answer %u: 0x%llx versus 0x%llx", i,
			     (unsigned long long)a->v[i], (unsigned long long)b->v[i]);
}

/* xorshift64: the same sequence on every run. */
static inline uint64_t st_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

#endif
