#include "hv/mm/palloc.h"

#include "hv/lib/bitmap.h"
#include "hv/lib/string.h"

#define NBITMAPS 4

static size_t pfn(uint64_t addr)
{
	return (size_t)(addr >> PAGE_SHIFT);
}

static bool range_has_listed(const uint64_t *list, size_t n, size_t first, size_t count)
{
	for (size_t i = 0; i < n; i++)
		if (pfn(list[i]) >= first && pfn(list[i]) < first + count)
			return true;
	return false;
}

/* Finds 'pages' consecutive free frames for the bitmaps, above low memory
 * and clear of retired frames. */
static uint64_t carve_metadata(const struct mem_region *r, size_t n, size_t pages,
			       const uint64_t *retired, size_t nretired)
{
	for (size_t i = 0; i < n; i++) {
		if (r[i].kind != MEM_FREE)
			continue;
		uint64_t start = r[i].base, end = r[i].base + r[i].pages * PAGE_SIZE;
		if (start < PALLOC_LOW_RESERVE)
			start = PALLOC_LOW_RESERVE;
		/* Take from the top of the region; step down past retired frames. */
		while (end > start && (end - start) / PAGE_SIZE >= pages) {
			uint64_t base = end - pages * PAGE_SIZE;
			if (!range_has_listed(retired, nretired, pfn(base), pages))
				return base;
			end -= PAGE_SIZE;
		}
	}
	return 0;
}

static bool in_deferred_region(const struct palloc *pa, size_t f)
{
	if (pa->deferred_released)
		return false;
	for (size_t i = 0; i < pa->nregions; i++) {
		const struct mem_region *r = &pa->regions[i];
		if (r->kind == MEM_BOOT_SERVICES && f >= pfn(r->base) && f < pfn(r->base) + r->pages)
			return true;
	}
	return false;
}

/* Low frames stay with the hypervisor (real-mode trampolines, legacy DMA). */
static bool held_low(size_t f)
{
	return f < pfn(PALLOC_LOW_RESERVE);
}

static void make_free(struct palloc *pa, size_t f)
{
	bitmap_clear(pa->busy, f);
	pa->stats.free++;
}

bool palloc_init(struct palloc *pa, const struct mem_region *regions, size_t nregions,
		 const uint64_t *retired, size_t nretired, phys_to_virt_fn p2v)
{
	size_t npages = 0;

	memset(pa, 0, sizeof(*pa));
	for (size_t i = 0; i < nregions; i++) {
		if (!mem_kind_is_usable(regions[i].kind))
			continue;
		size_t end = pfn(regions[i].base) + (size_t)regions[i].pages;
		if (end > npages)
			npages = end;
	}
	if (!npages)
		return false;

	size_t words = BITMAP_WORDS(npages);
	size_t meta_pages = (NBITMAPS * words * sizeof(uint64_t) + PAGE_SIZE - 1) / PAGE_SIZE;
	uint64_t meta = carve_metadata(regions, nregions, meta_pages, retired, nretired);
	if (!meta)
		return false;

	pa->p2v = p2v;
	pa->regions = regions;
	pa->nregions = nregions;
	pa->npages = npages;
	pa->busy = p2v(meta);
	pa->ram = pa->busy + words;
	pa->retired = pa->ram + words;
	pa->pending = pa->retired + words;
	memset(pa->busy, 0xff, words * sizeof(uint64_t));
	memset(pa->ram, 0, (NBITMAPS - 1) * words * sizeof(uint64_t));

	for (size_t i = 0; i < nregions; i++) {
		const struct mem_region *r = &regions[i];
		if (!mem_kind_is_usable(r->kind))
			continue;
		bitmap_set_range(pa->ram, pfn(r->base), (size_t)r->pages);
		pa->stats.managed += r->pages;
		if (r->kind == MEM_BOOT_SERVICES) {
			pa->stats.deferred += r->pages;
			continue;
		}
		if (r->kind == MEM_HV) {
			pa->stats.used += r->pages;
			continue;
		}
		for (size_t f = pfn(r->base); f < pfn(r->base) + r->pages; f++) {
			if (held_low(f) || (f >= pfn(meta) && f < pfn(meta) + meta_pages))
				pa->stats.used++;
			else
				make_free(pa, f);
		}
	}

	for (size_t i = 0; i < nretired; i++)
		palloc_retire(pa, retired[i]);
	return true;
}

void palloc_release_deferred(struct palloc *pa)
{
	if (pa->deferred_released)
		return;
	for (size_t i = 0; i < pa->nregions; i++) {
		const struct mem_region *r = &pa->regions[i];
		if (r->kind != MEM_BOOT_SERVICES)
			continue;
		for (size_t f = pfn(r->base); f < pfn(r->base) + r->pages; f++) {
			if (bitmap_test(pa->retired, f))
				continue; /* left the deferred count when retired */
			pa->stats.deferred--;
			if (held_low(f))
				pa->stats.used++;
			else
				make_free(pa, f);
		}
	}
	pa->deferred_released = true;
}

