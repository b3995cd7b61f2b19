/* Finding, opening and formatting the hypervisor's datastore (see
 * datastore.h). Regions: a whole block device ("vblk0") or a partition of
 * the datastore GPT type on one ("vblk0p2", numbered from 1 as the GPT
 * entry array orders them). */
#include "hv/store/datastore.h"

#include "boot/firmware.h"
#include "drivers/block/blk_label.h"
#include "hv/core/log.h"
#include "hv/core/settings.h"
#include "hv/lib/format.h"
#include "hv/lib/parse.h"
#include "hv/lib/string.h"
#include "hv/mm/mm.h"
#include "hv/x86/rng.h"

CONFIG_KEY(key_datastore, "datastore", "auto",
	   "which datastore to open at boot: auto (the first found), off, or a region "
	   "(vblk0, nvme0n1p2)");

#define REGION_NAME_MAX 24
#define PAGE 4096ull

struct region {
	char name[REGION_NAME_MAX];
	struct blockdev *dev;
	uint64_t first_lba, blocks;
	bool partition, store_type; /* a GPT partition; of the datastore type */
};

static const uint8_t store_type[16] = STORE_GPT_TYPE_GUID_BYTES;

static struct store *open_store;
static struct region open_region;
static char absence[160] = "no block device probed yet";

static void *env_alloc(size_t bytes)
{
	size_t pages = (bytes + PAGE - 1) / PAGE;
	uint64_t pa = pages_alloc(pages ? pages : 1, 1);

	return pa ? (void *)(uintptr_t)pa : NULL;
}

static void env_free(void *p, size_t bytes)
{
	size_t pages = (bytes + PAGE - 1) / PAGE;

	if (p)
		pages_free((uint64_t)(uintptr_t)p, pages ? pages : 1);
}

static uint64_t env_now_s(void)
{
	return fw_time_unix();
}

static const struct store_env env = { env_alloc, env_free, rng_fill, env_now_s };

const struct store_env *datastore_env(void)
{
	return &env;
}

struct store *datastore(void)
{
	return open_store;
}

const char *datastore_region(void)
{
	return open_store ? open_region.name : "";
}

const char *datastore_absence(void)
{
	return open_store ? "" : absence;
}

/* "vblk0" or "vblk0p2" into a device range. */
static int resolve(const char *name, struct region *r, char *err, size_t errlen)
{
	size_t len = strlen(name);

	if (!len || len >= REGION_NAME_MAX) {
		fmt_snprintf(err, errlen, "bad device name '%.30s'", name);
		return -1;
	}
	*r = (struct region){ 0 };
	str_copy(r->name, name, sizeof(r->name));
	r->dev = blk_find(name);
	if (r->dev) {
		r->blocks = r->dev->blocks;
		return 0;
	}
	/* A partition: the longest device name that prefixes it, then pN. */
	for (unsigned i = 0; i < blk_count(); i++) {
		struct blockdev *d = blk_get(i);
		size_t dl = strlen(d->name);
		uint64_t index;
		if (strncmp(name, d->name, dl) || name[dl] != 'p' ||
		    !parse_u64(name + dl + 1, &index))
			continue;
		struct blk_partition part;
		if (blk_label_partition(d, (unsigned)index, &part)) {
			fmt_snprintf(err, errlen, "%s has no GPT partition %lu", d->name,
				     (unsigned long)index);
			return -1;
		}
		r->dev = d;
		r->first_lba = part.first_lba;
		r->blocks = part.last_lba - part.first_lba + 1;
		r->partition = true;
		r->store_type = !memcmp(part.type_guid, store_type, sizeof(store_type));
		return 0;
	}
	fmt_snprintf(err, errlen, "no block device or partition '%.30s' (see 'blk')", name);
	return -1;
}

/* Every region that may hold a datastore, in device order: each device,
 * then its partitions of the datastore type. */
typedef bool (*region_fn)(const struct region *r, void *ctx);

/* The device's partitions of the datastore type (a sound GPT only). */
static bool each_store_partition(struct blockdev *d, region_fn fn, void *ctx)
{
	static struct blk_label label;
	uint8_t *scratch = env_alloc(BLK_LABEL_HEAD_BYTES);
	bool stop = false;

	if (!scratch)
		return false;
	if (blk_label_read(d, scratch, &label) == BLK_OK && label.content == BLK_CONTENT_GPT) {
		for (int i = blk_label_find_type(&label, store_type, 0); i >= 0 && !stop;
		     i = blk_label_find_type(&label, store_type, (unsigned)i + 1)) {
			const struct blk_partition *part = &label.parts[i];
			struct region pr = { .dev = d, .first_lba = part->first_lba,
					     .blocks = part->last_lba - part->first_lba + 1,
					     .partition = true, .store_type = true };
			fmt_snprintf(pr.name, sizeof(pr.name), "%sp%u", d->name, part->number);
			stop = fn(&pr, ctx);
		}
	}
	env_free(scratch, BLK_LABEL_HEAD_BYTES);
	return stop;
}

