/* The seeds of departed VMs; see seed.h. */
#include "migrate/seed.h"

#include "hv/core/config.h"
#include "hv/core/log.h"
#include "hv/core/settings.h"
#include "hv/core/time.h"
#include "hv/lib/bitmap.h"
#include "hv/lib/string.h"
#include "hv/mce/mca.h"
#include "hv/mm/mm.h"
#include "hv/vm/vm.h"
#include "hv/x86/cpu.h"
#include "migrate/page_sig.h"

CONFIG_KEY(key_seed_mib, "migrate_seed_mib", "1024",
	   "memory of VMs that migrated away kept for their return, in MiB (0: none); a "
	   "return then sends signatures for unchanged pages. Given back when memory is short");

#define SEEDS_MAX 8
#define HASH_BUDGET_NS (NS_PER_SEC / 1000) /* per main-loop turn */

struct mig_seed {
	uint64_t vm_uid;
	char name[32];
	struct guest_mem mem;
	uint64_t *bad;              /* poisoned, or unreadable: never stands for a page */
	uint8_t (*sig)[MIG_SIG_LEN];
	uint64_t *hashed;           /* sig[gfn] is valid */
	uint64_t pages, nhashed, nbad, hits, kept_ns;
	uint64_t cursor;            /* the background hashing's next page */
	unsigned users;
};

static struct mig_seed *seeds[SEEDS_MAX]; /* oldest first */
static unsigned nseeds;
/* The store is changing: an allocation it makes must not reclaim from it. */
static bool changing;
/* A machine check cut a read short: mce_poll once the store is consistent
 * (it may allocate, and so reclaim seeds). */
static bool mc_pending;

static void handle_machine_checks(void)
{
	if (mc_pending) {
		mc_pending = false;
		mce_poll();
	}
}

static void free_seed(struct mig_seed *s)
{
	gmem_free(&s->mem);
	kfree(s->bad);
	kfree(s->sig);
	kfree(s->hashed);
	kfree(s);
}

static uint64_t seed_host_pages(const struct mig_seed *s)
{
	return s->mem.host_pages;
}

static void remove_at(unsigned i)
{
	struct mig_seed *s = seeds[i];

	for (unsigned j = i; j + 1 < nseeds; j++)
		seeds[j] = seeds[j + 1];
	seeds[--nseeds] = NULL;
	free_seed(s);
}

uint64_t seed_total_pages(void)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < nseeds; i++)
		n += seeds[i]->pages;
	return n;
}

/* Frees the oldest seeds not in use until 'pages' host pages went or none
 * is left to drop; returns the pages freed. */
static uint64_t evict(uint64_t pages)
{
	uint64_t freed = 0;

	for (unsigned i = 0; i < nseeds && freed < pages;) {
		if (seeds[i]->users) {
			i++;
			continue;
		}
		freed += seed_host_pages(seeds[i]);
		log_info("migrate: seed of VM %s dropped (%lu MiB given back)", seeds[i]->name,
			 (unsigned long)(seed_host_pages(seeds[i]) >> 8));
		remove_at(i);
	}
	return freed;
}

size_t seed_reclaim(size_t pages)
{
	return changing ? 0 : (size_t)evict(pages);
}

static void discard(struct vm_kept_memory *k)
{
	gmem_free(&k->mem);
	kfree(k->poisoned);
	k->poisoned = NULL;
}

void seed_keep(uint64_t vm_uid, const char *name, struct vm_kept_memory *k)
{
	uint64_t limit_mib = 0, pages = k->mem.size / MIG_PAGE_SIZE;
	size_t words = (pages + 63) / 64;

	setting_u64("migrate_seed_mib", &limit_mib);
	uint64_t limit = limit_mib << 8;
	if (pages > limit || (nseeds == SEEDS_MAX && evict(1) == 0)) {
		discard(k);
		return;
	}
	changing = true;
	struct mig_seed *s = kzalloc(sizeof(*s));
	if (s) {
		s->sig = kmalloc(pages * MIG_SIG_LEN);
		s->hashed = kzalloc(words * 8);
		s->bad = k->poisoned ? k->poisoned : kzalloc(words * 8);
	}
	changing = false;
	if (!s || !s->sig || !s->hashed || !s->bad) {
		if (s) {
			if (s->bad == k->poisoned)
				s->bad = NULL;
			kfree(s->sig);
			kfree(s->hashed);
			kfree(s->bad);
			kfree(s);
		}
		discard(k);
		return;
	}
	k->poisoned = NULL;
	s->mem = k->mem;
	s->vm_uid = vm_uid;
	str_copy(s->name, name, sizeof(s->name));
	s->pages = pages;
	s->nbad = bitmap_count(s->bad, pages);
	s->kept_ns = time_ns();
	for (unsigned i = 0; i < nseeds; i++)
		if (seeds[i]->vm_uid == vm_uid && !seeds[i]->users) {
			remove_at(i); /* this image replaces that one */
			break;
		}
	uint64_t held = seed_total_pages();
	if (held + pages > limit)
		evict(held + pages - limit);
	if (seed_total_pages() + pages > limit || nseeds == SEEDS_MAX) {
		free_seed(s);
		return;
	}
	seeds[nseeds++] = s;
	log_info("migrate: kept %lu MiB of VM %s as a seed for its return", (unsigned long)(pages >> 8),
		 name);
}

