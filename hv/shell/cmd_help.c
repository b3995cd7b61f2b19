#include "hv/shell/commands.h"

int cmd_help(struct shell *sh, int argc, char **argv)
{
	if (argc == 2) {
		const struct shell_cmd *c = shell_find(sh, argv[1]);
		if (!c)
			return sh_error(sh, "no command '%.40s'", argv[1]);
		sh_printf(sh, "usage: %s %s\n%s\n", c->name, c->args, c->help);
		return SHELL_OK;
	}
	for (size_t i = 0; i < sh->ncmds; i++) {
		const struct shell_cmd *c = &sh->cmds[i];
		if (c->debug_only && !sh->debug_enabled)
			continue;
		sh_printf(sh, "%-10s %-34s %s\n", c->name, c->args, c->help);
	}
	return SHELL_OK;
}
