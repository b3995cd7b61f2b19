#include <stdarg.h>

#include "boot/efi_boot.h"
#include "hv/lib/format.h"

#define CHUNK 128

struct con_sink {
	CHAR16 buf[CHUNK + 2];
	unsigned n;
};

static void flush(struct con_sink *s)
{
	if (!s->n)
		return;
	s->buf[s->n] = 0;
	boot_st->ConOut->OutputString(boot_st->ConOut, s->buf);
	s->n = 0;
}

static void put(char c, void *ctx)
{
	struct con_sink *s = ctx;

	if (c == '\n')
		s->buf[s->n++] = L'\r';
	s->buf[s->n++] = (CHAR16)(unsigned char)c;
	if (s->n >= CHUNK)
		flush(s);
}

void boot_print(const char *fmt, ...)
{
	struct con_sink s = { .n = 0 };
	va_list ap;

	if (!boot_st || !boot_st->ConOut)
		return;
	va_start(ap, fmt);
	fmt_vformat(put, &s, fmt, ap);
	va_end(ap);
	flush(&s);
}
