/* The pages this machine has taken out of service, kept in UEFI NVRAM
 * (hv/mce/retired_record.h) so they stay out after a reboot. Loaded
 * before the allocator hands out any page; saved on every change. */
#ifndef HV_MCE_RETIRED_LIST_H
#define HV_MCE_RETIRED_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/mce/retired_record.h"

struct boot_info;

/* Decodes what the firmware variable held (a bad record is reported and
 * ignored) into the list; fills addrs (RETIRED_MAX) for the allocator.
 * Returns how many. */
size_t retired_list_load(const struct boot_info *bi, uint64_t *addrs);

/* Adds a page (sorted) and saves the list; false when the list is full or
 * saving failed (the page stays retired in memory either way; the reason
 * is logged). Adding a page already listed changes nothing. */
bool retired_list_add(uint64_t addr, enum retire_reason reason);
/* Operator override: drops a page from the list and saves it. */
bool retired_list_remove(uint64_t addr);

size_t retired_list_count(void);
const struct retired_entry *retired_list_at(size_t i);
/* What happened at boot and at the last save, for `mce`. */
const char *retired_list_boot_status(void);
const char *retired_list_save_status(void);
/* How long the last save took (encode excluded: the firmware's SetVariable). */
uint64_t retired_list_last_save_ns(void);
/* True while the list is being changed or saved: the #MC handler must not
 * save it then (half-shifted, or the firmware in use). */
bool retired_list_saving(void);

#endif
