/* dirty start | harvest | stats | stop: a VM's dirty-page log by hand. */
#include "hv/lib/bitmap.h"
#include "hv/lib/parse.h"
#include "hv/lib/string.h"
#include "hv/shell/cmd_vm.h"
#include "hv/shell/commands.h"
#include "hv/vm/vm.h"

static void print_installers(struct shell *sh, const struct vm *vm)
{
	uint32_t k = vm->dirty.installers;

	if (k == DIRTY_INSTALLERS_ALL)
		sh_printf(sh, "installers: all\n");
	else
		sh_printf(sh, "installers: %u\n", k);
}

/* dirty start NAME [mode=wp|ad|pml] [gran=4k|2m] [installers=K] */
static int dirty_start_cmd(struct shell *sh, struct vm *vm, int argc, char **argv)
{
	enum dirty_mode mode = DIRTY_MODE_BEST;
	enum dirty_gran gran = DIRTY_GRAN_4K;
	uint32_t installers = DIRTY_INSTALLERS_ALL;
	char err[160];

	for (int i = 3; i < argc; i++) {
		const char *w = argv[i];
		if (!strncmp(w, "mode=", 5)) {
			if (!dirty_mode_parse(w + 5, &mode))
				return sh_error(sh, "unknown mode '%.10s' (wp, ad or pml)", w + 5);
		} else if (!strcmp(w, "gran=4k")) {
			gran = DIRTY_GRAN_4K;
		} else if (!strcmp(w, "gran=2m")) {
			gran = DIRTY_GRAN_2M;
		} else if (!strncmp(w, "installers=", 11)) {
			uint64_t k;
			if (!parse_u64(w + 11, &k) || k > vm->nvcpus)
				return sh_error(sh, "installers= takes 0 to %u (the VM's vCPUs), not "
						"'%.20s'", vm->nvcpus, w + 11);
			installers = (uint32_t)k;
		} else {
			return sh_error(sh, "unknown option '%.20s' (mode=wp|ad|pml gran=4k|2m "
					"installers=K)", w);
		}
	}
	if (dirty_log_start(vm, mode, gran, installers, err, sizeof(err)))
		return sh_error(sh, "%s", err);
	sh_printf(sh, "mode: %s\ngranularity: %s\ntracked_pages: %zu\n",
		  dirty_mode_name(vm->dirty.track.mode), dirty_gran_name(gran),
		  vm->dirty.track.npages);
	print_installers(sh, vm);
	return SHELL_OK;
}

/* Runs of set bits as "gfn FIRST count N" lines (not key: value). */
static void print_runs(struct shell *sh, const uint64_t *map, size_t nbits)
{
	size_t start = bitmap_next_set(map, nbits, 0);

	while (start != BITMAP_NONE) {
		size_t end = bitmap_next_clear(map, nbits, start);
		if (end == BITMAP_NONE)
			end = nbits;
		sh_printf(sh, "gfn 0x%zx count %zu\n", start, end - start);
		start = bitmap_next_set(map, nbits, end);
	}
}

static int dirty_harvest_cmd(struct shell *sh, struct vm *vm, int argc, char **argv)
{
	bool list = argc == 4 && !strcmp(argv[3], "list");

	if (argc == 4 && !list)
		return sh_error(sh, "usage: dirty harvest NAME [list]");
	size_t n = dirty_log_harvest(vm);
	sh_printf(sh, "mode: %s\ngranularity: %s\ndirty_pages: %zu\nharvest_us: %lu\n",
		  dirty_mode_name(vm->dirty.track.mode), dirty_gran_name(vm->dirty.track.gran), n,
		  (unsigned long)(vm->dirty.stats.last_ns / 1000));
	if (list)
		print_runs(sh, dirty_log_pages(vm), vm->dirty.track.npages);
	return SHELL_OK;
}

static int dirty_stats_cmd(struct shell *sh, struct vm *vm)
{
	const struct dirty_log *d = &vm->dirty;
	const struct dirty_stats *s = &d->stats;

	sh_printf(sh, "active: %s\n", d->active ? "yes" : "no");
	if (!d->track.log) /* never started */
		return SHELL_OK;
	sh_printf(sh, "mode: %s\ngranularity: %s\ntracked_pages: %zu\nharvests: %lu\n",
		  dirty_mode_name(d->track.mode), dirty_gran_name(d->track.gran), d->track.npages,
		  (unsigned long)s->harvests);
	sh_printf(sh, "last_dirty_pages: %lu\ntotal_dirty_pages: %lu\n",
		  (unsigned long)s->last_pages, (unsigned long)s->total_pages);
	sh_printf(sh, "last_harvest_us: %lu\ntotal_harvest_us: %lu\n",
		  (unsigned long)(s->last_ns / 1000), (unsigned long)(s->total_ns / 1000));
	print_installers(sh, vm);
	sh_printf(sh, "wp_faults: %lu\nwp_region_faults: %lu\n", (unsigned long)d->track.faults,
		  (unsigned long)d->track.region_faults);
	sh_printf(sh, "pml_full_exits: %lu\npml_entries: %lu\n",
		  (unsigned long)s->log_full_exits,
		  (unsigned long)d->track.pml_entries);
	sh_printf(sh, "rearm_failures: %lu\n", (unsigned long)d->track.rearm_failures);
	sh_printf(sh, "shootdowns: %lu\nshootdown_us: %lu\n", (unsigned long)s->shootdowns,
		  (unsigned long)(s->shootdown_ns / 1000));
	return SHELL_OK;
}

int cmd_dirty(struct shell *sh, int argc, char **argv)
{
	const char *op = argv[1];

	if (strcmp(op, "start") && strcmp(op, "harvest") && strcmp(op, "stats") && strcmp(op, "stop"))
		return sh_error(sh, "unknown dirty subcommand '%.20s' (start, harvest, stats, stop)",
				op);
	if (argc < 3)
		return sh_error(sh, "usage: dirty start|harvest|stats|stop NAME ...");
	struct vm *vm = cmd_vm_lookup(sh, argv[2]);
	if (!vm)
		return SHELL_FAILED;
	if (vm->migrating && strcmp(op, "stats"))
		return sh_error(sh, "VM '%s' is being migrated: its dirty log belongs to the "
			"migration", vm->name);
	if (!strcmp(op, "start"))
		return dirty_start_cmd(sh, vm, argc, argv);
	if (!strcmp(op, "stats"))
		return argc == 3 ? dirty_stats_cmd(sh, vm) : sh_error(sh, "usage: dirty stats NAME");
	if (!vm->dirty.active)
		return sh_error(sh, "dirty tracking is not running for '%s'", vm->name);
	if (!strcmp(op, "harvest"))
		return dirty_harvest_cmd(sh, vm, argc, argv);
	if (argc != 3)
		return sh_error(sh, "usage: dirty stop NAME");
	dirty_log_stop(vm);
	return SHELL_OK;
}
