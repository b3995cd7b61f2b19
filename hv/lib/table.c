#include "hv/lib/table.h"

#include "hv/lib/string.h"

void *table_add(struct table *t)
{
	if (t->count == t->capacity)
		return NULL;
	void *item = (char *)t->items + t->count * t->item_size;
	memset(item, 0, t->item_size);
	t->count++;
	return item;
}

void table_drop_last(struct table *t)
{
	if (t->count)
		t->count--;
}

void *table_at(const struct table *t, size_t i)
{
	return i < t->count ? (char *)t->items + i * t->item_size : NULL;
}
