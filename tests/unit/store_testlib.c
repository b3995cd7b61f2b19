/* Datastore test helpers; see store_testlib.h. */
#include "tests/unit/store_testlib.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

struct store *tl_open(struct memdev *m)
{
	struct store *s = NULL;
	char err[160] = "";
	int rc = store_open(&s, &m->bd, 0, m->bd.blocks, &memdev_env, err, sizeof(err));

	cr_assert_eq(rc, STORE_OK, "store_open: %s (%s)", store_status_name(rc), err);
	return s;
}

struct store *tl_format_open(struct memdev *m)
{
	char err[160] = "";
	int rc = store_format(&m->bd, 0, m->bd.blocks, &memdev_env, err, sizeof(err));

	cr_assert_eq(rc, STORE_OK, "store_format: %s", err);
	return tl_open(m);
}

int tl_open_fails(struct memdev *m, char *err, size_t errlen)
{
	struct store *s = NULL;
	int rc = store_open(&s, &m->bd, 0, m->bd.blocks, &memdev_env, err, errlen);

	cr_assert_neq(rc, STORE_OK, "store_open succeeded");
	cr_assert_null(s);
	return rc;
}

void tl_create(struct store *s, const char *name, uint64_t size, const char *base)
{
	char err[160] = "";
	int rc = store_disk_create(s, name, size, base, err, sizeof(err));

	cr_assert_eq(rc, STORE_OK, "create %s: %s", name, err);
}

struct store_disk *tl_disk_open(struct store *s, const char *name, bool writable)
{
	struct store_disk *d = NULL;
	char err[160] = "";
	int rc = store_disk_open(s, name, writable, &d, err, sizeof(err));

	cr_assert_eq(rc, STORE_OK, "open %s: %s", name, err);
	return d;
}

uint8_t tl_pattern(uint32_t seed, uint64_t off)
{
	uint64_t x = (off + 1) * 0x9e3779b97f4a7c15ull ^ (uint64_t)seed * 0xbf58476d1ce4e5b9ull;

	if (seed == 0)
		return 0;
	x ^= x >> 29;
	return (uint8_t)(x ^ (x >> 17));
}

int tl_read(struct store_disk *d, uint64_t off, void *buf, size_t len)
{
	struct store_iov v = { buf, len };

	return store_disk_read(d, off, &v, 1);
}

int tl_write(struct store_disk *d, uint64_t off, const void *buf, size_t len)
{
	struct store_iov v = { (void *)buf, len };

	return store_disk_write(d, off, &v, 1);
}

int tl_write_pattern(struct store_disk *d, uint64_t off, uint64_t len, uint32_t seed)
{
	uint8_t *buf = malloc(len);

	for (uint64_t i = 0; i < len; i++)
		buf[i] = tl_pattern(seed, off + i);
	int rc = tl_write(d, off, buf, len);
	free(buf);
	return rc;
}

bool tl_check_pattern(struct store_disk *d, uint64_t off, uint64_t len, uint32_t seed)
{
	uint8_t *buf = malloc(len);
	bool ok = tl_read(d, off, buf, len) == STORE_OK;

	for (uint64_t i = 0; ok && i < len; i++)
		ok = buf[i] == tl_pattern(seed, off + i);
	free(buf);
	return ok;
}

void tl_collect(void *ctx, const char *problem)
{
	struct tl_reports *r = ctx;

	if (r->n < 64)
		strncpy(r->lines[r->n], problem, sizeof(r->lines[0]) - 1);
	r->n++;
}

bool tl_has(const struct tl_reports *r, const char *needle)
{
	for (unsigned i = 0; i < r->n && i < 64; i++)
		if (strstr(r->lines[i], needle))
			return true;
	return false;
}

void tl_crash(struct memdev *m, struct store *s, struct store_disk **handles, unsigned n,
	      uint64_t *rng)
{
	m->fail_after = 0;
	for (unsigned i = 0; i < n; i++)
		store_disk_close(handles[i]);
	(void)store_close(s);
	memdev_crash(m, rng);
}
