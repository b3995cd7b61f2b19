/* The lock nesting rule (hv/lib/lock_order.c). */
#include <criterion/criterion.h>

#include "hv/lib/lock_order.h"

static int vm_list, heap, pages, log_ring, console;

Test(lock_order, outer_to_inner_is_allowed)
{
	struct lock_held h = { 0 };
	unsigned c;

	cr_assert_eq(lock_order_check(&h, &vm_list, LOCK_RANK_VM_LIST, &c), LOCK_OK);
	lock_order_taken(&h, &vm_list, LOCK_RANK_VM_LIST, "vm list");
	cr_assert_eq(lock_order_check(&h, &heap, LOCK_RANK_HEAP, &c), LOCK_OK);
	lock_order_taken(&h, &heap, LOCK_RANK_HEAP, "heap");
	cr_assert_eq(lock_order_check(&h, &console, LOCK_RANK_CONSOLE, &c), LOCK_OK);
}

Test(lock_order, inner_to_outer_names_the_lock_in_the_way)
{
	struct lock_held h = { 0 };
	unsigned c = 99;

	lock_order_taken(&h, &heap, LOCK_RANK_HEAP, "heap");
	lock_order_taken(&h, &log_ring, LOCK_RANK_LOG, "log");
	cr_assert_eq(lock_order_check(&h, &pages, LOCK_RANK_PAGES, &c), LOCK_OUT_OF_ORDER);
	cr_assert_eq(c, 1);
	cr_assert_str_eq(h.name[c], "log");
	/* Same rank, another lock: also refused (no order between them). */
	static int other_heap;
	lock_order_released(&h, &log_ring);
	cr_assert_eq(lock_order_check(&h, &other_heap, LOCK_RANK_HEAP, &c), LOCK_OUT_OF_ORDER);
}

Test(lock_order, taking_a_held_lock_again_is_caught)
{
	struct lock_held h = { 0 };
	unsigned c = 99;

	lock_order_taken(&h, &pages, LOCK_RANK_PAGES, "pages");
	cr_assert_eq(lock_order_check(&h, &pages, LOCK_RANK_PAGES, &c), LOCK_RECURSIVE);
	cr_assert_eq(c, 0);
}

Test(lock_order, releases_in_any_order)
{
	struct lock_held h = { 0 };
	unsigned c;

	lock_order_taken(&h, &vm_list, LOCK_RANK_VM_LIST, "vm list");
	lock_order_taken(&h, &heap, LOCK_RANK_HEAP, "heap");
	lock_order_taken(&h, &pages, LOCK_RANK_PAGES, "pages");
	cr_assert(lock_order_released(&h, &heap));
	cr_assert_eq(h.n, 2);
	cr_assert_eq(h.lock[0], &vm_list);
	cr_assert_eq(h.lock[1], &pages);
	cr_assert_not(lock_order_released(&h, &heap), "not held any more");
	cr_assert(lock_order_released(&h, &pages));
	cr_assert(lock_order_released(&h, &vm_list));
	cr_assert_eq(h.n, 0);
	cr_assert_eq(lock_order_check(&h, &heap, LOCK_RANK_HEAP, &c), LOCK_OK);
}

Test(lock_order, depth_is_bounded)
{
	struct lock_held h = { 0 };
	static int locks[LOCK_HELD_MAX + 1];
	unsigned c;

	for (unsigned i = 0; i < LOCK_HELD_MAX; i++) {
		cr_assert_eq(lock_order_check(&h, &locks[i], i + 1, &c), LOCK_OK);
		lock_order_taken(&h, &locks[i], i + 1, "l");
	}
	cr_assert_eq(lock_order_check(&h, &locks[LOCK_HELD_MAX], LOCK_HELD_MAX + 1, &c),
		     LOCK_TOO_DEEP);
}
