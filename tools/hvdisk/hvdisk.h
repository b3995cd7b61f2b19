/* hvdisk: the datastore from the host side. The subcommands, their
 * parsed arguments and the tool's exit codes and error output. */
#ifndef TOOLS_HVDISK_HVDISK_H
#define TOOLS_HVDISK_HVDISK_H

#include <stdbool.h>
#include <stdint.h>

enum hvdisk_exit {
	HVDISK_OK = 0,
	HVDISK_FAIL = 1,  /* the operation failed (or check found problems) */
	HVDISK_USAGE = 2, /* bad command line */
};

#define HVDISK_MAX_POS 4

/* The options a subcommand accepts (bits). */
enum hvdisk_opt {
	OPT_GPT = 1 << 0,
	OPT_FORCE = 1 << 1,
	OPT_SIZE = 1 << 2,
	OPT_FORMAT = 1 << 3,
	OPT_BASE = 1 << 4,
	OPT_OFFSET = 1 << 5,
};

struct hvdisk_args {
	const char *pos[HVDISK_MAX_POS];
	int npos;
	bool gpt, force;
	const char *size, *format, *base, *offset; /* NULL when not given */
};

/* "hvdisk: error: <message>" on stderr; returns HVDISK_FAIL. */
int hvdisk_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same with the usage text after it; returns HVDISK_USAGE. */
int hvdisk_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A size argument ("512M", "4G", "1048576"): positive, a multiple of 512.
 * Reports a usage error and returns false when it is not. */
bool hvdisk_parse_size(const char *what, const char *text, uint64_t *out);

int cmd_create(const struct hvdisk_args *a);
int cmd_list(const struct hvdisk_args *a);
int cmd_import(const struct hvdisk_args *a);
int cmd_export(const struct hvdisk_args *a);
int cmd_write(const struct hvdisk_args *a);
int cmd_sum(const struct hvdisk_args *a);
int cmd_create_disk(const struct hvdisk_args *a);
int cmd_snapshot(const struct hvdisk_args *a);
int cmd_delete(const struct hvdisk_args *a);
int cmd_check(const struct hvdisk_args *a);

#endif
