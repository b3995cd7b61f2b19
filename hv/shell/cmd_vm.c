/* vm create | start | pause | resume | stop | destroy | list | images */
#include "hv/lib/parse.h"
#include "hv/lib/string.h"
#include "hv/shell/cmd_vm.h"
#include "hv/shell/commands.h"
#include "hv/vm/vm.h"
#include "hv/vm/vm_place.h"
#include "hv/vm/vm_run.h"
#include "hv/x86/percpu.h"

struct vm *cmd_vm_lookup(struct shell *sh, const char *name)
{
	struct vm *vm = vm_find(name);

	if (!vm) {
		sh_error(sh, "no VM named '%.40s'", name);
		return NULL;
	}
	if (!vm_hold_for_command(vm)) { /* another CPU may run it: not meanwhile */
		sh_error(sh, "one command can name at most 8 VMs that run on other CPUs");
		return NULL;
	}
	return vm;
}

/* vm pin NAME VCPU|all CPU */
static int vm_pin(struct shell *sh, int argc, char **argv)
{
	char err[160];
	uint64_t vcpu = 0, cpu;
	bool all = !strcmp(argv[3], "all");

	(void)argc;
	struct vm *vm = cmd_vm_lookup(sh, argv[2]);
	if (!vm)
		return SHELL_FAILED;
	if (!all && (!parse_u64(argv[3], &vcpu) || vcpu >= vm->nvcpus)) {
		if (vm->nvcpus == 1)
			return sh_error(sh, "VM '%s' has one vCPU: 0 or all (not '%.20s')", vm->name,
					argv[3]);
		return sh_error(sh, "VM '%s' has vCPUs 0 to %u, or all (not '%.20s')", vm->name,
				vm->nvcpus - 1, argv[3]);
	}
	if (!parse_u64(argv[4], &cpu) || cpu >= CPU_MAX)
		return sh_error(sh, "bad CPU number '%.20s' (see 'cpu')", argv[4]);
	int rc = all ? vm_place(vm, (uint32_t)cpu, err, sizeof(err)) :
		       vm_place_vcpu(vm, (unsigned)vcpu, (uint32_t)cpu, err, sizeof(err));
	if (rc)
		return sh_error(sh, "%s", err);
	for (unsigned i = 0; i < vm->nvcpus; i++)
		sh_printf(sh, "vcpu%u: cpu %u\n", i, vm->vcpus[i].cpu);
	return SHELL_OK;
}

/* vm create NAME IMAGE [mem=SIZE] [cpus=N] [module="IMAGE args"]... [disk=DISK[,ro]]...
 * [unbacked=abort|stop] [WORDS...] [-- WORDS...]
 * mem=, cpus=, module=, disk= and unbacked= are for the hypervisor; all other words become the
 * guest's command line (everything after "--" does, verbatim). */
static int vm_create_cmd(struct shell *sh, int argc, char **argv)
{
	struct vm_create_args a = { .name = argv[2], .image = argv[3] };
	char cmdline[VM_CMDLINE_MAX] = "";
	size_t len = 0;
	bool verbatim = false;
	char err[200];

	for (int i = 4; i < argc; i++) {
		const char *w = argv[i];
		if (!verbatim && !strcmp(w, "--")) {
			verbatim = true;
			continue;
		}
		if (!verbatim && !strncmp(w, "cpus=", 5)) {
			uint64_t n;
			if (!parse_u64(w + 5, &n) || n < 1 || n > VM_MAX_VCPUS)
				return sh_error(sh, "bad cpus '%.20s' (1 to %d vCPUs)", w + 5,
						VM_MAX_VCPUS);
			a.cpus = (unsigned)n;
			continue;
		}
		if (!verbatim && !strncmp(w, "mem=", 4)) {
			if (!parse_size(w + 4, &a.mem))
				return sh_error(sh, "bad memory size '%.20s' (e.g. 64M, 1G)", w + 4);
			continue;
		}
		if (!verbatim && !strncmp(w, "module=", 7)) {
			if (a.nmodules == VM_MAX_MODULES)
				return sh_error(sh, "at most %d modules", VM_MAX_MODULES);
			a.modules[a.nmodules++] = w + 7;
			continue;
		}
		if (!verbatim && !strncmp(w, "unbacked=", 9)) {
			if (strcmp(w + 9, "stop") && strcmp(w + 9, "abort"))
				return sh_error(sh, "bad unbacked '%.20s' (abort or stop)", w + 9);
			a.unbacked_stops = !strcmp(w + 9, "stop");
			continue;
		}
		if (!verbatim && !strncmp(w, "disk=", 5)) {
			if (a.ndisks == VM_MAX_DISKS)
				return sh_error(sh, "at most %d disks", VM_MAX_DISKS);
			a.disks[a.ndisks++] = w + 5;
			continue;
		}
		size_t wl = strlen(w);
		if (len + wl + 2 > sizeof(cmdline))
			return sh_error(sh, "guest command line too long");
		if (len)
			cmdline[len++] = ' ';
		memcpy(cmdline + len, w, wl + 1);
		len += wl;
	}
	a.cmdline = cmdline;
	struct vm *vm = vm_create(&a, err, sizeof(err));
	if (!vm)
		return sh_error(sh, "%s", err);
	sh_printf(sh, "name: %s\nid: %u\nmem: %lu MiB\nstate: %s\n", vm->name, vm->id,
		  (unsigned long)(vm->mem.size >> 20), vm_state_name(vm->state));
	for (unsigned i = 0; i < vm->ndisks; i++)
		sh_printf(sh, "disk%u: %s pci=00:%02x.0%s\n", i, vm->disks[i].name, vm->disks[i].slot,
			  vm->disks[i].read_only ? " ro" : "");
	return SHELL_OK;
}