static void each_candidate(region_fn fn, void *ctx)
{
	for (unsigned i = 0; i < blk_count(); i++) {
		struct blockdev *d = blk_get(i);
		struct region r = { .dev = d, .blocks = d->blocks };
		str_copy(r.name, d->name, sizeof(r.name));
		if (fn(&r, ctx) || each_store_partition(d, fn, ctx))
			return;
	}
}

static int open_region_now(const struct region *r, char *err, size_t errlen)
{
	struct store *s;

	if (store_open(&s, r->dev, r->first_lba, r->blocks, &env, err, errlen))
		return -1;
	open_store = s;
	open_region = *r;
	struct store_info info;
	store_info(s, &info);
	char uuid[37];
	store_uuid_format(&info.uuid, uuid);
	log_info("datastore: %s opened: %lu MiB, %lu MiB free, %u disks%s%s", r->name,
		 (unsigned long)(info.size >> 20),
		 (unsigned long)((info.free_blocks * info.block_size) >> 20), info.disks,
		 info.read_only ? ", READ-ONLY: " : "", info.problem);
	return 0;
}

struct auto_pick {
	const char *want; /* NULL: the first */
	unsigned found;
	char first_error[160];
};

static bool try_region(const struct region *r, void *ctx)
{
	struct auto_pick *pick = ctx;
	struct store_uuid uuid;

	if (pick->want && strcmp(pick->want, r->name))
		return false;
	if (store_probe(r->dev, r->first_lba, &uuid) != 1)
		return false;
	pick->found++;
	if (open_store) {
		log_info("datastore: another one on %s is not opened (datastore=%s chooses)",
			 r->name, r->name);
		return false;
	}
	char err[160];
	if (open_region_now(r, err, sizeof(err))) {
		log_warn("datastore: %s: cannot open: %s", r->name, err);
		if (!pick->first_error[0])
			fmt_snprintf(pick->first_error, sizeof(pick->first_error), "%s: %s",
				     r->name, err);
	}
	return false;
}

void datastore_init(void)
{
	const char *want = setting("datastore");
	struct auto_pick pick = { 0 };

	if (!strcmp(want, "off")) {
		str_copy(absence, "off (datastore=off)", sizeof(absence));
		return;
	}
	pick.want = strcmp(want, "auto") ? want : NULL;
	each_candidate(try_region, &pick);
	if (open_store)
		return;
	if (pick.first_error[0])
		fmt_snprintf(absence, sizeof(absence), "cannot open %s", pick.first_error);
	else if (pick.want)
		fmt_snprintf(absence, sizeof(absence), "no datastore on '%s'", pick.want);
	else
		fmt_snprintf(absence, sizeof(absence), "none found on %u block devices "
			     "(make one: ds format DEVICE confirm=yes)", blk_count());
	log_info("datastore: %s", absence);
}

bool datastore_region_holds_store(const char *name)
{
	struct region r;
	struct store_uuid uuid;
	char err[80];

	return !resolve(name, &r, err, sizeof(err)) && store_probe(r.dev, r.first_lba, &uuid) == 1;
}

/* What is on the region now that a format would destroy. */
static int check_overwrite(const struct region *r, bool force, char *err, size_t errlen)
{
	struct store_uuid uuid;
	char what[48];

	if (r->partition && !r->store_type) {
		/* Boot only looks in partitions of the datastore type. */
		fmt_snprintf(err, errlen, "%s is not a datastore partition (GPT type %s): change "
			     "its type first", r->name, STORE_GPT_TYPE_GUID);
		return -1;
	}
	if (force)
		return 0;
	if (store_probe(r->dev, r->first_lba, &uuid) == 1) {
		fmt_snprintf(err, errlen, "%s holds a datastore; add 'force' to replace it", r->name);
		return -1;
	}
	if (!r->first_lba && blk_label_describe(r->dev, what, sizeof(what)) &&
	    strcmp(what, "empty") && strcmp(what, "unknown")) {
		fmt_snprintf(err, errlen, "%s holds %s; add 'force' to overwrite it", r->name, what);
		return -1;
	}
	return 0;
}

static bool overlaps(const struct region *a, const struct region *b)
{
	return a->dev == b->dev && a->first_lba < b->first_lba + b->blocks &&
	       b->first_lba < a->first_lba + a->blocks;
}

static bool disks_in_use(const struct store *s)
{
	struct store_disk_info di;

	for (unsigned i = 0; i < store_disk_count(s); i++)
		if (!store_disk_info_at(s, i, &di) && (di.open_writers || di.open_readers))
			return true;
	return false;
}

int datastore_format(const char *name, bool force, char *err, size_t errlen)
{
	struct region r;

	if (resolve(name, &r, err, errlen) || check_overwrite(&r, force, err, errlen))
		return -1;
	if (open_store && overlaps(&open_region, &r)) {
		if (disks_in_use(open_store)) {
			fmt_snprintf(err, errlen, "the open datastore on %s has disks in use",
				     open_region.name);
			return -1;
		}
		store_close(open_store);
		open_store = NULL;
	}
	if (store_format(r.dev, r.first_lba, r.blocks, &env, err, errlen))
		return -1;
	if (open_store) {
		log_info("datastore: %s formatted; %s stays the open one", r.name, open_region.name);
		return 0;
	}
	return open_region_now(&r, err, errlen);
}
