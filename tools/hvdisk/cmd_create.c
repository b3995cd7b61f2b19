/* hvdisk create IMAGE SIZE [--gpt] [--force]: a new datastore image,
 * the whole file, or one GPT partition named "hv datastore" from 1 MiB. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/hvdisk/file_blockdev.h"
#include "tools/hvdisk/gpt.h"
#include "tools/hvdisk/host_env.h"
#include "tools/hvdisk/hvdisk.h"
#include "tools/hvdisk/image.h"

static int create_fail(int fd, const char *path, const char *what)
{
	int e = errno;

	close(fd);
	return hvdisk_error("%s: %s%s", path, what, strerror(e));
}

/* Makes 'path' a sparse file of 'size' bytes. An existing non-empty file
 * (or a device, which is never empty) is refused unless 'force'; a device
 * keeps its size, which must hold 'size'. The lock comes before the
 * truncation, so an image a running QEMU holds is left alone. */
static int create_file(const char *path, uint64_t size, bool force, bool *created)
{
	struct flock lock = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	struct stat st;
	bool exists = stat(path, &st) == 0;
	int fd;

	*created = !exists;
	if (exists && !force && !(S_ISREG(st.st_mode) && st.st_size == 0))
		return hvdisk_error("%s exists and is not empty (--force overwrites it)", path);
	if (exists && !S_ISREG(st.st_mode))
		return HVDISK_OK; /* a block device: file_blockdev_open checks it */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return hvdisk_error("%s: %s", path, strerror(errno));
	if (fcntl(fd, F_OFD_SETLK, &lock) != 0)
		return create_fail(fd, path, "in use by another process: ");
	/* Truncating to 0 first drops the old content: the new file is sparse. */
	if (ftruncate(fd, 0) != 0 || ftruncate(fd, (off_t)size) != 0)
		return create_fail(fd, path, "setting the size: ");
	if (close(fd) != 0)
		return hvdisk_error("%s: %s", path, strerror(errno));
	return HVDISK_OK;
}

static int create_format(struct file_blockdev *fb, const char *path, uint64_t size, bool gpt)
{
	const struct gpt_partition_spec part = {
		.type_guid = image_datastore_type(),
		.name = "hv datastore",
		.random = host_store_env.random,
	};
	uint64_t first_lba = 0, blocks = size / FILE_BLOCK_SIZE;
	char err[200] = "";
	int st;

	if (size > fb->bytes)
		return hvdisk_error("%s: %llu bytes, less than the size asked for", path,
				    (unsigned long long)fb->bytes);
	/* A device keeps its size; the GPT uses all of it, a whole-device
	 * store the size asked for. */
	if (gpt && gpt_write_single(&fb->dev, &part, &first_lba, &blocks, err, sizeof(err)) != 0)
		return hvdisk_error("%s: %s", path, err);
	st = store_format(&fb->dev, first_lba, blocks, &host_store_env, err, sizeof(err));
	if (st != STORE_OK)
		return hvdisk_error("%s: formatting the datastore: %s", path,
				    err[0] ? err : store_status_name(st));
	printf("created %s size=%llu store_offset=%llu store_size=%llu\n", path,
	       (unsigned long long)fb->bytes, (unsigned long long)(first_lba * FILE_BLOCK_SIZE),
	       (unsigned long long)(blocks * FILE_BLOCK_SIZE));
	return HVDISK_OK;
}

int cmd_create(const struct hvdisk_args *a)
{
	const char *path = a->pos[0];
	struct file_blockdev fb;
	bool created = false;
	char err[200];
	uint64_t size;
	int rc;

	if (!hvdisk_parse_size("SIZE", a->pos[1], &size))
		return HVDISK_USAGE;
	rc = create_file(path, size, a->force, &created);
	if (rc != HVDISK_OK)
		return rc;
	if (file_blockdev_open(&fb, path, true, err, sizeof(err)) != 0) {
		rc = hvdisk_error("%s", err);
	} else {
		rc = create_format(&fb, path, size, a->gpt);
		file_blockdev_close(&fb);
	}
	/* A file this run made and could not format is no image: it goes. */
	if (rc != HVDISK_OK && created)
		unlink(path);
	return rc;
}
