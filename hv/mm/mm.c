#include "hv/mm/mm.h"

#include "boot/bootinfo.h"
#include "hv/core/log.h"
#include "hv/core/panic.h"
#include "hv/lib/string.h"
#include "hv/mm/heap.h"
#include "hv/mm/pagetable.h"
#include "hv/x86/cpu.h"
#include "hv/x86/spinlock.h"

/* Pages first, the heap around them: kmalloc grows by taking pages. */
static struct spinlock pages_lock = SPINLOCK_INIT(LOCK_RANK_PAGES, "pages");
static struct spinlock heap_lock = SPINLOCK_INIT(LOCK_RANK_HEAP, "heap");
static struct palloc allocator;
static struct pagetable host_pt;
static struct heap heap;
static uint64_t identity_limit;

const struct palloc *mm_palloc(void)
{
	return &allocator;
}

static void *p2v_cb(void *ctx, uint64_t pa)
{
	(void)ctx;
	return phys_to_virt(pa);
}

static uint64_t pt_alloc_cb(void *ctx)
{
	(void)ctx;
	return page_alloc();
}

static void pt_free_cb(void *ctx, uint64_t pa)
{
	(void)ctx;
	page_free(pa);
}

static uint64_t alloc_contig(size_t n, size_t align_pages);

/* Under the heap's lock: no reclaim here (a reclaimer frees heap objects);
 * kmalloc asks for it after dropping the lock. Not zeroed: kzalloc zeroes
 * what it hands out, kmalloc never promised to. */
static uint64_t heap_alloc_cb(void *ctx, size_t pages)
{
	(void)ctx;
	return alloc_contig(pages, 1);
}

static void heap_free_cb(void *ctx, uint64_t pa, size_t pages)
{
	(void)ctx;
	pages_free(pa, pages);
}

static uint64_t v2p_cb(void *ctx, const void *va)
{
	(void)ctx;
	return virt_to_phys(va);
}

const struct pt_mem_ops mm_pt_ops = { pt_alloc_cb, pt_free_cb, p2v_cb, NULL };

static void *palloc_p2v(uint64_t pa)
{
	return phys_to_virt(pa);
}

static bool cpu_has_1g_pages(void)
{
	return (cpuid(0x80000001, 0).edx >> 26) & 1;
}

static void build_identity_map(const struct boot_info *bi)
{
	uint64_t top = 4ull << 30;

	for (size_t i = 0; i < bi->memmap_count; i++) {
		uint64_t end = bi->memmap[i].base + bi->memmap[i].pages * PAGE_SIZE;
		if (end > top)
			top = end;
	}
	top = (top + PT_SIZE_1G - 1) & ~(PT_SIZE_1G - 1);

	if (pt_init(&host_pt, &pt_format_x86, &mm_pt_ops) != PT_OK)
		panic("no memory for the host page tables");
	unsigned sizes = PT_MAP_4K | PT_MAP_2M | (cpu_has_1g_pages() ? PT_MAP_1G : 0);
	if (pt_map(&host_pt, 0, 0, top, PT_RWX, PT_MT_WB, sizes) != PT_OK)
		panic("cannot build the identity map up to 0x%lx", (unsigned long)top);
	identity_limit = top;
	write_cr3(host_pt.root);
}

void mm_init(const struct boot_info *bi, const uint64_t *retired, size_t nretired)
{
	if (!palloc_init(&allocator, bi->memmap, bi->memmap_count, retired, nretired, palloc_p2v))
		panic("no usable memory in the firmware memory map");

	/* The firmware's page tables, GDT and stack live in boot-services memory:
	 * only once ours are live can that memory be handed out. */
	build_identity_map(bi);
	palloc_release_deferred(&allocator);

	struct heap_page_source src = { heap_alloc_cb, heap_free_cb, p2v_cb, v2p_cb, NULL };
	heap_init(&heap, &src);
	log_info("mm: %lu MiB managed, %lu MiB free, identity map to %lu GiB (%lu table pages)",
		 (unsigned long)(allocator.stats.managed >> 8),
		 (unsigned long)(allocator.stats.free >> 8),
		 (unsigned long)(identity_limit >> 30), (unsigned long)host_pt.table_pages);
}

static size_t (*reclaimer)(size_t pages);

void mm_set_reclaimer(size_t (*reclaim)(size_t pages))
{
	reclaimer = reclaim;
}

size_t mm_reclaim(size_t pages)
{
	return reclaimer ? reclaimer(pages) : 0;
}

static size_t trim_heap(void);

/* Out of pages, not merely without a free run that long: the heap's spare
 * pages go back first, then the cache gives some back. */
