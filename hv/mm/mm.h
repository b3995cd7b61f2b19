/* The hypervisor's memory: the global page allocator, the identity-mapped
 * host page tables and a small object heap. Physical and virtual addresses
 * of the hypervisor coincide (identity map), hence phys_to_virt. */
#ifndef HV_MM_MM_H
#define HV_MM_MM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/mm/memmap.h"
#include "hv/mm/palloc.h"

static inline void *phys_to_virt(uint64_t pa)
{
	return (void *)(uintptr_t)pa;
}

static inline uint64_t virt_to_phys(const void *va)
{
	return (uint64_t)(uintptr_t)va;
}

struct boot_info;
struct pt_mem_ops;

/* The global allocator as page-table backing. */
extern const struct pt_mem_ops mm_pt_ops;

/* Builds the allocator (honouring pages retired in an earlier boot), the
 * host page tables, switches to them and releases boot-services memory. */
void mm_init(const struct boot_info *bi, const uint64_t *retired, size_t nretired);

/* For its statistics; changes go through the functions below, which lock. */
const struct palloc *mm_palloc(void);
/* palloc_retire and palloc_unretire under the allocator's lock. */
enum palloc_retire_result mm_retire_page(uint64_t pa);
bool mm_unretire_page(uint64_t pa);

/* A cache of pages that can be given back (migration seeds, migrate/seed.h)
 * registers here. When an allocation finds fewer free pages than it needs,
 * the reclaimer is asked for them and the allocation retried; it returns
 * how many pages it freed (it may free none, say on another CPU than the
 * one that owns the cache). */
void mm_set_reclaimer(size_t (*reclaim)(size_t pages));
size_t mm_reclaim(size_t pages);

uint64_t page_alloc(void);        /* zeroed; 0 when out of memory */
uint64_t pages_alloc(size_t n, size_t align_pages); /* zeroed, contiguous */
void page_free(uint64_t pa);
void pages_free(uint64_t pa, size_t n);

/* Maps device memory (uncached) into the host page tables if not yet
 * covered by the identity map. */
bool mm_map_mmio(uint64_t pa, uint64_t size);

/* Pages the host page tables take. */
size_t mm_host_table_pages(void);

struct mm_heap_stats {
	size_t pages;   /* taken from the page allocator, counted as used */
	size_t bytes;   /* in live objects, rounded up to their size class */
	size_t objects; /* live */
};
void mm_heap_stats(struct mm_heap_stats *out);

void *kmalloc(size_t size);
void *kzalloc(size_t size);
void kfree(void *p);

#endif
