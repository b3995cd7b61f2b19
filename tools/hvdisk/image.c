/* Opening an image and finding its datastore; see image.h. */
#include "tools/hvdisk/image.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tools/hvdisk/host_env.h"
#include "tools/hvdisk/hvdisk.h"

static const uint8_t datastore_type[16] = STORE_GPT_TYPE_GUID_BYTES;

const uint8_t *image_datastore_type(void)
{
	return datastore_type;
}

static int image_fail(struct image *img, const char *what, int status)
{
	hvdisk_error("%s: %s: %s", img->path, what, blk_status_name(status));
	file_blockdev_close(&img->file);
	return -1;
}

static bool gpt_signature_seen(const struct gpt_lookup *g)
{
	return g->primary_valid || g->backup_valid ||
	       strcmp(g->primary_problem, GPT_NO_SIGNATURE) != 0 ||
	       strcmp(g->backup_problem, GPT_NO_SIGNATURE) != 0;
}

static void image_absent(const struct image *img)
{
	const struct gpt_lookup *g = &img->gpt;

	if (!img->gpt_present)
		hvdisk_error("%s: no datastore (none at its start, no GPT)", img->path);
	else if (g->primary_valid || g->backup_valid)
		hvdisk_error("%s: no datastore (none at its start, no datastore partition in its GPT)",
			     img->path);
	else
		hvdisk_error("%s: no datastore (none at its start; its GPT is damaged: primary: %s, "
			     "backup: %s)", img->path, g->primary_problem, g->backup_problem);
}

int image_open_region(struct image *img, const char *path, bool writable, bool whole_if_none)
{
	char err[200];
	struct store_uuid uuid;
	int st;

	memset(img, 0, sizeof(*img));
	img->path = path;
	img->file.fd = -1;
	if (file_blockdev_open(&img->file, path, writable, err, sizeof(err)) != 0)
		return hvdisk_error("%s", err), -1;
	img->first_lba = 0;
	img->blocks = img->file.dev.blocks;
	st = store_probe(&img->file.dev, 0, &uuid);
	if (st < 0)
		return image_fail(img, "reading", st);
	if (st == 1)
		return 0;
	st = gpt_find(&img->file.dev, image_datastore_type(), &img->gpt);
	if (st < 0)
		return image_fail(img, "reading the partition table", st);
	img->gpt_present = gpt_signature_seen(&img->gpt);
	if (img->gpt.found) {
		img->in_partition = true;
		img->first_lba = img->gpt.first_lba;
		img->blocks = img->gpt.blocks;
		return 0;
	}
	if (whole_if_none)
		return 0;
	image_absent(img);
	file_blockdev_close(&img->file);
	return -1;
}

int image_open_store(struct image *img, const char *path, bool writable)
{
	char err[200] = "";
	struct store_info info;
	int st;

	if (image_open_region(img, path, writable, false) != 0)
		return -1;
	st = store_open(&img->store, &img->file.dev, img->first_lba, img->blocks, &host_store_env,
			err, sizeof(err));
	if (st != STORE_OK) {
		hvdisk_error("%s: cannot open the datastore: %s", path,
			     err[0] ? err : store_status_name(st));
		file_blockdev_close(&img->file);
		return -1;
	}
	store_info(img->store, &info);
	if (info.problem[0])
		fprintf(stderr, "hvdisk: warning: %s: damaged, opened read-only: %s\n", path,
			info.problem);
	return 0;
}

int image_close(struct image *img)
{
	int rc = 0;

	if (img->store) {
		int st = store_close(img->store);
		if (st != STORE_OK)
			rc = hvdisk_error("%s: closing the datastore: %s", img->path,
					  store_status_name(st));
		img->store = NULL;
	}
	file_blockdev_close(&img->file);
	return rc ? -1 : 0;
}
