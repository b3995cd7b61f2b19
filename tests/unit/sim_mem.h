/* Simulated physical memory for host tests: "physical address" = offset
 * into one aligned arena. */
#ifndef TESTS_UNIT_SIM_MEM_H
#define TESTS_UNIT_SIM_MEM_H

#include <stddef.h>
#include <stdint.h>

struct sim_mem {
	uint8_t *base;
	size_t size;
	/* a trivial page pool for page-table tests */
	uint64_t next_free;
	uint64_t *free_stack;
	size_t free_count, free_cap;
	size_t live_pages;
};

void sim_init(struct sim_mem *m, size_t size);
void sim_destroy(struct sim_mem *m);
void *sim_p2v(struct sim_mem *m, uint64_t pa);

/* Page pool over [pool_start, size). */
void sim_pool_init(struct sim_mem *m, uint64_t pool_start);
uint64_t sim_pool_alloc_zeroed(void *ctx);
void sim_pool_free(void *ctx, uint64_t pa);
void *sim_pool_p2v(void *ctx, uint64_t pa);

/* For palloc, whose p2v takes no context: one global arena. */
extern struct sim_mem *sim_global;
void *sim_global_p2v(uint64_t pa);

#endif
