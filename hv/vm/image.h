/* Guest images by name: the project's test guests built into hv.efi, and
 * files found in the `guests` folder beside hv.efi on the boot disk, read
 * into memory before the firmware was left. */
#ifndef HV_VM_IMAGE_H
#define HV_VM_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#define IMAGE_NAME_MAX 48

struct guest_image {
	char name[IMAGE_NAME_MAX];
	const uint8_t *data;
	size_t size;
	const char *origin; /* "built-in" or "disk" */
};

struct boot_info;

void image_init(const struct boot_info *bi);
const struct guest_image *image_find(const char *name);
/* Iteration: NULL past the end. */
const struct guest_image *image_at(size_t i);

#endif
