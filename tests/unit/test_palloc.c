#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "hv/mm/palloc.h"
#include "sim_mem.h"

#define MiB (1ull << 20)
#define ARENA (64 * MiB)

static struct sim_mem mem;
static struct palloc pa;

/* A firmware-like map: low memory, a big free range, boot-services memory,
 * the hypervisor's own pages, ACPI, a hole, more free memory. */
static const struct mem_region map[] = {
	{ .base = 0, .pages = 160, .kind = MEM_FREE },
	{ .base = 1 * MiB, .pages = (15 * MiB) / 4096, .kind = MEM_FREE },
	{ .base = 16 * MiB, .pages = (4 * MiB) / 4096, .kind = MEM_BOOT_SERVICES },
	{ .base = 20 * MiB, .pages = (1 * MiB) / 4096, .kind = MEM_HV },
	{ .base = 21 * MiB, .pages = (1 * MiB) / 4096, .kind = MEM_ACPI },
	{ .base = 24 * MiB, .pages = (40 * MiB) / 4096, .kind = MEM_FREE },
};
#define NMAP (sizeof(map) / sizeof(map[0]))

static void setup(void)
{
	sim_init(&mem, ARENA);
}

static void teardown(void)
{
	sim_destroy(&mem);
}

static void check_invariant(void)
{
	const struct palloc_stats *s = &pa.stats;

	cr_assert_eq(s->managed, s->free + s->used + s->deferred + s->retired,
		     "managed %lu != free %lu + used %lu + deferred %lu + retired %lu",
		     s->managed, s->free, s->used, s->deferred, s->retired);
}

static bool in_kind(uint64_t addr, enum mem_kind kind)
{
	for (size_t i = 0; i < NMAP; i++)
		if (map[i].kind == kind && addr >= map[i].base &&
		    addr < map[i].base + map[i].pages * 4096)
			return true;
	return false;
}

TestSuite(palloc, .init = setup, .fini = teardown);

Test(palloc, init_counts_match_the_map)
{
	cr_assert(palloc_init(&pa, map, NMAP, NULL, 0, sim_global_p2v));
	uint64_t usable = 160 + (15 * MiB + 4 * MiB + 1 * MiB + 40 * MiB) / 4096;
	cr_assert_eq(pa.stats.managed, usable);
	cr_assert_eq(pa.stats.deferred, (4 * MiB) / 4096);
	cr_assert_eq(pa.stats.retired, 0);
	check_invariant();
}

Test(palloc, hands_out_only_free_ram_above_1mib_each_page_once)
{
	cr_assert(palloc_init(&pa, map, NMAP, NULL, 0, sim_global_p2v));
	uint64_t free_before = pa.stats.free;
	uint8_t *seen = calloc(ARENA / 4096, 1);
	uint64_t n = 0, addr;

	while ((addr = palloc_alloc(&pa)) != 0) {
		cr_assert_eq(addr % 4096, 0);
		cr_assert_geq(addr, 1 * MiB, "low page 0x%lx handed out", addr);
		cr_assert(in_kind(addr, MEM_FREE), "0x%lx is not free RAM", addr);
		cr_assert_not(seen[addr / 4096], "0x%lx handed out twice", addr);
		seen[addr / 4096] = 1;
		n++;
	}
	cr_assert_eq(n, free_before);
	cr_assert_eq(pa.stats.free, 0);
	check_invariant();
	free(seen);
}

Test(palloc, free_returns_pages_and_rejects_double_free)
{
	cr_assert(palloc_init(&pa, map, NMAP, NULL, 0, sim_global_p2v));
	uint64_t free_before = pa.stats.free;
	uint64_t a = palloc_alloc(&pa), b = palloc_alloc(&pa);

	cr_assert_neq(a, b);
	cr_assert(palloc_free(&pa, a));
	cr_assert_not(palloc_free(&pa, a), "double free accepted");
	cr_assert_not(palloc_free(&pa, 21 * MiB), "freeing ACPI memory accepted");
	cr_assert_not(palloc_free(&pa, a + 1), "unaligned free accepted");
	cr_assert(palloc_free(&pa, b));
	cr_assert_eq(pa.stats.free, free_before);
	check_invariant();
}

Test(palloc, zeroed_allocation_is_zero)
{
	cr_assert(palloc_init(&pa, map, NMAP, NULL, 0, sim_global_p2v));
	uint64_t a = palloc_alloc_zeroed(&pa);
	uint8_t *p = sim_global_p2v(a);

	for (int i = 0; i < 4096; i++)
		cr_assert_eq(p[i], 0);
}

