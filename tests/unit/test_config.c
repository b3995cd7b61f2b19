#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "hv/core/config.h"

static struct config cfg;
static char errors[1024];

static void collect(void *ctx, const char *origin, unsigned line, const char *msg)
{
	(void)ctx;
	char one[200];
	snprintf(one, sizeof(one), "%s:%u:%s;", origin, line, msg);
	strncat(errors, one, sizeof(errors) - strlen(errors) - 1);
}

static void setup(void)
{
	config_init(&cfg);
	errors[0] = '\0';
}

TestSuite(config, .init = setup);

Test(config, file_then_cmdline_override)
{
	const char *file = "# comment\nname = alpha\n\ndebug=0   # trailing comment\r\nhz=250\n";
	const char *cmd = "debug=1 ip=10.0.0.1/24";

	cr_assert_eq(config_parse(&cfg, file, strlen(file), "hv.cfg", true, collect, NULL), 0,
		     "%s", errors);
	cr_assert_eq(config_parse(&cfg, cmd, strlen(cmd), "cmdline", false, collect, NULL), 0);
	cr_assert_str_eq(config_get(&cfg, "name"), "alpha");
	cr_assert_str_eq(config_get(&cfg, "debug"), "1");
	cr_assert_str_eq(config_get(&cfg, "ip"), "10.0.0.1/24");
	cr_assert(config_get_bool(&cfg, "debug", false));
	uint64_t hz;
	cr_assert(config_get_u64(&cfg, "hz", &hz) && hz == 250);
}

Test(config, malformed_items_are_reported_and_skipped)
{
	const char *file = "good=1\njunk line\n=novalue\nbad key=1\nx=\x01\ngood2=2\n";

	cr_assert_eq(config_parse(&cfg, file, strlen(file), "hv.cfg", true, collect, NULL), 4,
		     "%s", errors);
	cr_assert_str_eq(config_get(&cfg, "good"), "1");
	cr_assert_str_eq(config_get(&cfg, "good2"), "2");
	cr_assert(strstr(errors, "hv.cfg:2:expected key=value"), "%s", errors);
	cr_assert(strstr(errors, "hv.cfg:3:empty key"), "%s", errors);
	cr_assert(strstr(errors, "hv.cfg:4:invalid character in key"), "%s", errors);
	cr_assert(strstr(errors, "hv.cfg:5:invalid character in value"), "%s", errors);
}

Test(config, limits)
{
	char big[400];
	memset(big, 'a', sizeof(big));
	memcpy(big, "k=", 2);
	cr_assert_eq(config_parse(&cfg, big, sizeof(big), "cmdline", false, collect, NULL), 1);
	cr_assert(strstr(errors, "value too long"));

	config_init(&cfg);
	char many[CONFIG_MAX_ENTRIES * 8 + 64] = "";
	for (int i = 0; i < CONFIG_MAX_ENTRIES + 3; i++)
		sprintf(many + strlen(many), "k%d=1 ", i);
	cr_assert_eq(config_parse(&cfg, many, strlen(many), "cmdline", false, NULL, NULL), 3);
	cr_assert_eq(cfg.count, CONFIG_MAX_ENTRIES);
}

Test(config, unknown_keys)
{
	static const struct config_key keys[] = { { "name", "hv", "" }, { "debug", "0", "" } };
	const char *cmd = "name=x debgu=1";

	config_parse(&cfg, cmd, strlen(cmd), "cmdline", false, collect, NULL);
	cr_assert_eq(config_check_keys(&cfg, keys, 2, collect, NULL), 1);
	cr_assert(strstr(errors, "cmdline:0:unknown setting 'debgu'"), "%s", errors);
	cr_assert_null(strstr(errors, "'name'"), "%s", errors);
}

/* Declarations made with CONFIG_KEY land in one contiguous array, as the
 * hypervisor's link collects them. */
CONFIG_KEY(test_key_a, "test-a", "1", "first");
CONFIG_KEY(test_key_b, "test-b", NULL, "second");

extern const struct config_key __start_config_keys[], __stop_config_keys[];

Test(config, declared_keys_are_collected)
{
	size_t n = (size_t)(__stop_config_keys - __start_config_keys);
	const struct config_key *a = config_key_find(__start_config_keys, n, "test-a");
	const struct config_key *b = config_key_find(__start_config_keys, n, "test-b");

	cr_assert_not_null(a);
	cr_assert_not_null(b);
	cr_assert_str_eq(a->fallback, "1");
	cr_assert_null(b->fallback);
	cr_assert_null(config_key_find(__start_config_keys, n, "test-c"));
}

Test(config, binary_input_does_not_crash)
{
	char junk[512];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 37 + 11);
	config_parse(&cfg, junk, sizeof(junk), "hv.cfg", true, NULL, NULL);
	config_parse(&cfg, junk, sizeof(junk), "cmdline", false, NULL, NULL);
	cr_assert_leq(cfg.count, CONFIG_MAX_ENTRIES);
}

/* A key given on the command line is never shown back. */
Test(config, secret_values_are_redacted)
{
	static const struct config_key keys[] = { { "ip", NULL, "" },
						  { "migrate_psk", NULL, "", true } };
	char out[128];

	config_redact("ip=10.0.0.1/24 migrate_psk=00112233445566778899aabbccddeeff  name=a", keys,
		      2, out, sizeof(out));
	cr_assert_str_eq(out, "ip=10.0.0.1/24 migrate_psk=(hidden)  name=a");
	config_redact("migrate_psk=ab", keys, 2, out, 12);
	cr_assert_str_eq(out, "migrate_psk");
	config_redact("", keys, 2, out, sizeof(out));
	cr_assert_str_eq(out, "");
}
