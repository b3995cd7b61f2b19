/* Running qemu-img; see qemu_img.h. Arguments go to execvp directly, never
 * through a shell, so file names need no quoting. */
#define _GNU_SOURCE
#include "tools/hvdisk/qemu_img.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tools/hvdisk/hostio.h"
#include "tools/hvdisk/hvdisk.h"

#define QEMU_IMG "qemu-img"
#define INFO_MAX (256u * 1024) /* qemu-img info's JSON is a few KiB */

bool qemu_img_available(void)
{
	const char *path = getenv("PATH");
	char candidate[4096];

	if (!path)
		return false;
	for (const char *p = path; ; ) {
		const char *end = strchrnul(p, ':');
		int n = snprintf(candidate, sizeof(candidate), "%.*s/%s", (int)(end - p), p, QEMU_IMG);

		if (n > 0 && (size_t)n < sizeof(candidate) && end > p && access(candidate, X_OK) == 0)
			return true;
		if (!*end)
			return false;
		p = end + 1;
	}
}

/* Runs qemu-img with argv; its stdout into out (when given), stderr
 * passed through. Returns the exit status, or -1. */
static int qemu_img_run(char *const argv[], char *out, size_t out_len)
{
	int pipefd[2] = { -1, -1 };
	size_t got = 0;
	int status;
	pid_t pid;

	if (out && pipe2(pipefd, O_CLOEXEC) != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		if (out)
			dup2(pipefd[1], STDOUT_FILENO);
		else
			dup2(STDERR_FILENO, STDOUT_FILENO); /* keep hvdisk's stdout ours */
		execvp(QEMU_IMG, argv);
		_exit(127);
	}
	if (out) {
		close(pipefd[1]);
		for (ssize_t n; pid > 0 && (n = read(pipefd[0], out + got, out_len - 1 - got)) != 0;) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 || (got += (size_t)n) == out_len - 1)
				break;
		}
		out[got] = '\0';
		close(pipefd[0]);
	}
	if (pid < 0)
		return -1;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int qemu_img_missing(void)
{
	return hvdisk_error("%s not found: it converts images that are not raw (install Debian's "
			    "%s package)", QEMU_IMG, QEMU_IMG_PACKAGE), -1;
}

int qemu_img_info(const char *source, char *format, size_t format_len, uint64_t *virtual_size)
{
	char *argv[] = { QEMU_IMG, "info", "--output=json", (char *)source, NULL };
	char size[32], *json;
	int rc;

	if (!qemu_img_available())
		return qemu_img_missing();
	json = malloc(INFO_MAX);
	if (!json)
		return hvdisk_error("out of memory"), -1;
	rc = qemu_img_run(argv, json, INFO_MAX);
	if (rc != 0)
		hvdisk_error("%s: qemu-img info failed (exit %d)", source, rc);
	else if (!json_top_level(json, "format", format, format_len) ||
		 !json_top_level(json, "virtual-size", size, sizeof(size)))
		rc = hvdisk_error("%s: qemu-img info gave no format and size", source);
	else if (sscanf(size, "%" SCNu64, virtual_size) != 1)
		rc = hvdisk_error("%s: qemu-img info: bad virtual-size '%s'", source, size);
	free(json);
	return rc == 0 ? 0 : -1;
}

int qemu_img_convert(const char *source, const char *format, const char *dest)
{
	char *argv[] = { QEMU_IMG, "convert", "-q", "-f", (char *)format, "-O", "raw",
			 (char *)source, (char *)dest, NULL };
	int rc;

	if (!qemu_img_available())
		return qemu_img_missing();
	rc = qemu_img_run(argv, NULL, 0);
	if (rc != 0)
		return hvdisk_error("%s: qemu-img convert from %s failed (exit %d)", source, format,
				    rc), -1;
	return 0;
}

/* Signatures at the start of each format's header (QEMU's block drivers'
 * probe functions check the same bytes). */
static const struct {
	const char *format;
	unsigned offset, len;
	const char *magic;
} signatures[] = {
	{ "qcow2", 0, 4, "QFI\xfb" }, /* qcow and qcow2 share it; qemu-img tells them apart */
	{ "vmdk", 0, 4, "KDMV" },
	{ "vmdk", 0, 21, "# Disk DescriptorFile" },
	{ "vdi", 64, 4, "\x7f\x10\xda\xbe" },
	{ "vhdx", 0, 8, "vhdxfile" },
	{ "vpc", 0, 8, "conectix" },
	{ "qed", 0, 4, "QED\0" },
};

const char *qemu_img_sniff(const char *source)
{
	uint8_t head[512];
	int fd = open(source, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : hostio_read_full(fd, head, sizeof(head), 0);

	if (fd >= 0)
		close(fd);
	for (size_t i = 0; i < sizeof(signatures) / sizeof(signatures[0]); i++) {
		unsigned end = signatures[i].offset + signatures[i].len;
		if (n >= (ssize_t)end &&
		    memcmp(head + signatures[i].offset, signatures[i].magic, signatures[i].len) == 0)
			return signatures[i].format;
	}
	return NULL;
}
