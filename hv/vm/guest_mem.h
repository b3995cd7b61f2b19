/* Guest-physical memory: [0, size) backed by host pages, kept in 2 MiB
 * chunks. A chunk is one host-contiguous, 2 MiB-aligned block when the
 * allocator has one (so the second-level tables can use 2 MiB leaves), or
 * 512 separate 4 KiB pages when memory is fragmented or a page had to be
 * replaced (a poisoned page, say). */
#ifndef HV_VM_GUEST_MEM_H
#define HV_VM_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/mm/pagetable.h"

#define GMEM_CHUNK_SIZE (2ull << 20)
#define GMEM_CHUNK_PAGES 512u
#define GMEM_PAGE 4096ull

struct gmem_host {
	uint64_t (*alloc_contig)(void *ctx, size_t pages, size_t align_pages); /* zeroed */
	void (*free_contig)(void *ctx, uint64_t pa, size_t pages);
	void *(*p2v)(void *ctx, uint64_t pa);
	void *ctx;
};

struct gmem_chunk {
	uint64_t hpa;     /* the 2 MiB block, or (per-page form) the page
			   * holding the 'pages' array */
	uint64_t *pages;  /* per-page form: host address of each 4 KiB page */
};

struct guest_mem {
	uint64_t size;    /* bytes, a multiple of 4 KiB */
	size_t nchunks;
	struct gmem_chunk *chunks;
	uint64_t chunks_pa;   /* where the chunk array lives */
	size_t chunks_pages;
	size_t host_pages;    /* guest pages + bookkeeping pages */
	struct gmem_host host;
	const uint64_t *poisoned; /* bit per page lost to a memory error (hv/mce/poison.c):
				   * gmem_read/write/fill refuse those pages */
};

/* Allocates zeroed backing for 'size' bytes. On failure nothing stays
 * allocated. Returns false when memory is short. */
bool gmem_alloc(struct guest_mem *m, uint64_t size, const struct gmem_host *host);
void gmem_free(struct guest_mem *m);

/* Host physical address backing gpa, or 0 when gpa is outside. */
uint64_t gmem_hpa(const struct guest_mem *m, uint64_t gpa);
/* The guest-physical address of host page hpa, or GMEM_NO_GPA when the
 * VM does not use it (a scan: for machine checks, not hot paths). */
#define GMEM_NO_GPA (~0ull)
uint64_t gmem_gpa_of(const struct guest_mem *m, uint64_t hpa);
/* How many bytes from gpa (at most len) are backed by consecutive host
 * memory: to the end of its 2 MiB chunk, or of its run of consecutive
 * pages in a split chunk; 0 when gpa is outside. */
uint64_t gmem_contig(const struct guest_mem *m, uint64_t gpa, uint64_t len);
/* Host pointer to the byte at gpa (valid to the end of its 4 KiB page). */
void *gmem_ptr(const struct guest_mem *m, uint64_t gpa);
bool gmem_contains(const struct guest_mem *m, uint64_t gpa, uint64_t len);

bool gmem_read(const struct guest_mem *m, uint64_t gpa, void *buf, size_t len);
bool gmem_write(const struct guest_mem *m, uint64_t gpa, const void *buf, size_t len);
bool gmem_fill(const struct guest_mem *m, uint64_t gpa, int byte, size_t len);

/* Maps all of guest memory into second-level tables, RWX, using 2 MiB
 * leaves for contiguous chunks. */
int gmem_map_all(const struct guest_mem *m, struct pagetable *pt);

/* Turns a contiguous chunk into per-page form (so one page can be
 * replaced). Returns false when out of memory. */
bool gmem_split_chunk(struct guest_mem *m, size_t chunk);

#endif
