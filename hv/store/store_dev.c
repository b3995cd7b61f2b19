/* Byte-addressed I/O inside the store's region of a block device. Guests
 * address 512-byte sectors while a device may have 4 KiB blocks: pieces not
 * aligned to the device block are read-modify-written through sd->rmw. */
#include "hv/store/store_internal.h"

#include "hv/lib/string.h"

bool store_dev_geometry_ok(const struct blockdev *dev, uint64_t first_lba, uint64_t blocks)
{
	uint32_t bs = dev->block_size;

	if (bs < 512 || bs > STORE_PAGE || (bs & (bs - 1)))
		return false;
	if (first_lba > dev->blocks || blocks > dev->blocks - first_lba)
		return false;
	/* Metadata pages are 4 KiB: the region must start on a page boundary of
	 * its own, i.e. any device block will do; sizes are checked by the layout. */
	return true;
}

static int from_blk(int status)
{
	return status == BLK_OK ? STORE_OK : STORE_EIO;
}

static bool in_region(const struct store_dev *sd, uint64_t off, size_t len)
{
	return off <= sd->bytes && len <= sd->bytes - off;
}

int store_dev_read(struct store_dev *sd, uint64_t off, void *buf, size_t len)
{
	uint32_t bs = sd->dev->block_size;
	uint8_t *p = buf;

	if (!in_region(sd, off, len))
		return STORE_EIO;
	while (len) {
		uint64_t lba = sd->first_lba + off / bs;
		size_t n;
		int rc;

		if (off % bs == 0 && len >= bs) {
			n = len - len % bs;
			rc = blk_io(sd->dev, BLK_OP_READ, lba, p, n, false);
		} else {
			size_t in = off % bs;
			n = bs - in < len ? bs - in : len;
			rc = blk_io(sd->dev, BLK_OP_READ, lba, sd->rmw, bs, false);
			if (rc == BLK_OK)
				memcpy(p, sd->rmw + in, n);
		}
		if (rc != BLK_OK)
			return from_blk(rc);
		p += n;
		off += n;
		len -= n;
	}
	return STORE_OK;
}

int store_dev_write(struct store_dev *sd, uint64_t off, const void *buf, size_t len)
{
	uint32_t bs = sd->dev->block_size;
	const uint8_t *p = buf;

	if (!in_region(sd, off, len))
		return STORE_EIO;
	while (len) {
		uint64_t lba = sd->first_lba + off / bs;
		size_t n;
		int rc;

		if (off % bs == 0 && len >= bs) {
			n = len - len % bs;
			rc = blk_io(sd->dev, BLK_OP_WRITE, lba, (void *)p, n, false);
		} else {
			size_t in = off % bs;
			n = bs - in < len ? bs - in : len;
			rc = blk_io(sd->dev, BLK_OP_READ, lba, sd->rmw, bs, false);
			if (rc == BLK_OK) {
				memcpy(sd->rmw + in, p, n);
				rc = blk_io(sd->dev, BLK_OP_WRITE, lba, sd->rmw, bs, false);
			}
		}
		if (rc != BLK_OK)
			return from_blk(rc);
		p += n;
		off += n;
		len -= n;
	}
	return STORE_OK;
}

int store_dev_flush(struct store_dev *sd)
{
	return from_blk(blk_flush(sd->dev));
}
