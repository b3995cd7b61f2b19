/* Boot configuration: key=value settings from hv.cfg (one per line, '#'
 * starts a comment) and from the load options (space separated), the
 * latter overriding the former. */
#ifndef HV_CORE_CONFIG_H
#define HV_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_MAX_ENTRIES 64
#define CONFIG_KEY_MAX 32
#define CONFIG_VALUE_MAX 128

struct config_entry {
	char key[CONFIG_KEY_MAX];
	char value[CONFIG_VALUE_MAX];
	const char *origin; /* "hv.cfg" or "cmdline" */
};

struct config {
	struct config_entry entries[CONFIG_MAX_ENTRIES];
	size_t count;
};

typedef void (*config_error_fn)(void *ctx, const char *origin, unsigned line, const char *msg);

void config_init(struct config *c);

/* Parses text (not necessarily NUL-terminated). Malformed items are
 * reported through err and skipped; the rest still applies. Returns the
 * number of errors. */
unsigned config_parse(struct config *c, const char *text, size_t len, const char *origin,
		      bool newline_separated, config_error_fn err, void *ctx);

const char *config_get(const struct config *c, const char *key);
bool config_get_bool(const struct config *c, const char *key, bool fallback);
/* 1 for 1/yes/on/true, 0 for 0/no/off/false, -1 for anything else. */
int config_bool_value(const char *value);
/* Sets *out only when the key exists and parses; false on a bad value. */
bool config_get_u64(const struct config *c, const char *key, uint64_t *out);

/* A setting some module reads: its name, the value it has when nobody set
 * it (NULL: none), and one line saying what it does. */
struct config_key {
	const char *name;
	const char *fallback;
	const char *help;
	bool secret; /* a key: never printed (`config`, logs) */
};

/* Declares a key beside the code that reads it; the hypervisor collects
 * every declaration at link time (hv/core/settings.h). */
#define CONFIG_KEY(ident, key, def, text)                                       \
	static const struct config_key ident                                    \
		__attribute__((used, section("config_keys"), aligned(8))) = { key, def, text }

/* A secret (a key): read like any setting, but its value is never shown. */
#define CONFIG_SECRET(ident, key, text)                                         \
	static const struct config_key ident                                    \
		__attribute__((used, section("config_keys"), aligned(8))) = { key, NULL, text, true }

/* 'text' (space-separated key=value items, as load options are) with the
 * value of every secret key among keys[0..n) replaced by "(hidden)";
 * always terminated, cut short if out is too small. */
void config_redact(const char *text, const struct config_key *keys, size_t n, char *out,
		   size_t outlen);

/* The declaration of 'name' among keys[0..n), or NULL. */
const struct config_key *config_key_find(const struct config_key *keys, size_t n,
					 const char *name);

/* Reports set keys that no declaration in keys[0..n) names through err;
 * returns how many. */
unsigned config_check_keys(const struct config *c, const struct config_key *keys, size_t n,
			   config_error_fn err, void *ctx);

#endif
