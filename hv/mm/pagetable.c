#include "hv/mm/pagetable.h"

#include "hv/lib/string.h"

#define VA_LIMIT (1ull << 48)

#define X86_P 0x1ull
#define X86_RW 0x2ull
#define X86_US 0x4ull
#define X86_PWT 0x8ull
#define X86_PCD 0x10ull
#define X86_A 0x20ull
#define X86_D 0x40ull
#define X86_PS 0x80ull
#define X86_NX (1ull << 63)

const struct pt_format pt_format_x86 = {
	.name = "x86-64",
	.present = X86_P, .table_bits = X86_P | X86_RW,
	.read = X86_P, .write = X86_RW, .exec = 0, .nx = 0,
	.leaf_bits = 0, .large = X86_PS, .accessed = X86_A, .dirty = X86_D,
	.mt_wb = 0, .mt_uc = X86_PCD | X86_PWT, .mt_mask = X86_PCD | X86_PWT,
	.large_1g = true,
};

const struct pt_format pt_format_x86_nx = {
	.name = "x86-64+nx",
	.present = X86_P, .table_bits = X86_P | X86_RW,
	.read = X86_P, .write = X86_RW, .exec = 0, .nx = X86_NX,
	.leaf_bits = 0, .large = X86_PS, .accessed = X86_A, .dirty = X86_D,
	.mt_wb = 0, .mt_uc = X86_PCD | X86_PWT, .mt_mask = X86_PCD | X86_PWT,
	.large_1g = true,
};

/* Nested page walks are user-mode accesses: every level needs US. */
const struct pt_format pt_format_npt = {
	.name = "npt",
	.present = X86_P, .table_bits = X86_P | X86_RW | X86_US,
	.read = X86_P, .write = X86_RW, .exec = 0, .nx = 0,
	.leaf_bits = X86_US, .large = X86_PS, .accessed = X86_A, .dirty = X86_D,
	.mt_wb = 0, .mt_uc = X86_PCD | X86_PWT, .mt_mask = X86_PCD | X86_PWT,
	.large_1g = true,
};

#define EPT_R 0x1ull
#define EPT_W 0x2ull
#define EPT_X 0x4ull
#define EPT_MT_SHIFT 3
#define EPT_LARGE 0x80ull
#define EPT_A (1ull << 8)
#define EPT_D (1ull << 9)

const struct pt_format pt_format_ept = {
	.name = "ept",
	.present = EPT_R | EPT_W | EPT_X, .table_bits = EPT_R | EPT_W | EPT_X,
	.read = EPT_R, .write = EPT_W, .exec = EPT_X, .nx = 0,
	.leaf_bits = 0, .large = EPT_LARGE, .accessed = EPT_A, .dirty = EPT_D,
	.mt_wb = 6ull << EPT_MT_SHIFT, .mt_uc = 0, .mt_mask = 7ull << EPT_MT_SHIFT,
	.large_1g = true,
};

static uint64_t level_size(int level)
{
	return PT_SIZE_4K << (9 * level);
}

static unsigned index_of(uint64_t va, int level)
{
	return (unsigned)((va >> (12 + 9 * level)) & (PT_ENTRIES - 1));
}

static bool present(const struct pt_format *f, uint64_t e)
{
	return (e & f->present) != 0;
}

static bool is_leaf(const struct pt_format *f, uint64_t e, int level)
{
	return level == 0 || (level <= 2 && (e & f->large));
}

static uint64_t *table_at(const struct pagetable *pt, uint64_t pa)
{
	return pt->mem.p2v(pt->mem.ctx, pa & PT_ADDR_MASK);
}

static uint64_t new_table(struct pagetable *pt)
{
	uint64_t pa = pt->mem.alloc_zeroed(pt->mem.ctx);

	if (pa)
		pt->table_pages++;
	return pa;
}

unsigned pt_entry_prot(const struct pt_format *f, uint64_t e)
{
	unsigned prot = 0;

	if (e & f->read)
		prot |= PT_R;
	if (e & f->write)
		prot |= PT_W;
	if (f->exec ? (e & f->exec) != 0 : !(e & f->nx))
		prot |= PT_X;
	if (!present(f, e))
		prot = 0;
	return prot;
}

uint64_t pt_entry_set_prot(const struct pt_format *f, uint64_t e, unsigned prot)
{
	e &= ~(f->read | f->write | f->exec | f->nx);
	if (prot & PT_R)
		e |= f->read;
	if (prot & PT_W)
		e |= f->write | f->read; /* write implies read in every format we use */
	if (f->exec && (prot & PT_X))
		e |= f->exec;
	if (f->nx && !(prot & PT_X))
		e |= f->nx;
	return e;
}

static uint64_t make_leaf(const struct pt_format *f, uint64_t pa, int level, unsigned prot,
			  enum pt_memtype mt)
{
	uint64_t e = (pa & PT_ADDR_MASK) | f->leaf_bits;

	e |= mt == PT_MT_UC ? f->mt_uc : f->mt_wb;
	if (level > 0)
		e |= f->large;
	return pt_entry_set_prot(f, e, prot);
}

