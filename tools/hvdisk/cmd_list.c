/* hvdisk list IMAGE: the store and its disks as key=value lines, the
 * form of the hypervisor's console:
 *   store uuid=U size=B block_size=B free=B disks=N state=ok|full|damaged [problem=...]
 *   disk name=N size=B allocated=B content_id=U parent=P base=0|1
 * Sizes in bytes; parent is "-" for none (as the console's disk list);
 * problem, when present, is last and runs to the end of the line. */
#include <stdio.h>

#include "tools/hvdisk/hvdisk.h"
#include "tools/hvdisk/image.h"

static const char *store_state(const struct store_info *info)
{
	/* Not info->read_only: list itself opens the store read-only. */
	if (info->problem[0])
		return "damaged";
	return info->full ? "full" : "ok";
}

static void list_store(const struct store_info *info)
{
	char uuid[37];

	store_uuid_format(&info->uuid, uuid);
	printf("store uuid=%s size=%llu block_size=%llu free=%llu disks=%u state=%s", uuid,
	       (unsigned long long)info->size, (unsigned long long)info->block_size,
	       (unsigned long long)(info->free_blocks * info->block_size), info->disks,
	       store_state(info));
	if (info->problem[0])
		printf(" problem=%s", info->problem);
	printf("\n");
}

static void list_disk(const struct store_disk_info *d)
{
	char content[37];

	store_uuid_format(&d->content_id, content);
	printf("disk name=%s size=%llu allocated=%llu content_id=%s parent=%s base=%d\n", d->name,
	       (unsigned long long)d->size,
	       (unsigned long long)(d->allocated_blocks * d->block_size), content,
	       d->parent[0] ? d->parent : "-", d->base ? 1 : 0);
}

int cmd_list(const struct hvdisk_args *a)
{
	struct image img;
	struct store_info info;
	int rc = HVDISK_OK;

	if (image_open_store(&img, a->pos[0], false) != 0)
		return HVDISK_FAIL;
	store_info(img.store, &info);
	list_store(&info);
	for (unsigned i = 0; i < store_disk_count(img.store); i++) {
		struct store_disk_info d;
		int st = store_disk_info_at(img.store, i, &d);

		if (st != STORE_OK) {
			rc = hvdisk_error("disk %u: %s", i, store_status_name(st));
			continue;
		}
		list_disk(&d);
	}
	if (image_close(&img) != 0)
		rc = HVDISK_FAIL;
	return rc;
}
