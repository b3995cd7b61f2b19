/* Entropy for keys (the migration channel's TLS): the CPU's hardware random number
 * instructions, for secrets. Unlike rng.h (identifiers), nothing here falls back to a
 * guessable value: no instruction or a failing one is reported, never papered over.
 *
 * RDSEED (CPUID.(EAX=07H,ECX=0):EBX[18]) returns conditioned output of the entropy
 * source itself; RDRAND (CPUID.01H:ECX[30]) the output of the DRBG that source reseeds
 * (Intel SDM vol. 1, 7.3.17; AMD APM vol. 3). Both may transiently fail (CF=0) and are
 * retried as the vendors' guides recommend. */
#ifndef HV_X86_ENTROPY_H
#define HV_X86_ENTROPY_H

#include <stdbool.h>
#include <stddef.h>

enum entropy_hw { ENTROPY_HW_NONE, ENTROPY_HW_RDRAND, ENTROPY_HW_RDSEED };

/* The best instruction this CPU has (read once from CPUID). */
enum entropy_hw entropy_hw_kind(void);
/* "rdseed", "rdrand" or "none". */
const char *entropy_hw_name(enum entropy_hw kind);

/* Fills buf from RDSEED, word by word falling back to RDRAND when RDSEED stays empty.
 * false when the CPU has neither or RDRAND still fails after its retries (or returns
 * the all-zero/all-one words some broken parts give with CF=1): buf is then not usable. */
bool entropy_hw_read(void *buf, size_t len);

/* Timing jitter: TSC differences across short memory-touching loops, one byte of low
 * bits each. Weak and unmeasured, only to be mixed into a pool next to entropy_hw_read. */
void entropy_jitter_read(void *buf, size_t len);

#endif
