/* Boot configuration: key=value settings from hv.cfg (one per line, '#'
 * starts a comment) and from the load options (space separated), the
 * latter overriding the former. */
#ifndef HV_CONFIG_H
#define HV_CONFIG_H

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
/* Sets *out only when the key exists and parses; false on a bad value. */
bool config_get_u64(const struct config *c, const char *key, uint64_t *out);

/* Reports keys not in the NULL-terminated list 'known' through err. */
unsigned config_check_known(const struct config *c, const char *const *known,
			    config_error_fn err, void *ctx);

#endif
