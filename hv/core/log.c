#include "hv/core/log.h"

#include <stdbool.h>
#include <stdint.h>

#include "hv/core/console.h"
#include "hv/core/settings.h"
#include "hv/core/time.h"
#include "hv/lib/format.h"
#include "hv/lib/ratelimit.h"
#include "hv/lib/string.h"
#include "hv/x86/cpu.h"
#include "hv/x86/spinlock.h"

#define LOG_RING_SIZE (64 * 1024)
#define LOG_LINE_MAX 240

/* The ring and the console rate: lines from every CPU, each whole. */
static struct spinlock log_lock = SPINLOCK_INIT(LOCK_RANK_LOG, "log");
static char ring[LOG_RING_SIZE];
static uint64_t written;      /* bytes ever written; ring[written % size] is next */
static size_t lines_total;
static enum log_level console_level = LOG_INFO;

static const char *const level_tag[] = { "error: ", "warning: ", "", "debug: " };

/* The console is a polled UART: a flood of lines (a hostile stream, a
 * guest provoking warnings) would stall the main loop behind it. The ring
 * keeps every line; the console shows a burst, then a steady rate, and
 * says how many it left out. Errors always show. */
static struct ratelimit console_rate = { .burst = 256, .per_sec = 100 };
static uint64_t not_shown;

CONFIG_KEY(key_loglevel, "loglevel", "info", "console log level: error, warn, info, debug");

void log_configure(void)
{
	static const char *const names[] = { [LOG_ERR] = "error", [LOG_WARN] = "warn",
					     [LOG_INFO] = "info", [LOG_DEBUG] = "debug" };
	const char *level = setting("loglevel");

	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(level, names[i])) {
			console_level = (enum log_level)i;
			return;
		}
	log_warn("config: loglevel '%s' unknown (error, warn, info, debug)", level);
}

static void ring_put(char c)
{
	ring[written % LOG_RING_SIZE] = c;
	written++;
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	uint64_t ns = time_ns();
	int n = fmt_snprintf(line, sizeof(line), "[%5u.%06u] %s", (unsigned)(ns / 1000000000u),
			     (unsigned)(ns / 1000u % 1000000u), level_tag[level]);
	if (n >= (int)sizeof(line))
		n = sizeof(line) - 1;
	fmt_vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);

	bool irq = spin_lock_irqsave(&log_lock);
	for (const char *p = line; *p; p++)
		ring_put(*p);
	ring_put('\n');
	lines_total++;
	if (level <= console_level && level != LOG_ERR && !ratelimit_take(&console_rate, ns)) {
		not_shown++;
	} else if (level <= console_level) {
		if (not_shown) {
			char note[80];
			int len = fmt_snprintf(note, sizeof(note),
					       "[... %lu log lines not shown: see 'log']",
					       (unsigned long)not_shown);
			if (con_line(CON_LOG, note, (size_t)len))
				not_shown = 0;
		}
		con_line(CON_LOG, line, strlen(line));
	}
	spin_unlock_irqrestore(&log_lock, irq);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

size_t log_for_each_line(log_line_fn fn, void *ctx)
{
	char line[LOG_LINE_MAX + 1];
	uint64_t start = written > LOG_RING_SIZE ? written - LOG_RING_SIZE : 0;
	size_t lines_seen = 0;
	size_t len = 0;

	/* After wrap-around the oldest line is partial: skip to its end. */
	if (start > 0) {
		while (start < written && ring[start % LOG_RING_SIZE] != '\n')
			start++;
		start++;
	}
	for (uint64_t i = start; i < written; i++) {
		char c = ring[i % LOG_RING_SIZE];
		if (c == '\n') {
			line[len] = '\0';
			fn(ctx, line, len);
			lines_seen++;
			len = 0;
		} else if (len < LOG_LINE_MAX) {
			line[len++] = c;
		}
	}
	return lines_total - lines_seen;
}
