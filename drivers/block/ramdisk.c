/* The RAM disk; see ramdisk.h. */
#include "drivers/block/ramdisk.h"

#include "hv/lib/string.h"

static int ram_submit(struct blockdev *dev, struct blk_request *req)
{
	struct ramdisk *rd = dev->priv;

	/* The block layer checked the range: lba + bytes lies inside mem. */
	if (req->op != BLK_OP_FLUSH) {
		uint8_t *p = rd->mem + req->lba * RAMDISK_BLOCK_SIZE;
		for (uint32_t i = 0; i < req->nsegs; i++) {
			if (req->op == BLK_OP_READ)
				memcpy(req->segs[i].data, p, req->segs[i].len);
			else
				memcpy(p, req->segs[i].data, req->segs[i].len);
			p += req->segs[i].len;
		}
	}
	blk_complete(dev, req, BLK_OK);
	return BLK_OK;
}

static int ram_poll(struct blockdev *dev)
{
	(void)dev;
	return 0; /* everything completed in submit */
}

static const struct blk_ops ram_ops = { .submit = ram_submit, .poll = ram_poll };

bool ramdisk_init(struct ramdisk *rd, const char *name, void *mem, uint64_t bytes)
{
	*rd = (struct ramdisk){ .mem = mem };
	if (bytes < RAMDISK_BLOCK_SIZE)
		return false;
	struct blockdev *d = &rd->dev;
	str_copy(d->name, name, sizeof(d->name));
	str_copy(d->model, "RAM disk", sizeof(d->model));
	d->blocks = bytes / RAMDISK_BLOCK_SIZE;
	d->block_size = RAMDISK_BLOCK_SIZE;
	d->max_transfer = RAMDISK_MAX_TRANSFER;
	d->queue_depth = RAMDISK_QUEUE_DEPTH;
	d->volatile_cache = false;
	d->ops = &ram_ops;
	d->priv = rd;
	return true;
}
