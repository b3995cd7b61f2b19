#include "migrate/mig_channel.h"

#include "hv/core/log.h"
#include "hv/core/settings.h"
#include "hv/lib/format.h"
#include "hv/lib/parse.h"
#include "hv/lib/string.h"

CONFIG_SECRET(key_psk, "migrate_psk",
	      "the key migration peers share: 32-128 hex digits, the same on both sides");
CONFIG_KEY(key_suite, "migrate_tls_suite", "",
	   "offer only this TLS suite (benchmarks); empty: every compiled-in suite, ChaCha20 first");
CONFIG_KEY(key_insecure, "migrate_insecure", "0",
	   "1: migrations and disk transfers in plaintext, unauthenticated (never by default)");

#define PSK_IDENTITY "hv-migrate"

/* The key's bytes; -1 with a reason that never quotes the key. */
static int read_key(uint8_t *key, size_t *len, char *err, size_t errlen)
{
	const char *hex = setting("migrate_psk");
	size_t n = hex ? strlen(hex) : 0;

	if (!n) {
		str_copy(err, "no migrate_psk set: give both instances the same key (32-128 hex "
			 "digits), or migrate_insecure=1 for plaintext", errlen);
		return -1;
	}
	if (n % 2 || n / 2 < MIG_TLS_PSK_MIN || n / 2 > MIG_TLS_PSK_MAX) {
		fmt_snprintf(err, errlen, "migrate_psk must be %d-%d hex digits (it has %zu)",
			     2 * MIG_TLS_PSK_MIN, 2 * MIG_TLS_PSK_MAX, n);
		return -1;
	}
	for (size_t i = 0; i < n / 2; i++) {
		int hi = parse_hex_digit(hex[2 * i]), lo = parse_hex_digit(hex[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			str_copy(err, "migrate_psk has a character that is not a hex digit", errlen);
			return -1;
		}
		key[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return 0;
}

void mig_channel_check_settings(void)
{
	uint8_t key[MIG_TLS_PSK_MAX];
	size_t len;
	char err[160];

	if (setting_bool("migrate_insecure")) {
		log_warn("migrate: migrate_insecure=1: migrations and disk transfers travel in "
			 "plaintext, unauthenticated");
		return;
	}
	if (read_key(key, &len, err, sizeof(err)))
		log_info("migrate: %s", err);
	else if (mig_tls_global_init(err, sizeof(err)))
		log_warn("migrate: %s", err);
	memset(key, 0, sizeof(key));
}

int mig_channel_open(struct mig_conn *c, enum mig_tls_role role, char *err, size_t errlen)
{
	uint8_t key[MIG_TLS_PSK_MAX];
	size_t len;

	if (setting_bool("migrate_insecure"))
		return 0;
	if (read_key(key, &len, err, errlen))
		return -1;
	int rc = mig_conn_secure(c, role, key, len, PSK_IDENTITY, err, errlen);
	memset(key, 0, sizeof(key));
	const char *suite = setting("migrate_tls_suite");
	if (!rc && suite && suite[0] && mig_tls_offer_only(c->tls, suite)) {
		fmt_snprintf(err, errlen, "migrate_tls_suite: '%.60s' is not a compiled-in suite",
			     suite);
		return -1;
	}
	return rc;
}

const char *mig_channel_name(const struct mig_conn *c)
{
	if (!c->tls)
		return "insecure";
	const char *name = mig_tls_channel(c->tls);
	return name[0] ? name : "tls (handshake)";
}
