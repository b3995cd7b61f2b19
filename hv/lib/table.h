/* A registry with a fixed capacity: objects live in a static array and are
 * handed out in order, never freed (PCI functions, NICs, interfaces found
 * at boot). at() checks bounds, so callers can walk by index. */
#ifndef HV_LIB_TABLE_H
#define HV_LIB_TABLE_H

#include <stddef.h>

struct table {
	void *items;
	size_t item_size, capacity, count;
};

#define TABLE_OF(array) { (array), sizeof((array)[0]), sizeof(array) / sizeof((array)[0]), 0 }

/* The next slot, zeroed, or NULL when the table is full. */
void *table_add(struct table *t);
/* Gives back the slot the last table_add handed out (its set-up failed). */
void table_drop_last(struct table *t);
/* Item i, or NULL when i is not below the count. */
void *table_at(const struct table *t, size_t i);

static inline size_t table_count(const struct table *t)
{
	return t->count;
}

static inline size_t table_index(const struct table *t, const void *item)
{
	return (size_t)((const char *)item - (const char *)t->items) / t->item_size;
}

#endif
