/* Thin copies between files and disks; see copy.h. */
#define _GNU_SOURCE
#include "tools/hvdisk/copy.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>

#include "tools/hvdisk/host_env.h"
#include "tools/hvdisk/hostio.h"
#include "tools/hvdisk/hvdisk.h"

#define COPY_CHUNK (1u << 20)

struct copy_ctx {
	struct store_disk *disk;
	uint8_t *buf;
	size_t chunk;      /* a multiple of 'grain' */
	uint32_t grain;    /* the disk's block size: the unit of thinness */
	const char *what;  /* for messages */
};

static int copy_open(struct copy_ctx *c, struct store *s, const char *name, bool writable)
{
	struct store_disk_info info;
	char err[200] = "";
	int st = store_disk_info(s, name, &info);

	if (st == STORE_OK)
		st = store_disk_open(s, name, writable, &c->disk, err, sizeof(err));
	if (st != STORE_OK)
		return hvdisk_error("%s: %s", name, err[0] ? err : store_status_name(st)), -1;
	c->what = name;
	c->grain = info.block_size >= STORE_SECTOR && info.block_size <= COPY_CHUNK &&
				   COPY_CHUNK % info.block_size == 0 ?
			   info.block_size :
			   STORE_SECTOR;
	c->chunk = COPY_CHUNK;
	c->buf = host_store_env.alloc(c->chunk);
	if (!c->buf) {
		store_disk_close(c->disk);
		return hvdisk_error("out of memory"), -1;
	}
	return 0;
}

static void copy_close(struct copy_ctx *c)
{
	host_store_env.free(c->buf, c->chunk);
	store_disk_close(c->disk);
}

static int copy_write_run(struct copy_ctx *c, uint64_t offset, uint8_t *data, size_t len)
{
	struct store_iov iov = { .data = data, .len = len };
	int st = store_disk_write(c->disk, offset, &iov, 1);

	if (st != STORE_OK)
		return hvdisk_error("writing %s at %llu: %s", c->what, (unsigned long long)offset,
				    store_status_name(st)), -1;
	return 0;
}

/* Writes the non-zero grains of buf[0..len) as runs. */
static int copy_nonzero_runs(struct copy_ctx *c, uint64_t offset, size_t len)
{
	size_t run = 0, at = 0;

	for (; at < len; at += c->grain) {
		size_t piece = len - at < c->grain ? len - at : c->grain;
		if (!hostio_is_zero(c->buf + at, piece))
			continue;
		if (at > run && copy_write_run(c, offset + run, c->buf + run, at - run) != 0)
			return -1;
		run = at + piece;
	}
	if (len > run)
		return copy_write_run(c, offset + run, c->buf + run, len - run);
	return 0;
}

/* The next offset from 'offset' that may hold data, on a grain boundary
 * (SEEK_DATA skips a sparse file's holes without reading them); 'bytes'
 * when only a hole is left. */
static uint64_t copy_next_data(int fd, uint64_t offset, uint64_t bytes, uint32_t grain)
{
	off_t data = lseek(fd, (off_t)offset, SEEK_DATA);

	if (data < 0)
		return errno == ENXIO ? bytes : offset;
	if ((uint64_t)data <= offset)
		return offset;
	return (uint64_t)data / grain * grain;
}

/* The last sector is partial: it starts as the disk's bytes, the file's
 * are laid over them. */
static int copy_tail_sector(struct copy_ctx *c, uint64_t disk_off, size_t len, size_t padded)
{
	struct store_iov iov = { .data = c->buf + padded - STORE_SECTOR, .len = STORE_SECTOR };
	int st = len == padded ? STORE_OK : store_disk_read(c->disk, disk_off + padded - STORE_SECTOR,
							     &iov, 1);

	if (st != STORE_OK)
		return hvdisk_error("reading %s: %s", c->what, store_status_name(st)), -1;
	return 0;
}

static int copy_in(struct copy_ctx *c, int fd, const char *path, uint64_t bytes, uint64_t offset,
		   bool thin)
{
	uint64_t off = 0;

	while ((off = thin ? copy_next_data(fd, off, bytes, c->grain) : off) < bytes) {
		size_t len = bytes - off < c->chunk ? (size_t)(bytes - off) : c->chunk;
		size_t padded = (len + STORE_SECTOR - 1) / STORE_SECTOR * STORE_SECTOR;
		ssize_t got;

		if (copy_tail_sector(c, offset + off, len, padded) != 0)
			return -1;
		got = hostio_read_full(fd, c->buf, len, off);
		if (got < 0)
			return hvdisk_error("%s: %s", path, strerror(errno)), -1;
		/* The file shrank under us: zeros where it ended. */
		memset(c->buf + got, 0, len - (size_t)got);
		if (thin ? copy_nonzero_runs(c, offset + off, padded)
			 : copy_write_run(c, offset + off, c->buf, padded))
			return -1;
		off += len;
	}
	return 0;
}

int copy_file_to_disk(struct store *s, const char *name, const char *path, uint64_t bytes,
		      uint64_t offset, bool thin)
{
	struct copy_ctx c;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc, st;

	if (fd < 0)
		return hvdisk_error("%s: %s", path, strerror(errno)), -1;
	if (copy_open(&c, s, name, true) != 0) {
		close(fd);
		return -1;
	}
	rc = copy_in(&c, fd, path, bytes, offset, thin);
	close(fd);
	st = rc == 0 ? store_disk_flush(c.disk) : STORE_OK;
	if (st != STORE_OK)
		rc = hvdisk_error("flushing %s: %s", name, store_status_name(st));
	copy_close(&c);
	return rc;
}

static int copy_out_chunk(struct copy_ctx *c, int fd, uint64_t off, size_t len, bool sparse)
{
	for (size_t at = 0; at < len; at += c->grain) {
		size_t piece = len - at < c->grain ? len - at : c->grain;
		if (sparse && hostio_is_zero(c->buf + at, piece))
			continue;
		if (hostio_write_full(fd, c->buf + at, piece, off + at, sparse) != 0)
			return -1;
	}
	return 0;
}

int copy_disk_to_file(struct store *s, const char *name, int fd, bool sparse, const char *dest)
{
	struct copy_ctx c;
	uint64_t size;
	int rc = 0;

	if (copy_open(&c, s, name, false) != 0)
		return -1;
	size = store_disk_size(c.disk);
	for (uint64_t off = 0; off < size && rc == 0; off += c.chunk) {
		size_t len = size - off < c.chunk ? (size_t)(size - off) : c.chunk;
		struct store_iov iov = { .data = c.buf, .len = len };
		int st = store_disk_read(c.disk, off, &iov, 1);

		if (st != STORE_OK)
			rc = hvdisk_error("reading %s at %llu: %s", name, (unsigned long long)off,
					  store_status_name(st));
		else if (copy_out_chunk(&c, fd, off, len, sparse) != 0)
			rc = hvdisk_error("%s: %s", dest, strerror(errno));
	}
	if (rc == 0 && sparse && ftruncate(fd, (off_t)size) != 0)
		rc = hvdisk_error("%s: %s", dest, strerror(errno));
	if (rc == 0 && fsync(fd) != 0 && errno != EINVAL && errno != EROFS)
		rc = hvdisk_error("%s: %s", dest, strerror(errno));
	copy_close(&c);
	return rc ? -1 : 0;
}
