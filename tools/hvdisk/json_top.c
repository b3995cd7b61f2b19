/* The few fields hvdisk reads from qemu-img's JSON; see qemu_img.h.
 * A scanner, not a parser: it tracks nesting and strings so a key of a
 * nested object ("format" inside "format-specific") is never taken for
 * the top-level one. */
#include <string.h>

#include "tools/hvdisk/qemu_img.h"

/* Copies the string starting after the opening quote at *p; returns the
 * position after the closing quote, or NULL. */
static const char *json_string(const char *p, char *out, size_t out_len)
{
	size_t n = 0;

	for (; *p && *p != '"'; p++) {
		if (*p == '\\' && p[1])
			p++;
		if (out && n + 1 < out_len)
			out[n++] = *p;
	}
	if (out && out_len)
		out[n < out_len ? n : out_len - 1] = '\0';
	return *p == '"' ? p + 1 : NULL;
}

static const char *skip_space(const char *p)
{
	while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
		p++;
	return p;
}

static bool json_value(const char *p, char *out, size_t out_len)
{
	size_t n = 0;

	p = skip_space(p);
	if (*p == '"')
		return json_string(p + 1, out, out_len) != NULL;
	while ((*p >= '0' && *p <= '9') || *p == '-' || *p == '+' || *p == '.' || *p == 'e' ||
	       *p == 'E') {
		if (n + 1 >= out_len)
			return false;
		out[n++] = *p++;
	}
	out[n] = '\0';
	return n > 0;
}

bool json_top_level(const char *json, const char *key, char *out, size_t out_len)
{
	char name[64];
	int depth = 0;
	const char *p = json;

	while (p && *p) {
		char c = *p++;

		if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			depth--;
		} else if (c == '"') {
			p = json_string(p, name, sizeof(name));
			if (!p)
				return false;
			p = skip_space(p);
			if (depth == 1 && *p == ':' && strcmp(name, key) == 0)
				return json_value(p + 1, out, out_len);
		}
	}
	return false;
}
