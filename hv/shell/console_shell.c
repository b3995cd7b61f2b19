/* Connects the shell to the serial console. */
#include "hv/shell/console_shell.h"

#include "hv/core/console.h"
#include "hv/core/settings.h"
#include "hv/core/time.h"
#include "hv/shell/commands.h"
#include "hv/vm/vm_place.h"
#include "hv/x86/cpu.h"

#define MAX_BYTES_PER_POLL 256

static struct shell shell;

static void write_console(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	con_write(s, n);
}

static bool hide(void *ctx)
{
	return shell_hide_input(ctx);
}

static void show(void *ctx)
{
	shell_show_input(ctx);
}

CONFIG_KEY(key_debug, "debug", "0", "1: enable the debug commands (fault and error injection)");

void console_shell_init(void)
{
	struct shell_io io = { write_console, NULL };
	struct console_async_hooks hooks = { hide, show, &shell };

	shell_init(&shell, hv_commands, hv_command_count, &io, true);
	shell.debug_enabled = setting_bool("debug");
	console_set_async_hooks(&hooks);
	shell_show_prompt(&shell);
}

struct shell *console_shell(void)
{
	return &shell;
}

bool console_shell_poll(void)
{
	static uint64_t next_look_tsc;
	bool any = false;
	uint64_t now = rdtsc();

	/* An empty look costs an I/O read (2 % of a busy loop's CPU under
	 * QEMU, profiled); a 16550's FIFO holds 1.4 ms of input at 115200
	 * baud, so every 100 us is soon enough after one finds nothing. */
	if (now < next_look_tsc)
		return false;
	for (int i = 0; i < MAX_BYTES_PER_POLL; i++) {
		int c = con_getc();
		if (c < 0)
			break;
		any = true;
		shell_feed(&shell, (unsigned char)c);
		vm_release_command_holds(); /* a command ended, or none began */
	}
	if (any)
		console_flush(); /* the echo and any answer, before guests run on */
	else
		next_look_tsc = now + time_tsc_hz() / 10000;
	return any;
}
