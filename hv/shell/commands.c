#include "hv/shell/commands.h"

const struct shell_cmd hv_commands[] = {
	{ .name = "help", .args = "[COMMAND]", .help = "list commands, or describe one",
	  .run = cmd_help, .max_args = 1 },
	{ .name = "version", .args = "", .help = "hypervisor version and build",
	  .run = cmd_version },
	{ .name = "uptime", .args = "", .help = "time since the firmware started hv.efi",
	  .run = cmd_uptime },
	{ .name = "log", .args = "[LINES]", .help = "the boot and event log",
	  .run = cmd_log, .max_args = 1 },
	{ .name = "mem", .args = "", .help = "physical memory: total, free, used, reserved, retired",
	  .run = cmd_mem },
	{ .name = "memmap", .args = "", .help = "the firmware memory map handed over at boot",
	  .run = cmd_memmap },
	{ .name = "prof", .args = "start | stop | show [N]",
	  .help = "sample where the hypervisor's CPUs spend their time, by function",
	  .run = cmd_prof, .max_args = 2 },
	{ .name = "cpu", .args = "", .help = "CPU identity and virtualization features",
	  .run = cmd_cpu },
	{ .name = "config", .args = "", .help = "boot settings and where they came from",
	  .run = cmd_config },
	{ .name = "vm",
	  .args = "create|start|pause|resume|stop|destroy|list|info|images|output|console|send ...",
	  .help = "guests: create from an image, control, inspect, talk to",
	  .run = cmd_vm, .min_args = 1, .max_args = SHELL_MAX_ARGS - 1 },
	{ .name = "dirty", .args = "start NAME [mode=wp|ad|pml] [gran=4k|2m] [installers=K] | "
				   "harvest NAME [list] | stats NAME | stop NAME",
	  .help = "track the pages a VM writes (the second-level tables' dirty log)",
	  .run = cmd_dirty, .min_args = 2, .max_args = 5 },
	{ .name = "net", .args = "[IF] | mem | ip ADDR/PREFIX [GATEWAY] [IF] | dhcp [IF] | "
				 "perf [listen [PORT] | send ADDR [SECONDS] [port=P] | raw [SECONDS] [IF]] | "
				 "offload on|off [IF]",
	  .help = "network interfaces: addresses, counters, DHCP, lwIP memory, throughput tests, "
		  "checksum offload",
	  .run = cmd_net, .max_args = 6 },
	{ .name = "ping", .args = "ADDR [COUNT] [interval=MS]",
	  .help = "ICMP echo from the hypervisor's own stack",
	  .run = cmd_ping, .min_args = 1, .max_args = 3 },
	{ .name = "migrate",
	  .args = "send NAME ADDR[:PORT] [downtime=MS] [bandwidth=MBPS] [rounds=N] [throttle=on|off] "
		  "[mode=wp|ad|pml] [installers=K] [as=NAME] [disks=copy|shared] [keep=yes|no] "
		  "[disk_mode=rounds|mirror] [signatures=on|off] [delta=on|off] [handover=confirmed|pipelined] | listen [PORT] from=ADDR[,ADDR...] | "
		  "listen off | status | cancel | seeds [drop NAME|all]",
	  .help = "live-migrate a running VM to another instance, or accept them",
	  .run = cmd_migrate, .min_args = 1, .max_args = 16 },
	{ .name = "mce", .args = "| retire ADDR | forget ADDR | inject ADDR|VM:GPA | where VM:GPA",
	  .help = "machine checks: banks, errors, retired pages (kept in UEFI NVRAM)",
	  .run = cmd_mce, .max_args = 2 },
	{ .name = "blk",
	  .args = "| bench DEV read|write|randread|randwrite [size=MB] [bs=KiB] [qd=N] [force] | "
		  "read DEV LBA | write DEV LBA BYTE [force]",
	  .help = "host block devices: model, size, what is on them; the driver's own throughput",
	  .run = cmd_blk, .max_args = 8 },
	{ .name = "ds", .args = "| format DEVICE confirm=yes [force] | fragments [drop ID]",
	  .help = "the datastore holding the virtual disks: where, size, free, state, damage",
	  .run = cmd_ds, .max_args = 4 },
	{ .name = "disk",
	  .args = "list | create NAME SIZE [base=DISK] | info NAME | snapshot NAME [as=BASE] | "
		  "delete NAME | sum NAME | send NAME ADDR[:PORT] [as=NAME] | "
		  "receive [PORT] [from=ADDR,...] | status",
	  .help = "virtual disks in the datastore (attach with vm create ... disk=NAME[,ro]); "
		  "copy one to another instance",
	  .run = cmd_disk, .min_args = 1, .max_args = 5 },
	{ .name = "bench", .args = "compute|copy|crc N",
	  .help = "run the benchmark kernel, N page copies plain vs machine-check-safe, or "
		  "CRC-32C over N pages in software vs SSE4.2",
	  .run = cmd_bench, .min_args = 2, .max_args = 2 },
	{ .name = "reboot", .args = "", .help = "reset the machine through UEFI",
	  .run = cmd_reboot },
	{ .name = "poweroff", .args = "", .help = "switch the machine off through UEFI",
	  .run = cmd_poweroff },
	{ .name = "debug", .args = "fault de|ud|gp|pf|bp | panic | alloc-all | mc-copy | nvram-corrupt",
	  .help = "provoke failures to test the fatal paths (debug=1 only)",
	  .run = cmd_debug, .min_args = 1, .max_args = 2, .debug_only = true },
};

const size_t hv_command_count = sizeof(hv_commands) / sizeof(hv_commands[0]);