int pt_init(struct pagetable *pt, const struct pt_format *fmt, const struct pt_mem_ops *mem)
{
	memset(pt, 0, sizeof(*pt));
	pt->fmt = fmt;
	pt->mem = *mem;
	pt->root = new_table(pt);
	return pt->root ? PT_OK : PT_ENOMEM;
}

/* 'level' is the level of the entries in the table at table_pa. */
static void free_subtree(struct pagetable *pt, uint64_t table_pa, int level)
{
	uint64_t *t = table_at(pt, table_pa);

	if (level > 0) {
		for (unsigned i = 0; i < PT_ENTRIES; i++)
			if (present(pt->fmt, t[i]) && !is_leaf(pt->fmt, t[i], level))
				free_subtree(pt, t[i], level - 1);
	}
	pt->mem.free(pt->mem.ctx, table_pa & PT_ADDR_MASK);
	pt->table_pages--;
}

void pt_destroy(struct pagetable *pt)
{
	if (pt->root)
		free_subtree(pt, pt->root, PT_LEVELS - 1);
	pt->root = 0;
}

/* Replaces a large leaf by a table of 512 leaves one level down that map the
 * same memory with the same rights, memory type and A/D state. */
static int split_leaf(struct pagetable *pt, uint64_t *e, int level)
{
	const struct pt_format *f = pt->fmt;
	uint64_t table_pa = new_table(pt);

	if (!table_pa)
		return PT_ENOMEM;

	uint64_t *t = table_at(pt, table_pa);
	uint64_t attrs = *e & ~PT_ADDR_MASK;
	uint64_t base = *e & PT_ADDR_MASK & ~(level_size(level) - 1);
	uint64_t child = level_size(level - 1);

	if (level - 1 == 0)
		attrs &= ~f->large; /* bit 7 of a 4 KiB x86 leaf is PAT, not PS */
	for (unsigned i = 0; i < PT_ENTRIES; i++)
		t[i] = (base + i * child) | attrs;
	*e = table_pa | f->table_bits;
	return PT_OK;
}

/* The entry for va at target_level, creating tables (and splitting large
 * leaves in the way) as needed. */
static uint64_t *walk_create(struct pagetable *pt, uint64_t va, int target_level, int *err)
{
	uint64_t *table = table_at(pt, pt->root);

	for (int level = PT_LEVELS - 1; level > target_level; level--) {
		uint64_t *e = &table[index_of(va, level)];
		if (!present(pt->fmt, *e)) {
			uint64_t t = new_table(pt);
			if (!t) {
				*err = PT_ENOMEM;
				return NULL;
			}
			*e = t | pt->fmt->table_bits;
		} else if (is_leaf(pt->fmt, *e, level)) {
			*err = split_leaf(pt, e, level);
			if (*err)
				return NULL;
		}
		table = table_at(pt, *e);
	}
	return &table[index_of(va, target_level)];
}

static bool any_leaf(void *ctx, uint64_t va, uint64_t *entry, uint64_t size)
{
	(void)va;
	(void)entry;
	(void)size;
	*(bool *)ctx = true;
	return false;
}

static bool range_ok(uint64_t va, uint64_t size)
{
	return !(va & (PT_SIZE_4K - 1)) && !(size & (PT_SIZE_4K - 1)) && size &&
	       va < VA_LIMIT && size <= VA_LIMIT - va;
}

int pt_map(struct pagetable *pt, uint64_t va, uint64_t pa, uint64_t size, unsigned prot,
	   enum pt_memtype mt, unsigned sizes)
{
	bool mapped = false;

	if (!range_ok(va, size) || (pa & (PT_SIZE_4K - 1)) || !(sizes & PT_MAP_4K))
		return PT_EINVAL;
	pt_for_each_leaf(pt, va, size, any_leaf, &mapped);
	if (mapped)
		return PT_EEXIST;

	for (uint64_t off = 0; off < size;) {
		int level = 0;
		for (int l = 2; l > 0; l--) {
			uint64_t s = level_size(l);
			if (!(sizes & (1u << l)) || (l == 2 && !pt->fmt->large_1g))
				continue;
			if (((va + off) & (s - 1)) == 0 && ((pa + off) & (s - 1)) == 0 &&
			    size - off >= s) {
				level = l;
				break;
			}
		}
		int err = PT_OK;
		uint64_t *e = walk_create(pt, va + off, level, &err);
		if (!e) {
			if (off)
				pt_unmap(pt, va, off);
			return err;
		}
		if (present(pt->fmt, *e) && !is_leaf(pt->fmt, *e, level))
			free_subtree(pt, *e, level - 1); /* an empty table left behind */
		*e = make_leaf(pt->fmt, pa + off, level, prot, mt);
		off += level_size(level);
	}
	return PT_OK;
}

/* One walk over the present entries that cover [start, end), level by
 * level: a visitor sees each entry with the part of the range it covers
 * and says whether to go on, to descend into the table it points to (after
 * splitting a leaf, if it wanted), to stop, or returns an error. */
