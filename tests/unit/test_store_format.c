/* Datastore: format, probe, status names, UUID text, layout limits. */
#include <criterion/criterion.h>
#include <string.h>

#include "hv/lib/byteorder.h"
#include "hv/store/store_format.h"
#include "tests/unit/store_memdev.h"

#define MIB (1024ull * 1024)

Test(store_format, probe_finds_formatted_store_and_not_blank)
{
	struct memdev m;
	struct store_uuid u, zero = { { 0 } };
	char err[128] = "";

	memdev_env_seed(7);
	memdev_init(&m, "mem0", 8 * MIB, 512);
	u = zero;
	cr_assert_eq(store_probe(&m.bd, 0, &u), 0);
	cr_assert_eq(memcmp(&u, &zero, sizeof(u)), 0, "uuid untouched");
	cr_assert_eq(store_format(&m.bd, 0, m.bd.blocks, &memdev_env, err, sizeof(err)), STORE_OK,
		     "%s", err);
	cr_assert_eq(store_probe(&m.bd, 0, &u), 1);
	cr_assert_neq(memcmp(&u, &zero, sizeof(u)), 0);
	uint8_t page[4096];
	memdev_peek(&m, 0, page, sizeof(page));
	cr_assert_eq(memcmp(page, "HVDSTORE", 8), 0, "magic at byte 0");
	memdev_peek(&m, 4096, page, sizeof(page));
	cr_assert_eq(memcmp(page, "HVDSTORE", 8), 0, "copy B at 4 KiB");
	cr_assert_eq(get_le32(page + SB_COPY), 1);
	memdev_destroy(&m);
	cr_assert_eq(memdev_env_outstanding(), 0);
}

Test(store_format, probe_uses_copy_b_when_a_is_damaged_and_fails_when_both_are)
{
	struct memdev m;
	struct store_uuid u;
	uint8_t junk = 0x5a;

	memdev_init(&m, "mem0", 8 * MIB, 4096);
	cr_assert_eq(store_format(&m.bd, 0, m.bd.blocks, &memdev_env, NULL, 0), STORE_OK);
	memdev_poke(&m, 100, &junk, 1);
	cr_assert_eq(store_probe(&m.bd, 0, &u), 1);
	memdev_poke(&m, 4096 + 100, &junk, 1);
	cr_assert_eq(store_probe(&m.bd, 0, &u), 0);
	memdev_destroy(&m);
}

Test(store_format, store_at_an_offset_probes_only_there)
{
	struct memdev m;
	struct store_uuid u;

	memdev_init(&m, "mem0", 16 * MIB, 512);
	cr_assert_eq(store_format(&m.bd, 2048, 8 * MIB / 512, &memdev_env, NULL, 0), STORE_OK);
	cr_assert_eq(store_probe(&m.bd, 0, &u), 0);
	cr_assert_eq(store_probe(&m.bd, 2048, &u), 1);
	memdev_destroy(&m);
}

Test(store_format, too_small_region_is_refused_with_reason)
{
	struct memdev m;
	char err[128] = "";

	memdev_init(&m, "mem0", 512 * 1024, 512);
	cr_assert_eq(store_format(&m.bd, 0, m.bd.blocks, &memdev_env, err, sizeof(err)),
		     STORE_EINVAL);
	cr_assert(strstr(err, "too small"), "%s", err);
	memdev_destroy(&m);
}

Test(store_format, read_only_device_is_refused)
{
	struct memdev m;
	char err[128] = "";

	memdev_init(&m, "mem0", 8 * MIB, 512);
	m.bd.read_only = true;
	cr_assert_eq(store_format(&m.bd, 0, m.bd.blocks, &memdev_env, err, sizeof(err)),
		     STORE_EROFS);
	cr_assert_str_eq(err, "mem0 is read-only");
	memdev_destroy(&m);
}

Test(store_format, uuid_text_and_status_names)
{
	struct store_uuid u;
	char buf[37];

	for (unsigned i = 0; i < 16; i++)
		u.b[i] = (uint8_t)(i * 17);
	store_uuid_format(&u, buf);
	cr_assert_str_eq(buf, "00112233-4455-6677-8899-aabbccddeeff");
	cr_assert_str_eq(store_status_name(STORE_OK), "ok");
	cr_assert_str_eq(store_status_name(STORE_ENOSPC), "datastore full");
	cr_assert_str_eq(store_status_name(STORE_ECORRUPT), "metadata damaged");
	cr_assert_str_eq(store_status_name(42), "unknown error");
}
