/* ds | ds format DEVICE confirm=yes [force] */
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

int cmd_ds(struct shell *sh, int argc, char **argv)
{
	if (argc == 1)
		return ds_show(sh);
	if (!strcmp(argv[1], "format") && argc >= 3)
		return ds_format(sh, argc, argv);
	return sh_error(sh, "usage: ds | ds format DEVICE confirm=yes [force]");
}
