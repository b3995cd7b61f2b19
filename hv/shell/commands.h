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
int cmd_prof(struct shell *sh, int argc, char **argv);
int cmd_blk(struct shell *sh, int argc, char **argv);
int cmd_ds(struct shell *sh, int argc, char **argv);
int cmd_disk(struct shell *sh, int argc, char **argv);
/* disk send | receive | status (cmd_disk_xfer.c), for cmd_disk's table. */
struct store;
int cmd_disk_send(struct shell *sh, struct store *s, int argc, char **argv);
int cmd_disk_receive(struct shell *sh, struct store *s, int argc, char **argv);
int cmd_disk_status(struct shell *sh, struct store *s, int argc, char **argv);
/* Shared by migrate and disk: "ADDR[:PORT]" and "from=ADDR[,ADDR...]".
 * Both return false with the reason in err. */
bool cmd_parse_endpoint(const char *arg, uint32_t *ip, uint16_t *port, char *err, size_t errlen);
bool cmd_parse_peers(const char *list, uint32_t *peers, size_t max, size_t *n, char *err,
		     size_t errlen);
/* argv[from..argc): "[PORT] from=ADDR[,ADDR...]" (at most MIGRATE_MAX_PEERS). */
bool cmd_parse_listen(int argc, char **argv, int from, uint16_t *port, uint32_t *peers,
		      size_t *npeers, char *err, size_t errlen);

#endif
