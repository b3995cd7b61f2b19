/* hvdisk check IMAGE: the consistency check. Every problem on a line of
 * its own (the partition table's too), then "check: N problems"; exit 1
 * when there is any. Lines starting "info: " (a committed journal
 * transaction the next open replays) are not problems. Reads only, so it works on a damaged image and next
 * to a reader of the same image. */
#include <stdio.h>

#include "tools/hvdisk/host_env.h"
#include "tools/hvdisk/hvdisk.h"
#include "tools/hvdisk/image.h"

static void check_report(void *ctx, const char *problem)
{
	(void)ctx;
	printf("%s\n", problem);
}

static void check_problem(unsigned *count, const char *what, const char *why)
{
	printf("gpt: %s%s\n", what, why);
	(*count)++;
}

/* The partition table's problems, when there is one. Returns whether the
 * store can be checked: not when a GPT is there but names no usable
 * datastore partition (the store's place is unknown). */
static bool check_gpt(const struct image *img, unsigned *count)
{
	if (!img->gpt_present)
		return true;
	if (!img->gpt.primary_valid)
		check_problem(count, "primary table: ", img->gpt.primary_problem);
	if (!img->gpt.backup_valid)
		check_problem(count, "backup table: ", img->gpt.backup_problem);
	if (!img->in_partition)
		check_problem(count, "no usable datastore partition: the store was not checked", "");
	return img->in_partition;
}

int cmd_check(const struct hvdisk_args *a)
{
	struct image img;
	unsigned count = 0;
	int st = 0;

	if (image_open_region(&img, a->pos[0], false, true) != 0)
		return HVDISK_FAIL;
	if (check_gpt(&img, &count))
		st = store_check(&img.file.dev, img.first_lba, img.blocks, &host_store_env,
				 check_report, NULL);
	image_close(&img);
	if (st < 0)
		return hvdisk_error("%s: the check could not finish: %s", a->pos[0],
				    store_status_name(st));
	count += (unsigned)st; /* store_check returns the problems it reported */
	printf("check: %u problems\n", count);
	return count ? HVDISK_FAIL : HVDISK_OK;
}
