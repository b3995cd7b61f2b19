/* Random numbers for identifiers (datastore and disk UUIDs, content IDs):
 * RDRAND when the CPU has it (CPUID.01H:ECX[30], Intel SDM vol. 1, 7.3.17),
 * otherwise TSC readings through a SplitMix64 mixer, which is unique enough
 * for IDs but not a secret. */
#ifndef HV_X86_RNG_H
#define HV_X86_RNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

uint64_t rng_u64(void);
void rng_fill(void *buf, size_t len);
/* Whether rng_u64 uses RDRAND. */
bool rng_hardware(void);

#endif
