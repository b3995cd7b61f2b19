/* Physical page allocator.
 *
 * One bit per 4 KiB page frame for "not available" (allocated, not RAM,
 * retired), one for "RAM the allocator manages" and one for "retired".
 * A retired page never comes back into service: freeing it later (when it
 * was retired while in use) only drops it from the in-use count. Page frame 0
 * is never handed out, so a physical address of 0 means failure. */
#ifndef HV_MM_PALLOC_H
#define HV_MM_PALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/mm/memmap.h"

typedef void *(*phys_to_virt_fn)(uint64_t pa);

struct palloc_stats {
	uint64_t managed;  /* usable RAM pages, including retired ones */
	uint64_t free;
	uint64_t used;     /* handed out or held by the hypervisor */
	uint64_t retired;  /* out of service for good and not in use */
	uint64_t retire_pending; /* retired while in use (counted in used) */
	uint64_t deferred; /* boot-services pages not yet released */
};

struct palloc {
	uint64_t *busy;    /* 1: not available for allocation */
	uint64_t *ram;     /* 1: managed RAM */
	uint64_t *retired; /* 1: retired */
	uint64_t *pending; /* 1: retired while still in use */
	size_t npages;     /* frames covered by the bitmaps */
	size_t hint;       /* next-fit start for single pages */
	struct palloc_stats stats;
	phys_to_virt_fn p2v;
	const struct mem_region *regions;
	size_t nregions;
	bool deferred_released;
};

enum palloc_retire_result {
	PALLOC_RETIRED_FREE,    /* was free: gone for good */
	PALLOC_RETIRED_IN_USE,  /* owner keeps it until freed; never reused */
	PALLOC_ALREADY_RETIRED,
	PALLOC_NOT_RAM,
};

#define PALLOC_LOW_RESERVE (1ull << 20) /* below 1 MiB stays with hv */

/* Builds the allocator from a memory map. Bitmaps are carved from the first
 * suitable free region (never from a page in 'retired'). Pages listed in
 * 'retired' are retired before anything is handed out. MEM_BOOT_SERVICES
 * regions stay busy until palloc_release_deferred().
 * @pre regions sorted or not, non-overlapping, page aligned.
 * Returns false when no region can hold the bitmaps. */
bool palloc_init(struct palloc *pa, const struct mem_region *regions, size_t nregions,
		 const uint64_t *retired, size_t nretired, phys_to_virt_fn p2v);

/* Makes MEM_BOOT_SERVICES pages free (once). */
void palloc_release_deferred(struct palloc *pa);

uint64_t palloc_alloc(struct palloc *pa);
uint64_t palloc_alloc_zeroed(struct palloc *pa);
/* 'align_pages' must be a power of two. */
uint64_t palloc_alloc_contig(struct palloc *pa, size_t npages, size_t align_pages);

/* @pre addr was returned by an alloc call and not freed since.
 * Returns false (and changes nothing) on a double free or foreign address. */
bool palloc_free(struct palloc *pa, uint64_t addr);
bool palloc_free_contig(struct palloc *pa, uint64_t addr, size_t npages);

enum palloc_retire_result palloc_retire(struct palloc *pa, uint64_t addr);
/* Operator override: puts a retired page back into service. Returns false
 * if it was not retired. A page retired while in use comes back as in use. */
bool palloc_unretire(struct palloc *pa, uint64_t addr);
bool palloc_is_retired(const struct palloc *pa, uint64_t addr);
bool palloc_is_free(const struct palloc *pa, uint64_t addr);

/* Retired page addresses in ascending order; returns the total count (which
 * may exceed 'max'). */
size_t palloc_retired_list(const struct palloc *pa, uint64_t *out, size_t max);

#endif
