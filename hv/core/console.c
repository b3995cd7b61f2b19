#include "hv/core/console.h"

#include "drivers/serial/uart16550.h"
#include "hv/lib/format.h"

static struct uart com1;
static bool at_line_start = true;
static bool panicking;
static struct console_async_hooks hooks;
static int async_depth;

void console_init(void)
{
	uart_init(&com1, UART_COM1);
}

void con_putc(char c)
{
	if (c == '\n')
		uart_putc(&com1, '\r');
	uart_putc(&com1, c);
	at_line_start = c == '\n';
}

void con_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		con_putc(s[i]);
}

void con_puts(const char *s)
{
	while (*s)
		con_putc(*s++);
}

static void sink(char c, void *ctx)
{
	(void)ctx;
	con_putc(c);
}

int con_vprintf(const char *fmt, va_list ap)
{
	return (int)fmt_vformat(sink, NULL, fmt, ap);
}

int con_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = con_vprintf(fmt, ap);
	va_end(ap);
	return n;
}

void console_set_async_hooks(const struct console_async_hooks *h)
{
	hooks = h ? *h : (struct console_async_hooks){ 0 };
}

void con_async_begin(void)
{
	if (async_depth++ == 0 && !panicking && hooks.hide && hooks.hide(hooks.ctx))
		at_line_start = true;
	if (!at_line_start)
		con_putc('\n');
}

void con_async_end(void)
{
	if (--async_depth == 0 && !panicking && hooks.show)
		hooks.show(hooks.ctx);
}

int con_getc(void)
{
	return uart_getc(&com1);
}

void con_panic_begin(void)
{
	panicking = true;
	if (!at_line_start)
		con_putc('\n');
}
