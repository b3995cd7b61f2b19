/* The hypervisor's identity and the hand-over it started from. */
#ifndef HV_CORE_HV_H
#define HV_CORE_HV_H

#include "boot/bootinfo.h"

#define HV_NAME "hv"
#define HV_VERSION "0.1.0"

/* Boot info handed over by boot/, valid for the hypervisor's lifetime.
 * @pre hv_set_boot_info() ran (first thing in hv_main) */
const struct boot_info *hv_boot_info(void);
void hv_set_boot_info(const struct boot_info *bi);

#endif
