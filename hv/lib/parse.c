#include "hv/lib/parse.h"

#include "hv/lib/string.h"

int parse_hex_digit(char c)
{
	int v = parse_digit_value(c);

	return v < 16 ? v : -1;
}

int parse_digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 99;
}

/* Parses digits of the given base; returns the first unconsumed char. */
static const char *parse_digits(const char *s, unsigned base, uint64_t *out, bool *ok)
{
	uint64_t v = 0;
	const char *start = s;

	*ok = true;
	for (; *s; s++) {
		int d = parse_digit_value(*s);
		if (d >= (int)base)
			break;
		if (v > (UINT64_MAX - (uint64_t)d) / base) {
			*ok = false;
			return s;
		}
		v = v * base + (uint64_t)d;
	}
	if (s == start)
		*ok = false;
	*out = v;
	return s;
}

static const char *parse_number_prefix(const char *s, uint64_t *out, bool *ok)
{
	if (!s) {
		*ok = false;
		return s;
	}
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return parse_digits(s + 2, 16, out, ok);
	return parse_digits(s, 10, out, ok);
}

bool parse_u64(const char *s, uint64_t *out)
{
	uint64_t v;
	bool ok;
	const char *end = parse_number_prefix(s, &v, &ok);

	if (!ok || *end)
		return false;
	*out = v;
	return true;
}

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

bool parse_size(const char *s, uint64_t *out)
{
	uint64_t v;
	bool ok;
	const char *end = parse_number_prefix(s, &v, &ok);
	unsigned shift = 0;

	if (!ok)
		return false;
	switch (lower(*end)) {
	case '\0': break;
	case 'k': shift = 10; end++; break;
	case 'm': shift = 20; end++; break;
	case 'g': shift = 30; end++; break;
	case 't': shift = 40; end++; break;
	case 'b': break;
	default: return false;
	}
	if (shift && lower(end[0]) == 'i' && lower(end[1]) == 'b')
		end += 2;
	else if (lower(end[0]) == 'b')
		end++;
	if (*end)
		return false;
	if (shift && v > (UINT64_MAX >> shift))
		return false;
	*out = v << shift;
	return true;
}

bool parse_ipv4(const char *s, uint32_t *out)
{
	uint32_t addr = 0;

	if (!s)
		return false;
	for (int part = 0; part < 4; part++) {
		uint64_t v;
		bool ok;
		/* Reject leading zeros' octal ambiguity by accepting decimal only. */
		const char *end = parse_digits(s, 10, &v, &ok);
		if (!ok || v > 255 || end - s > 3)
			return false;
		addr = (addr << 8) | (uint32_t)v;
		if (part < 3) {
			if (*end != '.')
				return false;
			s = end + 1;
		} else if (*end) {
			return false;
		} else {
			s = end;
		}
	}
	*out = addr;
	return true;
}
