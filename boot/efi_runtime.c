/* UEFI runtime services, callable before and after ExitBootServices. The
 * hypervisor keeps an identity map and never calls SetVirtualAddressMap,
 * so the firmware's physical pointers stay valid. */
#include "boot/efi_boot.h"
#include "boot/firmware.h"
#include "hv/lib/string.h"
#include "hv/x86/cpu.h"
#include "hv/x86/fpu.h"

/* Firmware code may use SSE: the guest state the registers hold is saved
 * before every call (fpu_save_live). */

/* The hypervisor's variables live under this vendor GUID. */
static EFI_GUID hv_vendor_guid = {
	0x7c1a4e52, 0x3b9d, 0x4f0e, { 0x9a, 0x61, 0x5d, 0x2c, 0x8b, 0x7e, 0x4f, 0x10 }
};

#define HV_VAR_ATTRS \
	(EFI_VARIABLE_NON_VOLATILE | EFI_VARIABLE_BOOTSERVICE_ACCESS | EFI_VARIABLE_RUNTIME_ACCESS)
#define VAR_NAME_MAX 64

static EFI_RUNTIME_SERVICES *rt;

void boot_runtime_init(EFI_SYSTEM_TABLE *st)
{
	rt = st->RuntimeServices;
}

static int map_status(EFI_STATUS s)
{
	switch (s) {
	case EFI_SUCCESS: return FW_OK;
	case EFI_NOT_FOUND: return FW_NOT_FOUND;
	case EFI_BUFFER_TOO_SMALL: return FW_BUFFER_TOO_SMALL;
	case EFI_OUT_OF_RESOURCES: return FW_OUT_OF_RESOURCES;
	case EFI_DEVICE_ERROR: return FW_DEVICE_ERROR;
	case EFI_UNSUPPORTED: return FW_UNSUPPORTED;
	case EFI_INVALID_PARAMETER: return FW_INVALID;
	default: return FW_OTHER;
	}
}

const char *fw_status_name(int status)
{
	switch (status) {
	case FW_OK: return "ok";
	case FW_NOT_FOUND: return "not found";
	case FW_BUFFER_TOO_SMALL: return "buffer too small";
	case FW_OUT_OF_RESOURCES: return "variable store full";
	case FW_DEVICE_ERROR: return "device error";
	case FW_UNSUPPORTED: return "unsupported";
	case FW_INVALID: return "invalid parameter";
	default: return "firmware error";
	}
}

void fw_reset(enum fw_reset_kind kind)
{
	EFI_RESET_TYPE type = kind == FW_RESET_SHUTDOWN ? EfiResetShutdown :
			      kind == FW_RESET_WARM	 ? EfiResetWarm :
							   EfiResetCold;

	if (!rt)
		return;
	fpu_save_live();
	irq_disable();
	rt->ResetSystem(type, EFI_SUCCESS, 0, NULL);
}

int fw_get_variable(const char *name, void *buf, size_t *len)
{
	CHAR16 wname[VAR_NAME_MAX];
	UINT32 attrs = 0;
	UINTN size = *len;

	if (!rt)
		return FW_UNSUPPORTED;
	boot_ascii_to_ucs2(wname, VAR_NAME_MAX, name);
	fpu_save_live();
	bool irq = irq_save();
	EFI_STATUS s = rt->GetVariable(wname, &hv_vendor_guid, &attrs, &size, buf);
	irq_restore(irq);
	*len = size;
	return map_status(s);
}

int fw_set_variable(const char *name, const void *data, size_t len)
{
	CHAR16 wname[VAR_NAME_MAX];

	if (!rt)
		return FW_UNSUPPORTED;
	boot_ascii_to_ucs2(wname, VAR_NAME_MAX, name);
	fpu_save_live();
	bool irq = irq_save();
	EFI_STATUS s = rt->SetVariable(wname, &hv_vendor_guid, HV_VAR_ATTRS, len, (void *)data);
	irq_restore(irq);
	return map_status(s);
}

static uint64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	/* Howard Hinnant's days-from-civil algorithm (proleptic Gregorian). */
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (uint64_t)(era * 146097 + (int64_t)doe - 719468);
}

uint64_t fw_time_unix(void)
{
	EFI_TIME t;

	if (!rt)
		return 0;
	fpu_save_live();
	bool irq = irq_save();
	EFI_STATUS s = rt->GetTime(&t, NULL);
	irq_restore(irq);
	if (EFI_ERROR(s) || t.Month < 1 || t.Month > 12 || t.Day < 1 || t.Day > 31)
		return 0;
	return days_from_civil(t.Year, t.Month, t.Day) * 86400ull + t.Hour * 3600ull +
	       t.Minute * 60ull + t.Second;
}

#define RETIRED_PAGES_VAR "HvRetiredPages"

void boot_read_nvram(struct boot_info *bi)
{
	size_t len = sizeof(bi->retired_pages_var);
	int s = fw_get_variable(RETIRED_PAGES_VAR, bi->retired_pages_var, &len);

	bi->retired_pages_var_status = s;
	bi->retired_pages_var_len = s == FW_OK ? len : 0;
}
