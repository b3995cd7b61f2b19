/* The hypervisor proper, entered once the firmware is gone. */
#ifndef HV_HV_H
#define HV_HV_H

#include "boot/bootinfo.h"

#define HV_NAME "hv"
#define HV_VERSION "0.1.0"

__attribute__((noreturn)) void hv_main(struct boot_info *bi);

/* Boot info handed over by boot/, valid for the hypervisor's lifetime. */
const struct boot_info *hv_boot_info(void);

#endif
