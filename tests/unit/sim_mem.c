#include "sim_mem.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

struct sim_mem *sim_global;

void sim_init(struct sim_mem *m, size_t size)
{
	memset(m, 0, sizeof(*m));
	m->base = aligned_alloc(4096, size);
	cr_assert_not_null(m->base);
	memset(m->base, 0xa5, size); /* garbage, as real memory would hold */
	m->size = size;
	sim_global = m;
}

void sim_destroy(struct sim_mem *m)
{
	free(m->base);
	free(m->free_stack);
	memset(m, 0, sizeof(*m));
}

void *sim_p2v(struct sim_mem *m, uint64_t pa)
{
	cr_assert(pa < m->size, "physical address 0x%lx outside the arena", (unsigned long)pa);
	return m->base + pa;
}

void *sim_global_p2v(uint64_t pa)
{
	return sim_p2v(sim_global, pa);
}

void sim_pool_init(struct sim_mem *m, uint64_t pool_start)
{
	m->next_free = pool_start;
	m->free_cap = 1024;
	m->free_stack = calloc(m->free_cap, sizeof(uint64_t));
}

uint64_t sim_pool_alloc_zeroed(void *ctx)
{
	struct sim_mem *m = ctx;
	uint64_t pa;

	if (m->free_count)
		pa = m->free_stack[--m->free_count];
	else if (m->next_free + 4096 <= m->size) {
		pa = m->next_free;
		m->next_free += 4096;
	} else
		return 0;
	memset(m->base + pa, 0, 4096);
	m->live_pages++;
	return pa;
}

void sim_pool_free(void *ctx, uint64_t pa)
{
	struct sim_mem *m = ctx;

	cr_assert(m->live_pages > 0, "freeing more pages than were allocated");
	if (m->free_count == m->free_cap) {
		m->free_cap *= 2;
		m->free_stack = realloc(m->free_stack, m->free_cap * sizeof(uint64_t));
	}
	memset(m->base + pa, 0x5a, 4096); /* poison: use after free shows */
	m->free_stack[m->free_count++] = pa;
	m->live_pages--;
}

void *sim_pool_p2v(void *ctx, uint64_t pa)
{
	return sim_p2v(ctx, pa);
}
