#include "hv/core/profile.h"

#include "hv/core/symbols.h"
#include "hv/x86/percpu.h"

/* One per symbol table entry (the table holds about 1,100 now); functions
 * past the end count as outside. Static: nothing to allocate or lose. */
#define MAX_SYMBOLS 8192
static uint32_t hits[MAX_SYMBOLS];
static uint64_t nsyms;
static bool running;
static uint64_t samples, outside, idle, waited;

#define OPCODE_HLT 0xf4
#define OPCODE_STI 0xfb
#define OPCODE_NOP 0x90
#define FRAME_SEARCH 65536 /* a frame pointer further up than this is not trusted */

/* The return address of the function whose frame 'rbp' is, or 0. RBP is
 * trusted only inside this CPU's stack (not every function keeps a frame
 * pointer there). */
static uint64_t caller_of(uint64_t rsp, uint64_t rbp)
{
	const struct percpu *cpu = this_cpu();

	if (rbp < rsp || rbp - rsp > FRAME_SEARCH || (rbp & 7) || rbp < cpu->stack_lo ||
	    rbp + 16 > cpu->stack_hi)
		return 0;
	return *(const uint64_t *)(uintptr_t)(rbp + 8);
}

void profile_tick(uint64_t rip, uint64_t rsp, uint64_t rbp)
{
	if (!__atomic_load_n(&running, __ATOMIC_ACQUIRE))
		return;
	__atomic_fetch_add(&samples, 1, __ATOMIC_RELAXED);
	long i = symbol_index(rip);
	/* The bytes before the interrupted instruction are ours to read when
	 * the RIP lies in our text (a function's first byte is never hit: a
	 * tick cannot wait for the STI of a function not yet entered). */
	const uint8_t *before = (const uint8_t *)(uintptr_t)rip;
	if (i >= 0 && before[-1] == OPCODE_HLT) {
		__atomic_fetch_add(&idle, 1, __ATOMIC_RELAXED);
		return;
	}
	if (i >= 0 && before[-1] == OPCODE_NOP && before[-2] == OPCODE_STI) {
		__atomic_fetch_add(&waited, 1, __ATOMIC_RELAXED);
		uint64_t ret = caller_of(rsp, rbp);
		if (ret && symbol_index(ret) >= 0)
			i = symbol_index(ret);
	}
	if (i < 0 || (uint64_t)i >= nsyms)
		__atomic_fetch_add(&outside, 1, __ATOMIC_RELAXED);
	else
		__atomic_fetch_add(&hits[i], 1, __ATOMIC_RELAXED);
}

bool profile_start(void)
{
	uint64_t n = symbol_count();

	if (!n)
		return false;
	nsyms = n < MAX_SYMBOLS ? n : MAX_SYMBOLS;
	__atomic_store_n(&running, false, __ATOMIC_RELEASE);
	for (uint64_t i = 0; i < nsyms; i++)
		__atomic_store_n(&hits[i], 0, __ATOMIC_RELAXED);
	__atomic_store_n(&samples, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&outside, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&idle, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&waited, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&running, true, __ATOMIC_RELEASE);
	return true;
}

void profile_stop(void)
{
	__atomic_store_n(&running, false, __ATOMIC_RELEASE);
}

bool profile_running(void)
{
	return __atomic_load_n(&running, __ATOMIC_ACQUIRE);
}

void profile_totals(struct profile_totals *out)
{
	*out = (struct profile_totals){ __atomic_load_n(&samples, __ATOMIC_RELAXED),
					__atomic_load_n(&outside, __ATOMIC_RELAXED),
					__atomic_load_n(&idle, __ATOMIC_RELAXED),
					__atomic_load_n(&waited, __ATOMIC_RELAXED) };
}

/* Selection by rank without sorting or memory: the i-th largest is found by
 * walking past the ones ranked before it (ties broken by index). The
 * console asks for a few, so the quadratic walk costs nothing. */
bool profile_top(unsigned rank, const char **name, uint64_t *count)
{
	long prev = -1;
	uint32_t prev_hits = UINT32_MAX;

	for (unsigned r = 0; r <= rank; r++) {
		long best = -1;
		for (uint64_t i = 0; i < nsyms; i++) {
			uint32_t h = __atomic_load_n(&hits[i], __ATOMIC_RELAXED);
			bool after_prev = h < prev_hits || (h == prev_hits && (long)i > prev);
			if (h && after_prev && (best < 0 || h > hits[best]))
				best = (long)i;
		}
		if (best < 0)
			return false;
		prev = best;
		prev_hits = hits[best];
	}
	*name = symbol_name((uint64_t)prev);
	*count = prev_hits;
	return true;
}
