/* The retired-page list and its NVRAM copy; see retired_list.h. */
#include "hv/mce/retired_list.h"

#include "boot/bootinfo.h"
#include "boot/firmware.h"
#include "hv/core/log.h"
#include "hv/core/time.h"
#include "hv/lib/format.h"
#include "hv/lib/string.h"

#define RETIRED_VAR "HvRetiredPages"

static struct retired_entry list[RETIRED_MAX];
static size_t count;
static char boot_status[128] = "not loaded";
static char save_status[96] = "not saved since boot";
static uint8_t record[RETIRED_RECORD_MAX];
static uint64_t last_save_ns;
/* Set across every change to the list and its save: a #MC handler that
 * comes meanwhile must neither save a half-shifted list (the next boot
 * would reject the whole record) nor reenter the firmware. */
static volatile bool busy;

/* Host tests run a machine-check handler at each of these points. */
#ifdef HV_HOST_TEST
void (*retired_list_step_hook)(int step);
#define STEP(n)                                                                 \
	do {                                                                    \
		if (retired_list_step_hook)                                     \
			retired_list_step_hook(n);                              \
	} while (0)
#else
#define STEP(n) do { } while (0)
#endif

size_t retired_list_load(const struct boot_info *bi, uint64_t *addrs)
{
	char err[96];

	count = 0;
	if (bi->retired_pages_var_status == FW_NOT_FOUND) {
		str_copy(boot_status, "no record in NVRAM (none retired)", sizeof(boot_status));
	} else if (bi->retired_pages_var_status != FW_OK) {
		fmt_snprintf(boot_status, sizeof(boot_status), "NVRAM read failed (%s): ignored",
			     fw_status_name(bi->retired_pages_var_status));
		log_warn("mce: retired-page record could not be read (%s); none honoured",
			 fw_status_name(bi->retired_pages_var_status));
	} else if (retired_record_decode(bi->retired_pages_var, bi->retired_pages_var_len, list,
					 &count, err, sizeof(err))) {
		fmt_snprintf(boot_status, sizeof(boot_status), "record ignored: %s", err);
		log_warn("mce: retired-page record in NVRAM ignored: %s", err);
	} else {
		fmt_snprintf(boot_status, sizeof(boot_status), "%zu page%s from NVRAM", count,
			     count == 1 ? "" : "s");
		if (count)
			log_info("mce: %zu retired page%s from NVRAM kept out of service", count,
				 count == 1 ? "" : "s");
	}
	for (size_t i = 0; i < count; i++)
		addrs[i] = list[i].addr;
	return count;
}

static bool save(void)
{
	size_t len = retired_record_encode(list, count, record);
	STEP(10);
	uint64_t t0 = time_ns();
	int s = fw_set_variable(RETIRED_VAR, record, len);
	STEP(11);

	last_save_ns = time_ns() - t0;
	if (s != FW_OK) {
		fmt_snprintf(save_status, sizeof(save_status), "save failed: %s", fw_status_name(s));
		log_err("mce: saving %zu retired pages to NVRAM failed: %s", count,
			fw_status_name(s));
		return false;
	}
	fmt_snprintf(save_status, sizeof(save_status), "saved %zu page%s (%zu bytes)", count,
		     count == 1 ? "" : "s", len);
	return true;
}

/* Inserts in order; the caller holds the guard. */
static bool insert(uint64_t addr, enum retire_reason reason)
{
	size_t i = 0;

	while (i < count && list[i].addr < addr)
		i++;
	STEP(2);
	if (i < count && list[i].addr == addr)
		return true;
	if (count == RETIRED_MAX) {
		log_err("mce: retired-page list full (%d): 0x%lx not saved", RETIRED_MAX,
			(unsigned long)addr);
		return false;
	}
	memmove(&list[i + 1], &list[i], (count - i) * sizeof(list[0]));
	STEP(3);
	list[i] = (struct retired_entry){ addr, (uint32_t)fw_time_unix(), (uint16_t)reason };
	STEP(4);
	count++;
	STEP(5);
	return save();
}

bool retired_list_add(uint64_t addr, enum retire_reason reason)
{
	addr &= ~0xfffull;
	if (!addr || addr >= RETIRED_ADDR_LIMIT) {
		/* The record refuses such entries: one would void the whole list. */
		log_err("mce: 0x%lx is not a page address to retire", (unsigned long)addr);
		return false;
	}
	STEP(0);
	/* From the search on: an insertion point found before a handler
	 * added a page would put this one out of order. */
	busy = true;
	STEP(1);
	bool ok = insert(addr, reason);
	busy = false;
	return ok;
}

bool retired_list_remove(uint64_t addr)
{
	bool found = false, ok = false;

	busy = true;
	for (size_t i = 0; i < count && !found; i++) {
		if (list[i].addr == (addr & ~0xfffull)) {
			memmove(&list[i], &list[i + 1], (count - i - 1) * sizeof(list[0]));
			STEP(6);
			count--;
			STEP(7);
			found = true;
			ok = save();
		}
	}
	busy = false;
	return found && ok;
}

size_t retired_list_count(void)
{
	return count;
}

const struct retired_entry *retired_list_at(size_t i)
{
	return i < count ? &list[i] : NULL;
}

const char *retired_list_boot_status(void)
{
	return boot_status;
}

const char *retired_list_save_status(void)
{
	return save_status;
}

bool retired_list_saving(void)
{
	return busy;
}

uint64_t retired_list_last_save_ns(void)
{
	return last_save_ns;
}
