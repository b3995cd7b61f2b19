/* libFuzzer target: the boot configuration, hv.cfg beside the image and
 * the load options (hv/core/config.c), and the settings layer modules read
 * it through (hv/core/settings.c).
 *
 * Input: the hv.cfg text, a NUL byte, then the command line (what a boot
 * loader or a PXE server hands over). Each part is parsed from a heap copy
 * of its exact length, in both modes, so ASan sees a read past its end;
 * then settings_load takes both from a boot_info as at boot, and every
 * declared key is read back in each form. What the parser stores must obey
 * its own rules: keys short and of key characters, values printable and
 * short, no key twice, at most CONFIG_MAX_ENTRIES. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "boot/bootinfo.h"
#include "hv/core/config.h"
#include "hv/core/settings.h"
#include "hv/lib/parse.h"

/* Keys as modules declare them, with each kind of default. */
CONFIG_KEY(key_flag, "debug", "0", "a boolean, off");
CONFIG_KEY(key_on, "fuzz.on", "yes", "a boolean, on");
CONFIG_KEY(key_hz, "hz", "100", "a number");
CONFIG_KEY(key_hex, "fuzz.mask", "0xff", "a hexadecimal number");
CONFIG_KEY(key_none, "ip", NULL, "no default");
CONFIG_KEY(key_bad, "fuzz.bad", "not-a-number", "a default that parses as nothing");

struct parse_ctx {
	unsigned reported;
	unsigned lines; /* in the text: no error may name a line beyond it */
};

static void on_error(void *ctx, const char *origin, unsigned line, const char *msg)
{
	struct parse_ctx *p = ctx;

	if (!origin || !msg || !*msg || line == 0 || line > p->lines)
		abort();
	p->reported++;
}

static bool key_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '.' || ch == '-';
}

static void check_entries(const struct config *c)
{
	if (c->count > CONFIG_MAX_ENTRIES)
		abort();
	for (size_t i = 0; i < c->count; i++) {
		const struct config_entry *e = &c->entries[i];
		size_t klen = strnlen(e->key, CONFIG_KEY_MAX);
		size_t vlen = strnlen(e->value, CONFIG_VALUE_MAX);
		if (klen == 0 || klen == CONFIG_KEY_MAX || vlen == CONFIG_VALUE_MAX || !e->origin)
			abort();
		for (size_t k = 0; k < klen; k++)
			if (!key_char(e->key[k]))
				abort();
		for (size_t k = 0; k < vlen; k++)
			if ((unsigned char)e->value[k] < 0x20 || (unsigned char)e->value[k] >= 0x7f)
				abort();
		for (size_t k = 0; k < i; k++)
			if (!strcmp(c->entries[k].key, e->key))
				abort();
		/* Lookups find this very entry. */
		if (config_get(c, e->key) != e->value)
			abort();
	}
}

/* Values go on to the parsers modules use on them. */
static void parse_values(const struct config *c)
{
	uint64_t u;
	uint32_t ip;

	for (size_t i = 0; i < c->count; i++) {
		const char *v = c->entries[i].value;
		parse_u64(v, &u);
		parse_size(v, &u);
		parse_ipv4(v, &ip);
		config_bool_value(v);
		config_get_bool(c, c->entries[i].key, false);
		config_get_u64(c, c->entries[i].key, &u);
	}
}

static void parse_alone(const uint8_t *text, size_t len, bool lines)
{
	static struct config c;
	struct parse_ctx ctx = { 0, 1 };
	char *copy = malloc(len ? len : 1);

	memcpy(copy, text, len);
	for (size_t i = 0; i < len; i++)
		ctx.lines += text[i] == '\n';
	config_init(&c);
	unsigned errors = config_parse(&c, copy, len, "fuzz", lines, on_error, &ctx);
	if (errors != ctx.reported)
		abort();
	check_entries(&c);
	parse_values(&c);
	static const struct config_key known[] = { { "debug", "0", "" }, { "hz", NULL, "" } };
	config_check_keys(&c, known, 2, NULL, NULL);
	free(copy);
}

static void check_settings(void)
{
	for (size_t i = 0; i < settings_key_count(); i++) {
		const struct config_key *k = settings_key(i);
		const char *v = setting(k->name);
		const char *origin = setting_origin(k->name);
		uint64_t u;
		if ((v == NULL) != (origin == NULL))
			abort(); /* a value has an origin, and only a value has */
		setting_bool(k->name);
		setting_u64(k->name, &u);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct boot_info bi;
	const uint8_t *nul = memchr(data, 0, size);
	size_t file_len = nul ? (size_t)(nul - data) : size;
	const uint8_t *cmd = nul ? nul + 1 : data + size;
	size_t cmd_len = (size_t)(data + size - cmd);

	parse_alone(data, file_len, true);
	parse_alone(cmd, cmd_len, false);

	if (file_len >= BOOT_CONFIG_MAX)
		file_len = BOOT_CONFIG_MAX - 1;
	if (cmd_len >= BOOT_CMDLINE_MAX)
		cmd_len = BOOT_CMDLINE_MAX - 1;
	memcpy(bi.config, data, file_len);
	bi.config[file_len] = '\0';
	bi.config_len = file_len;
	memcpy(bi.cmdline, cmd, cmd_len);
	bi.cmdline[cmd_len] = '\0';
	settings_load(&bi);
	check_settings();
	return 0;
}