static int vm_simple(struct shell *sh, int argc, char **argv)
{
	char err[200];
	const char *op = argv[1];

	(void)argc;
	struct vm *vm = cmd_vm_lookup(sh, argv[2]);
	if (!vm)
		return SHELL_FAILED;
	if (vm->migrating)
		return sh_error(sh, "VM '%s' is being migrated (see 'migrate status'; "
			"'migrate cancel' stops it)", vm->name);
	int rc = 0;
	if (!strcmp(op, "start"))
		rc = vm_start(vm, err, sizeof(err));
	else if (!strcmp(op, "pause"))
		rc = vm_pause(vm, err, sizeof(err));
	else if (!strcmp(op, "resume"))
		rc = vm_resume(vm, err, sizeof(err));
	else if (!strcmp(op, "stop")) {
		if (vm->state == VM_STOPPED || vm->state == VM_CRASHED)
			return sh_error(sh, "VM '%s' is %s already", vm->name, vm_state_name(vm->state));
		vm_stop(vm, "stopped from the console");
	} else if (!strcmp(op, "destroy")) {
		vm_destroy(vm);
		return SHELL_OK;
	}
	if (rc)
		return sh_error(sh, "%s", err);
	sh_printf(sh, "state: %s\n", vm_state_name(vm->state));
	return SHELL_OK;
}

static int vm_list(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	sh_printf(sh, "%-16s %-8s %8s %12s %s\n", "name", "state", "mem_mib", "exits", "image");
	for (unsigned i = 0; i < VM_MAX; i++) {
		struct vm *vm = vm_slot(i);
		if (!vm)
			continue;
		const char *state = vm_state_name(vm->state);
		if (vm->state == VM_RUNNING && !vm_runnable(vm))
			state = "halted";
		uint64_t exits = 0;
		for (unsigned v = 0; v < vm->nvcpus; v++)
			exits += vm->vcpus[v].exits;
		sh_printf(sh, "%-16s %-8s %8lu %12lu %s\n", vm->name, state,
			  (unsigned long)(vm->mem.size >> 20), (unsigned long)exits, vm->image_name);
	}
	return SHELL_OK;
}

static int vm_images(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	sh_printf(sh, "%-24s %10s %s\n", "image", "bytes", "origin");
	for (size_t i = 0; image_at(i); i++) {
		const struct guest_image *g = image_at(i);
		sh_printf(sh, "%-24s %10zu %s\n", g->name, g->size, g->origin);
	}
	return SHELL_OK;
}

static const struct {
	const char *name;
	int (*run)(struct shell *sh, int argc, char **argv);
	int min_argc, max_argc;
	const char *usage;
} subcommands[] = {
	{ "create", vm_create_cmd, 4, SHELL_MAX_ARGS,
	  "NAME IMAGE [mem=SIZE] [module=\"IMAGE ARGS\"]... [disk=DISK[,ro]]... [ARGS...] "
	  "[-- ARGS...]" },
	{ "start", vm_simple, 3, 3, "NAME" },
	{ "pause", vm_simple, 3, 3, "NAME" },
	{ "resume", vm_simple, 3, 3, "NAME" },
	{ "stop", vm_simple, 3, 3, "NAME" },
	{ "destroy", vm_simple, 3, 3, "NAME" },
	{ "list", vm_list, 2, 2, "" },
	{ "pin", vm_pin, 5, 5, "NAME VCPU|all CPU" },
	{ "images", vm_images, 2, 2, "" },
	{ "info", cmd_vm_info, 3, 3, "NAME" },
	{ "output", cmd_vm_output, 3, 4, "NAME [LINES]" },
	{ "console", cmd_vm_console, 3, 3, "NAME" },
	{ "send", cmd_vm_send, 4, 4, "NAME TEXT" },
	{ "memsum", cmd_vm_memsum, 3, 3, "NAME" },
};

int cmd_vm(struct shell *sh, int argc, char **argv)
{
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++) {
		if (strcmp(argv[1], subcommands[i].name))
			continue;
		if (argc < subcommands[i].min_argc || argc > subcommands[i].max_argc)
			return sh_error(sh, "usage: vm %s %s", subcommands[i].name,
					subcommands[i].usage);
		return subcommands[i].run(sh, argc, argv);
	}
	return sh_error(sh, "unknown vm subcommand '%.20s' (try 'help vm')", argv[1]);
}
