/* The hypervisor's settings: key=value items from hv.cfg beside the image,
 * then from the load options, which override it (parsed by config.c). A
 * module declares each key it reads with CONFIG_KEY, beside the code that
 * reads it, with its default; a key nobody declared is reported at boot
 * and ignored. */
#ifndef HV_CORE_SETTINGS_H
#define HV_CORE_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/core/config.h"

struct boot_info;

/* Parses hv.cfg and the load options from the boot info; malformed items
 * and unknown keys are logged as warnings and skipped. */
void settings_load(const struct boot_info *bi);

/* The value of a declared key: as set, else its default (NULL if none).
 * @pre the key is declared with CONFIG_KEY (reading another is a bug and
 *      panics) */
const char *setting(const char *key);
/* 1/yes/on/true or 0/no/off/false; anything else is warned about and
 * the default is used. */
bool setting_bool(const char *key);
/* The value as a number; false (with a warning) when it is set to
 * something that is not one, and *out is then the default's value. */
bool setting_u64(const char *key, uint64_t *out);
/* "hv.cfg", "cmdline" or "default"; NULL when neither set nor defaulted. */
const char *setting_origin(const char *key);

/* The load options as `config` may show them: secrets hidden. */
void settings_redact(const char *text, char *out, size_t outlen);

/* Every declared key, for the `config` command. */
size_t settings_key_count(void);
const struct config_key *settings_key(size_t i);

#endif
