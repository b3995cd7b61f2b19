/* blk: the host's block devices from the console.
 *
 *   blk                          one key=value line per device
 *   blk bench DEV MODE [...]     the hypervisor's own driver, direct (cmd_blk_bench.c)
 *   blk read DEV LBA             one block: its CRC-32 and first 16 bytes
 *   blk write DEV LBA BYTE [force]  one block filled with BYTE, written FUA
 *
 * Writes are refused on a device holding a datastore unless 'force'. */
#include "drivers/block/blk_label.h"
#include "drivers/block/blockdev.h"
#include "hv/lib/crc32.h"
#include "hv/lib/format.h"
#include "hv/lib/parse.h"
#include "hv/lib/string.h"
#include "hv/mm/mm.h"
#include "hv/shell/cmd_blk.h"
#include "hv/shell/commands.h"
#include "hv/store/store.h"

static uint8_t label_buf[BLK_LABEL_HEAD_BYTES];
static const uint8_t store_type[16] = STORE_GPT_TYPE_GUID_BYTES;

/* "256 MiB", "1.5 GiB": binary units, one decimal when not whole. */
static void human_size(uint64_t bytes, char *out, size_t len)
{
	static const char *const units[] = { "bytes", "KiB", "MiB", "GiB", "TiB", "PiB" };
	unsigned u = 0;
	uint64_t whole = bytes, rem = 0;

	while (whole >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		rem = whole % 1024;
		whole /= 1024;
		u++;
	}
	unsigned tenth = (unsigned)(rem * 10 / 1024);
	if (tenth)
		fmt_snprintf(out, len, "%lu.%u %s", (unsigned long)whole, tenth, units[u]);
	else
		fmt_snprintf(out, len, "%lu %s", (unsigned long)whole, units[u]);
}

/* The GPT partition number holding a datastore, or 0. */
static unsigned datastore_partition(struct blockdev *dev, const struct blk_label *l)
{
	struct store_uuid uuid;

	for (int i = blk_label_find_type(l, store_type, 0); i >= 0;
	     i = blk_label_find_type(l, store_type, (unsigned)i + 1))
		if (store_probe(dev, l->parts[i].first_lba, &uuid) == 1)
			return l->parts[i].number;
	return 0;
}

/* What the device holds, as the list shows it: "content=... [datastore=pN]". */
static void describe_content(struct blockdev *dev, char *out, size_t len)
{
	struct store_uuid uuid;
	struct blk_label l;

	if (dev->failed) {
		str_copy(out, "content=unknown state=failed", len);
		return;
	}
	if (store_probe(dev, 0, &uuid) == 1) {
		str_copy(out, "content=datastore", len);
		return;
	}
	if (blk_label_read(dev, label_buf, &l) != BLK_OK) {
		str_copy(out, "content=unknown read=error", len);
		return;
	}
	unsigned part = datastore_partition(dev, &l);
	int n = fmt_snprintf(out, len, "content=%s", blk_content_name(l.content));
	if (part)
		fmt_snprintf(out + n, len - (size_t)n, " datastore=p%u", part);
	else if (l.problem[0])
		fmt_snprintf(out + n, len - (size_t)n, " problem=\"%s\"", l.problem);
}

bool blk_holds_datastore(struct blockdev *dev)
{
	struct store_uuid uuid;
	struct blk_label l;

	if (store_probe(dev, 0, &uuid) == 1)
		return true;
	return blk_label_read(dev, label_buf, &l) == BLK_OK && datastore_partition(dev, &l);
}

static int blk_list(struct shell *sh)
{
	if (!blk_count())
		sh_printf(sh, "no block devices (virtio-blk, NVMe; or a RAM disk: ramdisk=SIZE)\n");
	for (unsigned i = 0; i < blk_count(); i++) {
		struct blockdev *d = blk_get(i);
		const struct blk_stats *s = &d->stats;
		char size[32], content[128];
		human_size(d->blocks * d->block_size, size, sizeof(size));
		describe_content(d, content, sizeof(content));
		sh_printf(sh, "%s model=\"%s\" size=%lu (%s) block=%u ro=%u cache=%s %s "
			      "reads=%lu writes=%lu errors=%lu bad=%lu\n",
			  d->name, d->model, (unsigned long)(d->blocks * d->block_size), size,
			  d->block_size, d->read_only ? 1u : 0u,
			  d->volatile_cache ? "volatile" : "none", content,
			  (unsigned long)s->reads, (unsigned long)s->writes,
			  (unsigned long)s->errors, (unsigned long)s->bad_completions);
	}
	return SHELL_OK;
}

struct blockdev *blk_cmd_device(struct shell *sh, const char *name)
{
	struct blockdev *d = blk_find(name);

	if (!d)
		sh_error(sh, "no block device '%.16s' (see blk)", name);
	return d;
}

/* blk read DEV LBA | blk write DEV LBA BYTE [force] */
static int blk_one_block(struct shell *sh, int argc, char **argv, bool write)
{
	struct blockdev *d = blk_cmd_device(sh, argv[2]);
	uint64_t lba, byte = 0;

	if (!d)
		return SHELL_FAILED;
	if (argc < (write ? 5 : 4) || !parse_u64(argv[3], &lba) || lba >= d->blocks ||
	    (write && (!parse_u64(argv[4], &byte) || byte > 255)))
		return sh_error(sh, write ? "usage: blk write DEV LBA BYTE [force] (LBA < %lu)" :
					    "usage: blk read DEV LBA (LBA < %lu)",
				(unsigned long)d->blocks);
	bool force = write && argc > 5 && !strcmp(argv[5], "force");
	if (write && !force && blk_holds_datastore(d))
		return sh_error(sh, "%s holds a datastore; add 'force' to write anyway", d->name);
	uint64_t pa = page_alloc();
	if (!pa)
		return sh_error(sh, "out of memory");
	uint8_t *buf = phys_to_virt(pa);
	if (write)
		memset(buf, (int)byte, d->block_size);
	int rc = blk_io(d, write ? BLK_OP_WRITE : BLK_OP_READ, lba, buf, d->block_size, write);
	if (rc == BLK_OK && write)
		rc = blk_flush(d);
	if (rc == BLK_OK) {
		sh_printf(sh, "lba=%lu bytes=%u crc32=%08x first16=", (unsigned long)lba,
			  d->block_size, crc32(0, buf, d->block_size));
		for (int i = 0; i < 16; i++)
			sh_printf(sh, "%02x", buf[i]);
		sh_printf(sh, "\n");
	}
	if (rc != BLK_ETIMEDOUT)
		page_free(pa); /* a timed-out request's buffer stays out of use */
	return rc == BLK_OK ? SHELL_OK : sh_error(sh, "%s: %s", d->name, blk_status_name(rc));
}

int cmd_blk(struct shell *sh, int argc, char **argv)
{
	if (argc == 1)
		return blk_list(sh);
	if (!strcmp(argv[1], "bench") && argc >= 4)
		return blk_bench(sh, argc, argv);
	if (!strcmp(argv[1], "read") && argc >= 3)
		return blk_one_block(sh, argc, argv, false);
	if (!strcmp(argv[1], "write") && argc >= 3)
		return blk_one_block(sh, argc, argv, true);
	return sh_error(sh, "usage: blk | blk bench DEV read|write|randread|randwrite [size=MB] "
			    "[bs=KiB] [qd=N] [force] | blk read DEV LBA | blk write DEV LBA BYTE "
			    "[force]");
}
