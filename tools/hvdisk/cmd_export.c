/* hvdisk export IMAGE NAME DEST [--force]: the disk's logical content
 * (its parents' blocks included) as a raw file, sparse where it is zero.
 * DEST may also be a block device or a pipe, which get every byte. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/hvdisk/copy.h"
#include "tools/hvdisk/hvdisk.h"
#include "tools/hvdisk/image.h"

/* An existing non-empty regular file is refused unless 'force'. */
static int export_open(const char *dest, bool force, bool *sparse)
{
	struct stat st;
	int fd;

	if (stat(dest, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 && !force) {
		hvdisk_error("%s exists and is not empty (--force overwrites it)", dest);
		return -1;
	}
	fd = open(dest, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || fstat(fd, &st) != 0) {
		hvdisk_error("%s: %s", dest, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*sparse = S_ISREG(st.st_mode);
	/* The old content goes, so the holes left read as zeros. */
	if (*sparse && ftruncate(fd, 0) != 0) {
		hvdisk_error("%s: %s", dest, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int cmd_export(const struct hvdisk_args *a)
{
	struct store_disk_info info;
	struct image img;
	bool sparse = false;
	int fd, rc = HVDISK_FAIL;

	if (image_open_store(&img, a->pos[0], false) != 0)
		return HVDISK_FAIL;
	/* Before DEST is created or emptied. */
	if (store_disk_info(img.store, a->pos[1], &info) != STORE_OK) {
		hvdisk_error("%s: %s", a->pos[1], store_status_name(STORE_ENOENT));
		goto out;
	}
	fd = export_open(a->pos[2], a->force, &sparse);
	if (fd < 0)
		goto out;
	if (copy_disk_to_file(img.store, a->pos[1], fd, sparse, a->pos[2]) == 0)
		rc = HVDISK_OK;
	if (close(fd) != 0 && rc == HVDISK_OK)
		rc = hvdisk_error("%s: %s", a->pos[2], strerror(errno));
	if (rc == HVDISK_OK && sparse)
		printf("exported name=%s size=%llu to %s\n", a->pos[1],
			(unsigned long long)info.size, a->pos[2]);
out:
	if (image_close(&img) != 0)
		rc = HVDISK_FAIL;
	return rc;
}
