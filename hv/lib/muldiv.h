/* a * b / c with a 128-bit intermediate, without libgcc's 128-bit division.
 * @pre c != 0 and the quotient fits in 64 bits (else the result saturates). */
#ifndef HV_LIB_MULDIV_H
#define HV_LIB_MULDIV_H

#include <stdint.h>

static inline uint64_t mul_div_u64(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t lo, hi, q;

	__asm__("mulq %3" : "=a"(lo), "=d"(hi) : "a"(a), "rm"(b));
	if (hi >= c)
		return UINT64_MAX;
	__asm__("divq %4" : "=a"(q), "=d"(hi) : "a"(lo), "d"(hi), "rm"(c));
	return q;
}

#endif
