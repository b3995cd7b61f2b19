/* The retired-page list under a machine check that comes at any moment
 * (hv/mce/retired_list.c): a fatal #MC saves its page unless the main
 * loop is changing or saving the list. Whatever step it lands on, every
 * record that reaches NVRAM must decode (sorted, no duplicates): a record
 * the next boot rejects would put every retired page back into service. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <string.h>

#include "boot/bootinfo.h"
#include "boot/firmware.h"
#include "hv/core/log.h"
#include "hv/mce/retired_list.h"

extern void (*retired_list_step_hook)(int step);

/* ---- the firmware and log, as the list sees them ------------------- */

static uint8_t nvram[RETIRED_RECORD_MAX];
static size_t nvram_len;
static unsigned saves;

int fw_set_variable(const char *name, const void *data, size_t len)
{
	(void)name;
	memcpy(nvram, data, len);
	nvram_len = len;
	saves++;
	return FW_OK;
}

const char *fw_status_name(int status)
{
	return status == FW_OK ? "ok" : "error";
}

uint64_t fw_time_unix(void)
{
	return 1700000000;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	(void)level;
	(void)fmt;
}

/* ---- the interrupting handler -------------------------------------- */

static int fire_at, fired;
static uint64_t mc_page;

/* What mca.c's save_before_panic does. */
static void machine_check(int step)
{
	if (step != fire_at || fired)
		return;
	fired = 1;
	if (!retired_list_saving())
		retired_list_add(mc_page, RETIRE_UNCORRECTED);
}

static void load(const uint64_t *pages, size_t n)
{
	static struct boot_info bi;
	uint64_t addrs[RETIRED_MAX];

	memset(&bi, 0, sizeof(bi));
	bi.retired_pages_var_status = FW_NOT_FOUND;
	retired_list_load(&bi, addrs);
	retired_list_step_hook = NULL;
	for (size_t i = 0; i < n; i++)
		cr_assert(retired_list_add(pages[i], RETIRE_OPERATOR));
}

static void assert_nvram_decodes(const char *when)
{
	struct retired_entry e[RETIRED_MAX];
	size_t n;
	char err[96];

	cr_assert_eq(retired_record_decode(nvram, nvram_len, e, &n, err, sizeof(err)), 0,
		     "%s: the saved record would be rejected at boot: %s", when, err);
	cr_assert_eq(n, retired_list_count(), "%s", when);
}

static const uint64_t base[] = { 0x100000, 0x300000, 0x500000, 0x700000 };

Test(retired_list, a_machine_check_at_any_step_of_an_add_leaves_a_valid_record)
{
	for (fire_at = 0; fire_at <= 11; fire_at++) {
		/* The handler's page sorts before the one being added, so an
		 * insertion point found before it came would be stale. */
		load(base, 4);
		fired = 0;
		mc_page = 0x200000;
		retired_list_step_hook = machine_check;
		cr_assert(retired_list_add(0x400000, RETIRE_UNCORRECTED));
		retired_list_step_hook = NULL;
		assert_nvram_decodes("after the add");
		cr_assert(retired_list_count() == 5 || retired_list_count() == 6);
		for (size_t i = 1; i < retired_list_count(); i++)
			cr_assert_lt(retired_list_at(i - 1)->addr, retired_list_at(i)->addr,
				     "step %d: list out of order", fire_at);
		/* Only a handler that came before the change may have saved. */
		if (retired_list_count() == 6)
			cr_assert_eq(fire_at, 0, "the handler saved during a change (step %d)",
				     fire_at);
	}
}

Test(retired_list, a_machine_check_during_a_remove_leaves_a_valid_record)
{
	for (fire_at = 0; fire_at <= 11; fire_at++) {
		load(base, 4);
		fired = 0;
		mc_page = 0x600000;
		retired_list_step_hook = machine_check;
		cr_assert(retired_list_remove(0x300000));
		retired_list_step_hook = NULL;
		assert_nvram_decodes("after the remove");
		cr_assert_eq(retired_list_count(), 3, "step %d", fire_at);
	}
}

Test(retired_list, the_guard_is_down_between_changes)
{
	load(base, 2);
	cr_assert_not(retired_list_saving());
	cr_assert(retired_list_add(0x900000, RETIRE_OPERATOR));
	cr_assert_not(retired_list_saving());
	cr_assert_not(retired_list_remove(0xa00000)); /* not listed */
	cr_assert_not(retired_list_saving());
}
