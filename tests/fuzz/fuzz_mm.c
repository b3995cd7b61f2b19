/* The hypervisor's heap and page allocator for host-built drivers (see
 * fuzz_env.h): every block comes from malloc, so ASan sees the exact
 * bounds of each ring and object, and is tracked so a fuzz case can free
 * what the driver never gives back. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hv/mm/mm.h"
#include "tests/fuzz/fuzz_env.h"

#define MAX_LIVE 4096

void (*fuzz_pages_hook)(void);

static void *live[MAX_LIVE];
static size_t nlive;

static void *track(void *p)
{
	if (p && nlive == MAX_LIVE)
		abort(); /* the harness leaks: raise MAX_LIVE or release more often */
	if (p)
		live[nlive++] = p;
	return p;
}

static void untrack(void *p)
{
	for (size_t i = nlive; i-- > 0;)
		if (live[i] == p) {
			live[i] = live[--nlive];
			return;
		}
	abort(); /* freeing what was not allocated here */
}

void *kmalloc(size_t size)
{
	return track(malloc(size ? size : 1));
}

void *kzalloc(size_t size)
{
	return track(calloc(1, size ? size : 1));
}

void kfree(void *p)
{
	if (!p)
		return;
	untrack(p);
	free(p);
}

uint64_t pages_alloc(size_t n, size_t align_pages)
{
	size_t align = PAGE_SIZE * (align_pages ? align_pages : 1);
	void *p;

	if (fuzz_pages_hook)
		fuzz_pages_hook();
	if (!n || !(p = aligned_alloc(align, n * PAGE_SIZE)))
		return 0;
	memset(p, 0, n * PAGE_SIZE);
	return virt_to_phys(track(p));
}

uint64_t page_alloc(void)
{
	return pages_alloc(1, 1);
}

void pages_free(uint64_t pa, size_t n)
{
	(void)n;
	kfree(phys_to_virt(pa));
}

void page_free(uint64_t pa)
{
	pages_free(pa, 1);
}

/* Device memory in the fuzz targets is the harness's own. */
bool mm_map_mmio(uint64_t pa, uint64_t size)
{
	(void)pa;
	(void)size;
	return true;
}

void fuzz_mm_release_all(void)
{
	while (nlive)
		free(live[--nlive]);
}