Test(palloc, contiguous_aligned_runs)
{
	cr_assert(palloc_init(&pa, map, NMAP, NULL, 0, sim_global_p2v));
	for (int i = 0; i < 6; i++) {
		uint64_t a = palloc_alloc_contig(&pa, 512, 512);
		cr_assert_neq(a, 0);
		cr_assert_eq(a % (2 * MiB), 0, "run at 0x%lx not 2 MiB aligned", a);
		for (uint64_t p = a; p < a + 2 * MiB; p += 4096)
			cr_assert(in_kind(p, MEM_FREE));
	}
	cr_assert_eq(palloc_alloc_contig(&pa, 3, 3), 0, "non power-of-two alignment accepted");
	check_invariant();
}

Test(palloc, boot_services_memory_is_released_once)
{
	cr_assert(palloc_init(&pa, map, NMAP, NULL, 0, sim_global_p2v));
	uint64_t free_before = pa.stats.free;
	palloc_release_deferred(&pa);
	palloc_release_deferred(&pa);
	cr_assert_eq(pa.stats.free, free_before + (4 * MiB) / 4096);
	cr_assert_eq(pa.stats.deferred, 0);
	check_invariant();
}

Test(palloc, retired_free_page_is_never_handed_out)
{
	cr_assert(palloc_init(&pa, map, NMAP, NULL, 0, sim_global_p2v));
	uint64_t victim = 30 * MiB + 5 * 4096;

	cr_assert_eq(palloc_retire(&pa, victim), PALLOC_RETIRED_FREE);
	cr_assert_eq(palloc_retire(&pa, victim), PALLOC_ALREADY_RETIRED);
	cr_assert_eq(palloc_retire(&pa, 22 * MiB + 4096), PALLOC_NOT_RAM);
	cr_assert(palloc_is_retired(&pa, victim));
	cr_assert_eq(pa.stats.retired, 1);
	uint64_t addr;
	while ((addr = palloc_alloc(&pa)) != 0)
		cr_assert_neq(addr, victim, "retired page handed out");
	check_invariant();
}

Test(palloc, retiring_a_page_in_use_completes_when_freed)
{
	cr_assert(palloc_init(&pa, map, NMAP, NULL, 0, sim_global_p2v));
	uint64_t a = palloc_alloc(&pa);

	cr_assert_eq(palloc_retire(&pa, a), PALLOC_RETIRED_IN_USE);
	cr_assert_eq(pa.stats.retire_pending, 1);
	check_invariant();
	cr_assert(palloc_free(&pa, a));
	cr_assert_eq(pa.stats.retire_pending, 0);
	cr_assert_eq(pa.stats.retired, 1);
	check_invariant();
	uint64_t addr;
	while ((addr = palloc_alloc(&pa)) != 0)
		cr_assert_neq(addr, a);
}

Test(palloc, pages_retired_in_an_earlier_boot_are_honoured)
{
	/* Include the page the bitmaps would otherwise be carved from (the
	 * top of the first big free region) and a boot-services page. */
	uint64_t retired[] = { 16 * MiB - 4096, 40 * MiB, 17 * MiB, 40 * MiB };
	cr_assert(palloc_init(&pa, map, NMAP, retired, 4, sim_global_p2v));
	cr_assert_eq(pa.stats.retired, 3);
	check_invariant();
	palloc_release_deferred(&pa);
	check_invariant();
	uint64_t addr;
	while ((addr = palloc_alloc(&pa)) != 0)
		for (int i = 0; i < 3; i++)
			cr_assert_neq(addr, retired[i], "retired page 0x%lx handed out", addr);
	uint64_t list[8];
	cr_assert_eq(palloc_retired_list(&pa, list, 8), 3);
	cr_assert_eq(list[0], 16 * MiB - 4096);
	cr_assert_eq(list[1], 17 * MiB);
	cr_assert_eq(list[2], 40 * MiB);
}

Test(palloc, unretire_puts_a_page_back)
{
	cr_assert(palloc_init(&pa, map, NMAP, NULL, 0, sim_global_p2v));
	uint64_t victim = 30 * MiB;
	uint64_t free_before = pa.stats.free;

	palloc_retire(&pa, victim);
	cr_assert(palloc_unretire(&pa, victim));
	cr_assert_not(palloc_unretire(&pa, victim));
	cr_assert_eq(pa.stats.free, free_before);
	cr_assert(palloc_is_free(&pa, victim));
	check_invariant();
}

Test(palloc, no_room_for_metadata_fails_cleanly)
{
	static const struct mem_region tiny[] = { { .base = 0, .pages = 100, .kind = MEM_FREE } };
	cr_assert_not(palloc_init(&pa, tiny, 1, NULL, 0, sim_global_p2v));
	cr_assert_not(palloc_init(&pa, map, 0, NULL, 0, sim_global_p2v));
}
