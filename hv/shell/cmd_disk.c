/* disk list | create | info | snapshot | delete | sum: the datastore's
 * virtual disks. Which VM uses a disk is the VM layer's knowledge. */
#include "hv/lib/parse.h"
#include "hv/lib/string.h"
#include "hv/shell/commands.h"
#include "hv/store/datastore.h"
#include "hv/vm/vm.h"

static struct store *store_or_error(struct shell *sh)
{
	struct store *s = datastore();

	if (!s)
		sh_error(sh, "no datastore is open: %s", datastore_absence());
	return s;
}

/* "vm1,vm2" or "-". */
static void attached_to(const char *disk, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = 0;
	for (unsigned i = 0; i < VM_MAX; i++) {
		const struct vm *vm = vm_slot(i);
		if (!vm || !vm_disk_in_use_by(vm, disk))
			continue;
		size_t n = strlen(vm->name);
		if (used + n + 2 > len)
			break;
		if (used)
			buf[used++] = ',';
		memcpy(buf + used, vm->name, n + 1);
		used += n;
	}
	if (!used)
		str_copy(buf, "-", len);
}

static void print_disk(struct shell *sh, const struct store_disk_info *d, bool long_form)
{
	char content[37], uuid[37], vms[VM_NAME_MAX * 4];

	store_uuid_format(&d->content_id, content);
	store_uuid_format(&d->uuid, uuid);
	attached_to(d->name, vms, sizeof(vms));
	if (!long_form) {
		sh_printf(sh, "%s size=%lu allocated=%lu parent=%s base=%d attached=%s\n",
			  d->name, (unsigned long)d->size,
			  (unsigned long)(d->allocated_blocks * d->block_size),
			  d->parent[0] ? d->parent : "-", d->base, vms);
		return;
	}
	sh_printf(sh, "name: %s\nuuid: %s\nsize: %lu\nblock_size: %u\nallocated_blocks: %lu\n"
		  "allocated: %lu\ncontent_id: %s\nparent: %s\nbase: %d\nchildren: %u\n"
		  "attached: %s\n",
		  d->name, uuid, (unsigned long)d->size, d->block_size,
		  (unsigned long)d->allocated_blocks,
		  (unsigned long)(d->allocated_blocks * d->block_size), content,
		  d->parent[0] ? d->parent : "-", d->base, d->children, vms);
}

static int disk_list(struct shell *sh, struct store *s, int argc, char **argv)
{
	struct store_disk_info d;

	(void)argc;
	(void)argv;
	for (unsigned i = 0; i < store_disk_count(s); i++)
		if (!store_disk_info_at(s, i, &d))
			print_disk(sh, &d, false);
	return SHELL_OK;
}

static int disk_create(struct shell *sh, struct store *s, int argc, char **argv)
{
	uint64_t size;
	const char *base = NULL;
	char err[200];

	if (!parse_size(argv[3], &size))
		return sh_error(sh, "bad size '%.20s' (e.g. 512M, 4G)", argv[3]);
	if (argc == 5) {
		if (strncmp(argv[4], "base=", 5))
			return sh_error(sh, "usage: disk create NAME SIZE [base=DISK]");
		base = argv[4] + 5;
	}
	if (store_disk_create(s, argv[2], size, base, err, sizeof(err)))
		return sh_error(sh, "%s", err);
	struct store_disk_info d;
	if (!store_disk_info(s, argv[2], &d))
		print_disk(sh, &d, true);
	return SHELL_OK;
}

static int disk_info(struct shell *sh, struct store *s, int argc, char **argv)
{
	struct store_disk_info d;

	(void)argc;
	if (store_disk_info(s, argv[2], &d))
		return sh_error(sh, "no disk '%.40s' (see 'disk list')", argv[2]);
	print_disk(sh, &d, true);
	return SHELL_OK;
}

static int disk_snapshot(struct shell *sh, struct store *s, int argc, char **argv)
{
	const char *as = NULL;
	char err[200];

	if (argc == 4) {
		if (strncmp(argv[3], "as=", 3))
			return sh_error(sh, "usage: disk snapshot NAME [as=BASE]");
		as = argv[3] + 3;
	}
	if (store_disk_snapshot(s, argv[2], as, err, sizeof(err)))
		return sh_error(sh, "%s", err);
	struct store_disk_info d;
	if (!store_disk_info(s, argv[2], &d)) {
		sh_printf(sh, "snapshot: %s\n", d.parent);
		print_disk(sh, &d, true);
	}
	return SHELL_OK;
}

static int disk_delete(struct shell *sh, struct store *s, int argc, char **argv)
{
	char err[200], vms[VM_NAME_MAX * 4];

	(void)argc;
	attached_to(argv[2], vms, sizeof(vms));
	if (strcmp(vms, "-"))
		return sh_error(sh, "disk '%.40s' is attached to %s (destroy the VM first)", argv[2],
				vms);
	if (store_disk_delete(s, argv[2], err, sizeof(err)))
		return sh_error(sh, "%s", err);
	return SHELL_OK;
}

static int disk_sum(struct shell *sh, struct store *s, int argc, char **argv)
{
	uint64_t sum;
	char err[200];

	(void)argc;
	if (store_disk_sum(s, argv[2], &sum, err, sizeof(err)))
		return sh_error(sh, "%s", err);
	sh_printf(sh, "sum: %016lx\n", (unsigned long)sum);
	return SHELL_OK;
}

static const struct {
	const char *name;
	int (*run)(struct shell *sh, struct store *s, int argc, char **argv);
	int min_argc, max_argc;
	const char *usage;
} subcommands[] = {
	{ "list", disk_list, 2, 2, "" },
	{ "create", disk_create, 4, 5, "NAME SIZE [base=DISK]" },
	{ "info", disk_info, 3, 3, "NAME" },
	{ "snapshot", disk_snapshot, 3, 4, "NAME [as=BASE]" },
	{ "delete", disk_delete, 3, 3, "NAME" },
	{ "sum", disk_sum, 3, 3, "NAME" },
	{ "send", cmd_disk_send, 4, 5, "NAME ADDR[:PORT] [as=NAME]" },
	{ "receive", cmd_disk_receive, 2, 4, "[PORT] [from=ADDR[,ADDR...]] | off" },
	{ "status", cmd_disk_status, 2, 2, "" },
};

int cmd_disk(struct shell *sh, int argc, char **argv)
{
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++) {
		if (strcmp(argv[1], subcommands[i].name))
			continue;
		if (argc < subcommands[i].min_argc || argc > subcommands[i].max_argc)
			return sh_error(sh, "usage: disk %s %s", subcommands[i].name,
					subcommands[i].usage);
		struct store *s = store_or_error(sh);
		return s ? subcommands[i].run(sh, s, argc, argv) : SHELL_FAILED;
	}
	return sh_error(sh, "unknown disk subcommand '%.20s' (try 'help disk')", argv[1]);
}
