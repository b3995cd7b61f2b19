/* Firmware services that stay available to the hypervisor after
 * ExitBootServices (UEFI runtime services, identity mapped), with plain C
 * types so hv/ never includes UEFI headers. */
#ifndef BOOT_FIRMWARE_H
#define BOOT_FIRMWARE_H

#include <stddef.h>
#include <stdint.h>

enum fw_reset_kind { FW_RESET_COLD, FW_RESET_WARM, FW_RESET_SHUTDOWN };

/* Does not return if the firmware honours the request. */
void fw_reset(enum fw_reset_kind kind);

enum fw_status {
	FW_OK = 0,
	FW_NOT_FOUND = -1,
	FW_BUFFER_TOO_SMALL = -2,
	FW_OUT_OF_RESOURCES = -3, /* variable store full */
	FW_DEVICE_ERROR = -4,
	FW_UNSUPPORTED = -5,
	FW_INVALID = -6,
	FW_OTHER = -7,
};

/* The hypervisor's own non-volatile variables (NV+BS+RT, project GUID).
 * *len: buffer size in, variable size out. */
int fw_get_variable(const char *name, void *buf, size_t *len);
int fw_set_variable(const char *name, const void *data, size_t len);
const char *fw_status_name(int status);

/* Wall-clock time from the RTC through the firmware, as seconds since
 * 1970 (0 if unavailable). */
uint64_t fw_time_unix(void);

#endif
