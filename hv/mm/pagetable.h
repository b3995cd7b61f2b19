/* Four-level radix page tables, generic over the entry format.
 *
 * The same code builds the hypervisor's own identity map (x86-64 format),
 * AMD nested page tables (x86-64 format with the user bit on leaves) and
 * Intel EPT (its own R/W/X format). A format descriptor says which bits mean
 * what; the walker never tests a vendor. TLB invalidation is the caller's job
 * because only the caller knows which TLB (host, ASID, EPTP) is affected. */
#ifndef HV_MM_PAGETABLE_H
#define HV_MM_PAGETABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PT_LEVELS 4
#define PT_ENTRIES 512
#define PT_SIZE_4K (1ull << 12)
#define PT_SIZE_2M (1ull << 21)
#define PT_SIZE_1G (1ull << 30)
#define PT_ADDR_MASK 0x000ffffffffff000ull

/* Access rights, format independent. */
#define PT_R 1u
#define PT_W 2u
#define PT_X 4u
#define PT_RWX (PT_R | PT_W | PT_X)

/* Memory types for leaves (formats that encode them). */
enum pt_memtype { PT_MT_WB, PT_MT_UC };

struct pt_format {
	const char *name;
	uint64_t present;    /* an entry is present if any of these bits is set */
	uint64_t table_bits; /* bits of an entry that points to a table */
	uint64_t read, write, exec; /* bits granting each right */
	uint64_t nx;         /* bit denying execution (0 if none) */
	uint64_t leaf_bits;  /* always set on leaves */
	uint64_t large;      /* the page-size bit of 2 MiB / 1 GiB leaves */
	uint64_t accessed, dirty;
	uint64_t mt_wb, mt_uc; /* memory-type bits for each type */
	uint64_t mt_mask;
	bool large_1g;       /* 1 GiB leaves allowed */
};

extern const struct pt_format pt_format_x86;     /* host paging */
extern const struct pt_format pt_format_x86_nx;  /* host paging with EFER.NXE */
extern const struct pt_format pt_format_npt;     /* AMD nested paging */
extern const struct pt_format pt_format_ept;     /* Intel EPT */

struct pt_mem_ops {
	uint64_t (*alloc_zeroed)(void *ctx);   /* a page-table page, 0 on failure */
	void (*free)(void *ctx, uint64_t pa);
	void *(*p2v)(void *ctx, uint64_t pa);
	void *ctx;
};

struct pagetable {
	const struct pt_format *fmt;
	struct pt_mem_ops mem;
	uint64_t root;        /* physical address of the top-level table */
	size_t table_pages;   /* pages used by tables, root included */
};

enum pt_error {
	PT_OK = 0,
	PT_ENOMEM = -1,
	PT_EINVAL = -2,   /* misaligned or out-of-range arguments */
	PT_EEXIST = -3,   /* something is already mapped there */
};

/* Map sizes allowed for a range, as a bit set. */
#define PT_MAP_4K 1u
#define PT_MAP_2M 2u
#define PT_MAP_1G 4u
#define PT_MAP_ANY (PT_MAP_4K | PT_MAP_2M | PT_MAP_1G)

int pt_init(struct pagetable *pt, const struct pt_format *fmt, const struct pt_mem_ops *mem);
/* Frees every table page (not the mapped memory). */
void pt_destroy(struct pagetable *pt);

/* Maps [va, va+size) to [pa, pa+size) with the largest leaves that 'sizes'
 * allows and the alignment permits. Fails with PT_EEXIST (mapping nothing
 * new) if any page in the range is mapped already.
 * @pre va, pa and size are 4 KiB aligned. */
int pt_map(struct pagetable *pt, uint64_t va, uint64_t pa, uint64_t size, unsigned prot,
	   enum pt_memtype mt, unsigned sizes);

/* Unmaps a range; large leaves partially covered are split first.
 * Returns PT_ENOMEM if a split needed a table page it could not get (the
 * range is then only partly unmapped). Unmapped holes are fine. */
int pt_unmap(struct pagetable *pt, uint64_t va, uint64_t size);

/* Changes the rights of every mapped page in the range (splitting large
 * leaves that are partially covered). */
int pt_protect(struct pagetable *pt, uint64_t va, uint64_t size, unsigned prot);

/* Splits every large leaf in the range down to 4 KiB leaves. */
int pt_split(struct pagetable *pt, uint64_t va, uint64_t size);

struct pt_mapping {
	uint64_t pa;        /* physical address that va translates to */
	uint64_t page_size; /* size of the leaf */
	unsigned prot;
	uint64_t *entry;    /* the leaf itself */
};

bool pt_lookup(const struct pagetable *pt, uint64_t va, struct pt_mapping *out);

/* Calls fn for each leaf intersecting [va, va+size), in address order, with
 * the leaf's virtual base. fn returns false to stop early. */
typedef bool (*pt_leaf_fn)(void *ctx, uint64_t va, uint64_t *entry, uint64_t page_size);
void pt_for_each_leaf(const struct pagetable *pt, uint64_t va, uint64_t size, pt_leaf_fn fn,
		      void *ctx);

unsigned pt_entry_prot(const struct pt_format *fmt, uint64_t entry);
uint64_t pt_entry_set_prot(const struct pt_format *fmt, uint64_t entry, unsigned prot);

#endif
