#include "hv/core/config.h"

#include "hv/lib/format.h"
#include "hv/lib/parse.h"
#include "hv/lib/string.h"

void config_init(struct config *c)
{
	memset(c, 0, sizeof(*c));
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

static bool key_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '.' || ch == '-';
}

static struct config_entry *find(struct config *c, const char *key)
{
	for (size_t i = 0; i < c->count; i++)
		if (!strcmp(c->entries[i].key, key))
			return &c->entries[i];
	return NULL;
}

/* One "key=value" item of length n. */
static const char *apply_item(struct config *c, const char *item, size_t n, const char *origin)
{
	size_t eq = 0;

	while (eq < n && item[eq] != '=')
		eq++;
	if (eq == n)
		return "expected key=value";
	/* "key = value" reads naturally in a file: ignore blanks around '='. */
	size_t key_end = eq, value_start = eq + 1;
	while (key_end > 0 && is_space(item[key_end - 1]))
		key_end--;
	while (value_start < n && is_space(item[value_start]))
		value_start++;
	if (key_end == 0)
		return "empty key";
	if (key_end >= CONFIG_KEY_MAX)
		return "key too long";
	for (size_t i = 0; i < key_end; i++)
		if (!key_char(item[i]))
			return "invalid character in key";
	size_t vlen = n - value_start;
	if (vlen >= CONFIG_VALUE_MAX)
		return "value too long";
	for (size_t i = value_start; i < n; i++)
		if ((unsigned char)item[i] < 0x20 || (unsigned char)item[i] >= 0x7f)
			return "invalid character in value";

	char key[CONFIG_KEY_MAX];
	memcpy(key, item, key_end);
	key[key_end] = '\0';
	struct config_entry *e = find(c, key);
	if (!e) {
		if (c->count == CONFIG_MAX_ENTRIES)
			return "too many settings";
		e = &c->entries[c->count++];
		memcpy(e->key, key, key_end + 1);
	}
	memcpy(e->value, item + value_start, vlen);
	e->value[vlen] = '\0';
	e->origin = origin;
	return NULL;
}

unsigned config_parse(struct config *c, const char *text, size_t len, const char *origin,
		      bool newline_separated, config_error_fn err, void *ctx)
{
	unsigned errors = 0, line = 1;
	size_t i = 0;

	while (i < len) {
		char ch = text[i];
		if (ch == '\n') {
			line++;
			i++;
			continue;
		}
		if (is_space(ch)) {
			i++;
			continue;
		}
		if (ch == '#') {
			while (i < len && text[i] != '\n')
				i++;
			continue;
		}
		size_t start = i;
		if (newline_separated) {
			while (i < len && text[i] != '\n' && text[i] != '#')
				i++;
		} else {
			while (i < len && !is_space(text[i]) && text[i] != '\n')
				i++;
		}
		size_t end = i;
		while (end > start && is_space(text[end - 1]))
			end--;
		const char *msg = apply_item(c, text + start, end - start, origin);
		if (msg) {
			errors++;
			if (err)
				err(ctx, origin, line, msg);
		}
	}
	return errors;
}

const char *config_get(const struct config *c, const char *key)
{
	for (size_t i = 0; i < c->count; i++)
		if (!strcmp(c->entries[i].key, key))
			return c->entries[i].value;
	return NULL;
}

int config_bool_value(const char *v)
{
	if (!strcmp(v, "1") || !strcmp(v, "yes") || !strcmp(v, "on") || !strcmp(v, "true"))
		return 1;
	if (!strcmp(v, "0") || !strcmp(v, "no") || !strcmp(v, "off") || !strcmp(v, "false"))
		return 0;
	return -1;
}

bool config_get_bool(const struct config *c, const char *key, bool fallback)
{
	const char *v = config_get(c, key);
	int b = v ? config_bool_value(v) : -1;

	return b < 0 ? fallback : b;
}

bool config_get_u64(const struct config *c, const char *key, uint64_t *out)
{
	const char *v = config_get(c, key);

	return v && parse_u64(v, out);
}

const struct config_key *config_key_find(const struct config_key *keys, size_t n,
					 const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(keys[i].name, name))
			return &keys[i];
	return NULL;
}

unsigned config_check_keys(const struct config *c, const struct config_key *keys, size_t n,
			   config_error_fn err, void *ctx)
{
	unsigned unknown = 0;

	for (size_t i = 0; i < c->count; i++) {
		if (config_key_find(keys, n, c->entries[i].key))
			continue;
		char msg[CONFIG_KEY_MAX + 32];
		fmt_snprintf(msg, sizeof(msg), "unknown setting '%s'", c->entries[i].key);
		unknown++;
		if (err)
			err(ctx, c->entries[i].origin, 0, msg);
	}
	return unknown;
}

static void put(char *out, size_t outlen, size_t *pos, const char *s, size_t len)
{
	while (len-- && *pos + 1 < outlen)
		out[(*pos)++] = *s++;
	out[*pos] = 0;
}

void config_redact(const char *text, const struct config_key *keys, size_t n, char *out,
		   size_t outlen)
{
	size_t pos = 0;

	if (!outlen)
		return;
	out[0] = 0;
	while (*text) {
		size_t item = 0, key = 0;
		while (text[item] && text[item] != ' ' && text[item] != '\t')
			item++;
		while (key < item && text[key] != '=')
			key++;
		char name[CONFIG_KEY_MAX];
		bool hide = false;
		if (key < item && key < sizeof(name)) {
			memcpy(name, text, key);
			name[key] = 0;
			const struct config_key *k = config_key_find(keys, n, name);
			hide = k && k->secret;
		}
		if (hide) {
			put(out, outlen, &pos, text, key + 1);
			put(out, outlen, &pos, "(hidden)", 8);
		} else {
			put(out, outlen, &pos, text, item);
		}
		text += item;
		while (*text == ' ' || *text == '\t')
			put(out, outlen, &pos, text++, 1);
	}
}
