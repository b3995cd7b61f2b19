/* printf-style formatting without the C library.
 *
 * Supported: %d %i %u %x %X %o %p %s %c %%, flags "-0+ #", width and
 * precision (also '*'), length modifiers hh h l ll z t j. Floating point is
 * deliberately absent: hv.efi is built without SSE. */
#ifndef HV_LIB_FORMAT_H
#define HV_LIB_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

typedef void (*fmt_sink_fn)(char c, void *ctx);

/* Returns the number of characters produced. */
size_t fmt_vformat(fmt_sink_fn sink, void *ctx, const char *fmt, va_list ap);

/* Like vsnprintf: always terminates when size > 0 and returns the length the
 * full output would have had. */
int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
