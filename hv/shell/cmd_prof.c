/* prof start | stop | [show [N]]: where the hypervisor's CPUs spend their
 * time, by function (hv/core/profile.h). */
#include "hv/core/profile.h"
#include "hv/lib/parse.h"
#include "hv/lib/string.h"
#include "hv/shell/commands.h"

#define SHOW_DEFAULT 15
#define SHOW_MAX 200

static int show(struct shell *sh, unsigned n)
{
	struct profile_totals t;
	const char *name;
	uint64_t hits;

	profile_totals(&t);
	sh_printf(sh, "running: %s\nsamples: %lu\nidle: %lu\noutside_text: %lu\n"
		      "waited_for_sti: %lu\n",
		  profile_running() ? "yes" : "no", (unsigned long)t.samples,
		  (unsigned long)t.idle, (unsigned long)t.outside, (unsigned long)t.waited);
	for (unsigned i = 0; i < n && profile_top(i, &name, &hits); i++) {
		/* Tenths of a percent, integer arithmetic. */
		uint64_t permille = t.samples ? hits * 1000 / t.samples : 0;
		sh_printf(sh, "top%u: %lu %lu.%lu%% %s\n", i + 1, (unsigned long)hits,
			  (unsigned long)(permille / 10), (unsigned long)(permille % 10), name);
	}
	return SHELL_OK;
}

int cmd_prof(struct shell *sh, int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "start")) {
		if (!profile_start())
			return sh_error(sh, "cannot profile: this image has no symbol table");
		sh_printf(sh, "running: yes\n");
		return SHELL_OK;
	}
	if (argc == 2 && !strcmp(argv[1], "stop")) {
		profile_stop();
		return show(sh, SHOW_DEFAULT);
	}
	if (argc == 1)
		return show(sh, SHOW_DEFAULT);
	if (!strcmp(argv[1], "show") && argc <= 3) {
		uint64_t n = SHOW_DEFAULT;
		if (argc == 3 && (!parse_u64(argv[2], &n) || n == 0 || n > SHOW_MAX))
			return sh_error(sh, "'%.16s' is not a count of functions (1-%u)", argv[2],
					SHOW_MAX);
		return show(sh, (unsigned)n);
	}
	return sh_error(sh, "usage: prof start | stop | show [N]");
}