enum { VISIT_DESCEND = 1, VISIT_STOP = 2 };

struct visit {
	uint64_t *e;
	int level;
	uint64_t va, stop;     /* the part of the range under this entry */
	uint64_t base, size;   /* the entry's own span */
};

typedef int (*entry_visitor)(struct pagetable *pt, const struct visit *v, void *ctx);

static int walk_range(struct pagetable *pt, uint64_t table_pa, int level, uint64_t start,
		      uint64_t end, entry_visitor visit, void *ctx)
{
	uint64_t *t = table_at(pt, table_pa);
	uint64_t size = level_size(level);

	for (uint64_t va = start; va < end;) {
		uint64_t base = va & ~(size - 1);
		uint64_t next = base + size;
		struct visit v = { &t[index_of(va, level)], level, va, next < end ? next : end, base,
				   size };

		if (present(pt->fmt, *v.e)) {
			int r = visit(pt, &v, ctx);
			if (r == VISIT_DESCEND)
				r = walk_range(pt, *v.e, level - 1, va, v.stop, visit, ctx);
			if (r != PT_OK)
				return r;
		}
		if (next == 0)
			break; /* wrapped at the top of the address space */
		va = next;
	}
	return PT_OK;
}

enum range_op { OP_UNMAP, OP_PROTECT, OP_SPLIT };

struct range_change {
	enum range_op op;
	unsigned prot;
};

/* A leaf wholly inside the range changes in place; a leaf partly inside
 * (or any leaf, when splitting) is split first and its table visited. */
static int change_entry(struct pagetable *pt, const struct visit *v, void *ctx)
{
	const struct range_change *c = ctx;
	bool whole = v->va == v->base && v->stop == v->base + v->size;

	if (!is_leaf(pt->fmt, *v->e, v->level))
		return VISIT_DESCEND;
	if (v->level == 0 || (whole && c->op != OP_SPLIT)) {
		if (c->op == OP_UNMAP)
			*v->e = 0;
		else if (c->op == OP_PROTECT)
			*v->e = pt_entry_set_prot(pt->fmt, *v->e, c->prot);
		return PT_OK;
	}
	int err = split_leaf(pt, v->e, v->level);
	return err ? err : VISIT_DESCEND;
}

static int apply(struct pagetable *pt, uint64_t start, uint64_t end, enum range_op op,
		 unsigned prot)
{
	struct range_change c = { op, prot };

	return walk_range(pt, pt->root, PT_LEVELS - 1, start, end, change_entry, &c);
}

int pt_unmap(struct pagetable *pt, uint64_t va, uint64_t size)
{
	if (!range_ok(va, size))
		return PT_EINVAL;
	return apply(pt, va, va + size, OP_UNMAP, 0);
}

int pt_protect(struct pagetable *pt, uint64_t va, uint64_t size, unsigned prot)
{
	/* No rights at all would make the entries non-present, i.e. unmapped:
	 * callers that mean that must say pt_unmap. */
	if (!range_ok(va, size) || !(prot & PT_R))
		return PT_EINVAL;
	return apply(pt, va, va + size, OP_PROTECT, prot);
}

int pt_split(struct pagetable *pt, uint64_t va, uint64_t size)
{
	if (!range_ok(va, size))
		return PT_EINVAL;
	return apply(pt, va, va + size, OP_SPLIT, 0);
}

bool pt_lookup(const struct pagetable *pt, uint64_t va, struct pt_mapping *out)
{
	uint64_t *table = table_at(pt, pt->root);

	if (va >= VA_LIMIT)
		return false;
	for (int level = PT_LEVELS - 1; level >= 0; level--) {
		uint64_t *e = &table[index_of(va, level)];
		if (!present(pt->fmt, *e))
			return false;
		if (is_leaf(pt->fmt, *e, level)) {
			uint64_t size = level_size(level);
			out->page_size = size;
			out->pa = (*e & PT_ADDR_MASK & ~(size - 1)) + (va & (size - 1));
			out->prot = pt_entry_prot(pt->fmt, *e);
			out->entry = e;
			return true;
		}
		table = table_at(pt, *e);
	}
	return false;
}

struct leaf_walk {
	pt_leaf_fn fn;
	void *ctx;
};

static int visit_leaf(struct pagetable *pt, const struct visit *v, void *ctx)
{
	const struct leaf_walk *w = ctx;

	if (!is_leaf(pt->fmt, *v->e, v->level))
		return VISIT_DESCEND;
	return w->fn(w->ctx, v->base, v->e, v->size) ? PT_OK : VISIT_STOP;
}

void pt_for_each_leaf(const struct pagetable *pt, uint64_t va, uint64_t size, pt_leaf_fn fn,
		      void *ctx)
{
	if (!size || va >= VA_LIMIT)
		return;
	uint64_t end = size > VA_LIMIT - va ? VA_LIMIT : va + size;
	struct leaf_walk w = { fn, ctx };

	/* The walk itself changes nothing; fn may change the leaves it is given. */
	walk_range((struct pagetable *)pt, pt->root, PT_LEVELS - 1, va, end, visit_leaf, &w);
}
