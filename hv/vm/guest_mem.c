#include "hv/vm/guest_mem.h"

#include "hv/lib/string.h"

static void *host_ptr(const struct guest_mem *m, uint64_t hpa)
{
	return m->host.p2v(m->host.ctx, hpa);
}

static uint64_t take(struct guest_mem *m, size_t pages, size_t align)
{
	uint64_t pa = m->host.alloc_contig(m->host.ctx, pages, align);

	if (pa)
		m->host_pages += pages;
	return pa;
}

static void give_back(struct guest_mem *m, uint64_t pa, size_t pages)
{
	m->host.free_contig(m->host.ctx, pa, pages);
	m->host_pages -= pages;
}

static size_t pages_in(const struct guest_mem *m, size_t chunk)
{
	uint64_t left = m->size - (uint64_t)chunk * GMEM_CHUNK_SIZE;

	return (size_t)((left >= GMEM_CHUNK_SIZE ? GMEM_CHUNK_SIZE : left) / GMEM_PAGE);
}

static void free_chunk(struct guest_mem *m, struct gmem_chunk *c, size_t n)
{
	if (c->pages) {
		for (size_t i = 0; i < n; i++)
			if (c->pages[i])
				give_back(m, c->pages[i], 1);
		give_back(m, c->hpa, 1);
		c->pages = NULL;
	} else if (c->hpa) {
		give_back(m, c->hpa, n);
	}
	c->hpa = 0;
}

/* Per-page form: one page for the address array, then each page. */
static bool alloc_paged_chunk(struct guest_mem *m, struct gmem_chunk *c, size_t n)
{
	c->hpa = take(m, 1, 1);
	if (!c->hpa)
		return false;
	c->pages = host_ptr(m, c->hpa);
	memset(c->pages, 0, GMEM_PAGE);
	for (size_t i = 0; i < n; i++) {
		c->pages[i] = take(m, 1, 1);
		if (!c->pages[i])
			return false; /* the caller frees the partial chunk */
	}
	return true;
}

bool gmem_alloc(struct guest_mem *m, uint64_t size, const struct gmem_host *host)
{
	memset(m, 0, sizeof(*m));
	m->host = *host;
	if (!size || (size & (GMEM_PAGE - 1)))
		return false;
	m->size = size;
	m->nchunks = (size_t)((size + GMEM_CHUNK_SIZE - 1) / GMEM_CHUNK_SIZE);
	m->chunks_pages = (m->nchunks * sizeof(struct gmem_chunk) + GMEM_PAGE - 1) / GMEM_PAGE;
	m->chunks_pa = take(m, m->chunks_pages, 1);
	if (!m->chunks_pa)
		return false;
	m->chunks = host_ptr(m, m->chunks_pa);
	memset(m->chunks, 0, m->chunks_pages * GMEM_PAGE);

	for (size_t i = 0; i < m->nchunks; i++) {
		struct gmem_chunk *c = &m->chunks[i];
		size_t n = pages_in(m, i);
		if (n == GMEM_CHUNK_PAGES)
			c->hpa = take(m, n, GMEM_CHUNK_PAGES);
		if (!c->hpa && !alloc_paged_chunk(m, c, n)) {
			gmem_free(m);
			return false;
		}
	}
	return true;
}

void gmem_free(struct guest_mem *m)
{
	if (!m->chunks)
		return;
	for (size_t i = 0; i < m->nchunks; i++)
		free_chunk(m, &m->chunks[i], pages_in(m, i));
	give_back(m, m->chunks_pa, m->chunks_pages);
	m->chunks = NULL;
}

uint64_t gmem_hpa(const struct guest_mem *m, uint64_t gpa)
{
	if (gpa >= m->size)
		return 0;
	const struct gmem_chunk *c = &m->chunks[gpa / GMEM_CHUNK_SIZE];
	if (c->pages)
		return c->pages[(gpa % GMEM_CHUNK_SIZE) / GMEM_PAGE] + (gpa % GMEM_PAGE);
	return c->hpa + (gpa % GMEM_CHUNK_SIZE);
}

uint64_t gmem_contig(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	if (gpa >= m->size)
		return 0;
	if (len > m->size - gpa)
		len = m->size - gpa;
	const struct gmem_chunk *c = &m->chunks[gpa / GMEM_CHUNK_SIZE];
	uint64_t in_chunk = gpa % GMEM_CHUNK_SIZE, got;
	if (!c->pages) {
		got = GMEM_CHUNK_SIZE - in_chunk;
	} else {
		size_t k = in_chunk / GMEM_PAGE;
		got = GMEM_PAGE - gpa % GMEM_PAGE;
		while (got < len && k + 1 < GMEM_CHUNK_PAGES &&
		       c->pages[k + 1] == c->pages[k] + GMEM_PAGE) {
			got += GMEM_PAGE;
			k++;
		}
	}
	return got < len ? got : len;
}

