/* hvdisk: create, fill, inspect and check datastore images from the host,
 * with the hypervisor's own format code (hv/store). Exit codes: 0 done,
 * 1 failed (check: problems found), 2 bad usage. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hv/lib/parse.h"
#include "hv/store/store.h"
#include "tools/hvdisk/hvdisk.h"

struct hvdisk_command {
	const char *name;
	int (*run)(const struct hvdisk_args *a);
	int min_pos, max_pos;
	unsigned opts;
	const char *usage;
};

static const struct hvdisk_command commands[] = {
	{ "create", cmd_create, 2, 2, OPT_GPT | OPT_FORCE, "create IMAGE SIZE [--gpt] [--force]" },
	{ "list", cmd_list, 1, 1, 0, "list IMAGE" },
	{ "import", cmd_import, 3, 3, OPT_SIZE | OPT_FORMAT,
	  "import IMAGE NAME SOURCE [--size SIZE] [--format FMT]" },
	{ "export", cmd_export, 3, 3, OPT_FORCE, "export IMAGE NAME DEST [--force]" },
	{ "write", cmd_write, 3, 3, OPT_OFFSET, "write IMAGE NAME SOURCE [--offset BYTES]" },
	{ "sum", cmd_sum, 2, 2, 0, "sum IMAGE NAME" },
	{ "create-disk", cmd_create_disk, 3, 3, OPT_BASE, "create-disk IMAGE NAME SIZE [--base DISK]" },
	{ "snapshot", cmd_snapshot, 2, 2, 0, "snapshot IMAGE NAME" },
	{ "delete", cmd_delete, 2, 2, 0, "delete IMAGE NAME" },
	{ "check", cmd_check, 1, 1, 0, "check IMAGE" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *to)
{
	fprintf(to, "usage: hvdisk COMMAND ARGS...\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(to, "  hvdisk %s\n", commands[i].usage);
	fprintf(to, "SIZE: bytes, or with K, M, G, T (binary): 512M, 4G. An IMAGE is a file or a\n"
		    "block device holding a datastore at its start or in a GPT partition.\n"
		    "Exit status: 0 ok, 1 failed (check: problems found), 2 bad usage.\n");
}

int hvdisk_error(const char *fmt, ...)
{
	va_list ap;

	fputs("hvdisk: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return HVDISK_FAIL;
}

int hvdisk_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("hvdisk: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage(stderr);
	return HVDISK_USAGE;
}

bool hvdisk_parse_size(const char *what, const char *text, uint64_t *out)
{
	if (!parse_size(text, out) || *out == 0 || *out % STORE_SECTOR) {
		hvdisk_usage_error("%s '%s': not a positive size in multiples of %u bytes", what, text,
				   STORE_SECTOR);
		return false;
	}
	return true;
}

/* Options with a value: where it goes. */
static const char **option_value(struct hvdisk_args *a, const char *opt, unsigned *bit)
{
	if (strcmp(opt, "--size") == 0)
		return *bit = OPT_SIZE, &a->size;
	if (strcmp(opt, "--format") == 0)
		return *bit = OPT_FORMAT, &a->format;
	if (strcmp(opt, "--base") == 0)
		return *bit = OPT_BASE, &a->base;
	if (strcmp(opt, "--offset") == 0)
		return *bit = OPT_OFFSET, &a->offset;
	return NULL;
}

/* Flags: which one. */
static bool *option_flag(struct hvdisk_args *a, const char *opt, unsigned *bit)
{
	if (strcmp(opt, "--gpt") == 0)
		return *bit = OPT_GPT, &a->gpt;
	if (strcmp(opt, "--force") == 0)
		return *bit = OPT_FORCE, &a->force;
	return NULL;
}

/* One option at argv[*i]; returns HVDISK_OK or a usage error. */
static int parse_option(const struct hvdisk_command *c, int argc, char **argv, int *i,
			struct hvdisk_args *a)
{
	const char *arg = argv[*i];
	unsigned bit = 0;
	const char **value = option_value(a, arg, &bit);
	bool *flag = value ? NULL : option_flag(a, arg, &bit);

	if (!(c->opts & bit) || (!value && !flag))
		return hvdisk_usage_error("%s: unknown option %s", c->name, arg);
	if (flag) {
		*flag = true;
		return HVDISK_OK;
	}
	if (*i + 1 >= argc)
		return hvdisk_usage_error("%s: %s needs a value", c->name, arg);
	*value = argv[++*i];
	return HVDISK_OK;
}

/* Options may stand anywhere after the command; "--" ends them. */
static int parse_args(const struct hvdisk_command *c, int argc, char **argv, struct hvdisk_args *a)
{
	bool options = true;

	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];

		if (options && strcmp(arg, "--") == 0) {
			options = false;
		} else if (options && arg[0] == '-' && arg[1]) {
			int rc = parse_option(c, argc, argv, &i, a);
			if (rc != HVDISK_OK)
				return rc;
		} else if (a->npos == c->max_pos) {
			return hvdisk_usage_error("%s: too many arguments", c->name);
		} else {
			a->pos[a->npos++] = arg;
		}
	}
	if (a->npos < c->min_pos)
		return hvdisk_usage_error("%s: missing arguments (hvdisk %s)", c->name, c->usage);
	return HVDISK_OK;
}

static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return true;
	return false;
}

int main(int argc, char **argv)
{
	struct hvdisk_args args = { 0 };

	if (wants_help(argc, argv)) {
		usage(stdout);
		return HVDISK_OK;
	}
	if (argc < 2)
		return hvdisk_usage_error("no command");
	for (size_t i = 0; i < NCOMMANDS; i++) {
		const struct hvdisk_command *c = &commands[i];
		int rc;

		if (strcmp(argv[1], c->name) != 0)
			continue;
		rc = parse_args(c, argc - 2, argv + 2, &args);
		return rc != HVDISK_OK ? rc : c->run(&args);
	}
	return hvdisk_usage_error("unknown command '%s'", argv[1]);
}
