/* mig_tls_port.h for hv.efi: the hypervisor heap, its formatter, and the CPU's random
 * number instructions. The host tests have their own (tests/unit/mig_tls_port_host.c). */
#include "migrate/mig_tls_port.h"

#include <stdint.h>

#include "hv/lib/string.h"
#include "hv/mm/mm.h"
#include "hv/x86/entropy.h"

void *mig_tls_port_calloc(size_t count, size_t size)
{
	if (size && count > SIZE_MAX / size)
		return NULL;
	return kzalloc(count * size);
}

void mig_tls_port_free(void *p)
{
	if (p)
		kfree(p);
}

const char *mig_tls_port_entropy_source(void)
{
	enum entropy_hw kind = entropy_hw_kind();

	return kind == ENTROPY_HW_NONE ? NULL : entropy_hw_name(kind);
}

int mig_tls_port_entropy_strong(void *data, unsigned char *out, size_t len, size_t *olen)
{
	(void)data;
	if (!entropy_hw_read(out, len)) {
		memset(out, 0, len);
		*olen = 0;
		return -1;
	}
	*olen = len;
	return 0;
}

int mig_tls_port_entropy_weak(void *data, unsigned char *out, size_t len, size_t *olen)
{
	(void)data;
	entropy_jitter_read(out, len);
	*olen = len;
	return 0;
}
