#include "hv/core/console.h"

#include "drivers/serial/uart16550.h"
#include "hv/core/mainloop.h"
#include "hv/core/reset.h"
#include "hv/core/time.h"
#include "hv/lib/format.h"
#include "hv/lib/string.h"
#include "hv/lib/tx_ring.h"
#include "hv/x86/cpu.h"
#include "hv/x86/percpu.h"
#include "hv/x86/spinlock.h"

/* Almost six seconds of output at 115200 baud. */
#define QUEUE_SIZE (64 * 1024)
static const size_t source_share[] = {
	[CON_GUEST] = QUEUE_SIZE / 4,
	[CON_LOG] = QUEUE_SIZE / 4 * 3,
};
/* Bytes moved per drain: bounds the time spent in one poll, or in the
 * timer interrupt, when the UART is emulated and takes bytes as fast as
 * they come. A real 16550 takes one FIFO's worth (16 bytes, 1.4 ms at
 * 115200 baud) per tick anyway. */
#define DRAIN_BUDGET 4096
#define TICK_DRAIN_BUDGET 256
/* Polls of a busy transmitter, with no byte taken, after which a reply
 * stops waiting (about a second: the reader is gone or stuck). */
#define STALL_SPINS 1000000
/* A line's worst extra cost: the '\n' that ends a partial line first, and
 * its own "\r\n". */
#define LINE_OVERHEAD 4

/* The queue, the UART and the line state; re-entrant because the line
 * editor's hooks write replies while a log line is being put. */
static struct spinlock con_lock = SPINLOCK_REENTRANT_INIT(LOCK_RANK_CONSOLE, "console");
static struct uart com1;
#define DEFERRED_LINES 64
struct deferred_line {
	uint16_t len;
	uint8_t source; /* enum con_source */
	char text[320];
};
static struct deferred_line deferred[DEFERRED_LINES];
static unsigned deferred_head, deferred_tail;
static char queue_buf[QUEUE_SIZE];
static struct tx_ring queue;
static bool at_line_start = true;
static bool panicking;
static bool draining_in_background; /* the tick or the main loop drains */
static bool stalled; /* a reply gave up; cleared when the UART takes a byte */
static struct console_async_hooks hooks;
static uint64_t unreported_bytes, unreported_lines; /* since the last notice */
static struct console_stats stats;

/* @pre con_lock is held (the tick drains too) */
static size_t drain_locked(size_t budget)
{
	size_t moved = 0;

	while (moved < budget && tx_ring_used(&queue) && uart_tx_ready(&com1)) {
		const char *p;
		size_t n = tx_ring_peek(&queue, &p);

		if (n > UART_TX_FIFO)
			n = UART_TX_FIFO;
		for (size_t i = 0; i < n; i++)
			uart_tx_byte(&com1, p[i]);
		tx_ring_consume(&queue, n);
		moved += n;
	}
	if (moved)
		stalled = false;
	return moved;
}

static size_t drain(size_t budget)
{
	bool irq = spin_lock_irqsave(&con_lock);
	size_t moved = drain_locked(budget);

	spin_unlock_irqrestore(&con_lock, irq);
	return moved;
}

/* Spins until the UART takes something; false if it stalled. */
static bool wait_for_uart(void)
{
	for (long spins = 0; spins < STALL_SPINS; spins++) {
		if (drain(DRAIN_BUDGET))
			return true;
		cpu_relax();
	}
	stalled = true;
	return false;
}

static void count_dropped(size_t bytes, size_t lines)
{
	unreported_bytes += bytes;
	unreported_lines += lines;
	stats.dropped_bytes += bytes;
	stats.dropped_lines += lines;
}

/* Sends everything queued, unless the UART is stuck (or was already found
 * stuck: then it does not wait again until the UART moves). */
static void flush_all(void)
{
	while (tx_ring_used(&queue) && (drain(QUEUE_SIZE) || (!stalled && wait_for_uart())))
		;
}

void console_flush(void)
{
	if (!panicking)
		flush_all();
}

/* Before the tick runs (early boot) nothing drains in the background:
 * output goes out before the writer returns, as a plain polled console. */
static void after_write(void)
{
	if (draining_in_background) {
		drain(DRAIN_BUDGET);
		return;
	}
	flush_all();
}

