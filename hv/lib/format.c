#include "hv/lib/format.h"

#include <stdbool.h>
#include <stdint.h>

#include "hv/lib/string.h"

struct spec {
	bool left, zero, plus, space, alt;
	int width;
	int precision; /* -1: none */
	char length;   /* 'H' hh, 'h', 'l', 'L' ll, 'z', 't', 'j' */
};

struct out {
	fmt_sink_fn sink;
	void *ctx;
	size_t count;
};

static void put(struct out *o, char c)
{
	o->sink(c, o->ctx);
	o->count++;
}

static void pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

static void emit_string(struct out *o, const struct spec *sp, const char *s)
{
	if (!s)
		s = "(null)";
	int len = (int)strnlen(s, sp->precision >= 0 ? (size_t)sp->precision : SIZE_MAX);

	if (!sp->left)
		pad(o, ' ', sp->width - len);
	for (int i = 0; i < len; i++)
		put(o, s[i]);
	if (sp->left)
		pad(o, ' ', sp->width - len);
}

static void emit_number(struct out *o, const struct spec *sp, uint64_t value,
			bool negative, unsigned base, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[24];
	int n = 0;

	/* C: precision 0 with value 0 prints no digits. */
	if (!(value == 0 && sp->precision == 0)) {
		do {
			buf[n++] = digits[value % base];
			value /= base;
		} while (value);
	}

	const char *prefix = "";
	if (negative)
		prefix = "-";
	else if (sp->plus)
		prefix = "+";
	else if (sp->space)
		prefix = " ";
	else if (sp->alt && base == 16 && n > 0)
		prefix = upper ? "0X" : "0x";
	else if (sp->alt && base == 8 && (n == 0 || buf[n - 1] != '0'))
		prefix = "0";

	int prefix_len = (int)strlen(prefix);
	int zeros = sp->precision > n ? sp->precision - n : 0;
	int body = prefix_len + zeros + n;

	if (sp->zero && !sp->left && sp->precision < 0 && sp->width > body) {
		zeros += sp->width - body;
		body = sp->width;
	}
	if (!sp->left)
		pad(o, ' ', sp->width - body);
	for (int i = 0; i < prefix_len; i++)
		put(o, prefix[i]);
	pad(o, '0', zeros);
	while (n)
		put(o, buf[--n]);
	if (sp->left)
		pad(o, ' ', sp->width - body);
}

static uint64_t fetch_unsigned(const struct spec *sp, va_list *ap)
{
	switch (sp->length) {
	case 'H': return (unsigned char)va_arg(*ap, unsigned int);
	case 'h': return (unsigned short)va_arg(*ap, unsigned int);
	case 'l': return va_arg(*ap, unsigned long);
	case 'L': return va_arg(*ap, unsigned long long);
	case 'z': return va_arg(*ap, size_t);
	case 't': return (uint64_t)va_arg(*ap, ptrdiff_t);
	case 'j': return va_arg(*ap, uintmax_t);
	default:  return va_arg(*ap, unsigned int);
	}
}

static int64_t fetch_signed(const struct spec *sp, va_list *ap)
{
	switch (sp->length) {
	case 'H': return (signed char)va_arg(*ap, int);
	case 'h': return (short)va_arg(*ap, int);
	case 'l': return va_arg(*ap, long);
	case 'L': return va_arg(*ap, long long);
	case 'z': return (int64_t)va_arg(*ap, size_t);
	case 't': return va_arg(*ap, ptrdiff_t);
	case 'j': return va_arg(*ap, intmax_t);
	default:  return va_arg(*ap, int);
	}
}

static const char *parse_spec(const char *f, struct spec *sp, va_list *ap)
{
	*sp = (struct spec){ .precision = -1 };
	for (;; f++) {
		if (*f == '-') sp->left = true;
		else if (*f == '0') sp->zero = true;
		else if (*f == '+') sp->plus = true;
		else if (*f == ' ') sp->space = true;
		else if (*f == '#') sp->alt = true;
		else break;
	}
	if (*f == '*') {
		sp->width = va_arg(*ap, int);
		if (sp->width < 0) {
			sp->left = true;
			sp->width = -sp->width;
		}
		f++;
	} else {
		while (*f >= '0' && *f <= '9')
			sp->width = sp->width * 10 + (*f++ - '0');
	}
	if (*f == '.') {
		f++;
		sp->precision = 0;
		if (*f == '*') {
			sp->precision = va_arg(*ap, int);
			if (sp->precision < 0)
				sp->precision = -1;
			f++;
		} else {
			while (*f >= '0' && *f <= '9')
				sp->precision = sp->precision * 10 + (*f++ - '0');
		}
	}
	if (f[0] == 'h' && f[1] == 'h') { sp->length = 'H'; f += 2; }
	else if (f[0] == 'l' && f[1] == 'l') { sp->length = 'L'; f += 2; }
	else if (*f == 'h' || *f == 'l' || *f == 'z' || *f == 't' || *f == 'j')
		sp->length = *f++;
	return f;
}

size_t fmt_vformat(fmt_sink_fn sink, void *ctx, const char *fmt, va_list ap_in)
{
	struct out o = { sink, ctx, 0 };
	struct spec sp;
	va_list ap;

	va_copy(ap, ap_in);
	while (*fmt) {
		if (*fmt != '%') {
			put(&o, *fmt++);
			continue;
		}
		fmt = parse_spec(fmt + 1, &sp, &ap);
		char conv = *fmt;
		if (!conv)
			break;
		fmt++;
		switch (conv) {
		case 'd':
		case 'i': {
			int64_t v = fetch_signed(&sp, &ap);
			uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
			emit_number(&o, &sp, mag, v < 0, 10, false);
			break;
		}
		case 'u': emit_number(&o, &sp, fetch_unsigned(&sp, &ap), false, 10, false); break;
		case 'x': emit_number(&o, &sp, fetch_unsigned(&sp, &ap), false, 16, false); break;
		case 'X': emit_number(&o, &sp, fetch_unsigned(&sp, &ap), false, 16, true); break;
		case 'o': emit_number(&o, &sp, fetch_unsigned(&sp, &ap), false, 8, false); break;
		case 'p':
			sp.alt = true;
			emit_number(&o, &sp, (uintptr_t)va_arg(ap, void *), false, 16, false);
			break;
		case 's': emit_string(&o, &sp, va_arg(ap, const char *)); break;
		case 'c': {
			char c[2] = { (char)va_arg(ap, int), 0 };
			sp.precision = 1;
			if (c[0])
				emit_string(&o, &sp, c);
			else {
				/* A NUL character still counts as output. */
				if (!sp.left)
					pad(&o, ' ', sp.width - 1);
				put(&o, 0);
				if (sp.left)
					pad(&o, ' ', sp.width - 1);
			}
			break;
		}
		case '%': put(&o, '%'); break;
		default:
			/* Unknown conversion: show it rather than guess. */
			put(&o, '%');
			put(&o, conv);
			break;
		}
	}
	va_end(ap);
	return o.count;
}

struct buf_sink {
	char *buf;
	size_t size;
	size_t pos;
};

static void buf_put(char c, void *ctx)
{
	struct buf_sink *b = ctx;

	if (b->pos + 1 < b->size)
		b->buf[b->pos] = c;
	b->pos++;
}

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct buf_sink b = { buf, size, 0 };
	size_t n = fmt_vformat(buf_put, &b, fmt, ap);

	if (size)
		buf[b.pos < size ? b.pos : size - 1] = '\0';
	return (int)n;
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = fmt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
