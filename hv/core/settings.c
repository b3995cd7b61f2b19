#include "hv/core/settings.h"

#include "boot/bootinfo.h"
#include "hv/core/log.h"
#include "hv/core/panic.h"
#include "hv/lib/parse.h"
#include "hv/lib/string.h"

extern const struct config_key __start_config_keys[];
extern const struct config_key __stop_config_keys[];

static struct config config;

CONFIG_KEY(key_name, "name", "hv", "this instance's name (migration peers see it)");

static size_t nkeys(void)
{
	return (size_t)(__stop_config_keys - __start_config_keys);
}

size_t settings_key_count(void)
{
	return nkeys();
}

void settings_redact(const char *text, char *out, size_t outlen)
{
	config_redact(text, __start_config_keys, nkeys(), out, outlen);
}

const struct config_key *settings_key(size_t i)
{
	return i < nkeys() ? &__start_config_keys[i] : NULL;
}

static const struct config_key *declared(const char *key)
{
	const struct config_key *k = config_key_find(__start_config_keys, nkeys(), key);

	if (!k)
		panic("setting '%s' is read but no module declares it (CONFIG_KEY)", key);
	return k;
}

static void report(void *ctx, const char *origin, unsigned line, const char *msg)
{
	(void)ctx;
	if (line)
		log_warn("config: %s line %u: %s (ignored)", origin, line, msg);
	else
		log_warn("config: %s: %s (ignored)", origin, msg);
}

void settings_load(const struct boot_info *bi)
{
	config_init(&config);
	if (bi->config_len)
		config_parse(&config, bi->config, bi->config_len, "hv.cfg", true, report, NULL);
	config_parse(&config, bi->cmdline, strlen(bi->cmdline), "cmdline", false, report, NULL);
	config_check_keys(&config, __start_config_keys, nkeys(), report, NULL);
}

const char *setting(const char *key)
{
	const struct config_key *k = declared(key);
	const char *v = config_get(&config, key);

	return v ? v : k->fallback;
}

bool setting_bool(const char *key)
{
	const struct config_key *k = declared(key);
	bool fallback = k->fallback && config_bool_value(k->fallback) == 1;
	const char *v = config_get(&config, key);
	int b = v ? config_bool_value(v) : -1;

	if (v && b < 0)
		log_warn("config: %s '%s' is not 0/1 (yes/no, on/off); using %s", key, v,
			 fallback ? "on" : "off");
	return b < 0 ? fallback : b;
}

bool setting_u64(const char *key, uint64_t *out)
{
	const struct config_key *k = declared(key);
	const char *v = config_get(&config, key);
	uint64_t fallback = 0;

	if (k->fallback)
		parse_u64(k->fallback, &fallback);
	*out = fallback;
	if (!v || parse_u64(v, out))
		return true;
	*out = fallback;
	log_warn("config: %s '%s' is not a number; using %lu", key, v, (unsigned long)fallback);
	return false;
}

const char *setting_origin(const char *key)
{
	const struct config_key *k = declared(key);

	for (size_t i = 0; i < config.count; i++)
		if (!strcmp(config.entries[i].key, key))
			return config.entries[i].origin;
	return k->fallback ? "default" : NULL;
}
