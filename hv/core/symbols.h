/* The hypervisor's own symbol table, generated at link time (see the
 * Makefile's second link pass) so backtraces show function names. */
#ifndef HV_CORE_SYMBOLS_H
#define HV_CORE_SYMBOLS_H

#include <stdint.h>

uint64_t symbol_image_base(void);
/* Name of the function containing addr and the offset into it, or NULL. */
const char *symbol_lookup(uint64_t addr, uint64_t *offset);
/* The table's entries: how many, which one holds addr (-1: none), its name. */
uint64_t symbol_count(void);
long symbol_index(uint64_t addr);
const char *symbol_name(uint64_t index);

#endif
