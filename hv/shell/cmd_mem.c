/* mem, memmap */
#include "hv/core/hv.h"
#include "hv/mm/mm.h"
#include "hv/shell/commands.h"
#include "migrate/seed.h"

static void line(struct shell *sh, const char *key, uint64_t pages)
{
	sh_printf(sh, "%s: %lu pages (%lu MiB)\n", key, (unsigned long)pages,
		  (unsigned long)(pages >> 8));
}

int cmd_mem(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const struct boot_info *bi = hv_boot_info();
	const struct palloc_stats *s = &mm_palloc()->stats;
	uint64_t total = 0, mmio = 0;

	for (size_t i = 0; i < bi->memmap_count; i++) {
		if (bi->memmap[i].kind == MEM_MMIO)
			mmio += bi->memmap[i].pages;
		else
			total += bi->memmap[i].pages;
	}
	line(sh, "total", total);
	line(sh, "usable", s->managed);
	line(sh, "free", s->free);
	line(sh, "used", s->used);
	line(sh, "retired", s->retired);
	if (s->retire_pending)
		line(sh, "retire_pending", s->retire_pending);
	if (s->deferred)
		line(sh, "deferred", s->deferred);
	line(sh, "reserved", total - s->managed);
	line(sh, "mmio", mmio);
	line(sh, "host_page_tables", mm_host_table_pages());
	struct mm_heap_stats heap;
	mm_heap_stats(&heap);
	/* Counted as used: a leak shows as objects that stay, not as pages. */
	line(sh, "heap", heap.pages);
	sh_printf(sh, "heap_objects: %zu (%zu bytes)\n", heap.objects, heap.bytes);
	/* Counted as used; given back first when memory runs short. */
	line(sh, "migration_seeds", seed_total_pages());
	return SHELL_OK;
}

static const char *fw_type_name(uint32_t t)
{
	static const char *const names[] = {
		"reserved", "loader-code", "loader-data", "bs-code", "bs-data",
		"rt-code", "rt-data", "conventional", "unusable", "acpi-reclaim",
		"acpi-nvs", "mmio", "mmio-port", "pal-code", "persistent", "unaccepted",
	};

	return t < sizeof(names) / sizeof(names[0]) ? names[t] : "other";
}

int cmd_memmap(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const struct boot_info *bi = hv_boot_info();

	sh_printf(sh, "regions: %zu\n", bi->memmap_count);
	for (size_t i = 0; i < bi->memmap_count; i++) {
		const struct mem_region *r = &bi->memmap[i];
		sh_printf(sh, "0x%016lx-0x%016lx %8lu %-13s %-13s 0x%lx\n", (unsigned long)r->base,
			  (unsigned long)(r->base + r->pages * PAGE_SIZE - 1),
			  (unsigned long)r->pages, fw_type_name(r->fw_type),
			  mem_kind_name((enum mem_kind)r->kind), (unsigned long)r->fw_attr);
	}
	return SHELL_OK;
}