static bool reclaimed_for(size_t n)
{
	if (mm_palloc()->stats.free >= n)
		return false;
	return trim_heap() > 0 || mm_reclaim(n) > 0;
}

uint64_t page_alloc(void)
{
	bool irq = spin_lock_irqsave(&pages_lock);
	uint64_t pa = palloc_alloc_zeroed(&allocator);

	spin_unlock_irqrestore(&pages_lock, irq);
	if (!pa && reclaimed_for(1))
		return page_alloc();
	return pa;
}

static uint64_t alloc_contig(size_t n, size_t align_pages)
{
	bool irq = spin_lock_irqsave(&pages_lock);
	uint64_t pa = palloc_alloc_contig(&allocator, n, align_pages);

	spin_unlock_irqrestore(&pages_lock, irq);
	return pa;
}

static uint64_t alloc_contig_zeroed(size_t n, size_t align_pages)
{
	uint64_t pa = alloc_contig(n, align_pages);

	if (pa)
		memset(phys_to_virt(pa), 0, n * PAGE_SIZE);
	return pa;
}

uint64_t pages_alloc(size_t n, size_t align_pages)
{
	uint64_t pa = alloc_contig_zeroed(n, align_pages);

	if (!pa && reclaimed_for(n))
		return pages_alloc(n, align_pages);
	return pa;
}

void page_free(uint64_t pa)
{
	bool irq = spin_lock_irqsave(&pages_lock);
	bool freed = palloc_free(&allocator, pa);

	spin_unlock_irqrestore(&pages_lock, irq);
	if (!freed)
		panic("freeing page 0x%lx that is not allocated", (unsigned long)pa);
}

void pages_free(uint64_t pa, size_t n)
{
	bool irq = spin_lock_irqsave(&pages_lock);
	bool freed = palloc_free_contig(&allocator, pa, n);

	spin_unlock_irqrestore(&pages_lock, irq);
	if (!freed)
		panic("freeing %zu pages at 0x%lx that are not allocated", n, (unsigned long)pa);
}

bool mm_map_mmio(uint64_t pa, uint64_t size)
{
	uint64_t start = pa & ~PAGE_MASK;
	uint64_t end = (pa + size + PAGE_MASK) & ~PAGE_MASK;

	if (end <= identity_limit)
		return true;
	for (uint64_t p = start; p < end; p += PAGE_SIZE) {
		struct pt_mapping m;
		if (pt_lookup(&host_pt, p, &m))
			continue;
		if (pt_map(&host_pt, p, p, PAGE_SIZE, PT_R | PT_W, PT_MT_UC, PT_MAP_4K) != PT_OK)
			return false;
		invlpg(p);
	}
	return true;
}

size_t mm_host_table_pages(void)
{
	return host_pt.table_pages;
}

/* Never called with the heap's lock held (see heap_alloc_cb). */
static size_t trim_heap(void)
{
	bool irq = spin_lock_irqsave(&heap_lock);
	size_t given = heap_trim(&heap);

	spin_unlock_irqrestore(&heap_lock, irq);
	return given;
}

void mm_heap_stats(struct mm_heap_stats *out)
{
	bool irq = spin_lock_irqsave(&heap_lock);

	*out = (struct mm_heap_stats){ heap.pages_held, heap.bytes_in_use, heap.allocations };
	spin_unlock_irqrestore(&heap_lock, irq);
}

void *kmalloc(size_t size)
{
	bool irq = spin_lock_irqsave(&heap_lock);
	void *p = heap_alloc(&heap, size);

	spin_unlock_irqrestore(&heap_lock, irq);
	if (!p && reclaimed_for(size / PAGE_SIZE + 1))
		return kmalloc(size);
	return p;
}

void *kzalloc(size_t size)
{
	void *p = kmalloc(size);

	if (p)
		memset(p, 0, size);
	return p;
}

void kfree(void *p)
{
	bool irq = spin_lock_irqsave(&heap_lock);
	bool freed = heap_free(&heap, p);

	spin_unlock_irqrestore(&heap_lock, irq);
	if (!freed)
		panic("kfree of a pointer the heap did not hand out: %p", p);
}

enum palloc_retire_result mm_retire_page(uint64_t pa)
{
	bool irq = spin_lock_irqsave(&pages_lock);
	enum palloc_retire_result r = palloc_retire(&allocator, pa);

	spin_unlock_irqrestore(&pages_lock, irq);
	return r;
}

bool mm_unretire_page(uint64_t pa)
{
	bool irq = spin_lock_irqsave(&pages_lock);
	bool was = palloc_unretire(&allocator, pa);

	spin_unlock_irqrestore(&pages_lock, irq);
	return was;
}
