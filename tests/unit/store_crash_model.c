/* The crash test's expectations; see store_crash_model.h. */
#include "tests/unit/store_crash_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECTOR 512u

void model_init(struct model *m)
{
	memset(m, 0, sizeof(*m));
	m->next_token = 1;
}

void model_remove(struct model *m, int i)
{
	free(m->disks[i].durable);
	memset(&m->disks[i], 0, sizeof(m->disks[i]));
}

void model_free(struct model *m)
{
	for (int i = 0; i < MODEL_DISKS; i++)
		model_remove(m, i);
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 31;
	x *= 0x7fb5d329728ea185ull;
	x ^= x >> 27;
	x *= 0x81dadef4bc2dd44dull;
	return x ^ (x >> 33);
}

void store_model_fill(uint64_t token, uint64_t sector, uint8_t *out)
{
	uint64_t *w = (uint64_t *)out;

	if (!token) {
		memset(out, 0, SECTOR);
		return;
	}
	w[0] = token;
	w[1] = sector;
	for (unsigned k = 2; k < SECTOR / 8; k++)
		w[k] = mix(token * 1000003 + sector * 131 + k);
}

int model_new_slot(const struct model *m)
{
	for (int i = 0; i < MODEL_DISKS; i++)
		if (m->disks[i].state == MODEL_ABSENT)
			return i;
	return -1;
}

void model_add(struct model *m, int i, const char *name, uint64_t size, int parent, bool base)
{
	struct model_disk *d = &m->disks[i];

	d->state = MODEL_PRESENT;
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->base = base;
	d->parent = parent;
	d->sectors = size / SECTOR;
	d->durable = calloc(d->sectors, 8);
	d->handle = NULL;
	if (parent >= 0) {
		const struct model_disk *p = &m->disks[parent];
		for (uint64_t s = 0; s < p->sectors && s < d->sectors; s++)
			d->durable[s] = model_current(m, (unsigned)parent, s);
	}
}

void model_write(struct model *m, unsigned disk, uint64_t first, uint64_t count, uint64_t token)
{
	if (m->nwrites == MODEL_WRITES) {
		fprintf(stderr, "model: too many writes between flushes\n");
		abort();
	}
	m->writes[m->nwrites++] = (struct model_write){ disk, first, count, token };
}

uint64_t model_current(const struct model *m, unsigned disk, uint64_t sector)
{
	for (unsigned k = m->nwrites; k-- > 0;) {
		const struct model_write *w = &m->writes[k];
		if (w->disk == disk && sector >= w->first && sector < w->first + w->count)
			return w->token;
	}
	return m->disks[disk].durable[sector];
}

void model_durable(struct model *m)
{
	for (unsigned k = 0; k < m->nwrites; k++) {
		const struct model_write *w = &m->writes[k];
		for (uint64_t s = w->first; s < w->first + w->count; s++)
			m->disks[w->disk].durable[s] = w->token;
	}
	m->nwrites = 0;
}

void model_snapshot(struct model *m, int a, int b, const char *base_name)
{
	model_add(m, b, base_name, m->disks[a].sectors * SECTOR, a, true);
	m->disks[b].parent = m->disks[a].parent;
}

static bool allowed(const struct model *m, unsigned disk, uint64_t s, uint64_t token)
{
	if (m->disks[disk].durable[s] == token)
		return true;
	for (unsigned k = 0; k < m->nwrites; k++) {
		const struct model_write *w = &m->writes[k];
		if (w->disk == disk && w->token == token && s >= w->first && s < w->first + w->count)
			return true;
	}
	return false;
}

bool model_verify(struct model *m, unsigned i, struct store_disk *h, char *why, size_t whylen)
{
	struct model_disk *d = &m->disks[i];
	uint64_t bytes = d->sectors * SECTOR;
	static uint8_t buf[MODEL_MAX_SECTORS * SECTOR];
	uint8_t expect[SECTOR];
	struct store_iov v = { buf, bytes };
	bool ok = d->sectors <= MODEL_MAX_SECTORS;
	int rc = ok ? store_disk_read(h, 0, &v, 1) : STORE_EINVAL;

	if (rc) {
		snprintf(why, whylen, "disk %s: read: %s", d->name, store_status_name(rc));
		ok = false;
	}
	for (uint64_t s = 0; ok && s < d->sectors; s++) {
		uint64_t token;
		memcpy(&token, buf + s * SECTOR, 8);
		store_model_fill(token, s, expect);
		if (memcmp(expect, buf + s * SECTOR, SECTOR) || !allowed(m, i, s, token)) {
			snprintf(why, whylen,
				 "disk %s sector %llu: found token %llu, durable %llu, latest %llu",
				 d->name, (unsigned long long)s, (unsigned long long)token,
				 (unsigned long long)d->durable[s],
				 (unsigned long long)model_current(m, i, s));
			ok = false;
		}
		d->durable[s] = token;
	}
	return ok;
}
