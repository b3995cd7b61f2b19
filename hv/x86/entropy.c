#include "hv/x86/entropy.h"

#include <stdint.h>

#include "hv/lib/string.h"
#include "hv/x86/cpu.h"

#define CPUID1_ECX_RDRAND (1u << 30)
#define CPUID7_EBX_RDSEED (1u << 18)

/* Intel's DRNG guide: RDRAND fails only if the DRBG is drained faster than it reseeds, so
 * 10 attempts in a row failing means the unit is broken. RDSEED legitimately runs dry
 * under load; it gets more attempts with a pause between them, then RDRAND takes over. */
#define RDRAND_TRIES 10
#define RDSEED_TRIES 100

enum entropy_hw entropy_hw_kind(void)
{
	static int kind = -1;

	if (kind < 0) {
		kind = ENTROPY_HW_NONE;
		if (cpuid(1, 0).ecx & CPUID1_ECX_RDRAND)
			kind = ENTROPY_HW_RDRAND;
		if (cpuid(0, 0).eax >= 7 && (cpuid(7, 0).ebx & CPUID7_EBX_RDSEED))
			kind = ENTROPY_HW_RDSEED;
	}
	return (enum entropy_hw)kind;
}

const char *entropy_hw_name(enum entropy_hw kind)
{
	switch (kind) {
	case ENTROPY_HW_RDSEED: return "rdseed";
	case ENTROPY_HW_RDRAND: return "rdrand";
	default: return "none";
	}
}

/* Some AMD parts return all ones with CF=1 after a suspend cycle, and a stuck unit would
 * repeat zeros: either is treated as a failed attempt (a genuine 0 or ~0 word costs one
 * retry with probability 2^-63). */
static bool plausible(uint64_t v)
{
	return v != 0 && v != ~0ull;
}

static bool rdseed64(uint64_t *out)
{
	for (int i = 0; i < RDSEED_TRIES; i++) {
		uint64_t v;
		uint8_t ok;
		__asm__ volatile("rdseed %0; setc %1" : "=r"(v), "=qm"(ok));
		if (ok && plausible(v)) {
			*out = v;
			return true;
		}
		__asm__ volatile("pause");
	}
	return false;
}

static bool rdrand64(uint64_t *out)
{
	for (int i = 0; i < RDRAND_TRIES; i++) {
		uint64_t v;
		uint8_t ok;
		__asm__ volatile("rdrand %0; setc %1" : "=r"(v), "=qm"(ok));
		if (ok && plausible(v)) {
			*out = v;
			return true;
		}
	}
	return false;
}

static bool hw_word(enum entropy_hw kind, uint64_t *out)
{
	if (kind == ENTROPY_HW_RDSEED && rdseed64(out))
		return true;
	/* Every CPU with RDSEED also has RDRAND (Broadwell, Zen). */
	return kind != ENTROPY_HW_NONE && rdrand64(out);
}

bool entropy_hw_read(void *buf, size_t len)
{
	enum entropy_hw kind = entropy_hw_kind();
	uint8_t *p = buf;

	while (len) {
		uint64_t v;
		if (!hw_word(kind, &v))
			return false;
		size_t n = len < sizeof(v) ? len : sizeof(v);
		memcpy(p, &v, n);
		p += n;
		len -= n;
	}
	return true;
}

void entropy_jitter_read(void *buf, size_t len)
{
	static volatile uint8_t scratch[4096];
	uint8_t *p = buf;
	uint64_t prev = rdtsc();

	for (size_t i = 0; i < len; i++) {
		/* Cache and TLB state, interrupts and SMIs make the loop's duration vary; the
		 * stride walks several lines so it is not a single cached access. */
		for (size_t j = 0; j < sizeof(scratch); j += 64 + (prev & 63))
			scratch[j] ^= (uint8_t)prev;
		uint64_t now = rdtsc();
		p[i] = (uint8_t)((now - prev) ^ ((now - prev) >> 8));
		prev = now;
	}
}
