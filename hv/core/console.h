/* The serial console: output for people and scripts, input for the shell.
 *
 * Output is queued and fed to the UART as fast as it takes bytes, from the
 * main loop and from the timer tick (so also while a guest runs), never by
 * the writer spinning on the UART. Two kinds of output:
 * - replies (con_putc ... con_printf): what the operator asked for, the
 *   shell's prompt and echo. They wait for room when the queue is full, up
 *   to a bound, so a command's answer is never cut while someone reads.
 * - lines (con_line): guest output and log messages, which may interrupt
 *   the user's typing. They never wait: each kind may fill the queue only
 *   to its share, and a line that does not fit is dropped and counted. The
 *   console says "[... N bytes dropped ...]" when it catches up; the lines
 *   themselves stay in the log and in each VM's output ring.
 * The shell's hooks hide a half-typed input line before a line and redraw
 * it after, so the two never mix. */
#ifndef HV_CORE_CONSOLE_H
#define HV_CORE_CONSOLE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void console_init(void);

void con_putc(char c);
void con_write(const char *s, size_t n);
void con_puts(const char *s);
int con_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int con_vprintf(const char *fmt, va_list ap);

enum con_source {
	CON_GUEST, /* may fill a quarter of the queue */
	CON_LOG,   /* three quarters: a chatty guest cannot push the log out */
};
/* Queues the line s (n bytes, no '\n' needed) whole, or drops it if the
 * queue is fuller than the source's share. Never waits. Returns whether
 * it was queued. */
bool con_line(enum con_source source, const char *s, size_t n);
/* A VM's raw output while `vm console` is attached: like a guest line,
 * but not split into lines. */
void con_guest_bytes(const char *s, size_t n);

struct console_async_hooks {
	/* Erases the partial input line; returns true if the cursor is now
	 * at the start of an empty line. */
	bool (*hide)(void *ctx);
	void (*show)(void *ctx); /* redraw prompt and partial input */
	void *ctx;
};
void console_set_async_hooks(const struct console_async_hooks *hooks);

struct console_stats {
	uint64_t dropped_bytes, dropped_lines; /* since boot */
	uint64_t replies_cut; /* replies that gave up waiting for the reader */
	size_t queued, queue_size;
};
void console_get_stats(struct console_stats *out);

/* Sends everything queued before returning, unless the UART stalls (about
 * a second without taking a byte; later calls do not wait again until it
 * moves). The shell calls it after reading input, so an answer is out
 * before guests run again: a guest may run for long with interrupts
 * masked (an emulator delivers the tick late), and the prompt must not
 * wait for it. */
void console_flush(void);

/* Feeds the UART if it is idle and output waits, at most every 100 us:
 * for loops that keep the CPU for long (a guest's run between ticks),
 * where the tick and the main loop come too rarely. Cheap when idle. */
void console_kick(void);

/* Returns a byte typed on the console, or -1. */
int con_getc(void);

/* For panics and fatal exceptions: send what is queued (boundedly), stop
 * calling the shell's hooks, and write straight to the UART from now on. */
void con_panic_begin(void);

#endif
