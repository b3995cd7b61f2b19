#include "hv/core/hv.h"

static const struct boot_info *boot;

const struct boot_info *hv_boot_info(void)
{
	return boot;
}

void hv_set_boot_info(const struct boot_info *bi)
{
	boot = bi;
}
