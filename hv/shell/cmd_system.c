/* version, uptime, log, config, reboot, poweroff */
#include "hv/core/console.h"
#include "hv/core/hv.h"
#include "hv/core/log.h"
#include "hv/core/reset.h"
#include "hv/core/settings.h"
#include "hv/core/time.h"
#include "hv/lib/parse.h"
#include "hv/shell/commands.h"

#ifndef HV_BUILD_ID
#define HV_BUILD_ID "unknown"
#endif

static const char *source_name(enum boot_source s)
{
	switch (s) {
	case BOOT_FROM_DISK: return "disk";
	case BOOT_FROM_KERNEL: return "kernel";
	case BOOT_FROM_NETWORK: return "network";
	default: return "unknown";
	}
}

int cmd_version(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const struct boot_info *bi = hv_boot_info();

	sh_printf(sh, "name: %s\nversion: %s\nbuild: %s\n", HV_NAME, HV_VERSION, HV_BUILD_ID);
	sh_printf(sh, "firmware: %s rev 0x%x\nboot_source: %s\nimage: %s\n", bi->fw_vendor,
		  bi->fw_revision, source_name(bi->source), bi->image_path);
	return SHELL_OK;
}

int cmd_uptime(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	uint64_t ns = time_ns();

	sh_printf(sh, "uptime: %lu.%03lu s\n", (unsigned long)(ns / NS_PER_SEC),
		  (unsigned long)(ns / NS_PER_MS % 1000));
	sh_printf(sh, "ticks: %lu (%u Hz)\n", (unsigned long)time_ticks(), time_tick_hz());
	sh_printf(sh, "tsc_hz: %lu (%s)\n", (unsigned long)time_tsc_hz(),
		  time_calibration_source());
	return SHELL_OK;
}

struct log_print {
	struct shell *sh;
	uint64_t skip;
};

static void print_line(void *ctx, const char *line, size_t len)
{
	struct log_print *lp = ctx;

	if (lp->skip) {
		lp->skip--;
		return;
	}
	sh_write(lp->sh, line, len);
	sh_write(lp->sh, "\n", 1);
}

static void count_line(void *ctx, const char *line, size_t len)
{
	(void)line;
	(void)len;
	(*(uint64_t *)ctx)++;
}

int cmd_log(struct shell *sh, int argc, char **argv)
{
	uint64_t want = UINT64_MAX, total = 0;

	if (argc == 2 && (!parse_u64(argv[1], &want) || want == 0))
		return sh_error(sh, "LINES must be a positive number, not '%.20s'", argv[1]);
	log_for_each_line(count_line, &total);
	struct log_print lp = { sh, total > want ? total - want : 0 };
	size_t lost = log_for_each_line(print_line, &lp);
	if (lost && argc == 1)
		sh_printf(sh, "(%zu older lines were overwritten)\n", lost);
	if (argc == 1) {
		struct console_stats cs;

		/* The lines the console dropped are all above: the log keeps them. */
		console_get_stats(&cs);
		sh_printf(sh, "console_dropped_bytes: %lu\nconsole_dropped_lines: %lu\n"
			  "console_replies_cut: %lu\n", (unsigned long)cs.dropped_bytes,
			  (unsigned long)cs.dropped_lines, (unsigned long)cs.replies_cut);
	}
	return SHELL_OK;
}

int cmd_config(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const struct boot_info *bi = hv_boot_info();

	char cmdline[sizeof(bi->cmdline)];

	settings_redact(bi->cmdline, cmdline, sizeof(cmdline));
	sh_printf(sh, "config_file: %s\ncmdline: %s\n", bi->config_path[0] ? bi->config_path : "none",
		  cmdline);
	/* Every setting a module declares: as set, or its default. */
	for (size_t i = 0; i < settings_key_count(); i++) {
		const struct config_key *k = settings_key(i);
		const char *origin = setting_origin(k->name);
		if (origin)
			sh_printf(sh, "%s: %s (%s)\n", k->name, k->secret ? "(hidden)" : setting(k->name),
				  origin);
	}
	return SHELL_OK;
}

int cmd_reboot(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	sh_printf(sh, "rebooting\n");
	log_info("reboot requested on the console");
	machine_reset(FW_RESET_COLD);
	return sh_error(sh, "the firmware did not reset the machine");
}

int cmd_poweroff(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	sh_printf(sh, "powering off\n");
	log_info("power-off requested on the console");
	machine_reset(FW_RESET_SHUTDOWN);
	return sh_error(sh, "the firmware did not power the machine off");
}
