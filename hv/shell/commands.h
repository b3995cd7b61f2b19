/* Every console command, by module. The table itself is in commands.c. */
#ifndef HV_SHELL_COMMANDS_H
#define HV_SHELL_COMMANDS_H

#include <stddef.h>

#include "hv/shell/shell.h"

extern const struct shell_cmd hv_commands[];
extern const size_t hv_command_count;

int cmd_help(struct shell *sh, int argc, char **argv);
int cmd_version(struct shell *sh, int argc, char **argv);
int cmd_uptime(struct shell *sh, int argc, char **argv);
int cmd_log(struct shell *sh, int argc, char **argv);
int cmd_reboot(struct shell *sh, int argc, char **argv);
int cmd_poweroff(struct shell *sh, int argc, char **argv);
int cmd_mem(struct shell *sh, int argc, char **argv);
int cmd_memmap(struct shell *sh, int argc, char **argv);
int cmd_cpu(struct shell *sh, int argc, char **argv);
int cmd_config(struct shell *sh, int argc, char **argv);
int cmd_debug(struct shell *sh, int argc, char **argv);
int cmd_vm(struct shell *sh, int argc, char **argv);
int cmd_dirty(struct shell *sh, int argc, char **argv);
int cmd_net(struct shell *sh, int argc, char **argv);
int cmd_ping(struct shell *sh, int argc, char **argv);
int cmd_migrate(struct shell *sh, int argc, char **argv);
int cmd_mce(struct shell *sh, int argc, char **argv);
int cmd_bench(struct shell *sh, int argc, char **argv);
int cmd_blk(struct shell *sh, int argc, char **argv);
int cmd_ds(struct shell *sh, int argc, char **argv);
int cmd_disk(struct shell *sh, int argc, char **argv);

#endif