static uint64_t take(struct palloc *pa, size_t first, size_t count)
{
	bitmap_set_range(pa->busy, first, count);
	pa->stats.free -= count;
	pa->stats.used += count;
	return (uint64_t)first << PAGE_SHIFT;
}

uint64_t palloc_alloc(struct palloc *pa)
{
	size_t f = bitmap_next_clear(pa->busy, pa->npages, pa->hint);

	if (f == BITMAP_NONE)
		f = bitmap_next_clear(pa->busy, pa->npages, 0);
	if (f == BITMAP_NONE)
		return 0;
	pa->hint = f + 1;
	return take(pa, f, 1);
}

uint64_t palloc_alloc_zeroed(struct palloc *pa)
{
	uint64_t addr = palloc_alloc(pa);

	if (addr)
		memset(pa->p2v(addr), 0, PAGE_SIZE);
	return addr;
}

uint64_t palloc_alloc_contig(struct palloc *pa, size_t npages, size_t align_pages)
{
	if (npages == 0 || align_pages == 0 || (align_pages & (align_pages - 1)))
		return 0;

	size_t f = bitmap_find_clear_run(pa->busy, pa->npages, 1, npages, align_pages);
	if (f == BITMAP_NONE)
		return 0;
	return take(pa, f, npages);
}

/* In use: RAM, busy, and neither idle-retired nor still deferred. */
static bool in_use(const struct palloc *pa, size_t f)
{
	if (f >= pa->npages || !bitmap_test(pa->ram, f) || !bitmap_test(pa->busy, f))
		return false;
	if (bitmap_test(pa->retired, f))
		return bitmap_test(pa->pending, f);
	return !in_deferred_region(pa, f);
}

bool palloc_free(struct palloc *pa, uint64_t addr)
{
	return palloc_free_contig(pa, addr, 1);
}

bool palloc_free_contig(struct palloc *pa, uint64_t addr, size_t npages)
{
	if (addr & PAGE_MASK || npages == 0)
		return false;
	for (size_t i = 0; i < npages; i++)
		if (pfn(addr) + i == 0 || held_low(pfn(addr) + i) || !in_use(pa, pfn(addr) + i))
			return false;
	for (size_t i = 0; i < npages; i++) {
		size_t f = pfn(addr) + i;
		pa->stats.used--;
		if (bitmap_test(pa->pending, f)) {
			/* The retirement that waited for the owner completes. */
			bitmap_clear(pa->pending, f);
			pa->stats.retire_pending--;
			pa->stats.retired++;
			continue;
		}
		make_free(pa, f);
	}
	return true;
}

enum palloc_retire_result palloc_retire(struct palloc *pa, uint64_t addr)
{
	size_t f = pfn(addr);

	if (f >= pa->npages || !bitmap_test(pa->ram, f))
		return PALLOC_NOT_RAM;
	if (bitmap_test(pa->retired, f))
		return PALLOC_ALREADY_RETIRED;
	bool was_in_use = in_use(pa, f);
	bitmap_set(pa->retired, f);
	if (!bitmap_test(pa->busy, f)) {
		bitmap_set(pa->busy, f);
		pa->stats.free--;
		pa->stats.retired++;
		return PALLOC_RETIRED_FREE;
	}
	if (!was_in_use) {
		/* A boot-services page not yet released: nobody owns it. */
		pa->stats.deferred--;
		pa->stats.retired++;
		return PALLOC_RETIRED_FREE;
	}
	bitmap_set(pa->pending, f);
	pa->stats.retire_pending++;
	return PALLOC_RETIRED_IN_USE;
}

bool palloc_unretire(struct palloc *pa, uint64_t addr)
{
	size_t f = pfn(addr);

	if (f >= pa->npages || !bitmap_test(pa->retired, f))
		return false;
	bitmap_clear(pa->retired, f);
	if (bitmap_test(pa->pending, f)) {
		bitmap_clear(pa->pending, f);
		pa->stats.retire_pending--;
		return true;
	}
	pa->stats.retired--;
	if (in_deferred_region(pa, f)) {
		pa->stats.deferred++;
		return true;
	}
	if (held_low(f)) {
		pa->stats.used++;
		return true;
	}
	make_free(pa, f);
	return true;
}

bool palloc_is_retired(const struct palloc *pa, uint64_t addr)
{
	size_t f = pfn(addr);

	return f < pa->npages && bitmap_test(pa->retired, f);
}

bool palloc_is_free(const struct palloc *pa, uint64_t addr)
{
	size_t f = pfn(addr);

	return f < pa->npages && !bitmap_test(pa->busy, f);
}

size_t palloc_retired_list(const struct palloc *pa, uint64_t *out, size_t max)
{
	size_t n = 0;

	bitmap_for_each_set(f, pa->retired, pa->npages) {
		if (n < max)
			out[n] = (uint64_t)f << PAGE_SHIFT;
		n++;
	}
	return n;
}
