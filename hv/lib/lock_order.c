#include "hv/lib/lock_order.h"

enum lock_verdict lock_order_check(const struct lock_held *h, const void *lock, unsigned rank,
				   unsigned *culprit)
{
	for (unsigned i = 0; i < h->n; i++)
		if (h->lock[i] == lock) {
			*culprit = i;
			return LOCK_RECURSIVE;
		}
	for (unsigned i = 0; i < h->n; i++)
		if (h->rank[i] >= rank) {
			*culprit = i;
			return LOCK_OUT_OF_ORDER;
		}
	return h->n < LOCK_HELD_MAX ? LOCK_OK : LOCK_TOO_DEEP;
}

void lock_order_taken(struct lock_held *h, const void *lock, unsigned rank, const char *name)
{
	h->lock[h->n] = lock;
	h->rank[h->n] = rank;
	h->name[h->n] = name;
	h->n++;
}

bool lock_order_released(struct lock_held *h, const void *lock)
{
	for (unsigned i = h->n; i-- > 0;) {
		if (h->lock[i] != lock)
			continue;
		for (unsigned j = i; j + 1 < h->n; j++) {
			h->lock[j] = h->lock[j + 1];
			h->rank[j] = h->rank[j + 1];
			h->name[j] = h->name[j + 1];
		}
		h->n--;
		return true;
	}
	return false;
}

const char *lock_verdict_text(enum lock_verdict v)
{
	switch (v) {
	case LOCK_OK: return "ok";
	case LOCK_RECURSIVE: return "already held by this CPU";
	case LOCK_OUT_OF_ORDER: return "taken inside a lock of the same or a later rank";
	case LOCK_TOO_DEEP: return "too many locks held at once";
	}
	return "?";
}
