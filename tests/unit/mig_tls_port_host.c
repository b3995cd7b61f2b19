/* mig_tls_port.h for the host tests: libc memory and formatting, and a deterministic test
 * seed in place of the hypervisor's RDSEED/RDRAND path (migrate/mig_tls_port.c, never
 * built here), so runs are reproducible. Not random: for tests only. */
#include <stdint.h>
#include <stdlib.h>

#include "migrate/mig_tls_port.h"
#include "tests/unit/mig_tls_port_host.h"

bool mig_tls_host_no_entropy;
bool mig_tls_host_entropy_fails;

static uint64_t seed_state = 0x6d69672d746c7321ull;

void *mig_tls_port_calloc(size_t count, size_t size)
{
	return calloc(count, size);
}

void mig_tls_port_free(void *p)
{
	free(p);
}

const char *mig_tls_port_entropy_source(void)
{
	return mig_tls_host_no_entropy ? NULL : "test-seed";
}

/* SplitMix64 over a fixed seed. */
static void test_seed(unsigned char *out, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint64_t z = (seed_state += 0x9e3779b97f4a7c15ull);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		out[i] = (unsigned char)(z ^ (z >> 31));
	}
}

int mig_tls_port_entropy_strong(void *data, unsigned char *out, size_t len, size_t *olen)
{
	(void)data;
	*olen = 0;
	if (mig_tls_host_entropy_fails)
		return -1;
	test_seed(out, len);
	*olen = len;
	return 0;
}

int mig_tls_port_entropy_weak(void *data, unsigned char *out, size_t len, size_t *olen)
{
	(void)data;
	test_seed(out, len);
	*olen = len;
	return 0;
}