/* Waits for room while the reader reads; false once it stalled. */
static bool put_reply_byte(char c)
{
	size_t need = c == '\n' ? 2 : 1;

	for (;;) {
		bool irq = spin_lock_irqsave(&con_lock);
		bool fits = tx_ring_fits_within(&queue, need, QUEUE_SIZE);
		if (fits)
			tx_ring_put_within(&queue, &c, 1, QUEUE_SIZE);
		spin_unlock_irqrestore(&con_lock, irq);
		if (fits)
			return true;
		if (stalled || !wait_for_uart())
			return false;
	}
}

static void put_reply(const char *s, size_t n)
{
	if (!com1.present || !n)
		return;
	if (panicking) {
		for (size_t i = 0; i < n; i++) {
			if (s[i] == '\n')
				uart_putc(&com1, '\r');
			uart_putc(&com1, s[i]);
		}
		at_line_start = s[n - 1] == '\n';
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (!put_reply_byte(s[i])) {
			count_dropped(n - i, 0);
			stats.replies_cut++;
			break;
		}
	at_line_start = s[n - 1] == '\n';
}

void con_write(const char *s, size_t n)
{
	put_reply(s, n);
	after_write();
}

void con_putc(char c)
{
	con_write(&c, 1);
}

void con_puts(const char *s)
{
	con_write(s, strlen(s));
}

static void sink(char c, void *ctx)
{
	(void)ctx;
	put_reply(&c, 1);
}

int con_vprintf(const char *fmt, va_list ap)
{
	int n = (int)fmt_vformat(sink, NULL, fmt, ap);

	after_write();
	return n;
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

/* Lines go in between the hooks: hide the input line, write, redraw. The
 * hooks write replies, which find room: a line's share leaves at least a
 * quarter of the queue free. */
static void put_lines_locked(const char *first, size_t first_len, const char *s, size_t n)
{
	if (hooks.hide && hooks.hide(hooks.ctx))
		at_line_start = true;
	if (!at_line_start)
		tx_ring_put_within(&queue, "\n", 1, QUEUE_SIZE);
	if (first) {
		tx_ring_put_within(&queue, first, first_len, QUEUE_SIZE);
		tx_ring_put_within(&queue, "\n", 1, QUEUE_SIZE);
	}
	tx_ring_put_within(&queue, s, n, QUEUE_SIZE);
	tx_ring_put_within(&queue, "\n", 1, QUEUE_SIZE);
	at_line_start = true;
	if (hooks.show)
		hooks.show(hooks.ctx);
}

static size_t format_notice(char *buf, size_t size)
{
	int n = fmt_snprintf(buf, size, "[... %lu bytes (%lu lines) dropped: the console was not read; "
				    "see 'log' and 'vm output']",
			     (unsigned long)unreported_bytes, (unsigned long)unreported_lines);
	return n < (int)size ? (size_t)n : size - 1;
}

/* @pre con_lock is held. Puts the notice of dropped output first, if
 * any: a line goes out only after the gap before it was reported. */
static bool put_line_locked(size_t share, const char *s, size_t n)
{
	char notice[128];
	size_t notice_len = unreported_bytes ? format_notice(notice, sizeof(notice)) : 0;
	size_t need = tx_ring_crlf_size(s, n) + LINE_OVERHEAD;

	if (notice_len)
		need += notice_len + 2;
	if (!tx_ring_fits_within(&queue, need, share)) {
		count_dropped(n + 1, 1);
		return false;
	}
	put_lines_locked(notice_len ? notice : NULL, notice_len, s, n);
	unreported_bytes = unreported_lines = 0;
	return true;
}

/* Lines written on other CPUs wait here for the main loop's console
 * poller: only the main loop's CPU may run the line editor's hooks, which redraw the input line that
 * its shell edits. @pre con_lock is held */
static bool defer_line_locked(enum con_source source, const char *s, size_t n)
{
	if (deferred_tail - deferred_head == DEFERRED_LINES) {
		count_dropped(n + 1, 1);
		return false;
	}
	struct deferred_line *d = &deferred[deferred_tail++ % DEFERRED_LINES];
	d->len = (uint16_t)(n < sizeof(d->text) ? n : sizeof(d->text));
	d->source = (uint8_t)source;
	memcpy(d->text, s, d->len);
	return true;
}

/* @pre con_lock is held, on the main loop's CPU outside interrupt handlers */
static void put_deferred_locked(void)
{
	for (; deferred_head != deferred_tail; deferred_head++) {
		const struct deferred_line *d = &deferred[deferred_head % DEFERRED_LINES];
		put_line_locked(source_share[d->source], d->text, d->len);
	}
}

bool con_line(enum con_source source, const char *s, size_t n)
{
	if (panicking || !com1.present) {
		con_write(s, n);
		con_putc('\n');
		return com1.present;
	}
	bool irq = spin_lock_irqsave(&con_lock);
	if (!on_main_cpu()) {
		bool deferred_ok = defer_line_locked(source, s, n);
		spin_unlock_irqrestore(&con_lock, irq);
		return deferred_ok;
	}
	put_deferred_locked(); /* in order, before this one */
	bool queued = put_line_locked(source_share[source], s, n);
	spin_unlock_irqrestore(&con_lock, irq);
	after_write();
	return queued;
}

void con_guest_bytes(const char *s, size_t n)
{
	if (panicking || !com1.present)
		return;
	bool irq = spin_lock_irqsave(&con_lock);
	if (tx_ring_fits_within(&queue, tx_ring_crlf_size(s, n), source_share[CON_GUEST])) {
		tx_ring_put_within(&queue, s, n, QUEUE_SIZE);
		if (n)
			at_line_start = s[n - 1] == '\n';
	} else {
		count_dropped(n, 0);
	}
	spin_unlock_irqrestore(&con_lock, irq);
	after_write();
}

/* Once the reader has caught up (the queue below half a guest's share),
 * say what was dropped even if no further line comes. */
static void report_drops(void)
{
	bool irq = spin_lock_irqsave(&con_lock);

	if (unreported_bytes && tx_ring_used(&queue) < source_share[CON_GUEST] / 2) {
		char notice[128];
		size_t len = format_notice(notice, sizeof(notice));

		if (tx_ring_fits_within(&queue, len + LINE_OVERHEAD, source_share[CON_LOG])) {
			put_lines_locked(NULL, 0, notice, len);
			unreported_bytes = unreported_lines = 0;
		}
	}
	spin_unlock_irqrestore(&con_lock, irq);
}

static void tick_drain(void)
{
	bool irq;

	draining_in_background = true;
	/* Another CPU writing: it drains as it writes, the next tick may too. */
	if (!spin_trylock_irqsave(&con_lock, &irq))
		return;
	drain_locked(TICK_DRAIN_BUDGET);
	spin_unlock_irqrestore(&con_lock, irq);
}

static bool poll_console(void)
{
	bool irq = spin_lock_irqsave(&con_lock);

	put_deferred_locked();
	spin_unlock_irqrestore(&con_lock, irq);
	draining_in_background = true;
	report_drops();
	drain(DRAIN_BUDGET);
	/* Not busy: the tick drains too, so the loop may sleep meanwhile. */
	return false;
}

void console_kick(void)
{
	static uint64_t last_tsc;
	uint64_t now;

	if (!tx_ring_used(&queue) || panicking)
		return;
	now = rdtsc();
	/* A 16-byte FIFO lasts 1.4 ms at 115200 baud: a look every 100 us
	 * keeps it fed without an I/O read on every call. */
	if (now - last_tsc < time_tsc_hz() / 10000)
		return;
	last_tsc = now;
	drain(TICK_DRAIN_BUDGET);
}

/* Whatever is queued goes out before the firmware resets or powers off the
 * machine ("powering off" included), unless the UART is stuck. */
static const struct reset_hook console_reset_hook = { .before = flush_all };
static struct tick_hook console_tick = { .fn = tick_drain };
static struct poller console_poller = { .name = "console", .poll = poll_console,
					.stage = POLL_DEVICES };

void console_init(void)
{
	uart_init(&com1, UART_COM1);
	tx_ring_init(&queue, queue_buf, sizeof(queue_buf));
	time_register_tick_hook(&console_tick);
	mainloop_register(&console_poller);
	/* First registered, so it runs last: after the backend left VMX/SVM. */
	reset_add_hook(&console_reset_hook);
}

void console_get_stats(struct console_stats *out)
{
	bool irq = spin_lock_irqsave(&con_lock);

	*out = stats;
	out->queued = tx_ring_used(&queue);
	out->queue_size = QUEUE_SIZE;
	spin_unlock_irqrestore(&con_lock, irq);
}

int con_getc(void)
{
	return uart_getc(&com1);
}

void con_panic_begin(void)
{
	/* Kept: from here on only this CPU writes, straight to the UART. */
	spin_lock_or_break(&con_lock);
	flush_all(); /* what was queued goes first */
	panicking = true;
	if (!at_line_start)
		con_putc('\n');
}
