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
	{ .name = "cpu", .args = "", .help = "CPU identity and virtualization features",
	  .run = cmd_cpu },
	{ .name = "config", .args = "", .help = "boot settings and where they came from",
	  .run = cmd_config },
	{ .name = "reboot", .args = "", .help = "reset the machine through UEFI",
	  .run = cmd_reboot },
	{ .name = "poweroff", .args = "", .help = "switch the machine off through UEFI",
	  .run = cmd_poweroff },
	{ .name = "debug", .args = "fault de|ud|gp|pf|bp | panic",
	  .help = "provoke failures to test the fatal paths (debug=1 only)",
	  .run = cmd_debug, .min_args = 1, .max_args = 2, .debug_only = true },
};

const size_t hv_command_count = sizeof(hv_commands) / sizeof(hv_commands[0]);
