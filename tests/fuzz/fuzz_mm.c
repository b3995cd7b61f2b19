/* The hypervisor's heap and page allocator for host-built drivers (see
 * fuzz_env.h): every block comes from malloc, so ASan sees the exact
 * bounds of each ring and object, and is tracked so a fuzz case can free
 * what the driver never gives back. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sanitizer/asan_interface.h>

#include "hv/mm/mm.h"
#include "tests/fuzz/fuzz_env.h"

#define MAX_LIVE 4096
#define BIG (128 * 1024)
#define KEEP_MAX 256

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

/* Blocks freed are kept for the next request of their size: fresh memory
 * for every input (guest memory, a datastore's metadata) costs more in
 * page faults than the code under test takes. Kept blocks stay poisoned,
 * so a use after free is still reported. */
static struct kept {
	void *p;
	size_t size;
} kept[KEEP_MAX];
static size_t nkept;

void *fuzz_kept_alloc(size_t size, size_t align)
{
	void *p = NULL;

	for (size_t i = 0; i < nkept; i++)
		if (kept[i].size == size && (uintptr_t)kept[i].p % align == 0) {
			p = kept[i].p;
			kept[i] = kept[--nkept];
			ASAN_UNPOISON_MEMORY_REGION(p, size);
			break;
		}
	if (!p && !(p = aligned_alloc(align, (size + align - 1) / align * align)))
		return NULL;
	memset(p, 0, size);
	return p;
}

void fuzz_kept_free(void *p, size_t size)
{
	if (!p)
		return;
	if (nkept == KEEP_MAX) {
		free(p);
		return;
	}
	ASAN_POISON_MEMORY_REGION(p, size);
	kept[nkept++] = (struct kept){ p, size };
}

uint64_t pages_alloc(size_t n, size_t align_pages)
{
	size_t align = PAGE_SIZE * (align_pages ? align_pages : 1), size = n * PAGE_SIZE;
	void *p;

	if (fuzz_pages_hook)
		fuzz_pages_hook();
	if (!n)
		return 0;
	/* Small ones (a driver's rings) go through ASan's quarantine as any
	 * block does. */
	p = size >= BIG ? fuzz_kept_alloc(size, align) : aligned_alloc(align, size);
	if (!p)
		return 0;
	if (size < BIG)
		memset(p, 0, size);
	return virt_to_phys(track(p));
}

uint64_t page_alloc(void)
{
	return pages_alloc(1, 1);
}

void pages_free(uint64_t pa, size_t n)
{
	void *p = phys_to_virt(pa);

	if (!p)
		return;
	untrack(p);
	if (n * PAGE_SIZE >= BIG)
		fuzz_kept_free(p, n * PAGE_SIZE);
	else
		free(p);
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

size_t fuzz_mm_live(void)
{
	return nlive;
}

void fuzz_mm_release_all(void)
{
	while (nlive)
		free(live[--nlive]);
}

size_t mm_reclaim(size_t pages)
{
	(void)pages;
	return 0; /* nothing cached to give back */
}
