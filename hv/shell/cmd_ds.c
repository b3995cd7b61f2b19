/* ds | ds format DEVICE confirm=yes [force] */
#include "hv/lib/parse.h"
#include "hv/lib/string.h"
#include "hv/shell/commands.h"
#include "hv/store/datastore.h"

/* ok, full, read-only (damaged), or none. */
static const char *state_of(const struct store_info *i)
{
	if (i->read_only)
		return "read-only";
	return i->full ? "full" : "ok";
}

static int ds_show(struct shell *sh)
{
	struct store *s = datastore();
	struct store_info i;
	char uuid[37];

	if (!s) {
		sh_printf(sh, "state: none\nreason: %s\n", datastore_absence());
		return SHELL_OK;
	}
	store_info(s, &i);
	store_uuid_format(&i.uuid, uuid);
	uint64_t free_bytes = i.free_blocks * i.block_size;
	sh_printf(sh, "state: %s\ndevice: %s\nuuid: %s\nsize: %lu (%lu MiB)\n"
		  "free: %lu (%lu MiB)\nblock_size: %lu\ndisks: %u\ncommits: %lu\n"
		  "replayed: %lu\n", state_of(&i), datastore_region(), uuid,
		  (unsigned long)i.size, (unsigned long)(i.size >> 20), (unsigned long)free_bytes,
		  (unsigned long)(free_bytes >> 20), (unsigned long)i.block_size, i.disks,
		  (unsigned long)i.commits, (unsigned long)i.replayed_transactions);
	if (i.problem[0])
		sh_printf(sh, "problem: %s\n", i.problem);
	else if (i.full)
		sh_printf(sh, "problem: full: writes that need new blocks fail with an I/O error "
			      "until disks are deleted\n");
	return SHELL_OK;
}

static int ds_format(struct shell *sh, int argc, char **argv)
{
	bool confirmed = false, force = false;
	char err[200];

	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "confirm=yes"))
			confirmed = true;
		else if (!strcmp(argv[i], "force"))
			force = true;
		else
			return sh_error(sh, "unknown argument '%.30s' (usage: ds format DEVICE "
					"confirm=yes [force])", argv[i]);
	}
	if (!confirmed)
		return sh_error(sh, "formatting destroys what is on %.30s: add confirm=yes",
				argv[2]);
	if (datastore_format(argv[2], force, err, sizeof(err)))
		return sh_error(sh, "%s", err);
	return ds_show(sh);
}

/* Disks still arriving from another instance (transfers cut short). */
static int ds_fragments(struct shell *sh)
{
	struct store *s = datastore();
	struct store_fragment_info f;
	char uuid[37];

	if (!s)
		return sh_error(sh, "no datastore is open");
	unsigned n = store_fragment_count(s);
	for (unsigned i = 0; i < n; i++) {
		if (store_fragment_info_at(s, i, &f))
			continue;
		store_uuid_format(&f.uuid, uuid);
		sh_printf(sh, "%u disk=%s uuid=%s size=%lu offset=%lu allocated=%lu parent=%s "
			      "open=%s progress_s=%lu\n",
			  f.id, f.name, uuid, (unsigned long)f.size, (unsigned long)f.offset,
			  (unsigned long)f.allocated_blocks, f.parent[0] ? f.parent : "-",
			  f.open ? "yes" : "no", (unsigned long)f.progress_s);
	}
	sh_printf(sh, "fragments: %u\n", n);
	return SHELL_OK;
}

static int ds_fragment_drop(struct shell *sh, const char *id_text)
{
	struct store *s = datastore();
	uint64_t id;
	char err[160];

	if (!s)
		return sh_error(sh, "no datastore is open");
	if (!parse_u64(id_text, &id) || id > 0xffff)
		return sh_error(sh, "'%.20s' is not a fragment ID (see 'ds fragments')", id_text);
	if (store_fragment_drop(s, (unsigned)id, err, sizeof(err)))
		return sh_error(sh, "%s", err);
	sh_printf(sh, "dropped: %lu\n", (unsigned long)id);
	return SHELL_OK;
}

int cmd_ds(struct shell *sh, int argc, char **argv)
{
	if (argc == 1)
		return ds_show(sh);
	if (!strcmp(argv[1], "format") && argc >= 3)
		return ds_format(sh, argc, argv);
	if (!strcmp(argv[1], "fragments") && argc == 2)
		return ds_fragments(sh);
	if (!strcmp(argv[1], "fragments") && argc == 4 && !strcmp(argv[2], "drop"))
		return ds_fragment_drop(sh, argv[3]);
	return sh_error(sh, "usage: ds | ds format DEVICE confirm=yes [force] | ds fragments "
			"[drop ID]");
}
