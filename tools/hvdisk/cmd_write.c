/* hvdisk write IMAGE NAME SOURCE [--offset BYTES]: lays the bytes of the
 * raw file SOURCE over an existing disk from OFFSET on (zeros included),
 * then flushes: a patch, or a guest's write done from the host. A base
 * disk refuses it; its child (after snapshot) records it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "hv/lib/parse.h"
#include "tools/hvdisk/copy.h"
#include "tools/hvdisk/hvdisk.h"
#include "tools/hvdisk/image.h"

static int write_checks(const struct store_disk_info *info, uint64_t offset, uint64_t bytes,
			const char *source)
{
	if (bytes == 0)
		return hvdisk_error("%s is empty", source);
	if (offset > info->size || bytes > info->size - offset)
		return hvdisk_error("%s: %llu bytes at %llu do not fit in %s (%llu bytes)", source,
				    (unsigned long long)bytes, (unsigned long long)offset, info->name,
				    (unsigned long long)info->size);
	return HVDISK_OK;
}

int cmd_write(const struct hvdisk_args *a)
{
	struct store_disk_info info;
	uint64_t offset = 0;
	struct image img;
	struct stat st;
	int rc;

	if (a->offset && (!parse_u64(a->offset, &offset) || offset % STORE_SECTOR))
		return hvdisk_usage_error("--offset '%s': not a multiple of %u bytes", a->offset,
					  STORE_SECTOR);
	if (stat(a->pos[2], &st) != 0)
		return hvdisk_error("%s: %s", a->pos[2], strerror(errno));
	if (!S_ISREG(st.st_mode))
		return hvdisk_error("%s: not a regular file", a->pos[2]);
	if (image_open_store(&img, a->pos[0], true) != 0)
		return HVDISK_FAIL;
	rc = store_disk_info(img.store, a->pos[1], &info);
	if (rc != STORE_OK)
		rc = hvdisk_error("%s: %s", a->pos[1], store_status_name(rc));
	else
		rc = write_checks(&info, offset, (uint64_t)st.st_size, a->pos[2]);
	if (rc == HVDISK_OK && copy_file_to_disk(img.store, a->pos[1], a->pos[2],
						 (uint64_t)st.st_size, offset, false) != 0)
		rc = HVDISK_FAIL;
	if (rc == HVDISK_OK)
		printf("wrote name=%s offset=%llu bytes=%llu\n", a->pos[1],
		       (unsigned long long)offset, (unsigned long long)st.st_size);
	if (image_close(&img) != 0)
		rc = HVDISK_FAIL;
	return rc;
}
