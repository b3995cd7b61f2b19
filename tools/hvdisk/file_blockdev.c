/* struct blockdev over a host file; see file_blockdev.h. */
#define _GNU_SOURCE
#include "tools/hvdisk/file_blockdev.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* Large enough that blk_io() rarely splits, small enough to stay one
 * pread/pwrite. */
#define FILE_MAX_TRANSFER (8u << 20)

static int file_rw(int fd, bool write, void *data, size_t len, uint64_t offset)
{
	uint8_t *p = data;

	while (len) {
		ssize_t n = write ? pwrite(fd, p, len, (off_t)offset) : pread(fd, p, len, (off_t)offset);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return BLK_EIO;
		if (n == 0) {
			/* Past the end of the file: blk_submit checked the range, so
			 * the file shrank under us. Reads see zeros, as the file's
			 * size was promised; writes fail. */
			if (write)
				return BLK_EIO;
			memset(p, 0, len);
			return BLK_OK;
		}
		p += n;
		len -= (size_t)n;
		offset += (uint64_t)n;
	}
	return BLK_OK;
}

static int file_transfer(struct file_blockdev *fb, const struct blk_request *req)
{
	uint64_t offset = req->lba * FILE_BLOCK_SIZE;
	bool write = req->op == BLK_OP_WRITE;

	for (uint32_t i = 0; i < req->nsegs; i++) {
		int st = file_rw(fb->fd, write, req->segs[i].data, req->segs[i].len, offset);
		if (st != BLK_OK)
			return st;
		offset += req->segs[i].len;
	}
	if (write && req->fua && fdatasync(fb->fd) != 0)
		return BLK_EIO;
	return BLK_OK;
}

static int file_submit(struct blockdev *dev, struct blk_request *req)
{
	struct file_blockdev *fb = dev->priv;
	int status;

	switch (req->op) {
	case BLK_OP_READ:
	case BLK_OP_WRITE:
		status = file_transfer(fb, req);
		break;
	case BLK_OP_FLUSH:
		status = fdatasync(fb->fd) == 0 ? BLK_OK : BLK_EIO;
		break;
	default:
		return BLK_EINVAL;
	}
	blk_complete(dev, req, status);
	return BLK_OK;
}

/* Everything completed in submit. */
static int file_poll(struct blockdev *dev)
{
	(void)dev;
	return 0;
}

static const struct blk_ops file_ops = {
	.submit = file_submit,
	.poll = file_poll,
};

static int file_size(int fd, const struct stat *st, uint64_t *bytes)
{
	if (S_ISREG(st->st_mode)) {
		*bytes = (uint64_t)st->st_size;
		return 0;
	}
	if (S_ISBLK(st->st_mode))
		return ioctl(fd, BLKGETSIZE64, bytes);
	errno = EINVAL;
	return -1;
}

static int file_lock(int fd, bool writable)
{
	/* Open-file-description locks, as QEMU takes on its images: any byte
	 * QEMU holds conflicts with a whole-file lock. */
	struct flock lk = { .l_type = writable ? F_WRLCK : F_RDLCK, .l_whence = SEEK_SET };

	return fcntl(fd, F_OFD_SETLK, &lk);
}

static int file_fail(int fd, char *err, size_t errlen, const char *path, const char *what)
{
	snprintf(err, errlen, "%s: %s", path, what);
	if (fd >= 0)
		close(fd);
	return -1;
}

int file_blockdev_open(struct file_blockdev *fb, const char *path, bool writable, char *err,
		       size_t errlen)
{
	struct stat st;
	int fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);

	if (fd < 0)
		return file_fail(-1, err, errlen, path, strerror(errno));
	if (fstat(fd, &st) != 0 || file_size(fd, &st, &fb->bytes) != 0)
		return file_fail(fd, err, errlen, path, "not a regular file or block device");
	if (file_lock(fd, writable) != 0)
		return file_fail(fd, err, errlen, path,
				 "in use by another process (a running QEMU holds a lock on it)");
	if (fb->bytes % FILE_BLOCK_SIZE || fb->bytes == 0)
		return file_fail(fd, err, errlen, path, "size is not a positive multiple of 512 bytes");
	fb->fd = fd;
	fb->regular = S_ISREG(st.st_mode);
	fb->dev = (struct blockdev){
		.name = "file",
		.model = "host file",
		.blocks = fb->bytes / FILE_BLOCK_SIZE,
		.block_size = FILE_BLOCK_SIZE,
		.max_transfer = FILE_MAX_TRANSFER,
		.queue_depth = 1,
		.read_only = !writable,
		.volatile_cache = true,
		.ops = &file_ops,
		.priv = fb,
	};
	return 0;
}

void file_blockdev_close(struct file_blockdev *fb)
{
	if (fb->fd >= 0)
		close(fb->fd);
	fb->fd = -1;
}
