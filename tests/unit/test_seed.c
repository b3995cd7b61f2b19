/* Seeds of departed VMs (migrate/seed.c): a signature finds the page it
 * names and no other; poisoned and unreadable pages stand for nothing;
 * the size limit, replacement, eviction order, reclaim and pages in use. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "hv/core/settings.h"
#include "hv/mce/mca.h"
#include "hv/mm/mm.h"
#include "hv/vm/vm.h"
#include "hv/x86/cpu.h"
#include "migrate/page_sig.h"
#include "migrate/seed.h"

#define MiB (1ull << 20)

/* ---- what seed.c needs from the hypervisor ------------------------- */

static uint64_t limit_mib = 1024;
static long live_blocks;        /* heap and guest memory not yet freed */
static const void *failing_src; /* copy_mc_safe reports a machine check here */
static int machine_checks;

void *kmalloc(size_t size)
{
	live_blocks++;
	return malloc(size);
}

void *kzalloc(size_t size)
{
	live_blocks++;
	return calloc(1, size);
}

void kfree(void *p)
{
	if (p)
		live_blocks--;
	free(p);
}

bool setting_u64(const char *key, uint64_t *out)
{
	cr_assert_str_eq(key, "migrate_seed_mib");
	*out = limit_mib;
	return true;
}

static bool poll_reclaims; /* handling the error needs memory, as poisoning may */

void mce_poll(void)
{
	machine_checks++;
	if (poll_reclaims)
		seed_reclaim(1u << 30);
}

int copy_mc_safe(void *dst, const void *src, size_t len)
{
	if (src == failing_src)
		return -1;
	memcpy(dst, src, len);
	return 0;
}

static uint64_t host_alloc(void *ctx, size_t pages, size_t align)
{
	(void)ctx;
	live_blocks++;
	void *p = aligned_alloc(align * 4096, pages * 4096);
	memset(p, 0, pages * 4096);
	return (uint64_t)(uintptr_t)p;
}

static void host_free(void *ctx, uint64_t pa, size_t pages)
{
	(void)ctx, (void)pages;
	live_blocks--;
	free((void *)(uintptr_t)pa);
}

static void *host_p2v(void *ctx, uint64_t pa)
{
	(void)ctx;
	return (void *)(uintptr_t)pa;
}

static const struct gmem_host host = { host_alloc, host_free, host_p2v, NULL };

/* ---- helpers --------------------------------------------------------- */

/* A departed VM's memory: page i holds i + salt in every word (page 0
 * stays zero). */
static struct vm_kept_memory departed(uint64_t bytes, uint64_t salt)
{
	struct vm_kept_memory k = { 0 };

	cr_assert(gmem_alloc(&k.mem, bytes, &host));
	for (uint64_t gfn = 1; gfn < bytes / 4096; gfn++) {
		uint64_t *p = gmem_ptr(&k.mem, gfn * 4096);
		for (unsigned w = 0; w < 512; w++)
			p[w] = gfn + salt;
	}
	return k;
}

static void page_of(uint64_t gfn, uint64_t salt, uint64_t page[512])
{
	for (unsigned w = 0; w < 512; w++)
		page[w] = gfn + salt;
}

static void setup(void)
{
	limit_mib = 1024;
	failing_src = NULL;
	machine_checks = 0;
	live_blocks = 0;
	poll_reclaims = false;
}

static void teardown(void)
{
	seed_drop("all");
	cr_assert_eq(live_blocks, 0, "%ld blocks not freed", live_blocks);
}

TestSuite(seed, .init = setup, .fini = teardown);

Test(seed, a_signature_fills_the_page_it_names_and_no_other)
{
	struct vm_kept_memory k = departed(4 * MiB, 100);
	static uint64_t page[512], got[512];
	uint8_t sig[MIG_SIG_LEN];

	seed_keep(0xabc, "m", &k);
	cr_assert_null(seed_get(0xabc, 8 * MiB), "another size is another VM");
	cr_assert_null(seed_get(0xabd, 4 * MiB));
	struct mig_seed *s = seed_get(0xabc, 4 * MiB);
	cr_assert_not_null(s);
	cr_assert_eq(seed_usable_pages(s), 1024);

	page_of(7, 100, page);
	page_sig(page, sig);
	cr_assert(seed_fill(s, 7, sig, got));
	cr_assert(!memcmp(got, page, sizeof(page)));
	memset(got, 0, sizeof(got));
	cr_assert(!seed_fill(s, 8, sig, got), "page 8 holds other data");
	cr_assert(!seed_fill(s, 1024, sig, got), "outside the VM");
	page[100] ^= 1; /* what the guest wrote since */
	page_sig(page, sig);
	cr_assert(!seed_fill(s, 7, sig, got));
	cr_assert_eq(got[0], 0, "a miss copies nothing");

	struct seed_info si;
	cr_assert(seed_describe(0, &si));
	cr_assert(si.in_use && si.hits == 1 && si.pages == 1024 && !strcmp(si.name, "m"));
	cr_assert(!seed_describe(1, &si));
	cr_assert_eq(seed_drop("all"), 0, "a seed in use stays");
	seed_put(s, false); /* a failed migration: the seed stays */
	cr_assert_not_null(s = seed_get(0xabc, 4 * MiB));
	seed_put(s, true); /* the VM arrived: it has served */
	cr_assert_null(seed_get(0xabc, 4 * MiB));
	cr_assert_eq(seed_total_pages(), 0);
}