uint64_t gmem_gpa_of(const struct guest_mem *m, uint64_t hpa)
{
	hpa &= ~(GMEM_PAGE - 1);
	for (size_t i = 0; i < m->nchunks; i++) {
		const struct gmem_chunk *c = &m->chunks[i];
		uint64_t base = i * GMEM_CHUNK_SIZE, gpa = GMEM_NO_GPA;
		if (!c->pages) {
			if (hpa >= c->hpa && hpa - c->hpa < GMEM_CHUNK_SIZE)
				gpa = base + (hpa - c->hpa);
		} else {
			for (size_t k = 0; k < GMEM_CHUNK_PAGES && gpa == GMEM_NO_GPA; k++)
				if (c->pages[k] == hpa)
					gpa = base + k * GMEM_PAGE;
		}
		if (gpa != GMEM_NO_GPA)
			return gpa < m->size ? gpa : GMEM_NO_GPA;
	}
	return GMEM_NO_GPA;
}

void *gmem_ptr(const struct guest_mem *m, uint64_t gpa)
{
	uint64_t hpa = gmem_hpa(m, gpa);

	return hpa ? host_ptr(m, hpa) : NULL;
}

bool gmem_contains(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	return gpa < m->size && len <= m->size - gpa;
}

enum span_op { SPAN_READ, SPAN_WRITE, SPAN_FILL };

/* Copies page by page: consecutive guest pages need not be adjacent. */
static bool spans(const struct guest_mem *m, uint64_t gpa, uint8_t *buf, int byte, size_t len,
		  enum span_op op)
{
	if (!gmem_contains(m, gpa, len))
		return false;
	while (len) {
		size_t n = (size_t)(GMEM_PAGE - (gpa % GMEM_PAGE));
		if (n > len)
			n = len;
		uint64_t gfn = gpa / GMEM_PAGE;
		if (m->poisoned && (m->poisoned[gfn / 64] & (1ull << (gfn % 64))))
			return false; /* reading it would raise a machine check here */
		void *host = gmem_ptr(m, gpa);
		if (op == SPAN_READ)
			memcpy(buf, host, n);
		else if (op == SPAN_WRITE)
			memcpy(host, buf, n);
		else
			memset(host, byte, n);
		if (buf)
			buf += n;
		gpa += n;
		len -= n;
	}
	return true;
}

bool gmem_read(const struct guest_mem *m, uint64_t gpa, void *buf, size_t len)
{
	return spans(m, gpa, buf, 0, len, SPAN_READ);
}

bool gmem_write(const struct guest_mem *m, uint64_t gpa, const void *buf, size_t len)
{
	return spans(m, gpa, (uint8_t *)buf, 0, len, SPAN_WRITE);
}

bool gmem_fill(const struct guest_mem *m, uint64_t gpa, int byte, size_t len)
{
	return spans(m, gpa, NULL, byte, len, SPAN_FILL);
}

int gmem_map_all(const struct guest_mem *m, struct pagetable *pt)
{
	for (size_t i = 0; i < m->nchunks; i++) {
		const struct gmem_chunk *c = &m->chunks[i];
		uint64_t gpa = (uint64_t)i * GMEM_CHUNK_SIZE;
		size_t n = pages_in(m, i);
		int err;

		if (!c->pages) {
			err = pt_map(pt, gpa, c->hpa, n * GMEM_PAGE, PT_RWX, PT_MT_WB, PT_MAP_ANY);
			if (err)
				return err;
			continue;
		}
		for (size_t p = 0; p < n; p++) {
			err = pt_map(pt, gpa + p * GMEM_PAGE, c->pages[p], GMEM_PAGE, PT_RWX, PT_MT_WB,
				     PT_MAP_4K);
			if (err)
				return err;
		}
	}
	return PT_OK;
}

bool gmem_split_chunk(struct guest_mem *m, size_t chunk)
{
	struct gmem_chunk *c = &m->chunks[chunk];

	if (c->pages)
		return true;
	uint64_t arr = take(m, 1, 1);
	if (!arr)
		return false;
	uint64_t *pages = host_ptr(m, arr);
	memset(pages, 0, GMEM_PAGE);
	for (size_t i = 0; i < pages_in(m, chunk); i++)
		pages[i] = c->hpa + i * GMEM_PAGE;
	c->pages = pages;
	c->hpa = arr;
	return true;
}
