#include "hv/core/symbols.h"

#include "hv/lib/string.h"

struct symtab_entry {
	uint32_t offset; /* from the image base */
	uint32_t name;   /* into hv_symstr */
};

/* Provided by build/symtab.S (empty in the first link pass). */
extern const uint64_t hv_symtab_count;
extern const struct symtab_entry hv_symtab[];
extern const char hv_symstr[];
extern const char ImageBase[];
extern const char _etext[];

uint64_t symbol_image_base(void)
{
	return (uint64_t)(uintptr_t)ImageBase;
}

uint64_t symbol_count(void)
{
	return hv_symtab_count;
}

long symbol_index(uint64_t addr)
{
	uint64_t base = symbol_image_base();

	if (addr < base || addr >= (uint64_t)(uintptr_t)_etext || hv_symtab_count == 0)
		return -1;

	uint64_t rel = addr - base;
	uint64_t lo = 0, hi = hv_symtab_count;
	/* Last entry with offset <= rel. */
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (hv_symtab[mid].offset <= rel)
			lo = mid;
		else
			hi = mid;
	}
	return hv_symtab[lo].offset > rel ? -1 : (long)lo;
}

const char *symbol_name(uint64_t index)
{
	return index < hv_symtab_count ? &hv_symstr[hv_symtab[index].name] : "?";
}

const char *symbol_lookup(uint64_t addr, uint64_t *offset)
{
	long i = symbol_index(addr);

	if (i < 0)
		return 0;
	*offset = addr - symbol_image_base() - hv_symtab[i].offset;
	return &hv_symstr[hv_symtab[i].name];
}
