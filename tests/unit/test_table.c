#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "hv/lib/table.h"

struct item {
	uint32_t id;
	char name[12];
};

Test(table, hands_out_zeroed_slots_in_order_until_full)
{
	struct item items[3];
	struct table t = TABLE_OF(items);

	memset(items, 0xab, sizeof(items));
	for (uint32_t i = 0; i < 3; i++) {
		struct item *it = table_add(&t);
		cr_assert_eq(it, &items[i]);
		cr_assert_eq(it->id, 0);
		cr_assert_eq(it->name[11], 0);
		it->id = 100 + i;
		cr_assert_eq(table_index(&t, it), i);
	}
	cr_assert_null(table_add(&t), "a full table hands out nothing");
	cr_assert_eq(table_count(&t), 3);
	cr_assert_eq(((struct item *)table_at(&t, 2))->id, 102);
	cr_assert_null(table_at(&t, 3));
}

Test(table, drop_last_gives_the_slot_back)
{
	struct item items[2];
	struct table t = TABLE_OF(items);

	struct item *a = table_add(&t);
	a->id = 7;
	table_drop_last(&t);
	cr_assert_eq(table_count(&t), 0);
	cr_assert_null(table_at(&t, 0));
	struct item *b = table_add(&t);
	cr_assert_eq(b, a);
	cr_assert_eq(b->id, 0, "the slot comes back zeroed");
	table_drop_last(&t);
	table_drop_last(&t); /* on an empty table: nothing happens */
	cr_assert_eq(table_count(&t), 0);
}
