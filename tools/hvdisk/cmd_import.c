/* hvdisk import IMAGE NAME SOURCE [--size SIZE] [--format FMT]: a new
 * disk with SOURCE's content. Raw files are copied directly; any format
 * qemu-img reads goes through a temporary sparse raw file first. Blocks
 * of zeros are not written, so the disk stays thin. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/hvdisk/copy.h"
#include "tools/hvdisk/hvdisk.h"
#include "tools/hvdisk/image.h"
#include "tools/hvdisk/qemu_img.h"

struct import_source {
	const char *path;      /* the raw file copied */
	uint64_t bytes;        /* its logical size */
	char tmpdir[4096];     /* "" unless a converted copy lives there */
	char tmpfile[4200];
};

static int raw_size(const char *path, uint64_t *bytes)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	off_t end = fd < 0 ? -1 : lseek(fd, 0, SEEK_END);

	if (end < 0) {
		hvdisk_error("%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	*bytes = (uint64_t)end;
	return 0;
}

static int convert_to_raw(struct import_source *src, const char *format)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(src->tmpdir, sizeof(src->tmpdir), "%s/hvdisk.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(src->tmpdir)) {
		hvdisk_error("%s: %s", src->tmpdir, strerror(errno));
		src->tmpdir[0] = '\0';
		return -1;
	}
	snprintf(src->tmpfile, sizeof(src->tmpfile), "%s/raw", src->tmpdir);
	if (qemu_img_convert(src->path, format, src->tmpfile) != 0)
		return -1;
	src->path = src->tmpfile;
	return 0;
}

/* Decides the format (--format, else qemu-img info, else the signature
 * check without qemu-img) and makes src->path a raw file. */
static int import_prepare(struct import_source *src, const char *format)
{
	char detected[32];
	uint64_t virtual_size = 0;

	if (!format && qemu_img_available()) {
		if (qemu_img_info(src->path, detected, sizeof(detected), &virtual_size) != 0)
			return -1;
		format = detected;
	} else if (!format) {
		format = qemu_img_sniff(src->path);
		if (!format)
			format = "raw";
	}
	if (strcmp(format, "raw") != 0 && convert_to_raw(src, format) != 0)
		return -1;
	if (raw_size(src->path, &src->bytes) != 0)
		return -1;
	/* The converted file has the virtual size; take qemu-img's word if
	 * larger (a raw file may end in a hole the conversion left short). */
	if (virtual_size > src->bytes && strcmp(format, "raw") != 0)
		src->bytes = virtual_size;
	return 0;
}

static void import_cleanup(struct import_source *src)
{
	if (src->tmpfile[0])
		unlink(src->tmpfile);
	if (src->tmpdir[0])
		rmdir(src->tmpdir);
}

/* Creates the disk and copies; a failed copy removes the disk again. */
static int import_into(struct image *img, const char *name, const struct import_source *src,
		       uint64_t size)
{
	char err[200] = "";
	int st = store_disk_create(img->store, name, size, NULL, err, sizeof(err));

	if (st != STORE_OK)
		return hvdisk_error("create %s: %s", name, err[0] ? err : store_status_name(st));
	if (copy_file_to_disk(img->store, name, src->path, src->bytes, 0, true) != 0) {
		st = store_disk_delete(img->store, name, err, sizeof(err));
		if (st == STORE_OK)
			fprintf(stderr, "hvdisk: the half-imported disk %s was deleted\n", name);
		return HVDISK_FAIL;
	}
	printf("imported %s name=%s size=%llu\n", src->path == src->tmpfile ? "converted" : "raw",
	       name, (unsigned long long)size);
	return HVDISK_OK;
}

int cmd_import(const struct hvdisk_args *a)
{
	struct import_source src = { .path = a->pos[2] };
	struct store_disk_info existing;
	uint64_t size = 0;
	struct image img;
	int rc = HVDISK_FAIL;

	if (a->size && !hvdisk_parse_size("--size", a->size, &size))
		return HVDISK_USAGE;
	if (image_open_store(&img, a->pos[0], true) != 0)
		return HVDISK_FAIL;
	/* Before a conversion that may take minutes. */
	if (store_disk_info(img.store, a->pos[1], &existing) == STORE_OK) {
		hvdisk_error("create %s: %s", a->pos[1], store_status_name(STORE_EEXIST));
		goto out;
	}
	if (import_prepare(&src, a->format) != 0)
		goto out;
	if (!a->size)
		size = (src.bytes + STORE_SECTOR - 1) / STORE_SECTOR * STORE_SECTOR;
	if (size == 0)
		hvdisk_error("%s is empty", a->pos[2]);
	else if (size < src.bytes)
		hvdisk_error("--size %llu is smaller than %s (%llu bytes)", (unsigned long long)size,
			     a->pos[2], (unsigned long long)src.bytes);
	else
		rc = import_into(&img, a->pos[1], &src, size);
out:
	if (image_close(&img) != 0)
		rc = HVDISK_FAIL;
	import_cleanup(&src);
	return rc;
}
