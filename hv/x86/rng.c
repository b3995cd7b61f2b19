#include "hv/x86/rng.h"

#include "hv/lib/string.h"
#include "hv/x86/cpu.h"

static uint64_t mix_state;

static bool has_rdrand(void)
{
	static int known = -1;

	if (known < 0) {
		known = (cpuid(1, 0).ecx >> 30) & 1;
	}
	return known;
}

bool rng_hardware(void)
{
	return has_rdrand();
}

/* The SDM recommends retrying RDRAND a few times: CF=0 means "no value yet". */
static bool rdrand64(uint64_t *out)
{
	for (int i = 0; i < 10; i++) {
		uint8_t ok;
		__asm__ volatile("rdrand %0; setc %1" : "=r"(*out), "=qm"(ok));
		if (ok)
			return true;
	}
	return false;
}

static uint64_t splitmix(void)
{
	uint64_t z = (mix_state += 0x9e3779b97f4a7c15ull ^ rdtsc());
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t rng_u64(void)
{
	uint64_t v;

	if (has_rdrand() && rdrand64(&v))
		return v ^ splitmix();
	return splitmix();
}

void rng_fill(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		uint64_t v = rng_u64();
		size_t n = len < sizeof(v) ? len : sizeof(v);
		memcpy(p, &v, n);
		p += n;
		len -= n;
	}
}
