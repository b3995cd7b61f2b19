/* Images in formats other than raw, through qemu-img (Debian package
 * qemu-utils): what format a file is, and its conversion to raw. */
#ifndef TOOLS_HVDISK_QEMU_IMG_H
#define TOOLS_HVDISK_QEMU_IMG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QEMU_IMG_PACKAGE "qemu-utils"

/* Whether qemu-img is on PATH. */
bool qemu_img_available(void);

/* `qemu-img info --output=json`: the top-level "format" and
 * "virtual-size". Returns 0, or -1 after printing the error. */
int qemu_img_info(const char *source, char *format, size_t format_len, uint64_t *virtual_size);

/* `qemu-img convert -f FORMAT -O raw SOURCE DEST`. Returns 0, or -1 after
 * printing the error. */
int qemu_img_convert(const char *source, const char *format, const char *dest);

/* Without qemu-img: the name of a non-raw format whose signature starts
 * the file (qcow, qcow2, vmdk, vdi, vhdx, vpc, qed), or NULL. */
const char *qemu_img_sniff(const char *source);

/* The value of 'key' at the top level of a JSON object: a string's
 * characters (escapes other than \" and \\ kept as they are) or a
 * number's text. Returns false when absent or malformed. */
bool json_top_level(const char *json, const char *key, char *out, size_t out_len);

#endif