struct mig_seed *seed_get(uint64_t vm_uid, uint64_t mem_bytes)
{
	for (unsigned i = nseeds; i-- > 0;)
		if (seeds[i]->vm_uid == vm_uid && seeds[i]->mem.size == mem_bytes) {
			seeds[i]->users++;
			return seeds[i];
		}
	return NULL;
}

uint64_t seed_usable_pages(const struct mig_seed *s)
{
	return s->pages - s->nbad;
}

static void mark_bad(struct mig_seed *s, uint64_t gfn)
{
	bitmap_set(s->bad, gfn);
	s->nbad++;
}

/* Hashes page gfn; false when it cannot stand for anything. A machine
 * check while reading it makes it bad (and is handled at once). */
static bool hash_page(struct mig_seed *s, uint64_t gfn)
{
	static uint8_t page[MIG_PAGE_SIZE];

	if (bitmap_test(s->bad, gfn))
		return false;
	if (bitmap_test(s->hashed, gfn))
		return true;
	if (copy_mc_safe(page, gmem_ptr(&s->mem, gfn * MIG_PAGE_SIZE), MIG_PAGE_SIZE)) {
		mark_bad(s, gfn);
		mc_pending = true;
		return false;
	}
	page_sig(page, s->sig[gfn]);
	bitmap_set(s->hashed, gfn);
	s->nhashed++;
	return true;
}

/* @pre s is in use (seed_get), so a reclaim leaves it alone */
bool seed_fill(struct mig_seed *s, uint64_t gfn, const uint8_t sig[MIG_SIG_LEN], void *dst)
{
	bool same = gfn < s->pages && hash_page(s, gfn) && !memcmp(s->sig[gfn], sig, MIG_SIG_LEN);

	/* Nothing writes a seed, so the bytes are the ones hashed. */
	if (same && copy_mc_safe(dst, gmem_ptr(&s->mem, gfn * MIG_PAGE_SIZE), MIG_PAGE_SIZE)) {
		mark_bad(s, gfn);
		mc_pending = true;
		same = false;
	}
	if (same)
		s->hits++;
	handle_machine_checks();
	return same;
}

void seed_put(struct mig_seed *s, bool consumed)
{
	s->users--;
	if (!consumed || s->users)
		return;
	for (unsigned i = 0; i < nseeds; i++)
		if (seeds[i] == s) {
			log_info("migrate: seed of VM %s used (%lu of %lu pages matched) and dropped",
				 s->name, (unsigned long)s->hits, (unsigned long)s->pages);
			remove_at(i);
			return;
		}
}

bool seed_hash_ahead(void)
{
	uint64_t deadline = time_ns() + HASH_BUDGET_NS;

	bool more = false;

	for (unsigned i = 0; i < nseeds && !more && !mc_pending; i++) {
		struct mig_seed *s = seeds[i];
		while (s->cursor < s->pages && !mc_pending) {
			hash_page(s, s->cursor++);
			if (!(s->cursor % 16) && time_ns() >= deadline) {
				more = true;
				break;
			}
		}
	}
	more |= mc_pending;
	handle_machine_checks(); /* after the walk: it may drop seeds */
	return more;
}

bool seed_describe(unsigned i, struct seed_info *out)
{
	if (i >= nseeds)
		return false;
	const struct mig_seed *s = seeds[i];
	str_copy(out->name, s->name, sizeof(out->name));
	out->vm_uid = s->vm_uid;
	out->pages = s->pages;
	out->hashed = s->nhashed;
	out->usable = s->pages - s->nbad;
	out->hits = s->hits;
	out->age_ms = (time_ns() - s->kept_ns) / (NS_PER_SEC / 1000);
	out->in_use = s->users > 0;
	return true;
}

unsigned seed_drop(const char *name)
{
	unsigned dropped = 0;
	bool all = !strcmp(name, "all");

	for (unsigned i = 0; i < nseeds;) {
		if (!seeds[i]->users && (all || !strcmp(seeds[i]->name, name))) {
			remove_at(i);
			dropped++;
		} else {
			i++;
		}
	}
	return dropped;
}
