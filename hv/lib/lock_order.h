/* The rule for which lock nests inside which, and its check.
 *
 * Every lock has a rank; a CPU may take a lock only while every lock it
 * holds has a lower rank. Outer locks (held longer, around more work) rank
 * low, the console ranks highest: anything may log. Two locks of one rank
 * are never held together. The ranks, outermost first: */
#ifndef HV_LIB_LOCK_ORDER_H
#define HV_LIB_LOCK_ORDER_H

#include <stdbool.h>

enum lock_rank {
	LOCK_RANK_VM_LIST = 10, /* the VM table: creating a VM allocates and logs */
	LOCK_RANK_VM = 12,      /* one VM's shared devices: exits log and allocate */
	LOCK_RANK_GUEST_TABLES = 15, /* the guest ACPI tables' build area */
	LOCK_RANK_HEAP = 20,    /* kmalloc: grows by taking pages */
	LOCK_RANK_PAGES = 30,   /* the page allocator */
	LOCK_RANK_LOG = 40,     /* the log ring: writes through to the console */
	LOCK_RANK_CONSOLE = 50, /* the console's queue and UART */
};

#define LOCK_HELD_MAX 8

/* The locks one CPU holds, in the order taken. */
struct lock_held {
	unsigned n;
	const void *lock[LOCK_HELD_MAX];
	unsigned rank[LOCK_HELD_MAX];
	const char *name[LOCK_HELD_MAX];
};

enum lock_verdict {
	LOCK_OK,
	LOCK_RECURSIVE,    /* this CPU holds it already: it would wait for itself */
	LOCK_OUT_OF_ORDER, /* a held lock ranks the same or higher */
	LOCK_TOO_DEEP,     /* more than LOCK_HELD_MAX at once */
};

/* May `lock` of `rank` be taken with h held? *culprit is the index in h of
 * the lock in the way (for LOCK_RECURSIVE and LOCK_OUT_OF_ORDER). */
enum lock_verdict lock_order_check(const struct lock_held *h, const void *lock, unsigned rank,
				   unsigned *culprit);
/* @pre lock_order_check said LOCK_OK */
void lock_order_taken(struct lock_held *h, const void *lock, unsigned rank, const char *name);
/* Releases may come in any order; false when `lock` was not held. */
bool lock_order_released(struct lock_held *h, const void *lock);

const char *lock_verdict_text(enum lock_verdict v);

#endif
