/* The boot and event log: every message is kept in a ring buffer (shown by
 * the `log` command) and echoed on the console with a timestamp. */
#ifndef HV_CORE_LOG_H
#define HV_CORE_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap);

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* Messages at or below this level go to the console too (all are kept). */
/* Applies the loglevel setting to what reaches the console (the ring keeps
 * everything). */
void log_configure(void);

typedef void (*log_line_fn)(void *ctx, const char *line, size_t len);
/* Calls fn for each complete line in the ring, oldest first. Returns the
 * number of lines lost to wrap-around since boot. */
size_t log_for_each_line(log_line_fn fn, void *ctx);

#endif
