/* Putting a guest image into a new VM: a multiboot kernel or a Linux
 * bzImage (chosen by what the image is), its modules or initrd, the boot
 * information it expects, and the vCPU at the image's entry. */
#ifndef HV_VM_VM_LOAD_H
#define HV_VM_VM_LOAD_H

#include <stddef.h>

struct vm;
struct guest_image;
struct vm_create_args;

/* Returns 0, or -1 with the reason in err.
 * @pre the VM's memory is zeroed and its vCPU is at power-on state */
int vm_load_image(struct vm *vm, const struct guest_image *img, const struct vm_create_args *a,
		  char *err, size_t errlen);

#endif