Test(seed, poisoned_and_unreadable_pages_stand_for_nothing)
{
	struct vm_kept_memory k = departed(2 * MiB, 5);
	static uint64_t page[512], got[512];
	uint8_t sig[MIG_SIG_LEN];

	k.poisoned = kzalloc(512 / 8);
	k.poisoned[0] |= 1ull << 3;
	seed_keep(1, "p", &k);
	struct mig_seed *s = seed_get(1, 2 * MiB);
	cr_assert_eq(seed_usable_pages(s), 511);
	page_of(3, 5, page);
	page_sig(page, sig);
	cr_assert(!seed_fill(s, 3, sig, got), "a poisoned page is never read");

	/* A machine check while hashing page 9: handled, and the page is out. */
	failing_src = (const void *)(uintptr_t)gmem_hpa(&k.mem, 9 * 4096); /* now the seed's */
	page_of(9, 5, page);
	page_sig(page, sig);
	cr_assert(!seed_fill(s, 9, sig, got));
	cr_assert_eq(machine_checks, 1);
	cr_assert_eq(seed_usable_pages(s), 510);
	failing_src = NULL;
	cr_assert(!seed_fill(s, 9, sig, got), "it stays out");
	seed_put(s, false);
}

Test(seed, the_limit_the_oldest_first_and_one_image_per_vm)
{
	limit_mib = 5;
	struct vm_kept_memory k = departed(6 * MiB, 0);
	seed_keep(1, "big", &k); /* over the limit alone: not kept, freed */
	cr_assert_eq(seed_total_pages(), 0);
	cr_assert_eq(live_blocks, 0);

	k = departed(2 * MiB, 0);
	seed_keep(1, "a", &k);
	k = departed(2 * MiB, 0);
	seed_keep(2, "b", &k);
	k = departed(2 * MiB, 0);
	seed_keep(3, "c", &k); /* 6 MiB > 5: a, the oldest, goes */
	cr_assert_null(seed_get(1, 2 * MiB));
	cr_assert_eq(seed_total_pages(), 1024);

	struct mig_seed *b = seed_get(2, 2 * MiB);
	k = departed(2 * MiB, 0);
	seed_keep(4, "d", &k); /* b is in use: c goes instead */
	cr_assert_null(seed_get(3, 2 * MiB));
	seed_put(b, false);

	k = departed(2 * MiB, 77);
	seed_keep(4, "d2", &k); /* d left again: its newer image replaces the old */
	struct seed_info si;
	cr_assert(seed_describe(1, &si) && !strcmp(si.name, "d2") && !seed_describe(2, &si));

	limit_mib = 0;
	k = departed(2 * MiB, 0);
	seed_keep(5, "off", &k); /* seeds off: freed at once */
	cr_assert_null(seed_get(5, 2 * MiB));
}

Test(seed, reclaim_gives_back_what_is_not_in_use)
{
	struct vm_kept_memory k = departed(2 * MiB, 0);
	seed_keep(1, "a", &k);
	k = departed(4 * MiB, 0);
	seed_keep(2, "b", &k);
	struct mig_seed *b = seed_get(2, 4 * MiB);

	size_t freed = seed_reclaim(100000);
	cr_assert(freed >= 512 && freed < 1024, "a's pages only: %zu", freed);
	cr_assert_null(seed_get(1, 2 * MiB));
	cr_assert_eq(seed_reclaim(1), 0, "b is in use");
	seed_put(b, false);
	cr_assert(seed_reclaim(1) >= 1024);
	cr_assert_eq(seed_total_pages(), 0);
}

Test(seed, hashing_ahead_covers_every_page_and_stops)
{
	struct vm_kept_memory k = departed(2 * MiB, 3);
	seed_keep(9, "h", &k);
	struct seed_info si;
	int turns = 0;

	while (seed_hash_ahead())
		cr_assert(++turns < 10000);
	cr_assert(seed_describe(0, &si));
	cr_assert_eq(si.hashed, 512);
	cr_assert_eq(seed_drop("h"), 1);
	cr_assert_eq(seed_drop("h"), 0);
}

Test(seed, a_machine_check_while_hashing_ahead_may_drop_every_seed)
{
	struct vm_kept_memory a = departed(2 * MiB, 1), b = departed(2 * MiB, 2);
	seed_keep(1, "a", &a);
	seed_keep(2, "b", &b);
	/* Handling it reclaims all seeds, the one being hashed too: the walk
	 * must not touch them afterwards (ASan would say so). */
	failing_src = (const void *)(uintptr_t)gmem_hpa(&a.mem, 5 * 4096);
	poll_reclaims = true;
	int turns = 0;
	while (seed_hash_ahead())
		cr_assert(++turns < 10000);
	cr_assert_eq(machine_checks, 1);
	cr_assert_eq(seed_total_pages(), 0);
}
