/* The serial console: output for people and scripts, input for the shell.
 *
 * Output written while the shell shows a half-typed line (log messages,
 * guest output) is "asynchronous": the shell's hooks hide the input line
 * first and redraw it after, so the two never mix on one line. */
#ifndef HV_CORE_CONSOLE_H
#define HV_CORE_CONSOLE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

void console_init(void);

void con_putc(char c);
void con_write(const char *s, size_t n);
void con_puts(const char *s);
int con_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int con_vprintf(const char *fmt, va_list ap);

/* Output that may interrupt the user's typing. */
void con_async_begin(void);
void con_async_end(void);

struct console_async_hooks {
	/* Erases the partial input line; returns true if the cursor is now
	 * at the start of an empty line. */
	bool (*hide)(void *ctx);
	void (*show)(void *ctx); /* redraw prompt and partial input */
	void *ctx;
};
void console_set_async_hooks(const struct console_async_hooks *hooks);

/* Returns a byte typed on the console, or -1. */
int con_getc(void);

/* For panics and fatal exceptions: start on a fresh line, stop calling the
 * shell's hooks, and write straight to the UART from now on. */
void con_panic_begin(void);

#endif
