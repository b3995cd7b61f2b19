/* The thin wrappers over the store's disk calls: create-disk, snapshot,
 * delete and sum. Each opens the image, does one thing, and closes it
 * (which commits). */
#include <stdio.h>

#include "tools/hvdisk/hvdisk.h"
#include "tools/hvdisk/image.h"

/* Closes the image; a failed call's error wins over a failed close. */
static int disk_finish(struct image *img, int rc)
{
	if (image_close(img) != 0 && rc == HVDISK_OK)
		rc = HVDISK_FAIL;
	return rc;
}

static int disk_failed(const char *what, const char *name, int st, const char *err)
{
	return hvdisk_error("%s %s: %s", what, name, err[0] ? err : store_status_name(st));
}

int cmd_create_disk(const struct hvdisk_args *a)
{
	struct image img;
	char err[200] = "";
	uint64_t size;
	int st;

	if (!hvdisk_parse_size("SIZE", a->pos[2], &size))
		return HVDISK_USAGE;
	if (image_open_store(&img, a->pos[0], true) != 0)
		return HVDISK_FAIL;
	st = store_disk_create(img.store, a->pos[1], size, a->base, err, sizeof(err));
	if (st != STORE_OK)
		return disk_finish(&img, disk_failed("create", a->pos[1], st, err));
	printf("created disk name=%s size=%llu\n", a->pos[1], (unsigned long long)size);
	return disk_finish(&img, HVDISK_OK);
}

int cmd_snapshot(const struct hvdisk_args *a)
{
	struct image img;
	struct store_disk_info info;
	char err[200] = "";
	int st;

	if (image_open_store(&img, a->pos[0], true) != 0)
		return HVDISK_FAIL;
	st = store_disk_snapshot(img.store, a->pos[1], NULL, err, sizeof(err));
	if (st != STORE_OK)
		return disk_finish(&img, disk_failed("snapshot", a->pos[1], st, err));
	/* The disk continues as the child of the new base. */
	st = store_disk_info(img.store, a->pos[1], &info);
	if (st != STORE_OK)
		return disk_finish(&img, disk_failed("snapshot", a->pos[1], st, ""));
	printf("snapshot name=%s base=%s\n", a->pos[1], info.parent);
	return disk_finish(&img, HVDISK_OK);
}

int cmd_delete(const struct hvdisk_args *a)
{
	struct image img;
	char err[200] = "";
	int st;

	if (image_open_store(&img, a->pos[0], true) != 0)
		return HVDISK_FAIL;
	st = store_disk_delete(img.store, a->pos[1], err, sizeof(err));
	if (st != STORE_OK)
		return disk_finish(&img, disk_failed("delete", a->pos[1], st, err));
	printf("deleted disk name=%s\n", a->pos[1]);
	return disk_finish(&img, HVDISK_OK);
}

int cmd_sum(const struct hvdisk_args *a)
{
	struct image img;
	char err[200] = "";
	uint64_t sum;
	int st;

	if (image_open_store(&img, a->pos[0], false) != 0)
		return HVDISK_FAIL;
	st = store_disk_sum(img.store, a->pos[1], &sum, err, sizeof(err));
	if (st != STORE_OK)
		return disk_finish(&img, disk_failed("sum", a->pos[1], st, err));
	printf("sum=%016llx\n", (unsigned long long)sum);
	return disk_finish(&img, HVDISK_OK);
}
